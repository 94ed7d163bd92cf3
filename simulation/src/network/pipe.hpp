#pragma once

// Internal: one simulated TCP connection — two byte streams between two
// processes, with latency, bandwidth, clogs, partial delivery, bit flips and
// the ways a connection ends (FIN, RST, silence). Not installed.

#include "grainflow/simulation/fwd.hpp"
#include "grainflow/simulation/sim_network.hpp"
#include "grainflow/transport/network_provider.hpp"

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <utility>
#include <vector>

namespace grainflow::sim::detail {

class fabric;

/// What travels in one direction: bytes, or the end of the stream.
enum class segment_kind : std::uint8_t { data, fin, rst };

struct segment {
  time_point arrive;
  segment_kind kind = segment_kind::data;
  std::vector<std::byte> bytes;
};

/// One end of a pipe: its owner's view as a receiver, and the direction it
/// sends in.
struct pipe_end {
  process_id owner = no_process;
  /// Which life of its machine owns it.
  std::uint64_t life = 0;
  network_address local;
  network_address remote;

  // -- as a receiver ----------------------------------------------------------
  data_handler on_data;
  closed_handler on_closed;
  unique_function<void()> on_drained;
  /// start() was called.
  bool started = false;
  /// The owner closed, aborted or destroyed it, or its process died: no
  /// callback runs again, writes are dropped, arriving bytes are discarded.
  bool released = false;
  /// The stream ended from the other side or the network (FIN, RST):
  /// on_closed is due (at start() if not started yet); writes are dropped.
  bool ended = false;
  /// abort() ran (or the process died): abort is idempotent.
  bool aborted = false;
  std::error_code end_reason;
  /// Bytes that arrived before start().
  std::vector<std::byte> early;

  // -- as a sender ------------------------------------------------------------
  /// Segments on their way to the other end, in order.
  std::deque<segment> in_flight;
  /// (departure time, bytes) of writes not yet handed to the wire.
  std::deque<std::pair<time_point, std::size_t>> departures;
  std::size_t pending_bytes = 0;
  time_point last_departure;
  time_point last_arrival;
  bool pump_armed = false;
  bool drain_armed = false;
  /// A FIN or RST went out (or the end was abandoned): nothing more is sent.
  bool finished_sending = false;
  /// What this end sends vanishes: the other end's machine lost power.
  bool blackholed = false;
};

/// One connection. End 0 dialed, end 1 was accepted. Shared by the two
/// connection objects and by the events that deliver its bytes, so it lives
/// as long as anything can still touch it.
class pipe : public std::enable_shared_from_this<pipe> {
public:
  pipe(fabric& net, std::uint64_t id, pipe_end dialer, pipe_end acceptor);

  [[nodiscard]] std::uint64_t id() const noexcept { return id_; }
  [[nodiscard]] const pipe_end& end(int side) const noexcept { return ends_[side]; }
  /// Neither end can send or receive any more.
  [[nodiscard]] bool finished() const noexcept;

  // -- the owner of one end (sim_connection) ----------------------------------

  void start(int side, data_handler on_data, closed_handler on_closed);
  std::size_t write(int side, std::span<const std::byte> bytes);
  std::size_t pending(int side);
  void set_drained(int side, unique_function<void()> callback);
  void close(int side);
  void abort(int side);

  // -- the network ------------------------------------------------------------

  /// The network cuts the connection: both ends see it end, or one does and
  /// the other is left talking into the void (half_open).
  void sever(sever_mode how);

  /// The process owning `side` died: its end goes silent; the other end sees
  /// a FIN (after what was in flight), an RST, or — its peer's machine lost
  /// power — nothing at all.
  void kill_end(int side, segment_kind farewell, bool vanish);

  /// The machine of `side`'s owner rebooted while the other end still talks
  /// to the dead process: the other end receives an RST.
  void reset_survivor_of(int dead_side);

private:
  pipe_end& other(int side) noexcept { return ends_[1 - side]; }
  void send_end(int side, segment_kind kind);
  void drop_outgoing(int side) noexcept;
  void arm_pump(int side, time_point at);
  void pump(int side);
  void deliver(int side, std::vector<std::byte> bytes);
  void invoke_data(int side, std::span<const std::byte> bytes);
  void flush_early(int side);
  void end_stream(int side, std::error_code reason);
  void report_end(int side);
  void drain_check(int side);
  void release(int side) noexcept;
  void note(int side, const char* what) const noexcept;

  fabric& net_;
  std::uint64_t id_;
  std::array<pipe_end, 2> ends_;
};

/// The transport's handle on one end of a pipe.
class sim_connection final : public connection {
public:
  sim_connection(std::shared_ptr<pipe> p, int side) noexcept
      : pipe_(std::move(p))
      , side_(side) {}
  ~sim_connection() override;

  [[nodiscard]] network_address remote_address() const noexcept override;
  [[nodiscard]] network_address local_address() const noexcept override;
  [[nodiscard]] std::size_t pending_write_bytes() const noexcept override;
  void start(data_handler on_data, closed_handler on_closed) override;
  std::size_t write(std::span<const std::byte> bytes) override;
  void on_drained(unique_function<void()> callback) override;
  void close() override;
  void abort() override;

private:
  std::shared_ptr<pipe> pipe_;
  int side_;
};

} // namespace grainflow::sim::detail
