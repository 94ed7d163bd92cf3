#pragma once

// Internal to shm/ (never installed): the checks the .cpp files use.
//
// GRAINFLOW_SHM_INVARIANT(expr, "INV-...") checks an invariant named in
// shm_link.spec.md; it compiles to nothing when NDEBUG is defined, so it may
// sit on hot paths. GRAINFLOW_SHM_ALWAYS(expr, why) guards conditions that a
// correct caller can still reach and stays in release builds. Neither is ever
// used for what the peer process wrote: the peer is not trusted, so its input
// is validated and turned into counted rejections or errors instead.
//
// __FILE__ and __func__ rather than std::source_location: the fuzzing tree
// compiles these files with clang 14, whose libstdc++ 12 lacks it.

namespace grainflow::shm::detail {

/// Prints "<file>:<line>: <function>: check `<expr>` failed: <why>" to stderr
/// and aborts.
[[noreturn]] void check_failed(const char* expr, const char* why, const char* file, int line,
                               const char* function) noexcept;

} // namespace grainflow::shm::detail

#define GRAINFLOW_SHM_ALWAYS(expr, why)                                                            \
  do {                                                                                             \
    if (!(expr))                                                                                   \
      ::grainflow::shm::detail::check_failed(#expr, why, __FILE__, __LINE__, __func__);            \
  } while (false)

#ifdef NDEBUG
#define GRAINFLOW_SHM_INVARIANT(expr, name)                                                        \
  do {                                                                                             \
  } while (false)
#else
#define GRAINFLOW_SHM_INVARIANT(expr, name) GRAINFLOW_SHM_ALWAYS(expr, name)
#endif
