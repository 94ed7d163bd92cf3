// A TCP proxy on loopback that cuts connections at seeded random points, for
// the integration tests of the remote transport ("every get_reply resolves
// exactly once and no handler sees a request twice, while a proxy between the
// two nodes cuts the connection at random points").

#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace grainflow::test {

namespace detail {
class chaos_proxy_state;
} // namespace detail

/// The direction whose byte stream a cut is placed in.
enum class cut_direction : std::uint8_t {
  client_to_server, ///< Bytes the accepted (client) side sends.
  server_to_client, ///< Bytes the target (server) side sends.
};

/// How a cut ends a connection.
enum class cut_kind : std::uint8_t {
  /// Both sockets are closed with SO_LINGER 0: each peer gets an RST
  /// (ECONNRESET), and data still in the proxy's send buffers is lost.
  reset,
  /// Both sockets are shut down for writing: each peer reads EOF after every
  /// byte forwarded so far. The proxy then discards what the peers still send
  /// until they close (at most `chaos_proxy::fin_drain_timeout`), so that its
  /// own close does not turn into an RST.
  fin,
};

/// When and how a chaos_proxy cuts. Every connection gets its own cut plan,
/// a pure function of `seed` and the connection's accept index (see
/// chaos_proxy::plan_for), so a failing run replays with the same seed.
struct chaos_schedule {
  /// Seed of every random choice: cut plans and chunk delays.
  std::uint64_t seed = 1;
  /// Range (inclusive) of the number of bytes that get through in the cut
  /// direction before the cut. Precondition: min <= max.
  std::size_t min_bytes_before_cut = 0;
  std::size_t max_bytes_before_cut = 64 * 1024;
  /// Probability that a cut is a reset; otherwise it is a fin. In [0, 1].
  double reset_probability = 0.5;
  /// Cuts after which the proxy only forwards (counted over its lifetime).
  std::size_t max_cuts = SIZE_MAX;
  /// After a cut, connections accepted until this much time has passed wait
  /// before the proxy connects them to the target: the "node is unreachable
  /// for a while" case.
  std::chrono::milliseconds pause_after_cut{0};
  /// Each forwarded chunk waits a random time in [0, max_chunk_delay] first
  /// (order within a direction is kept). Zero forwards at once.
  std::chrono::milliseconds max_chunk_delay{0};
};

/// Where and how one connection is cut.
struct cut_plan {
  cut_direction direction = cut_direction::client_to_server;
  /// Bytes forwarded in `direction` before the cut: the first byte past this
  /// offset triggers it. A connection that never sends more is not cut.
  std::uint64_t offset = 0;
  cut_kind kind = cut_kind::reset;

  bool operator==(const cut_plan&) const = default;
};

/// A cut that happened: the accept index of the connection and its plan.
struct cut_record {
  std::size_t connection = 0;
  cut_plan plan;

  bool operator==(const cut_record&) const = default;
};

/// A TCP proxy on 127.0.0.1 between test clients and one target port that
/// forwards bytes both ways and cuts each connection according to a
/// chaos_schedule. One connection to the target per accepted connection;
/// half-closes (FIN) and resets from either peer are passed on to the other.
///
/// Runs one Asio thread of its own. Every member function is thread-safe,
/// except that the object must outlive calls on other threads; no user code
/// ever runs on the proxy's thread.
class chaos_proxy {
public:
  // -- constructors -----------------------------------------------------------

  /// How long a fin cut waits for the peers to close before the proxy closes
  /// its sockets anyway.
  static constexpr std::chrono::milliseconds fin_drain_timeout{2000};

  /// Listens on 127.0.0.1:0 and forwards each accepted connection to
  /// 127.0.0.1:`target_port`. Returns nullptr on an invalid schedule or a
  /// failing system call, with the reason in `*error` if given. Never throws.
  [[nodiscard]] static std::unique_ptr<chaos_proxy>
  create(std::uint16_t target_port, chaos_schedule schedule, std::string* error = nullptr);

  /// The cut plan of the connection with accept index `connection` (0 for the
  /// first) under `schedule`: what the proxy does to that connection if the
  /// cut budget (`max_cuts`) is not used up and cutting is enabled.
  [[nodiscard]] static cut_plan plan_for(const chaos_schedule& schedule,
                                         std::size_t connection) noexcept;

  /// Stops the proxy (see stop()).
  ~chaos_proxy();

  chaos_proxy(const chaos_proxy&) = delete;
  chaos_proxy& operator=(const chaos_proxy&) = delete;

  // -- properties -------------------------------------------------------------

  /// The port clients connect to, on 127.0.0.1.
  [[nodiscard]] std::uint16_t port() const noexcept;

  /// Cuts made so far.
  [[nodiscard]] std::size_t cuts() const noexcept;

  /// Connections accepted so far.
  [[nodiscard]] std::size_t connections() const noexcept;

  /// Bytes written to either peer so far (the proxy counts a chunk once the
  /// kernel has taken it, which can be just after the peer has read it).
  [[nodiscard]] std::uint64_t bytes_forwarded() const noexcept;

  /// Every cut so far, in the order they happened.
  [[nodiscard]] std::vector<cut_record> cut_log() const;

  /// Whether new cuts may happen.
  [[nodiscard]] bool enabled() const noexcept;

  // -- operations -------------------------------------------------------------

  /// Turns cutting on or off. Off lets a test finish cleanly: no connection,
  /// open or new, is cut afterwards (a cut already decided for a chunk that is
  /// being written still happens). A connection whose cut point went by while
  /// cutting was off is not cut when it is turned back on.
  void set_enabled(bool cutting) noexcept;

  /// Closes the listener and resets every open connection, then joins the
  /// proxy's thread. Idempotent.
  void stop() noexcept;

private:
  explicit chaos_proxy(std::unique_ptr<detail::chaos_proxy_state> state) noexcept;

  std::unique_ptr<detail::chaos_proxy_state> state_;
};

} // namespace grainflow::test
