// The futex calls behind the doorbells. Invariant: INV-BELL-01 in
// shm_link.spec.md.

#include "grainflow/shm/doorbell.hpp"

#include <climits>
#include <ctime>

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace grainflow::shm {

namespace {

std::uint32_t* word_of(bell& b) noexcept {
  // The kernel compares and sleeps on the 4 bytes of the atomic: a lock-free
  // std::atomic<std::uint32_t> has exactly the object representation of a
  // std::uint32_t (layout.hpp asserts size and lock-freedom).
  return reinterpret_cast<std::uint32_t*>(&b.sequence);
}

} // namespace

void futex_wait(bell& b, std::uint32_t expected, std::chrono::nanoseconds timeout) noexcept {
  if (timeout <= std::chrono::nanoseconds::zero())
    return;
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  timespec relative{};
  relative.tv_sec = static_cast<time_t>(seconds.count());
  relative.tv_nsec = static_cast<long>((timeout - seconds).count());
  // Errors need no handling: EAGAIN (the word moved), EINTR (a signal) and
  // ETIMEDOUT all mean "look at the condition again", which every caller
  // does in a loop.
  ::syscall(SYS_futex, word_of(b), FUTEX_WAIT, expected, &relative, nullptr, 0);
}

void futex_wake_all(bell& b) noexcept {
  ::syscall(SYS_futex, word_of(b), FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}

} // namespace grainflow::shm
