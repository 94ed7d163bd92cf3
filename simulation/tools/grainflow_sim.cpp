// grainflow-sim: runs a workload under simulated faults for a range of seeds.
//
//   grainflow-sim --list
//   grainflow-sim --workload rpc --seeds 0..99 [--verbose] [--trace]
//
// One line per seed — pass, or the first violated invariant — with the
// run's trace hash; then the coverage of the sometimes-assertions and the
// buggify sites. A failing seed replays exactly when run alone (add --trace
// to print every step). Exit status: 0 when every seed passed, 1 otherwise,
// 2 for bad arguments.

#include "workloads.hpp"

#include "grainflow/simulation/runner.hpp"
#include "grainflow/transport/planted_bug.hpp"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <optional>
#include <string>

namespace {

using namespace grainflow;

struct seed_range {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
};

/// "A..B" or "A".
std::optional<seed_range> parse_seeds(const std::string& text) {
  try {
    auto dots = text.find("..");
    std::size_t used = 0;
    if (dots == std::string::npos) {
      auto one = std::stoull(text, &used);
      if (used != text.size())
        return std::nullopt;
      return seed_range{one, one};
    }
    auto first = std::stoull(text.substr(0, dots), &used);
    if (used != dots)
      return std::nullopt;
    auto rest = text.substr(dots + 2);
    auto last = std::stoull(rest, &used);
    if (used != rest.size() || last < first)
      return std::nullopt;
    return seed_range{first, last};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<testing::planted_bug> parse_bug(const std::string& name) {
  if (name.empty() || name == "none")
    return testing::planted_bug::none;
  if (name == "replay-late")
    return testing::planted_bug::replay_starts_one_late;
  return std::nullopt;
}

double seconds(grainflow::duration d) {
  return std::chrono::duration<double>(d).count();
}

void print_details(const sim::run_result& run) {
  const auto& n = run.network;
  const auto& f = run.faults;
  std::printf("    network: %" PRIu64 " connects (%" PRIu64 " established, %" PRIu64
              " refused, %" PRIu64 " injected failures, %" PRIu64 " SYNs lost), %" PRIu64
              " deliveries, %" PRIu64 " bytes, %" PRIu64 " partial writes, %" PRIu64 " bit flips\n",
              n.connects, n.connects_established, n.connects_refused, n.connects_failed_injected,
              n.syns_lost, n.deliveries, n.bytes_delivered, n.partial_writes, n.bit_flips);
  std::printf("    faults: %" PRIu64 " severed, %" PRIu64 " clogs, %" PRIu64 " partitions, %" PRIu64
              " crashes, %" PRIu64 " power-offs, %" PRIu64 " restarts\n",
              f.severed, f.clogs, f.partitions, f.kills, f.power_offs, f.restarts);
  std::string active;
  for (const auto& [name, site] : run.sites)
    if (site.active)
      active += " " + name + "(" + std::to_string(site.fired) + ")";
  std::printf("    buggify active:%s\n", active.empty() ? " none" : active.c_str());
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"grainflow-sim: deterministic simulation of grainflow clusters under faults"};
  bool list = false;
  std::string workload_name;
  std::string seeds_text = "0..9";
  bool verbose = false;
  bool trace = false;
  bool no_faults = false;
  std::string bug_name;
  double chaos_seconds = 20;
  app.add_flag("--list", list, "print the workload names, one per line");
  app.add_option("--workload,-w", workload_name, "the workload to run");
  app.add_option("--seeds,-s", seeds_text, "seeds to run: A..B (inclusive) or one number")
      ->capture_default_str();
  app.add_flag("--verbose,-v", verbose, "per seed: network, faults and buggify details");
  app.add_flag("--trace", trace, "print every step of every run (use with one seed)");
  app.add_flag("--no-faults", no_faults, "run without buggify and injected faults");
  app.add_option("--chaos-seconds", chaos_seconds, "virtual seconds of faults per run")
      ->capture_default_str();
  app.add_option("--plant-bug", bug_name,
                 "TEST ONLY: plant a transport bug (replay-late) to see the simulator catch it");
  CLI11_PARSE(app, argc, argv);

  if (list) {
    for (const auto& each : sim::workloads::all())
      std::printf("%.*s\n", static_cast<int>(each.name.size()), each.name.data());
    return 0;
  }
  const auto* entry = sim::workloads::find(workload_name);
  if (entry == nullptr) {
    std::fprintf(stderr, "grainflow-sim: unknown workload '%s' (see --list)\n",
                 workload_name.c_str());
    return 2;
  }
  auto seeds = parse_seeds(seeds_text);
  if (!seeds) {
    std::fprintf(stderr, "grainflow-sim: --seeds wants A..B or a number, not '%s'\n",
                 seeds_text.c_str());
    return 2;
  }
  auto bug = parse_bug(bug_name);
  if (!bug) {
    std::fprintf(stderr, "grainflow-sim: unknown planted bug '%s' (replay-late)\n",
                 bug_name.c_str());
    return 2;
  }
  testing::plant_bug(*bug);

  sim::coverage_report coverage;
  std::uint64_t failed = 0;
  std::string failing;
  const auto started = std::chrono::steady_clock::now();
  for (auto seed = seeds->first;; ++seed) {
    sim::run_options options;
    options.seed = seed;
    options.faults = !no_faults;
    options.chaos_time = std::chrono::duration_cast<grainflow::duration>(
        std::chrono::duration<double>{chaos_seconds});
    options.trace_to = trace ? stdout : nullptr;
    auto run = sim::run_workload(*entry, options);
    coverage.add(run);
    std::printf("seed %" PRIu64 ": %s trace=%016" PRIx64 " events=%" PRIu64 " time=%.1fs%s%s\n",
                seed, run.passed ? "pass" : "FAIL", run.trace_hash, run.events,
                seconds(run.virtual_time), run.passed ? "" : " ", run.failure.c_str());
    if (verbose)
      print_details(run);
    std::fflush(stdout);
    if (!run.passed) {
      ++failed;
      failing += " " + std::to_string(seed);
    }
    if (seed == seeds->last)
      break;
  }
  const auto total = seeds->last - seeds->first + 1;
  const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started);
  std::printf("%.*s: %" PRIu64 " of %" PRIu64 " seeds passed in %.1fs\n",
              static_cast<int>(entry->name.size()), entry->name.data(), total - failed, total,
              elapsed.count());
  coverage.print(stdout);
  if (failed > 0) {
    std::printf(
        "failing seeds:%s\nreplay one: grainflow-sim --workload %.*s --seeds N --trace%s%s\n",
        failing.c_str(), static_cast<int>(entry->name.size()), entry->name.data(),
        bug_name.empty() ? "" : " --plant-bug ", bug_name.c_str());
    return 1;
  }
  return 0;
}
