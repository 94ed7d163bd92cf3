#pragma once

// Internal: the transport's diagnostics go to stderr, one line each.

namespace grainflow::detail {

/// Logs a warning (printf-style) about something a peer did or suffered.
[[gnu::format(printf, 1, 2)]] void log_warning(const char* format, ...) noexcept;

} // namespace grainflow::detail
