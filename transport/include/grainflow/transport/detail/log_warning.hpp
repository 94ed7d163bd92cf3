#pragma once

// For grainflow's own libraries: their warnings go where the transport's go
// (stderr, or the handler set with set_log_handler), one line each.

namespace grainflow::detail {

/// Logs a warning (printf-style) about something a peer did or suffered, or
/// something the process did that hurts its network (an actor that held the
/// network thread).
[[gnu::format(printf, 1, 2)]] void log_warning(const char* format, ...) noexcept;

} // namespace grainflow::detail
