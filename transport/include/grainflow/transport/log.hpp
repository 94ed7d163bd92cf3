#pragma once

/// @file
/// Where the transport's warnings go.

namespace grainflow {

/// Receives one warning line of the transport (a peer that went quiet, a
/// refused connection, a protocol violation), without a trailing newline.
/// Called on the thread that noticed, with no lock of the transport held;
/// must not block or call back into the transport.
using log_handler = void (*)(void* context, const char* line) noexcept;

/// Sends the transport's warnings to `handler` (with `context`), for the
/// whole process; a null handler restores the default, stderr prefixed with
/// "grainflow: ". For tools that capture them — the simulator writes them
/// into a run's trace. Not for concurrent use with running transports:
/// set it before they start.
void set_log_handler(log_handler handler, void* context) noexcept;

} // namespace grainflow
