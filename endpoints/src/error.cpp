#include "grainflow/endpoints/error.hpp"

#include "debug_check.hpp"

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

namespace grainflow {

namespace {

struct error_info {
  std::string_view name;
  const char* message;
};

// Indexed by the enumerator's value; entry 0 stands for "not a code".
constexpr error_info error_infos[] = {
    {"unknown", "unknown grainflow error"},
    {"broken_promise", "the reply promise was dropped without a reply"},
    {"request_maybe_delivered", "the connection failed; the request may have been delivered"},
    {"endpoint_not_found", "the destination holds no endpoint for this token"},
    {"connection_failed", "could not connect to the destination"},
    {"timed_out", "the deadline passed before a reply arrived"},
    {"cancelled", "the operation was cancelled"},
    {"serialization_failed", "a value could not be serialized or deserialized"},
    {"checksum_failed", "a packet failed its CRC32C check"},
    {"packet_too_large", "the packet exceeds the size limit"},
    {"incompatible_protocol", "the peer speaks an incompatible protocol version"},
    {"unauthorized", "the peer refused the request as unauthorized"},
    {"malformed_packet", "a packet has an impossible length or header"},
    {"wrong_message_type", "the payload is not of the type the endpoint expects"},
    {"transport_closed", "the transport was shut down"},
};

constexpr std::size_t error_info_count = std::size(error_infos);

static_assert(static_cast<std::size_t>(error::transport_closed) + 1 == error_info_count,
              "every error code needs a name and a message in error_infos");

const error_info& info_of(int value) noexcept {
  if (value <= 0 || static_cast<std::size_t>(value) >= error_info_count)
    return error_infos[0];
  return error_infos[value];
}

class grainflow_error_category final : public std::error_category {
public:
  const char* name() const noexcept override { return "grainflow"; }

  std::string message(int value) const override { return info_of(value).message; }
};

// The registry is small (a handful of categories per process) and lookups
// happen once per decoded error reply, so a mutex-guarded vector is plenty.
class category_registry {
public:
  category_registry() {
    entries_.push_back(&grainflow_category());
    entries_.push_back(&std::generic_category());
    entries_.push_back(&std::system_category());
  }

  bool add(const std::error_category& category) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (auto* found = find_locked(category.name()))
      return found == &category;
    entries_.push_back(&category);
    return true;
  }

  const std::error_category* find(std::string_view name) const noexcept {
    std::lock_guard<std::mutex> guard{mtx_};
    return find_locked(name);
  }

private:
  const std::error_category* find_locked(std::string_view name) const noexcept {
    auto i = std::find_if(entries_.begin(), entries_.end(),
                          [name](const std::error_category* x) { return name == x->name(); });
    return i == entries_.end() ? nullptr : *i;
  }

  mutable std::mutex mtx_;
  std::vector<const std::error_category*> entries_;
};

category_registry& registry() {
  // A function-local static: initialized on first use by whichever thread
  // gets there first, so registration from static initializers is safe.
  static category_registry instance;
  return instance;
}

} // namespace

std::string_view to_string(error x) noexcept {
  return info_of(static_cast<int>(x)).name;
}

const std::error_category& grainflow_category() noexcept {
  static const grainflow_error_category instance;
  return instance;
}

std::error_code make_error_code(error x) noexcept {
  return {static_cast<int>(x), grainflow_category()};
}

void register_error_category(const std::error_category& category) {
  [[maybe_unused]] auto added = try_register_error_category(category);
  GRAINFLOW_DEBUG_CHECK(added, "another error category already uses this name");
}

bool try_register_error_category(const std::error_category& category) {
  return registry().add(category);
}

const std::error_category* find_error_category(std::string_view name) noexcept {
  return registry().find(name);
}

} // namespace grainflow
