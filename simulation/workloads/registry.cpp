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
