// Sanitizer options baked into every test binary, so a test behaves the same
// run by ctest, by hand, or under a debugger. The suppression files are
// absolute paths from the build (see CMakeLists.txt).

extern "C" {

// NOLINTBEGIN(bugprone-reserved-identifier): the sanitizers' hook names.
const char* __asan_default_options() {
  return "detect_leaks=1";
}

const char* __ubsan_default_options() {
  return "print_stacktrace=1:halt_on_error=1:suppressions=" GRAINFLOW_UBSAN_SUPPRESSIONS;
}

const char* __tsan_default_options() {
#ifdef GRAINFLOW_TEST_LOADS_CAF
  // CAF from Debian is not instrumented: its own synchronisation is invisible
  // to TSan and its internals show up as false races.
  return "halt_on_error=1:second_deadlock_stack=1:suppressions=" GRAINFLOW_TSAN_SUPPRESSIONS;
#else
  return "halt_on_error=1:second_deadlock_stack=1";
#endif
}
// NOLINTEND(bugprone-reserved-identifier)

} // extern "C"
