#pragma once

// Internal: the state behind sim_network — machines, links, faults,
// listeners, connects in progress, and the pipes. Not installed.

#include "grainflow/simulation/sim_network.hpp"
#include "grainflow/simulation/sim_scheduler.hpp"
#include "grainflow/transport/network_provider.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

namespace grainflow::sim::detail {

class pipe;

/// A listening socket.
struct listener_state {
  process_id owner = no_process;
  std::uint64_t life = 0;
  network_address address;
  accept_handler on_accept;
  bool open = true;
};

/// A connect in progress.
struct pending_connect {
  process_id caller = no_process;
  std::uint64_t life = 0;
  network_address target;
  connect_handler on_done;
  time_point deadline; // virtual time
  /// SYNs sent without an answer so far.
  int syns = 0;
  std::optional<sim_scheduler::event_key> deadline_event;
  bool done = false;
};

/// A simulated machine.
struct machine {
  /// A process runs on it.
  bool attached = false;
  /// The machine is on (a power_off kill turns it off until the next attach).
  bool powered = true;
  /// Counts attaches: which process life a listener or connect belongs to.
  std::uint64_t life = 0;
  sim_executor* loop = nullptr;
  const sim_clock* clock = nullptr;
  std::uint16_t next_ephemeral = 40000;
  std::uint16_t next_listen_port = 30000;
};

/// Properties of the link between two machines (both directions).
struct link {
  duration latency{};
  double ns_per_byte = 0;
};

class fabric {
public:
  fabric(sim_scheduler& scheduler, sim_random& random, buggify& bug, trace& log,
         network_options options);
  ~fabric();

  // -- shared with pipes ------------------------------------------------------

  sim_scheduler& scheduler;
  sim_random& random;
  buggify& bug;
  trace& log;
  network_options options;
  network_stats stats;

  /// Queues `run` as an event of `owner` at virtual time `at`.
  void schedule(process_id owner, time_point at, const char* kind, unique_function<void()> run);

  /// One segment's travel time from `from` to `to`.
  duration travel_time(process_id from, process_id to);

  /// How long `bytes` take to leave `from` towards `to`.
  duration transfer_time(process_id from, process_id to, std::size_t bytes);

  /// Until when traffic from `from` to `to` waits (clogs, partitions); a
  /// time not after now means it flows.
  [[nodiscard]] time_point blocked_until(process_id from, process_id to) const;

  // -- providers --------------------------------------------------------------

  result<std::unique_ptr<listener>> listen(process_id owner, std::uint64_t life,
                                           const network_address& address,
                                           accept_handler on_accept);
  void close_listener(listener_state& state) noexcept;
  void connect(process_id caller, std::uint64_t life, const network_address& address,
               time_point local_deadline, connect_handler on_done);

  // -- lifecycle and faults (see sim_network) ---------------------------------

  std::shared_ptr<network_provider> attach(process_id id, sim_executor& loop,
                                           const sim_clock& clock);
  void detach(process_id id, kill_mode how);
  void clog_pair(process_id a, process_id b, duration how_long);
  void clog_machine(process_id a, duration how_long);
  void partition(process_id a, process_id b, duration how_long);
  void heal() noexcept;
  bool sever_random(sever_mode how);
  [[nodiscard]] std::size_t open_connections() const noexcept;
  [[nodiscard]] std::uint64_t last_life_reached(process_id from, process_id to) const;

private:
  using pair_key = std::pair<process_id, process_id>;
  static pair_key key(process_id a, process_id b) noexcept {
    return a < b ? pair_key{a, b} : pair_key{b, a};
  }

  link& link_between(process_id a, process_id b);
  [[nodiscard]] bool partitioned(process_id a, process_id b) const;
  [[nodiscard]] bool alive(const pending_connect& op) const;
  [[nodiscard]] process_id machine_at(const network_address& address) const;
  void on_syn(const std::shared_ptr<pending_connect>& op);
  void establish(const std::shared_ptr<pending_connect>& op, process_id target,
                 const std::shared_ptr<listener_state>& listening);
  void finish(const std::shared_ptr<pending_connect>& op,
              result<std::unique_ptr<connection>> outcome);
  std::vector<std::shared_ptr<pipe>> live_pipes();

  std::map<process_id, machine> machines_;
  std::map<pair_key, link> links_;
  std::map<pair_key, time_point> pair_clogs_;
  std::map<pair_key, time_point> partitions_;
  std::map<process_id, time_point> machine_clogs_;
  std::map<network_address, std::shared_ptr<listener_state>> listeners_;
  std::map<std::uint64_t, std::weak_ptr<pipe>> pipes_;
  /// (process, its life, other machine) -> the latest life of the other
  /// machine that life has had a connection with.
  std::map<std::tuple<process_id, std::uint64_t, process_id>, std::uint64_t> reached_;
  std::uint64_t next_pipe_ = 1;
};

} // namespace grainflow::sim::detail
