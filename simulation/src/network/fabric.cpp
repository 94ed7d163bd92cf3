#include "fabric.hpp"

#include "host.hpp"
#include "pipe.hpp"

#include "grainflow/endpoints/error.hpp"
#include "grainflow/simulation/buggify.hpp"
#include "grainflow/simulation/sim_clock.hpp"
#include "grainflow/simulation/sim_executor.hpp"
#include "grainflow/simulation/sim_random.hpp"
#include "grainflow/simulation/sim_scheduler.hpp"
#include "grainflow/simulation/trace.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace grainflow::sim::detail {

namespace {

using namespace std::chrono_literals;

// Probabilities of the network's buggify sites, when active.
constexpr double slow_link_probability = 0.3;
constexpr double narrow_link_probability = 0.3;
constexpr double jitter_spike_probability = 0.01;
constexpr double syn_loss_probability = 0.3;
constexpr double connect_fail_probability = 0.2;
constexpr double accept_delay_probability = 0.3;

// Injected connect failures are the transient ones (ICMP errors of a router
// on the way). Not connection_refused: a live listener never refuses, and the
// transport relies on that — a refusal means the process it had a session
// with is gone (peer.cpp), which the simulator models by killing processes.
constexpr std::array connect_errors{std::errc::network_unreachable, std::errc::host_unreachable};

} // namespace

fabric::fabric(sim_scheduler& scheduler, sim_random& random, buggify& bug, trace& log,
               network_options options)
    : scheduler(scheduler)
    , random(random)
    , bug(bug)
    , log(log)
    , options(options) {}

fabric::~fabric() = default;

// -- shared with pipes --------------------------------------------------------

void fabric::schedule(process_id owner, time_point at, const char* kind,
                      unique_function<void()> run) {
  time_point local = at;
  auto found = machines_.find(owner);
  if (found == machines_.end() || !found->second.attached)
    owner = no_process; // for a dead process: the simulator's own event
  else
    local = found->second.clock->local_at(std::max(at, scheduler.now()));
  scheduler.schedule(at, local, owner, kind, std::move(run));
}

link& fabric::link_between(process_id a, process_id b) {
  auto [where, fresh] = links_.try_emplace(key(a, b));
  if (fresh) {
    auto& made = where->second;
    made.latency = bug.fires("net.slow_link", slow_link_probability)
                       ? random.log_between(5ms, 50ms)
                       : random.log_between(options.min_latency, options.max_latency);
    double bandwidth = std::exp(
        std::log(options.min_bandwidth) +
        (std::log(options.max_bandwidth) - std::log(options.min_bandwidth)) * random.unit());
    if (bug.fires("net.narrow_link", narrow_link_probability))
      bandwidth = 1e6;
    made.ns_per_byte = 1e9 / bandwidth;
  }
  return where->second;
}

duration fabric::travel_time(process_id from, process_id to) {
  const auto& l = link_between(from, to);
  auto base =
      std::chrono::duration_cast<duration>(l.latency * (1.0 + options.jitter * random.unit()));
  if (bug.fires("net.jitter_spike", jitter_spike_probability))
    base += random.log_between(1ms, 50ms);
  return std::max(base, duration{1});
}

duration fabric::transfer_time(process_id from, process_id to, std::size_t bytes) {
  const auto& l = link_between(from, to);
  const auto ns = static_cast<duration::rep>(static_cast<double>(bytes) * l.ns_per_byte);
  return std::max(duration{ns}, duration{1});
}

time_point fabric::blocked_until(process_id from, process_id to) const {
  time_point until{};
  auto later = [&](const auto& map, const auto& k) {
    if (auto found = map.find(k); found != map.end())
      until = std::max(until, found->second);
  };
  later(pair_clogs_, key(from, to));
  later(partitions_, key(from, to));
  later(machine_clogs_, from);
  later(machine_clogs_, to);
  return until;
}

bool fabric::partitioned(process_id a, process_id b) const {
  auto found = partitions_.find(key(a, b));
  return found != partitions_.end() && found->second > scheduler.now();
}

// -- providers ----------------------------------------------------------------

result<std::unique_ptr<listener>> fabric::listen(process_id owner, std::uint64_t life,
                                                 const network_address& address,
                                                 accept_handler on_accept) {
  auto found = machines_.find(owner);
  if (found == machines_.end() || !found->second.attached || found->second.life != life)
    return error::transport_closed;
  if (machine_at(address) != owner)
    return std::make_error_code(std::errc::address_not_available);
  auto actual = address;
  if (actual.port() == 0) {
    do
      actual = address.with_port(found->second.next_listen_port++);
    while (listeners_.contains(actual));
  }
  if (listeners_.contains(actual))
    return std::make_error_code(std::errc::address_in_use);
  auto state = std::make_shared<listener_state>();
  state->owner = owner;
  state->life = life;
  state->address = actual;
  state->on_accept = std::move(on_accept);
  listeners_[actual] = state;
  return std::unique_ptr<listener>{std::make_unique<sim_listener>(*this, std::move(state))};
}

void fabric::close_listener(listener_state& state) noexcept {
  if (!state.open)
    return;
  state.open = false;
  if (auto found = listeners_.find(state.address);
      found != listeners_.end() && found->second.get() == &state)
    listeners_.erase(found);
  state.on_accept = nullptr;
}

void fabric::connect(process_id caller, std::uint64_t life, const network_address& address,
                     time_point local_deadline, connect_handler on_done) {
  auto found = machines_.find(caller);
  if (found == machines_.end() || !found->second.attached || found->second.life != life)
    return; // a dead process's provider: the handler is destroyed unrun
  ++stats.connects;
  log.note(scheduler.now(), "p%u connects to %s", caller, address.to_string().c_str());
  auto op = std::make_shared<pending_connect>();
  op->caller = caller;
  op->life = life;
  op->target = address;
  op->on_done = std::move(on_done);
  const auto now = scheduler.now();
  const auto& clock = *found->second.clock;
  if (local_deadline <= clock.now()) {
    schedule(caller, now, "connect-late", [this, op] { finish(op, error::timed_out); });
    return;
  }
  op->deadline = clock.world_at(local_deadline);
  op->deadline_event = scheduler.schedule(op->deadline, local_deadline, caller, "connect-deadline",
                                          [this, op] { finish(op, error::timed_out); });
  const auto target = machine_at(address);
  const auto travel = target == no_process ? options.max_latency : travel_time(caller, target);
  schedule(no_process, now + travel, "syn", [this, op] { on_syn(op); });
}

bool fabric::alive(const pending_connect& op) const {
  auto found = machines_.find(op.caller);
  return found != machines_.end() && found->second.attached && found->second.life == op.life;
}

process_id fabric::machine_at(const network_address& address) const {
  if (!address.is_v4())
    return no_process;
  auto ip = address.v4_bytes();
  if (ip[0] != 10 || ip[1] != 0)
    return no_process;
  const auto index = static_cast<process_id>(ip[2]) * 256 + ip[3];
  if (index == 0 || !machines_.contains(index - 1))
    return no_process;
  return index - 1;
}

void fabric::on_syn(const std::shared_ptr<pending_connect>& op) {
  if (op->done || !alive(*op))
    return;
  const auto target = machine_at(op->target);
  const auto now = scheduler.now();
  // Silence: nobody answers, and the connect's deadline ends it.
  // A SYN that gets no answer (a dark machine, a partition, a lost packet)
  // is sent again after TCP's retransmission timeout, 1 s, doubling; the
  // connect's deadline ends it meanwhile.
  if (target == no_process || !machines_.at(target).powered || partitioned(op->caller, target) ||
      bug.fires("net.syn_lost", syn_loss_probability)) {
    ++stats.syns_lost;
    log.note(now, "p%u's connect to %s: SYN lost", op->caller, op->target.to_string().c_str());
    const auto timeout = std::chrono::duration_cast<duration>(1s * (1 << std::min(op->syns, 5)));
    ++op->syns;
    schedule(no_process, now + timeout, "syn again", [this, op] { on_syn(op); });
    return;
  }
  if (auto blocked = blocked_until(op->caller, target); blocked > now) {
    schedule(no_process, blocked, "syn", [this, op] { on_syn(op); });
    return;
  }
  const auto back = now + travel_time(target, op->caller);
  if (bug.fires("net.connect_fail", connect_fail_probability)) {
    ++stats.connects_failed_injected;
    auto code = std::make_error_code(connect_errors[random.below(connect_errors.size())]);
    schedule(op->caller, back, "connect-failed", [this, op, code] { finish(op, code); });
    return;
  }
  auto listening = listeners_.find(op->target);
  if (listening == listeners_.end() || !listening->second->open) {
    ++stats.connects_refused;
    schedule(op->caller, back, "connect-refused",
             [this, op] { finish(op, std::make_error_code(std::errc::connection_refused)); });
    return;
  }
  establish(op, target, listening->second);
}

void fabric::establish(const std::shared_ptr<pending_connect>& op, process_id target,
                       const std::shared_ptr<listener_state>& listening) {
  auto& dialing = machines_.at(op->caller);
  pipe_end dialer;
  dialer.owner = op->caller;
  dialer.life = dialing.life;
  dialer.local = sim_network::address_of(op->caller, dialing.next_ephemeral);
  dialing.next_ephemeral = dialing.next_ephemeral >= 60999 ? 40000 : dialing.next_ephemeral + 1;
  dialer.remote = op->target;
  pipe_end acceptor;
  acceptor.owner = target;
  acceptor.life = machines_.at(target).life;
  acceptor.local = op->target;
  acceptor.remote = dialer.local;
  auto& theirs = reached_[{op->caller, dialer.life, target}];
  theirs = std::max(theirs, acceptor.life);
  auto& ours = reached_[{target, acceptor.life, op->caller}];
  ours = std::max(ours, dialer.life);
  auto made = std::make_shared<pipe>(*this, next_pipe_++, std::move(dialer), std::move(acceptor));
  pipes_[made->id()] = made;
  log.note(scheduler.now(), "pipe %llu: p%u dials p%u (%s)",
           static_cast<unsigned long long>(made->id()), op->caller, target,
           op->target.to_string().c_str());
  const auto now = scheduler.now();
  duration delay{};
  if (bug.fires("net.accept_delay", accept_delay_probability)) {
    delay = random.log_between(1ms, 500ms);
    ++stats.accepts_delayed;
  }
  schedule(target, now + delay, "accept", [made, listening] {
    // A listener closed meanwhile resets what waited in its backlog.
    if (!listening->open || !listening->on_accept) {
      made->abort(1);
      return;
    }
    auto handler = std::move(listening->on_accept);
    handler(std::make_unique<sim_connection>(made, 1));
    if (listening->open && !listening->on_accept)
      listening->on_accept = std::move(handler);
  });
  schedule(op->caller, now + travel_time(target, op->caller), "connected", [this, op, made] {
    if (op->done) {
      made->abort(0); // the dialer gave up meanwhile: the half-made connection is reset
      return;
    }
    ++stats.connects_established;
    finish(op, std::unique_ptr<connection>{std::make_unique<sim_connection>(made, 0)});
  });
}

void fabric::finish(const std::shared_ptr<pending_connect>& op,
                    result<std::unique_ptr<connection>> outcome) {
  if (op->done)
    return;
  op->done = true;
  if (op->deadline_event)
    scheduler.cancel(*op->deadline_event);
  log.note(scheduler.now(), "p%u's connect to %s: %s", op->caller, op->target.to_string().c_str(),
           outcome ? "connected" : outcome.error().message().c_str());
  auto handler = std::move(op->on_done);
  handler(std::move(outcome));
}

// -- lifecycle ----------------------------------------------------------------

std::shared_ptr<network_provider> fabric::attach(process_id id, sim_executor& loop,
                                                 const sim_clock& clock) {
  auto& m = machines_[id];
  m.attached = true;
  m.powered = true;
  m.loop = &loop;
  m.clock = &clock;
  ++m.life;
  // Survivors still holding connections to the machine's previous process
  // (silent since it lost power) now reach a kernel that knows nothing of them.
  for (auto& each : live_pipes())
    for (int side : {0, 1})
      if (each->end(side).owner == id && each->end(side).released)
        each->reset_survivor_of(side);
  return std::make_shared<host_network>(*this, id, m.life, loop);
}

void fabric::detach(process_id id, kill_mode how) {
  auto found = machines_.find(id);
  if (found == machines_.end() || !found->second.attached)
    return;
  auto& m = found->second;
  m.attached = false;
  m.loop = nullptr;
  if (how == kill_mode::power_off)
    m.powered = false;
  for (auto i = listeners_.begin(); i != listeners_.end();) {
    if (i->second->owner == id) {
      auto state = i->second;
      i = listeners_.erase(i);
      state->open = false;
      state->on_accept = nullptr;
    } else {
      ++i;
    }
  }
  for (auto& each : live_pipes())
    for (int side : {0, 1})
      if (each->end(side).owner == id) {
        const auto farewell = random.chance(0.5) ? segment_kind::fin : segment_kind::rst;
        each->kill_end(side, farewell, how == kill_mode::power_off);
      }
}

std::vector<std::shared_ptr<pipe>> fabric::live_pipes() {
  std::vector<std::shared_ptr<pipe>> out;
  for (auto i = pipes_.begin(); i != pipes_.end();) {
    auto held = i->second.lock();
    if (!held) {
      i = pipes_.erase(i);
      continue;
    }
    out.push_back(std::move(held));
    ++i;
  }
  return out;
}

// -- faults -------------------------------------------------------------------

void fabric::clog_pair(process_id a, process_id b, duration how_long) {
  auto& until = pair_clogs_[key(a, b)];
  until = std::max(until, scheduler.now() + how_long);
  ++stats.clogs;
}

void fabric::clog_machine(process_id a, duration how_long) {
  auto& until = machine_clogs_[a];
  until = std::max(until, scheduler.now() + how_long);
  ++stats.clogs;
}

void fabric::partition(process_id a, process_id b, duration how_long) {
  auto& until = partitions_[key(a, b)];
  until = std::max(until, scheduler.now() + how_long);
  ++stats.partitions;
}

void fabric::heal() noexcept {
  pair_clogs_.clear();
  partitions_.clear();
  machine_clogs_.clear();
}

bool fabric::sever_random(sever_mode how) {
  std::vector<std::shared_ptr<pipe>> open;
  for (auto& each : live_pipes())
    if (!each->end(0).released && !each->end(0).ended && !each->end(1).released &&
        !each->end(1).ended)
      open.push_back(std::move(each));
  if (open.empty())
    return false;
  open[random.below(open.size())]->sever(how);
  ++stats.severed;
  return true;
}

std::uint64_t fabric::last_life_reached(process_id from, process_id to) const {
  auto mine = machines_.find(from);
  if (mine == machines_.end())
    return 0;
  auto found = reached_.find({from, mine->second.life, to});
  return found == reached_.end() ? 0 : found->second;
}

std::size_t fabric::open_connections() const noexcept {
  std::size_t count = 0;
  for (const auto& [id, weak] : pipes_)
    if (auto held = weak.lock(); held && !held->finished())
      ++count;
  return count;
}

} // namespace grainflow::sim::detail
