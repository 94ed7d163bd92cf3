#pragma once

/// @file
/// Forward declarations of the simulator's types, and the small vocabulary
/// every part of it shares.

#include <cstdint>

namespace grainflow::sim {

/// Names one simulated machine and the process that runs on it (a restarted
/// process keeps its machine's id, address and clock). Ids are dense, from 0.
using process_id = std::uint32_t;

/// Stands for "no process": an event of the simulator itself.
inline constexpr process_id no_process = ~process_id{0};

class assertions;
class buggify;
class chaos;
class process_role;
class sim_clock;
class sim_executor;
class sim_network;
class sim_process;
class sim_random;
class sim_scheduler;
class simulation;
class trace;
class workload;

struct run_options;
struct run_result;
struct workload_entry;

} // namespace grainflow::sim
