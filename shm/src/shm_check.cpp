#include "shm_check.hpp"

#include <cstdio>
#include <cstdlib>

namespace grainflow::shm::detail {

void check_failed(const char* expr, const char* why, std::source_location where) noexcept {
  // stdio, not iostreams: the process is already in a bad state here.
  std::fprintf(stderr, "%s:%u: %s: check `%s` failed: %s\n", where.file_name(),
               static_cast<unsigned>(where.line()), where.function_name(), expr, why);
  std::fflush(stderr);
  std::abort();
}

} // namespace grainflow::shm::detail
