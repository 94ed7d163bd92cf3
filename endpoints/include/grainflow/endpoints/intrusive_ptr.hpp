#pragma once

/// @file
/// A smart pointer to objects that count their own references.

#include <compare>
#include <concepts>
#include <cstddef>
#include <functional>
#include <type_traits>
#include <utility>

namespace grainflow {

/// Shares ownership of a `T` that provides `ref()` and `deref()` (usually a
/// `ref_counted`). Unlike `std::shared_ptr` the count lives in the object, so
/// a raw pointer can always be turned back into an owning one and a pointer is
/// one word, which is what lets the endpoint map hand out references without a
/// lock.
///
/// Thread safety: as for `std::shared_ptr`; distinct intrusive_ptr objects may
/// be used from different threads even when they point at the same object.
template <class T>
class intrusive_ptr {
public:
  // -- member types -----------------------------------------------------------

  /// The pointee's type.
  using element_type = T;

  // -- constructors, destructors, and assignment operators --------------------

  /// Constructs a null pointer.
  constexpr intrusive_ptr() noexcept = default;

  /// Constructs a null pointer.
  constexpr intrusive_ptr(std::nullptr_t) noexcept {
    // nop
  }

  /// Points at `ptr`, adding a reference if `add_ref`; pass `false` to adopt a
  /// reference the caller already owns (as `make_intrusive` does).
  intrusive_ptr(T* ptr, bool add_ref = true) noexcept
      : ptr_{ptr} {
    if (ptr_ != nullptr && add_ref)
      ptr_->ref();
  }

  /// Shares `other`'s object.
  intrusive_ptr(const intrusive_ptr& other) noexcept
      : intrusive_ptr{other.ptr_, true} {
    // nop
  }

  /// Takes `other`'s reference, leaving it null.
  intrusive_ptr(intrusive_ptr&& other) noexcept
      : ptr_{other.release()} {
    // nop
  }

  /// Shares `other`'s object, e.g. `intrusive_ptr<base>` from
  /// `intrusive_ptr<derived>`.
  template <class U>
  requires std::convertible_to<U*, T*> intrusive_ptr(const intrusive_ptr<U>& other)
  noexcept
      : intrusive_ptr{other.get(), true} {
    // nop
  }

  /// Takes `other`'s reference, leaving it null.
  template <class U>
  requires std::convertible_to<U*, T*> intrusive_ptr(intrusive_ptr<U>&& other)
  noexcept
      : ptr_{other.release()} {
    // nop
  }

  /// Drops the reference, if any.
  ~intrusive_ptr() {
    if (ptr_ != nullptr)
      ptr_->deref();
  }

  /// Shares `other`'s object, dropping the current one.
  intrusive_ptr& operator=(const intrusive_ptr& other) noexcept {
    intrusive_ptr{other}.swap(*this);
    return *this;
  }

  /// Takes `other`'s reference, dropping the current one.
  intrusive_ptr& operator=(intrusive_ptr&& other) noexcept {
    intrusive_ptr{std::move(other)}.swap(*this);
    return *this;
  }

  /// Drops the current reference.
  intrusive_ptr& operator=(std::nullptr_t) noexcept {
    reset();
    return *this;
  }

  // -- properties -------------------------------------------------------------

  /// Returns the raw pointer without touching the count.
  T* get() const noexcept { return ptr_; }

  /// Accesses the pointee. Precondition: not null.
  T* operator->() const noexcept { return ptr_; }

  /// Accesses the pointee. Precondition: not null.
  T& operator*() const noexcept { return *ptr_; }

  /// Returns whether this points at an object.
  explicit operator bool() const noexcept { return ptr_ != nullptr; }

  // -- modifiers --------------------------------------------------------------

  /// Drops the current reference and points at `ptr` (adding a reference if
  /// `add_ref`).
  void reset(T* ptr = nullptr, bool add_ref = true) noexcept {
    intrusive_ptr{ptr, add_ref}.swap(*this);
  }

  /// Gives up ownership without dropping the reference: the caller now owns it
  /// and must eventually call `deref()` (or adopt it with `add_ref = false`).
  [[nodiscard]] T* release() noexcept { return std::exchange(ptr_, nullptr); }

  /// Exchanges the pointees.
  void swap(intrusive_ptr& other) noexcept { std::swap(ptr_, other.ptr_); }

  // -- comparison -------------------------------------------------------------

  /// Compares the pointers (identity, not value).
  template <class U>
  friend bool operator==(const intrusive_ptr& x, const intrusive_ptr<U>& y) noexcept {
    return x.get() == y.get();
  }

  /// Returns whether `x` is null.
  friend bool operator==(const intrusive_ptr& x, std::nullptr_t) noexcept { return !x; }

  /// Orders by address, so pointers can key ordered containers.
  template <class U>
  friend std::strong_ordering operator<=>(const intrusive_ptr& x,
                                          const intrusive_ptr<U>& y) noexcept {
    return std::compare_three_way{}(x.get(), y.get());
  }

private:
  T* ptr_ = nullptr;
};

/// Creates a `T` with `new` and adopts its initial reference, so the result
/// holds the only reference (use_count() == 1).
///
/// Not named `make_counted` on purpose: CAF calls its own `make_counted`
/// unqualified, and argument-dependent lookup would find ours too whenever a
/// grainflow type (a lambda defined in grainflow, say) is among the arguments.
template <class T, class... Ts>
[[nodiscard]] intrusive_ptr<T> make_intrusive(Ts&&... xs) {
  return intrusive_ptr<T>{new T(std::forward<Ts>(xs)...), false};
}

/// Casts `ptr` to `intrusive_ptr<T>` with `static_cast`, sharing the object.
/// Precondition: the object really is a `T`.
template <class T, class U>
[[nodiscard]] intrusive_ptr<T> intrusive_cast(const intrusive_ptr<U>& ptr) noexcept {
  return intrusive_ptr<T>{static_cast<T*>(ptr.get()), true};
}

/// Casts `ptr` to `intrusive_ptr<T>` with `static_cast`, moving its reference.
/// Precondition: the object really is a `T`.
template <class T, class U>
[[nodiscard]] intrusive_ptr<T> intrusive_cast(intrusive_ptr<U>&& ptr) noexcept {
  return intrusive_ptr<T>{static_cast<T*>(ptr.release()), false};
}

} // namespace grainflow

namespace std {

/// Hashes the pointer, so intrusive pointers can key unordered containers.
template <class T>
struct hash<grainflow::intrusive_ptr<T>> {
  /// Returns the hash of `x.get()`.
  std::size_t operator()(const grainflow::intrusive_ptr<T>& x) const noexcept {
    return std::hash<T*>{}(x.get());
  }
};

} // namespace std
