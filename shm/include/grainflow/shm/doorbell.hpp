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

// -- waiting and ringing -------------------------------------------------------

/// The waiting half of a doorbell: reads the sequence, announces a sleeper,
/// then asks `ready()` once more and sleeps (at most `timeout`) only if it
/// says no. `ready` must read the condition with seq_cst loads, matching the
/// seq_cst store that made it true on the ringing side (INV-BELL-01).
/// Returns true if the thread went to sleep.
template <class Ready>
bool sleep_unless(bell& b, Ready&& ready, std::chrono::nanoseconds timeout) noexcept {
  // seq_cst, and before the announcement: whoever clears the announcement
  // below (any ringer, perhaps for an older event) bumps the sequence after
  // this read, so the futex then returns at once instead of sleeping with
  // no announcement left (INV-BELL-02).
  const std::uint32_t sequence = b.sequence.load(std::memory_order_seq_cst);
  // seq_cst: the announcement and the condition's re-check below form the
  // waiter's store-then-load; the ringer does publish-then-load-the-flag.
  // In the single total order of seq_cst operations one of the two loads
  // sees the other side's store, so either we see the condition or the
  // ringer sees us (INV-BELL-01).
  b.sleeping.store(1, std::memory_order_seq_cst);
  if (ready())
    return false;
  futex_wait(b, sequence, timeout);
  // The flag is not cleared here: another thread may have announced itself
  // meanwhile, and clearing its announcement would lose its wakeup. A stale
  // flag costs one needless FUTEX_WAKE.
  return true;
}

/// The ringing half: call after the seq_cst store that makes a waiter's
/// condition true. Wakes the sleepers of `b` if one announced itself since
/// the last wake, and returns true if it issued a FUTEX_WAKE.
inline bool ring(bell& b) noexcept {
  // seq_cst: the load half of the ringer's store-then-load (INV-BELL-01).
  // On x86 a plain load: the fast path, taken while nobody sleeps, stays
  // cheap.
  if (b.sleeping.load(std::memory_order_seq_cst) == 0)
    return false;
  // seq_cst: of all ringers that saw the flag, one clears it and wakes; the
  // rest skip the system call (INV-BELL-02). The waiter announced before
  // its re-check, so whoever clears it here rings after that announcement.
  if (b.sleeping.exchange(0, std::memory_order_seq_cst) == 0)
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
  b.sleeping.store(0, std::memory_order_seq_cst);
  b.sequence.fetch_add(1, std::memory_order_seq_cst);
  futex_wake_all(b);
}

} // namespace grainflow::shm
