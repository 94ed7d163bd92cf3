#include "shm_check.hpp"

#include <cstdio>
#include <cstdlib>

namespace grainflow::shm::detail {

void check_failed(const char* expr, const char* why, const char* file, int line,
                  const char* function) noexcept {
  // stdio, not iostreams: the process is already in a bad state here.
  std::fprintf(stderr, "%s:%d: %s: check `%s` failed: %s\n", file, line, function, expr, why);
  std::fflush(stderr);
  std::abort();
}

} // namespace grainflow::shm::detail
