#include "grainflow/transport/detail/log_warning.hpp"

#include "grainflow/transport/log.hpp"

#include <atomic>
#include <cstdarg>
#include <cstdio>

namespace grainflow {

namespace {

// Set before transports run (see log.hpp); relaxed suffices for that use.
std::atomic<log_handler> current_handler{nullptr};
std::atomic<void*> current_context{nullptr};

} // namespace

void set_log_handler(log_handler handler, void* context) noexcept {
  current_context.store(context, std::memory_order_relaxed);
  current_handler.store(handler, std::memory_order_relaxed);
}

} // namespace grainflow

namespace grainflow::detail {

void log_warning(const char* format, ...) noexcept {
  char line[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(line, sizeof(line), format, args);
  va_end(args);
  if (auto handler = current_handler.load(std::memory_order_relaxed)) {
    handler(current_context.load(std::memory_order_relaxed), line);
    return;
  }
  std::fprintf(stderr, "grainflow: %s\n", line);
}

} // namespace grainflow::detail
