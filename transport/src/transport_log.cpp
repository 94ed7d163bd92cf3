#include "transport_log.hpp"

#include <cstdarg>
#include <cstdio>

namespace grainflow::detail {

void log_warning(const char* format, ...) noexcept {
  char line[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(line, sizeof(line), format, args);
  va_end(args);
  std::fprintf(stderr, "grainflow: %s\n", line);
}

} // namespace grainflow::detail
