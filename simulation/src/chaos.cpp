#include "grainflow/simulation/chaos.hpp"

#include "grainflow/simulation/simulation.hpp"

#include <algorithm>
#include <cmath>

namespace grainflow::sim {

namespace {

using namespace std::chrono_literals;

// The pause between an outage's end and the next one's start: long enough
// for connections to come back — a connect that hung during a partition
// fails only at its deadline (the transport's connection_timeout, 2 s), then
// the reconnect backoff (at most 0.5 s) and a handshake — so that outages do
// not chain into one longer than the resume window.
constexpr duration outage_gap = 4s;

} // namespace

chaos::chaos(simulation& sim) noexcept
    : sim_(sim) {}

void chaos::start(chaos_options options, time_point until) {
  options_ = std::move(options);
  until_ = until;
  running_ = true;
  ++generation_;
  schedule_next();
}

void chaos::stop() {
  running_ = false;
  ++generation_;
  sim_.network().heal();
  for (process_id id = 0; id < sim_.process_count(); ++id)
    if (!sim_.process(id).up()) {
      sim_.restart(id);
      ++stats_.restarts;
    }
  sim_.log().step(sim_.now(), "chaos stopped: network healed, every process up");
}

void chaos::schedule_next() {
  // Exponential gaps: faults cluster now and then, as in life.
  const double mean = std::chrono::duration<double>(options_.mean_interval).count();
  const double gap = -mean * std::log(1.0 - sim_.random().unit());
  const auto delay = std::chrono::duration_cast<duration>(std::chrono::duration<double>{gap});
  if (sim_.now() + delay >= until_)
    return;
  sim_.after(delay, "chaos", [this, generation = generation_] {
    if (running_ && generation == generation_) {
      inject();
      schedule_next();
    }
  });
}

void chaos::inject() {
  const bool can_kill = options_.kills && down() < options_.max_down;
  const auto roll = sim_.random().below(100);
  if (can_kill && roll < 25 && kill_one())
    return;
  if (options_.network_faults)
    network_fault();
}

bool chaos::network_fault() {
  auto& net = sim_.network();
  const auto count = sim_.process_count();
  const auto now = sim_.now();
  const auto roll = sim_.random().below(100);
  // Outages (clogs, partitions) one at a time, with a gap between them;
  // otherwise, and often, a severed connection.
  if (roll < 50 && now >= outage_until_ && count >= 2) {
    const auto how_long = sim_.random().log_between(10ms, options_.max_outage);
    outage_until_ = now + how_long + outage_gap;
    const auto a = static_cast<process_id>(sim_.random().below(count));
    auto b = static_cast<process_id>(sim_.random().below(count - 1));
    if (b >= a)
      ++b;
    switch (sim_.random().below(3)) {
    case 0:
      net.clog_pair(a, b, how_long);
      ++stats_.clogs;
      sim_.log().step(now, "chaos clog pair " + std::to_string(a) + "," + std::to_string(b));
      break;
    case 1:
      net.clog_machine(a, how_long);
      ++stats_.clogs;
      sim_.log().step(now, "chaos clog machine " + std::to_string(a));
      break;
    default:
      net.partition(a, b, how_long);
      ++stats_.partitions;
      sim_.log().step(now, "chaos partition " + std::to_string(a) + "," + std::to_string(b));
      break;
    }
    return true;
  }
  const auto how = static_cast<sever_mode>(sim_.random().below(3));
  if (!net.sever_random(how))
    return false;
  ++stats_.severed;
  sim_.log().step(now, "chaos sever " + std::to_string(static_cast<int>(how)));
  return true;
}

bool chaos::kill_one() {
  std::vector<process_id> candidates;
  for (auto id : options_.killable)
    if (id < sim_.process_count() && sim_.process(id).up())
      candidates.push_back(id);
  if (candidates.empty())
    return false;
  const auto victim = candidates[sim_.random().below(candidates.size())];
  const bool power_off = sim_.random().chance(0.3);
  sim_.kill(victim, power_off ? kill_mode::power_off : kill_mode::crash);
  ++(power_off ? stats_.power_offs : stats_.kills);
  const auto downtime = sim_.random().log_between(options_.min_downtime, options_.max_downtime);
  sim_.after(downtime, "chaos restart", [this, victim, generation = generation_] {
    if (running_ && generation == generation_ && !sim_.process(victim).up()) {
      sim_.restart(victim);
      ++stats_.restarts;
    }
  });
  return true;
}

std::size_t chaos::down() const {
  std::size_t count = 0;
  for (auto id : options_.killable)
    if (id < sim_.process_count() && !sim_.process(id).up())
      ++count;
  return count;
}

} // namespace grainflow::sim
