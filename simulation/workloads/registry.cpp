#include "workloads.hpp"

#include <array>

namespace grainflow::sim::workloads {

namespace {

constexpr std::array entries{
    workload_entry{"ping",
                   "get_reply pings of random sizes, one client, one server, network faults",
                   &make_ping_workload},
    workload_entry{"rpc",
                   "three processes calling each other and themselves in every delivery mode, "
                   "with deadlines and promises answered late or dropped on purpose",
                   &make_rpc_workload},
    workload_entry{"calculator",
                   "three servers of the sample calculator, two clients, crashes, power loss "
                   "and restarts",
                   &make_calculator_workload},
    workload_entry{"kv",
                   "three shards of the sample key-value store, two clients, crashes, power loss "
                   "and restarts (a restarted shard starts empty)",
                   &make_kv_workload},
};

} // namespace

std::span<const workload_entry> all() noexcept {
  return entries;
}

const workload_entry* find(std::string_view name) noexcept {
  for (const auto& each : entries)
    if (each.name == name)
      return &each;
  return nullptr;
}

} // namespace grainflow::sim::workloads
