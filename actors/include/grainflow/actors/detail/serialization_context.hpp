#pragma once

#include "grainflow/actors/detail/promise_core.hpp"
#include "grainflow/endpoints/intrusive_ptr.hpp"

#include <optional>
#include <vector>

namespace grainflow {
class flow_transport;
} // namespace grainflow

namespace grainflow::detail {

/// What msgpack adaptors of promises and streams need while a payload is
/// unpacked: the transport their result will send through, and the promise
/// cores created so far (disarmed when the payload as a whole fails).
///
/// Why a thread-local "current" context: msgpack's convert adaptors receive
/// only the object, no user context. The context is set for the extent of one
/// decode on one thread (unpack_scope) and is never a process-wide global.
struct unpack_context {
  /// Notes a promise core created by this decode.
  void created(intrusive_ptr<promise_core_base> core) {
    if (!first_core)
      first_core = std::move(core);
    else
      more_cores.push_back(std::move(core));
  }

  /// Disarms every core this decode created: the payload as a whole failed.
  void disarm_created() noexcept;

  flow_transport* transport = nullptr;
  /// The deadline of the request being decoded; its promises carry it.
  std::optional<time_point> deadline;
  // A request holds one promise as a rule: that one is kept without a heap
  // allocation (a vector here cost one per request decoded).
  intrusive_ptr<promise_core_base> first_core;
  std::vector<intrusive_ptr<promise_core_base>> more_cores;
};

/// The context of the decode running on this thread, or null.
unpack_context* current_unpack_context() noexcept;

/// Installs a context for one decode; on destruction restores the previous
/// one and, unless commit() was called, disarms every core created under it.
class unpack_scope {
public:
  explicit unpack_scope(flow_transport& transport) noexcept;
  ~unpack_scope();
  unpack_scope(const unpack_scope&) = delete;
  unpack_scope& operator=(const unpack_scope&) = delete;

  /// The decode succeeded: its promises are live.
  void commit() noexcept { committed_ = true; }

private:
  unpack_context context_;
  unpack_context* previous_;
  bool committed_ = false;
};

} // namespace grainflow::detail
