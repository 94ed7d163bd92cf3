#pragma once

// The workloads grainflow-sim runs, by name.

#include "grainflow/simulation/workload.hpp"

#include <memory>
#include <span>
#include <string_view>

namespace grainflow::sim::workloads {

/// Every workload, in the order --list prints them.
[[nodiscard]] std::span<const workload_entry> all() noexcept;

/// The workload called `name`, or null.
[[nodiscard]] const workload_entry* find(std::string_view name) noexcept;

std::unique_ptr<workload> make_ping_workload();
std::unique_ptr<workload> make_rpc_workload();
std::unique_ptr<workload> make_calculator_workload();
std::unique_ptr<workload> make_kv_workload();

} // namespace grainflow::sim::workloads
