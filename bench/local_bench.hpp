#pragma once

namespace grainflow::bench {

/// grainflow-local (get_reply between two actors of one process) beside
/// caf-local (CAF's own request/response), same payload: two int32 in, their
/// int32 sum out; depth 1 and 64.
void run_local(bool quick);

} // namespace grainflow::bench
