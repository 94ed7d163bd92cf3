#pragma once

/// @file
/// A move-only, type-erased callable: the stand-in for C++23's
/// `std::move_only_function`.

#include <cassert>
#include <cstddef>
#include <functional>
#include <new>
#include <type_traits>
#include <utility>

namespace grainflow {

template <class Signature>
class unique_function;

/// Holds any callable of signature `R(Args...)` that can be moved, including
/// lambdas that capture move-only state (a `std::unique_ptr`, a
/// `std::promise`), which `std::function` rejects because it must be copyable.
/// Callbacks of the transport own such state (a connection handed to an accept
/// handler, a promise fulfilled by a timer), hence this type.
///
/// Storage: a callable of at most `small_size` bytes whose move constructor is
/// noexcept lives inside the object (no allocation, which keeps posting small
/// lambdas cheap); larger ones live on the heap. Moving a `unique_function`
/// never throws.
///
/// Thread safety: none, like any value; one thread uses an object at a time.
template <class R, class... Args>
class unique_function<R(Args...)> {
public:
  /// Bytes of inline storage: four pointers, enough for a lambda that captures
  /// a shared_ptr and two more words.
  static constexpr std::size_t small_size = 4 * sizeof(void*);

  // -- constructors -----------------------------------------------------------

  /// Constructs an empty function.
  unique_function() noexcept = default;

  /// Constructs an empty function.
  unique_function(std::nullptr_t) noexcept {}

  /// Stores `f` (moved or copied in). A null function pointer or null member
  /// pointer yields an empty function, as with `std::function`.
  template <class F, class D = std::decay_t<F>,
            class = std::enable_if_t<!std::is_same_v<D, unique_function> &&
                                     std::is_invocable_r_v<R, D&, Args...> &&
                                     std::is_constructible_v<D, F&&>>>
  unique_function(F&& f) {
    if constexpr (std::is_pointer_v<D> || std::is_member_pointer_v<D>) {
      if (f == nullptr)
        return;
    }
    if constexpr (stored_inline<D>) {
      ::new (static_cast<void*>(storage_)) D(std::forward<F>(f));
      vtable_ = &inline_vtable<D>;
    } else {
      ::new (static_cast<void*>(storage_)) D*(new D(std::forward<F>(f)));
      vtable_ = &heap_vtable<D>;
    }
  }

  /// Takes `other`'s callable and leaves `other` empty.
  unique_function(unique_function&& other) noexcept { take(other); }

  /// Destroys the held callable, if any.
  ~unique_function() { reset(); }

  unique_function(const unique_function&) = delete;
  unique_function& operator=(const unique_function&) = delete;

  /// Destroys the held callable, then takes `other`'s and leaves `other` empty.
  unique_function& operator=(unique_function&& other) noexcept {
    if (this != &other) {
      reset();
      take(other);
    }
    return *this;
  }

  /// Destroys the held callable; the function becomes empty.
  unique_function& operator=(std::nullptr_t) noexcept {
    reset();
    return *this;
  }

  // -- properties -------------------------------------------------------------

  /// Returns whether a callable is held.
  explicit operator bool() const noexcept { return vtable_ != nullptr; }

  // -- operations -------------------------------------------------------------

  /// Calls the held callable. @pre `*this` is not empty.
  R operator()(Args... args) {
    assert(vtable_ != nullptr && "called an empty unique_function");
    return vtable_->invoke(storage_, std::forward<Args>(args)...);
  }

  /// Exchanges the callables of `*this` and `other`.
  void swap(unique_function& other) noexcept {
    unique_function tmp{std::move(other)};
    other = std::move(*this);
    *this = std::move(tmp);
  }

private:
  /// What the erased type must do; one static instance per stored type.
  struct vtable {
    R (*invoke)(void* storage, Args&&... args);
    /// Move-constructs the callable from `src` into `dst`, then destroys the
    /// one in `src`.
    void (*relocate)(void* dst, void* src) noexcept;
    void (*destroy)(void* storage) noexcept;
  };

  // Inline storage needs a noexcept move: moving a unique_function relocates
  // the callable, and that must not throw halfway.
  template <class D>
  static constexpr bool stored_inline =
      sizeof(D) <= small_size &&
      alignof(D) <= alignof(std::max_align_t) && std::is_nothrow_move_constructible_v<D>;

  template <class D>
  static R invoke_object(D& f, Args&&... args) {
    if constexpr (std::is_void_v<R>)
      std::invoke(f, std::forward<Args>(args)...);
    else
      return std::invoke(f, std::forward<Args>(args)...);
  }

  template <class D>
  static constexpr vtable inline_vtable = {
      [](void* storage, Args&&... args) -> R {
        return invoke_object(*std::launder(static_cast<D*>(storage)), std::forward<Args>(args)...);
      },
      [](void* dst, void* src) noexcept {
        D* from = std::launder(static_cast<D*>(src));
        ::new (dst) D(std::move(*from));
        from->~D();
      },
      [](void* storage) noexcept { std::launder(static_cast<D*>(storage))->~D(); },
  };

  template <class D>
  static constexpr vtable heap_vtable = {
      [](void* storage, Args&&... args) -> R {
        return invoke_object(**std::launder(static_cast<D**>(storage)),
                             std::forward<Args>(args)...);
      },
      [](void* dst, void* src) noexcept { ::new (dst) D*(*std::launder(static_cast<D**>(src))); },
      [](void* storage) noexcept { delete *std::launder(static_cast<D**>(storage)); },
  };

  void take(unique_function& other) noexcept {
    if (other.vtable_ != nullptr) {
      other.vtable_->relocate(storage_, other.storage_);
      vtable_ = std::exchange(other.vtable_, nullptr);
    }
  }

  void reset() noexcept {
    // Cleared before the destructor runs, so a callable whose destructor
    // reaches back into this object finds it empty rather than half-dead.
    if (auto* vt = std::exchange(vtable_, nullptr))
      vt->destroy(storage_);
  }

  alignas(std::max_align_t) std::byte storage_[small_size];
  const vtable* vtable_ = nullptr;
};

} // namespace grainflow
