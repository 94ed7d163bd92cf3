#include "kv.hpp"

#include <caf/all.hpp>

#include <memory>
#include <unordered_map>

namespace kv {

namespace {

class category final : public std::error_category {
public:
  const char* name() const noexcept override { return "kv"; }
  std::string message(int code) const override {
    return static_cast<kv_error>(code) == kv_error::not_found ? "key not found"
                                                              : "unknown kv error";
  }
};

// A shard's entries, shared by the actor's handlers. Only the actor touches
// them, one message at a time, so they need no lock. (A plain
// event_based_actor with captured state rather than caf::stateful_actor:
// CAF 0.17's stateful_actor trips UBSan in its init_fun_factory.)
using entries = std::unordered_map<std::string, std::string>;

} // namespace

caf::behavior store_server(caf::event_based_actor*) {
  auto state = std::make_shared<entries>();
  return {
      [state](put_request& r) {
        auto [where, inserted] = state->insert_or_assign(std::move(r.key), std::move(r.value));
        r.reply.send(inserted);
      },
      [state](get_request& r) {
        auto found = state->find(r.key);
        if (found == state->end())
          r.reply.send_error(kv_error::not_found);
        else
          r.reply.send(found->second);
      },
      [state](size_request& r) { r.reply.send(std::uint64_t{state->size()}); },
  };
}

const std::error_category& kv_category() noexcept {
  static const category instance;
  return instance;
}

std::string shard_name(std::size_t index) {
  return "kv/" + std::to_string(index);
}

std::size_t shard_of(std::string_view key, std::size_t shard_count) noexcept {
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : key) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return static_cast<std::size_t>(hash % shard_count);
}

void register_errors() {
  grainflow::register_error_category(kv_category());
}

grainflow::result<store> spawn_store(grainflow::node& node) {
  register_errors();
  return grainflow::serve<store>(node.system().spawn(store_server), node.transport());
}

} // namespace kv
