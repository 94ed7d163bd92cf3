#pragma once

namespace grainflow::detail {

/// True on a network thread that runs actors itself (a node's; see
/// actors/src/network_execution_unit.hpp). Waiting there for an answer would
/// wait forever: the answer can only arrive through this thread.
[[nodiscard]] bool actors_run_on_this_thread() noexcept;

} // namespace grainflow::detail
