#pragma once

/// @file
/// The base of objects whose lifetime an intrusive reference count manages.

#include <atomic>
#include <cstddef>

namespace grainflow {

/// An object that counts its own references and deletes itself when the last
/// one goes. Receivers in the endpoint map are ref_counted, so a lookup on the
/// network thread can keep a receiver alive past its removal without a lock.
///
/// A new object starts with a count of 1, owned by whoever created it;
/// `make_intrusive` hands that reference to an
/// `intrusive_ptr` instead of adding one. Objects must be created with `new`
/// (deref() deletes).
///
/// Thread safety: ref(), deref() and use_count() may be called from any
/// thread concurrently.
class ref_counted {
public:
  // -- constructors -----------------------------------------------------------

  /// Virtual, because deref() deletes through this base.
  virtual ~ref_counted();

  // -- reference counting -----------------------------------------------------

  /// Adds a reference.
  void ref() const noexcept {
    // Relaxed: a new reference is always made from an existing one, which
    // already keeps the object alive; nothing else needs ordering here.
    refs_.fetch_add(1, std::memory_order_relaxed);
  }

  /// Drops a reference and deletes the object when it was the last one.
  void deref() const noexcept {
    // acq_rel: the release half publishes this thread's uses of the object to
    // whichever thread drops the last reference; the acquire half lets that
    // thread see every other thread's uses before it runs the destructor.
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1)
      delete this;
  }

  /// Returns the current number of references. Only a snapshot when other
  /// threads hold references; exact when they do not.
  std::size_t use_count() const noexcept {
    // Relaxed: the value is advisory (tests, assertions), never a guard.
    return refs_.load(std::memory_order_relaxed);
  }

protected:
  /// Starts with one reference, owned by the creator.
  ref_counted() noexcept = default;

  /// A copy is a new object with its own single reference.
  ref_counted(const ref_counted&) noexcept
      : refs_{1} {
    // nop
  }

  /// Assignment copies state, never the count: each object keeps its owners.
  ref_counted& operator=(const ref_counted&) noexcept { return *this; }

private:
  mutable std::atomic<std::size_t> refs_{1};
};

} // namespace grainflow
