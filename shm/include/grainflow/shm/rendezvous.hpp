#pragma once

/// @file
/// A standalone way for two processes to set up a link, for programs without
/// a connection of their own (benchmarks, tests, tools): the creating side
/// listens on an abstract Unix socket, the opening side connects to it, the
/// segment's name travels over that connection, and the connection stays
/// open as both sides' liveness socket. The transport does not need this: it
/// sends the name over its TCP connection and passes that socket as the
/// liveness descriptor.

#include "grainflow/endpoints/result.hpp"
#include "grainflow/shm/config.hpp"
#include "grainflow/shm/link.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace grainflow::shm {

/// The longest rendezvous name: what fits an abstract socket address after
/// the "grainflow-shm/" prefix.
inline constexpr std::size_t max_rendezvous_name = 90;

/// The creating side of a rendezvous: a listening abstract Unix socket
/// "\0grainflow-shm/<name>". Move-only; closes the socket when destroyed.
/// Not thread-safe.
class link_listener {
public:
  // -- constructors -----------------------------------------------------------

  /// Listens under `rendezvous_name` (1 to max_rendezvous_name bytes, no NUL).
  /// Errors: `std::errc::invalid_argument`; EADDRINUSE when another process
  /// listens under that name; other system errors.
  [[nodiscard]] static result<link_listener> listen(std::string_view rendezvous_name);

  link_listener(link_listener&& other) noexcept;
  link_listener& operator=(link_listener&& other) noexcept;
  link_listener(const link_listener&) = delete;
  link_listener& operator=(const link_listener&) = delete;
  ~link_listener();

  // -- operations -------------------------------------------------------------

  /// Waits until `deadline` for a peer to connect, then creates a link
  /// (link::create with the connection as liveness socket), sends the
  /// segment's name to the peer and returns this side. Errors:
  /// `error::timed_out` when nobody connected in time; those of
  /// link::create; system errors of accept and send.
  [[nodiscard]] result<std::unique_ptr<link>>
  accept(const link_config& config, link_handlers handlers,
         std::chrono::steady_clock::time_point deadline);

private:
  explicit link_listener(int fd) noexcept
      : fd_(fd) {}

  int fd_ = -1;
};

/// The opening side of a rendezvous: connects to the listener under
/// `rendezvous_name` (retrying while nobody listens yet), reads the segment's
/// name and opens the link with the connection as liveness socket.
/// `config.segment` is ignored (the creator's geometry applies). Errors:
/// `error::timed_out` when no name arrived by `deadline`;
/// `error::connection_failed` when the listener closed first;
/// `error::malformed_packet` for a name that is not one; those of link::open.
[[nodiscard]] result<std::unique_ptr<link>>
connect_link(std::string_view rendezvous_name, const link_config& config, link_handlers handlers,
             std::chrono::steady_clock::time_point deadline);

} // namespace grainflow::shm
