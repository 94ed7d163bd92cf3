#pragma once

// The key-value store's interface: put, get and size, served by one actor
// per shard that keeps its entries in its state. Which shard holds a key is
// the client's business (see shard_of), so a shard is a plain store.

#include "grainflow/actors/all.hpp"

#include <caf/fwd.hpp>
#include <msgpack.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace kv {

/// Errors the store itself reports.
enum class kv_error : int {
  not_found = 1,
};

/// The category travels by its name, "kv".
const std::error_category& kv_category() noexcept;

inline std::error_code make_error_code(kv_error code) noexcept {
  return {static_cast<int>(code), kv_category()};
}

/// Stores `value` under `key`; answers true when the key was new.
struct put_request {
  std::string key;
  std::string value;
  grainflow::reply_promise<bool> reply;
  MSGPACK_DEFINE(key, value, reply)
};

/// Answers the value under `key`, or kv_error::not_found.
struct get_request {
  std::string key;
  grainflow::reply_promise<std::string> reply;
  MSGPACK_DEFINE(key, reply)
};

/// Answers how many keys this shard holds.
struct size_request {
  grainflow::reply_promise<std::uint64_t> reply;
  MSGPACK_DEFINE(reply)
};

/// One shard's interface: method numbers are part of the wire.
struct store {
  grainflow::request_stream<put_request> put;
  grainflow::request_stream<get_request> get;
  grainflow::request_stream<size_request> size;

  static constexpr std::size_t method_count = 3;

  template <class F>
  void visit_methods(F&& f) {
    f(put, 0);
    f(get, 1);
    f(size, 2);
  }
};

/// The name shard `index` registers under: "kv/<index>".
std::string shard_name(std::size_t index);

/// Which of `shard_count` shards holds `key`: FNV-1a, stable across
/// processes and builds (std::hash is neither).
std::size_t shard_of(std::string_view key, std::size_t shard_count) noexcept;

/// Registers kv_category() so its errors decode by name; call once in every
/// process that serves or calls a store.
void register_errors();

/// A shard's behaviour: its entries live in the actor, handled one request
/// at a time. spawn_store uses it; the simulator serves it on its own nodes.
caf::behavior store_server(caf::event_based_actor* self);

/// Spawns a shard actor on `node` and serves its interface.
grainflow::result<store> spawn_store(grainflow::node& node);

} // namespace kv

template <>
struct std::is_error_code_enum<kv::kv_error> : std::true_type {};
