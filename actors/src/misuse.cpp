#include "grainflow/actors/detail/misuse.hpp"

#include <cstdio>
#include <cstdlib>

namespace grainflow::detail {

void report_misuse(const char* what, std::source_location where) noexcept {
  std::fprintf(stderr, "grainflow: programming error at %s:%u (%s): %s\n", where.file_name(),
               static_cast<unsigned>(where.line()), where.function_name(), what);
#ifndef NDEBUG
  std::abort();
#endif
}

} // namespace grainflow::detail
