#pragma once

/// @file
/// The simulated network: machines, the links between them, and the faults
/// it can inject.

#include "grainflow/simulation/fwd.hpp"
#include "grainflow/transport/network_provider.hpp"
#include "grainflow/transport/providers.hpp"

#include <chrono>
#include <cstdint>
#include <memory>

namespace grainflow::sim {

namespace detail {
class fabric;
} // namespace detail

/// The network's normal behaviour (faults come on top).
struct network_options {
  /// One-way latency of a pair of machines, drawn once per pair,
  /// log-uniformly in [min_latency, max_latency].
  duration min_latency = std::chrono::microseconds{20};
  duration max_latency = std::chrono::milliseconds{2};
  /// Each segment travels up to this fraction slower than its pair's latency
  /// (order is kept: TCP).
  double jitter = 0.25;
  /// A pair's bandwidth, drawn once per pair, log-uniformly, in bytes per
  /// second: how fast written bytes leave the sender (pending_write_bytes
  /// drains at this rate, which is what drives the transport's backpressure).
  double min_bandwidth = 10e6;
  double max_bandwidth = 1e9;
  /// The most bytes one read hands to a connection's on_data.
  std::size_t read_size = 64 * 1024;
};

/// How the network cuts a connection.
enum class sever_mode : std::uint8_t {
  /// Both ends see connection_reset; what was in flight is lost.
  reset_both,
  /// Both ends see an orderly end (FIN) after what was in flight.
  fin_both,
  /// One end sees connection_reset; the other hears nothing more and its
  /// writes vanish: only its idle timeout can tell.
  half_open,
};

/// How a process dies.
enum class kill_mode : std::uint8_t {
  /// The process crashed, its machine lives: the machine's kernel ends each
  /// connection with a FIN or an RST (drawn per connection) and refuses
  /// connects to the dead process's ports.
  crash,
  /// The machine lost power: its connections go silent, writes to it vanish
  /// and connects to it hang, until it boots again (then its kernel resets
  /// connections the survivors still hold).
  power_off,
};

/// Counters of one run's network.
struct network_stats {
  std::uint64_t connects = 0;
  std::uint64_t connects_established = 0;
  std::uint64_t connects_refused = 0;
  std::uint64_t connects_failed_injected = 0;
  std::uint64_t syns_lost = 0;
  std::uint64_t accepts_delayed = 0;
  std::uint64_t deliveries = 0;
  std::uint64_t bytes_delivered = 0;
  std::uint64_t partial_writes = 0;
  std::uint64_t bit_flips = 0;
  std::uint64_t severed = 0;
  std::uint64_t clogs = 0;
  std::uint64_t partitions = 0;
};

/// Every machine of a simulation and the links between them. Each process
/// gets a network_provider (attach) whose connections are simulated pipes:
///
/// - per pair of machines a latency and a bandwidth, with jitter per segment;
///   bytes arrive in order, in pieces of any size, several writes possibly in
///   one read;
/// - clogging of a pair or of a machine (bytes wait until it ends);
///   partitions (bytes wait, connects hang until their deadline);
/// - injected through buggify: partial writes (a write delivered in
///   pieces), bit flips in delivered bytes, connect failures (refused,
///   unreachable) and hangs, accept delays, slow and narrow links;
/// - severed connections (FIN, RST, half-open) and killed processes.
///
/// Addresses: machine i is 10.0.x.y with x.y = i + 1; a process listens
/// where its transport asks (the simulator gives it port 4500).
///
/// Thread safety: none; the simulation's thread only.
class sim_network {
public:
  // -- construction -----------------------------------------------------------

  sim_network(sim_scheduler& scheduler, sim_random& random, buggify& bug, trace& log,
              network_options options = {});
  ~sim_network();
  sim_network(const sim_network&) = delete;
  sim_network& operator=(const sim_network&) = delete;

  // -- properties -------------------------------------------------------------

  /// The address of machine `id` at `port`.
  [[nodiscard]] static network_address address_of(process_id id, std::uint16_t port) noexcept;

  /// The counters so far.
  [[nodiscard]] const network_stats& stats() const noexcept;

  /// Connections neither of whose ends has finished.
  [[nodiscard]] std::size_t open_connections() const noexcept;

  /// The latest life of machine `to` that the current life of process
  /// `from` has had a connection with; 0 when none.
  [[nodiscard]] std::uint64_t last_life_reached(process_id from, process_id to) const;

  // -- processes --------------------------------------------------------------

  /// A process starts on machine `id` (booting the machine if it was off):
  /// its network provider, whose callbacks run on `loop`, with deadlines read
  /// on `clock`. The provider must be dropped before this network.
  [[nodiscard]] std::shared_ptr<network_provider> attach(process_id id, sim_executor& loop,
                                                         const sim_clock& clock);

  /// The process on machine `id` died (see kill_mode): its listeners close,
  /// its connects never complete, its connections end as `how` says. Its
  /// provider and connection objects stay valid but inert until destroyed.
  void detach(process_id id, kill_mode how);

  // -- faults -----------------------------------------------------------------

  /// Bytes between `a` and `b`, both ways, wait for `how_long`.
  void clog_pair(process_id a, process_id b, duration how_long);

  /// Bytes to and from `a` wait for `how_long`.
  void clog_machine(process_id a, duration how_long);

  /// `a` and `b` cannot reach each other for `how_long`: bytes wait, connects
  /// hang (until their deadline).
  void partition(process_id a, process_id b, duration how_long);

  /// Ends every clog and partition now.
  void heal() noexcept;

  /// Cuts one open connection, drawn at random; false when none is open.
  bool sever_random(sever_mode how);

private:
  std::unique_ptr<detail::fabric> fabric_;
};

} // namespace grainflow::sim
