#pragma once

/// @file
/// A mutex that spins briefly before it sleeps, for the short critical
/// sections that an actor thread and the network thread share on every
/// message (the outbox of a peer, the failure monitor's call table, the
/// endpoint map's registrations).

#include <pthread.h>

namespace grainflow {

/// glibc's adaptive mutex (PTHREAD_MUTEX_ADAPTIVE_NP): a contended lock()
/// spins for a bounded number of rounds before it parks in the kernel.
///
/// Why not std::mutex: its lock() parks at the first contention, and its
/// unlock() then pays a futex wake-up. When two threads trade a lock every
/// few hundred nanoseconds, as the sending actor and the network thread do,
/// those two system calls cost more than the work they guard; a short spin
/// finds the lock free instead. The spin is bounded (glibc's
/// `glibc.pthread.mutex_spin_count` tunable, 100 rounds by default), so a
/// holder that was preempted still lets its waiters sleep.
///
/// Meets Lockable (std::lock_guard, std::unique_lock, std::scoped_lock); pair
/// it with std::condition_variable_any for waiting.
class adaptive_mutex {
public:
  adaptive_mutex() noexcept {
    pthread_mutexattr_t attributes;
    pthread_mutexattr_init(&attributes);
    pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_ADAPTIVE_NP);
    pthread_mutex_init(&native_, &attributes);
    pthread_mutexattr_destroy(&attributes);
  }

  ~adaptive_mutex() { pthread_mutex_destroy(&native_); }

  adaptive_mutex(const adaptive_mutex&) = delete;
  adaptive_mutex& operator=(const adaptive_mutex&) = delete;

  // With a valid, initialized, non-recursive mutex locked only by its owner,
  // these calls cannot fail (EINVAL, EAGAIN, EDEADLK and EPERM all describe
  // misuse), so their results are not checked.
  void lock() noexcept { pthread_mutex_lock(&native_); }
  bool try_lock() noexcept { return pthread_mutex_trylock(&native_) == 0; }
  void unlock() noexcept { pthread_mutex_unlock(&native_); }

private:
  pthread_mutex_t native_;
};

} // namespace grainflow
