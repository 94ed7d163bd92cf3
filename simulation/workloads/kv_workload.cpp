// kv: three shards run the sample's store (kv::store_server, the behaviour
// samples/kv serves), two clients put and get keys spread over them with
// kv::shard_of, while processes crash, lose power and restart (a restarted
// shard starts empty, as the sample's in-memory store does). Each shard's
// front keeps a model of its store, applied in the order the store handles
// requests, and tells the ledger the answer each request must get: a get
// returns the latest put the same shard life handled before it, or
// not_found; a put answers whether its key was new.

#include "workloads.hpp"

#include "ledgered_workload.hpp"
#include "workload_support.hpp"

#include "kv.hpp"

#include "grainflow/simulation/workload.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>

#include <array>
#include <map>
#include <string>

namespace grainflow::sim::workloads {

namespace {

using namespace std::chrono_literals;

constexpr std::size_t shards = 3;
constexpr std::size_t clients = 2;
constexpr std::size_t calls_per_client = 90;
constexpr std::size_t window = 10;
constexpr std::size_t keys = 12;

/// The workload's keys travel as "<key>#<call id>": the shard's front
/// takes the id off (to count the request) before the store sees the key.
std::string tagged(const std::string& key, std::uint64_t id) {
  return key + "#" + std::to_string(id);
}

/// Splits a tagged key; id 0 when it carries none.
std::pair<std::string, std::uint64_t> untag(const std::string& key) {
  auto hash = key.rfind('#');
  if (hash == std::string::npos)
    return {key, 0};
  return {key.substr(0, hash), std::stoull(key.substr(hash + 1))};
}

/// What an answer must be, set by the shard's front when it handles it.
constexpr std::int64_t expect_not_found = 1;

class kv_workload final : public ledgered_workload {
public:
  kv_workload()
      : ledgered_workload("kv", shards, clients, calls_per_client) {}

  std::vector<std::string> coverage_goals() const override {
    return {"calls.answered",    "calls.timed_out", "calls.target_died", "calls.abandoned",
            "kv.read_own_write", "kv.not_found",    "kv.overwrite",      "kv.lost_with_restart"};
  }

private:
  void prepare() override { kv::register_errors(); }

  std::string judge(const call_record& call) const override {
    if (call.ok)
      return call.tag == expect_not_found ? "a value where the key was not there" : "";
    if (call.error == kv::kv_error::not_found)
      return call.tag == expect_not_found ? "" : "not_found where the key was there";
    return "the store never fails with " + call.error.message();
  }

  // -- shards -----------------------------------------------------------------

  /// One shard life's model: the store's contents, in its handling order.
  using model = std::map<std::string, std::string>;

  std::unique_ptr<process_role> boot_server(sim_process& p) override {
    const auto index = p.id();
    auto role = std::make_unique<actors_role>([this, index] { directory_[index].up = false; });
    auto store = p.system().spawn(kv::store_server);
    auto contents = std::make_shared<model>();
    if (p.life() > 1)
      sim_->check().sometimes(true, "kv.lost_with_restart");
    // The front counts each request and records the answer it must get
    // (the store handles requests in the order the front passes them), then
    // hands it — promise and all — to the store, which answers the caller.
    auto front = p.system().spawn(
        [this, &p, alive = p.alive(), store, contents](caf::event_based_actor*) -> caf::behavior {
          return {
              [=, this, &p](kv::put_request& r) {
                if (!*alive)
                  return;
                auto [key, id] = untag(r.key);
                ledger_->handled(id, p);
                auto& call = ledger_->at(id);
                const bool fresh = !contents->contains(key);
                sim_->check().sometimes(!fresh, "kv.overwrite");
                call.expected = fresh ? "true" : "false";
                (*contents)[key] = r.value;
                r.key = key;
                caf::anon_send(store, std::move(r));
              },
              [=, this, &p](kv::get_request& r) {
                if (!*alive)
                  return;
                auto [key, id] = untag(r.key);
                ledger_->handled(id, p);
                auto& call = ledger_->at(id);
                if (auto found = contents->find(key); found != contents->end())
                  call.expected = found->second;
                else
                  call.tag = expect_not_found;
                r.key = key;
                caf::anon_send(store, std::move(r));
              },
          };
        });
    auto served = serve<kv::store>(front, p.transport());
    sim_->check().always(served.has_value(), "kv.served");
    if (served)
      directory_[index] = service_entry{p.id(), p.life(), base_endpoint(served.value()), true};
    role->own(std::move(front));
    role->own(std::move(store));
    return role;
  }

  // -- clients ----------------------------------------------------------------

  std::unique_ptr<process_role> boot_client(sim_process& p) override {
    auto role = std::make_unique<actors_role>([this, id = p.id()] {
      ledger_->abandon_calls_of(id);
      in_flight_[id - shards] = 0;
    });
    role->own(
        spawn_ticking(p, 5ms, [this, &p](caf::event_based_actor* self) { return step(p, self); }));
    return role;
  }

  std::optional<duration> step(sim_process& p, caf::event_based_actor* self) {
    const auto me = p.id() - shards;
    if (issued_by_[me] == calls_per_client)
      return std::nullopt;
    if (in_flight_[me] < window)
      issue(p, self, me);
    return sim_->random().log_between(1ms, 150ms);
  }

  void issue(sim_process& p, caf::event_based_actor* self, std::size_t me) {
    auto& random = sim_->random();
    const auto key = "key-" + std::to_string(random.below(keys));
    const auto& target = directory_[kv::shard_of(key, shards)];
    if (target.where == no_process || (!target.up && !random.chance(0.2)))
      return;
    const auto kind = random.chance(0.6) ? call_kind::get_reply : call_kind::try_get_reply;
    const auto deadline = random_deadline(*sim_, p);
    const bool put = random.chance(0.5);
    auto call = new_call(kind, p, target, deadline, (put ? "put(" : "get(") + key + ")");
    const auto id = ledger_->open(std::move(call));
    ++issued_by_[me];
    ++issued_;
    ++in_flight_[me];
    auto iface = interface_at<kv::store>(p.transport(), target.base);
    const auto options = options_for(deadline);
    auto* clock = &p.transport().clock();
    const auto life = p.life();
    auto finish = [this, id, clock, me, life, &p](const auto& answer, auto render) {
      if (p.life() == life && in_flight_[me] > 0)
        --in_flight_[me];
      ledger_->resolve(id, answer, clock->now(), render);
    };
    if (put) {
      auto value = "v" + std::to_string(id);
      kv::put_request request{tagged(key, id), value, {}};
      auto future = kind == call_kind::get_reply
                        ? iface.put.get_reply(std::move(request), options)
                        : iface.put.try_get_reply(std::move(request), options);
      then(self, std::move(future), [this, finish, me, value](result<bool> answer) {
        if (answer)
          last_put_by_[me] = value;
        finish(answer, [](bool fresh) { return std::string{fresh ? "true" : "false"}; });
      });
      return;
    }
    kv::get_request request{tagged(key, id), {}};
    auto future = kind == call_kind::get_reply
                      ? iface.get.get_reply(std::move(request), options)
                      : iface.get.try_get_reply(std::move(request), options);
    then(self, std::move(future), [this, finish, me](result<std::string> answer) {
      if (answer && answer.value() == last_put_by_[me])
        sim_->check().sometimes(true, "kv.read_own_write");
      if (!answer && answer.error() == kv::kv_error::not_found)
        sim_->check().sometimes(true, "kv.not_found");
      finish(answer, [](const std::string& value) { return value; });
    });
  }

  std::array<service_entry, shards> directory_{};
  std::array<std::size_t, clients> issued_by_{};
  std::array<std::size_t, clients> in_flight_{};
  std::array<std::string, clients> last_put_by_{};
};

} // namespace

std::unique_ptr<workload> make_kv_workload() {
  return std::make_unique<kv_workload>();
}

} // namespace grainflow::sim::workloads
