#pragma once

/// @file
/// Doorbells between processes: a waiter spins briefly on its condition, then
/// sleeps on a futex in the segment; the other side calls FUTEX_WAKE only when
/// someone sleeps. INV-BELL-01 in shm/src/shm_link.spec.md says why no
/// wakeup is lost.

#include "grainflow/shm/layout.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>

namespace grainflow::shm {

// -- waiting ------------------------------------------------------------------

/// Tells the CPU that this thread spins (the x86 `pause`), so a sibling
/// hyperthread gets the core and the spin does not flood the memory bus.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

/// Sleeps on the futex word of `b` for at most `timeout`, unless the
/// sequence moved away from `expected` first. Returns when woken, on timeout,
/// on a signal, or at once if the word differs. Process-shared (not
/// FUTEX_PRIVATE): the other process wakes it.
void futex_wait(bell& b, std::uint32_t expected, std::chrono::nanoseconds timeout) noexcept;

/// Wakes every thread sleeping on `b`'s futex word, in any process.
void futex_wake_all(bell& b) noexcept;

/// The waiting half of a doorbell: announces a sleeper, reads the sequence,
/// then asks `ready()` once more and sleeps (at most `timeout`) only if it
/// says no. `ready` must read the condition with seq_cst loads, matching the
/// seq_cst store that made it true on the ringing side (INV-BELL-01).
/// Returns true if the thread went to sleep.
template <class Ready>
bool sleep_unless(bell& b, Ready&& ready, std::chrono::nanoseconds timeout) noexcept {
  // seq_cst: the announcement and the condition's re-check below form the
  // waiter's store-then-load; the ringer does publish-then-load-sleepers.
  // In the single total order of seq_cst operations one of the two loads
  // sees the other side's store, so either we see the condition or the
  // ringer sees us (INV-BELL-01).
  b.sleepers.fetch_add(1, std::memory_order_seq_cst);
  // seq_cst: a ring that lands after this load changes the word, and the
  // futex then returns at once instead of sleeping through it.
  const std::uint32_t sequence = b.sequence.load(std::memory_order_seq_cst);
  bool slept = false;
  if (!ready()) {
    futex_wait(b, sequence, timeout);
    slept = true;
  }
  // seq_cst (a cold path): a late decrement only costs a ringer one needless
  // FUTEX_WAKE; an early one cannot happen, the wait above has returned.
  b.sleepers.fetch_sub(1, std::memory_order_seq_cst);
  return slept;
}

// -- ringing ------------------------------------------------------------------

/// The ringing half: call after the store that makes a waiter's condition
/// true (a seq_cst store). Wakes the sleepers of `b` if there are any and
/// returns true if it issued a FUTEX_WAKE.
inline bool ring(bell& b) noexcept {
  // seq_cst: the load half of the ringer's store-then-load (INV-BELL-01).
  // On x86 this is a plain load: the fast path stays cheap.
  if (b.sleepers.load(std::memory_order_seq_cst) == 0)
    return false;
  // seq_cst (cold path): a waiter that read the old sequence sees the word
  // changed and does not sleep.
  b.sequence.fetch_add(1, std::memory_order_seq_cst);
  futex_wake_all(b);
  return true;
}

/// Wakes the sleepers of `b` whether or not any announced themselves: used
/// when a link fails or closes, where a missed sleeper would wait for its
/// timeout.
inline void ring_always(bell& b) noexcept {
  b.sequence.fetch_add(1, std::memory_order_seq_cst);
  futex_wake_all(b);
}

} // namespace grainflow::shm
