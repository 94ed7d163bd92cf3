// Scenarios of unique_function: it holds what std::function cannot (move-only
// captures), small callables stay inline, and every callable is destroyed
// exactly once whatever moves happen.

#include "grainflow/transport/unique_function.hpp"

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <string>
#include <utility>

namespace grainflow {
namespace {

/// Counts live instances; copying is forbidden so only moves happen.
struct tracked {
  explicit tracked(int* live)
      : live_(live) {
    ++*live_;
  }
  tracked(tracked&& other) noexcept
      : live_(other.live_) {
    ++*live_;
  }
  tracked(const tracked&) = delete;
  ~tracked() { --*live_; }
  int operator()(int x) const { return x + 1; }
  int* live_;
};

/// Too large for the inline buffer.
struct big_tracked : tracked {
  using tracked::tracked;
  std::array<char, 256> padding{};
};

int twice(int x) {
  return 2 * x;
}

TEST(unique_function, holds_a_lambda_that_owns_a_unique_ptr) {
  auto owned = std::make_unique<int>(41);
  unique_function<int()> f = [p = std::move(owned)] { return *p + 1; };
  ASSERT_TRUE(f);
  EXPECT_EQ(f(), 42);
}

TEST(unique_function, default_and_null_are_empty) {
  unique_function<void()> a;
  unique_function<void()> b = nullptr;
  int (*null_pointer)(int) = nullptr;
  unique_function<int(int)> c = null_pointer;
  EXPECT_FALSE(a);
  EXPECT_FALSE(b);
  EXPECT_FALSE(c);
}

TEST(unique_function, calls_a_function_pointer) {
  unique_function<int(int)> f = &twice;
  EXPECT_EQ(f(21), 42);
}

TEST(unique_function, passes_move_only_arguments_through) {
  unique_function<int(std::unique_ptr<int>)> f = [](std::unique_ptr<int> p) { return *p; };
  EXPECT_EQ(f(std::make_unique<int>(7)), 7);
}

TEST(unique_function, small_and_large_callables_are_destroyed_exactly_once_across_moves) {
  int live = 0;
  {
    unique_function<int(int)> small = tracked{&live};
    unique_function<int(int)> large = big_tracked{&live};
    EXPECT_EQ(live, 2);
    unique_function<int(int)> moved_small = std::move(small);
    unique_function<int(int)> moved_large = std::move(large);
    EXPECT_EQ(live, 2);
    EXPECT_FALSE(small); // NOLINT(bugprone-use-after-move): moved-from is empty
    EXPECT_FALSE(large); // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(moved_small(1), 2);
    EXPECT_EQ(moved_large(2), 3);
    moved_small.swap(moved_large);
    EXPECT_EQ(live, 2);
    moved_small = nullptr;
    EXPECT_EQ(live, 1);
    moved_large = unique_function<int(int)>{tracked{&live}};
    EXPECT_EQ(live, 1);
  }
  EXPECT_EQ(live, 0);
}

TEST(unique_function, a_callable_that_resets_its_holder_while_being_destroyed_is_safe) {
  // The holder is cleared before the callable's destructor runs, so code that
  // reaches back into the holder from there sees an empty function.
  struct reaches_back {
    unique_function<void()>* holder;
    bool* saw_empty;
    reaches_back(unique_function<void()>* h, bool* s)
        : holder(h)
        , saw_empty(s) {}
    reaches_back(reaches_back&& other) noexcept
        : holder(std::exchange(other.holder, nullptr))
        , saw_empty(other.saw_empty) {}
    ~reaches_back() {
      if (holder)
        *saw_empty = !*holder;
    }
    void operator()() const {}
  };
  bool saw_empty = false;
  unique_function<void()> f;
  f = reaches_back{&f, &saw_empty};
  f = nullptr;
  EXPECT_TRUE(saw_empty);
}

TEST(unique_function, returns_values_convertible_to_the_signature) {
  unique_function<std::string()> f = [] { return "text"; };
  EXPECT_EQ(f(), "text");
}

} // namespace
} // namespace grainflow
