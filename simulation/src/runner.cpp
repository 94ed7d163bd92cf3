#include "grainflow/simulation/runner.hpp"

#include <exception>
#include <string>

namespace grainflow::sim {

namespace {

/// The simulator's own coverage goals: the transport's rare paths that the
/// faults are meant to drive.
constexpr const char* transport_goals[] = {
    "transport.reconnected",
    "transport.replayed",
    "transport.rejected_connection",
};

/// Whether every connected peer of every live process has all its reliable
/// packets acknowledged.
bool transport_quiet(simulation& sim) {
  for (process_id id = 0; id < sim.process_count(); ++id) {
    auto& each = sim.process(id);
    if (!each.up())
      continue;
    for (const auto& peer : each.transport().peers())
      if (peer.connected && peer.reliable_in_flight > 0)
        return false;
  }
  return true;
}

/// What every workload's cluster must look like at rest: sessions drained.
void check_transport_at_rest(simulation& sim) {
  for (process_id id = 0; id < sim.process_count(); ++id) {
    auto& each = sim.process(id);
    if (!each.up())
      continue;
    const auto stats = each.transport().stats();
    sim.check().sometimes(stats.endpoints_not_found > 0, "transport.endpoint_not_found");
    sim.check().sometimes(stats.rejected_connections > 0, "transport.rejected_connection");
    for (const auto& peer : each.transport().peers()) {
      sim.check().sometimes(peer.reconnects > 0, "transport.reconnected");
      sim.check().sometimes(peer.retransmits > 0, "transport.replayed");
      sim.check().sometimes(peer.protocol_errors > 0, "transport.protocol_error");
      // Acks go out alone when the line is idle: at rest nothing waits.
      sim.check().always(!peer.connected || peer.reliable_in_flight == 0, "transport.acked_at_rest",
                         each.name() + " still has " + std::to_string(peer.reliable_in_flight) +
                             " unacknowledged reliable packets to " + peer.address.to_string() +
                             " at rest");
    }
  }
}

void run_phases(simulation& sim, workload& load) {
  for (const auto* goal : transport_goals)
    sim.check().expect(goal);
  for (const auto& goal : load.coverage_goals())
    sim.check().expect(goal);
  load.setup(sim);
  const auto& options = sim.options();
  auto done = [&] { return load.done(); };
  if (options.faults)
    sim.faults().start(load.chaos(sim), sim.now() + options.chaos_time);
  sim.run_until(done, sim.now() + options.chaos_time);
  if (options.faults)
    sim.faults().stop();
  if (sim.check().failed())
    return;
  if (!sim.run_until(done, sim.now() + options.liveness_time)) {
    if (!sim.check().failed())
      sim.check().fail(
          "sim.liveness: the workload did not finish " +
          std::to_string(
              std::chrono::duration_cast<std::chrono::seconds>(options.liveness_time).count()) +
          "s after the faults stopped: " + load.progress());
    return;
  }
  sim.run_until([] { return false; }, sim.now() + options.settle_time);
  sim.run_until([&] { return transport_quiet(sim); },
                sim.now() + options.settle_limit - options.settle_time);
  if (sim.check().failed())
    return;
  load.check(sim);
  check_transport_at_rest(sim);
}

} // namespace

run_result run_workload(const workload_entry& entry, const run_options& options) {
  run_result out;
  out.seed = options.seed;
  // The workload outlives the simulation: the processes' roles may point
  // into it while the simulation tears them down.
  auto load = entry.make();
  simulation sim{options};
  try {
    run_phases(sim, *load);
  } catch (const std::exception& e) {
    sim.check().fail(std::string{"sim.exception: "} + e.what());
  }
  out.passed = !sim.check().failed();
  out.failure = sim.check().first_failure();
  out.trace_hash = sim.log().hash();
  out.events = sim.scheduler().events_run();
  out.virtual_time = sim.now().time_since_epoch();
  out.coverage = sim.check().coverage();
  out.sites = sim.bug().sites();
  out.network = sim.network().stats();
  out.faults = sim.faults().stats();
  return out;
}

// -- coverage_report ----------------------------------------------------------

void coverage_report::add(const run_result& run) {
  ++runs_;
  for (const auto& [name, hits] : run.coverage) {
    auto& entry = probes_[name];
    entry.hits += hits;
    if (hits > 0)
      ++entry.runs_reached;
  }
  for (const auto& [name, stats] : run.sites) {
    auto& entry = sites_[name];
    if (stats.active)
      ++entry.runs_active;
    if (stats.fired > 0)
      ++entry.runs_fired;
    entry.fired += stats.fired;
  }
}

std::vector<std::string> coverage_report::unreached() const {
  std::vector<std::string> out;
  for (const auto& [name, entry] : probes_)
    if (entry.runs_reached == 0)
      out.push_back(name);
  return out;
}

void coverage_report::print(std::FILE* out) const {
  std::fprintf(out, "coverage over %llu runs (sometimes-assertions: runs reached / hits)\n",
               static_cast<unsigned long long>(runs_));
  for (const auto& [name, entry] : probes_)
    std::fprintf(out, "  %-44s %6llu / %-8llu%s\n", name.c_str(),
                 static_cast<unsigned long long>(entry.runs_reached),
                 static_cast<unsigned long long>(entry.hits),
                 entry.runs_reached == 0 ? "  NEVER REACHED" : "");
  std::fprintf(out, "buggify sites (runs active / runs fired / times fired)\n");
  for (const auto& [name, entry] : sites_)
    std::fprintf(out, "  %-44s %6llu / %-6llu / %llu\n", name.c_str(),
                 static_cast<unsigned long long>(entry.runs_active),
                 static_cast<unsigned long long>(entry.runs_fired),
                 static_cast<unsigned long long>(entry.fired));
}

} // namespace grainflow::sim
