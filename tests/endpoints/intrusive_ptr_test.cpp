#include "grainflow/endpoints/intrusive_ptr.hpp"

#include "grainflow/endpoints/ref_counted.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <unordered_set>
#include <utility>

using namespace grainflow;

namespace {

int destroyed = 0;

struct base : ref_counted {
  ~base() override { ++destroyed; }
  virtual int kind() const { return 0; }
};

struct derived : base {
  explicit derived(int v)
      : value{v} {}
  int kind() const override { return 1; }
  int value;
};

class intrusive_ptr_test : public ::testing::Test {
protected:
  void SetUp() override { destroyed = 0; }
};

} // namespace

TEST_F(intrusive_ptr_test, make_intrusive_adopts_the_initial_reference) {
  {
    auto p = make_intrusive<derived>(7);
    EXPECT_EQ(p->use_count(), 1u);
    EXPECT_EQ(p->value, 7);
    EXPECT_EQ((*p).value, 7);
    EXPECT_TRUE(p);
    auto q = make_intrusive<derived>(8);
    EXPECT_EQ(q->use_count(), 1u);
    EXPECT_EQ(q->value, 8);
  }
  EXPECT_EQ(destroyed, 2);
}

TEST_F(intrusive_ptr_test, a_null_pointer_owns_nothing) {
  intrusive_ptr<base> p;
  EXPECT_FALSE(p);
  EXPECT_EQ(p, nullptr);
  EXPECT_EQ(p.get(), nullptr);
  intrusive_ptr<base> q = nullptr;
  EXPECT_EQ(p, q);
  p.reset();
  EXPECT_EQ(destroyed, 0);
}

TEST_F(intrusive_ptr_test, copies_share_and_moves_transfer) {
  auto p = make_intrusive<derived>(1);
  auto q = p;
  EXPECT_EQ(p->use_count(), 2u);
  EXPECT_EQ(p, q);
  auto r = std::move(q);
  EXPECT_EQ(q, nullptr);
  EXPECT_EQ(p->use_count(), 2u);
  r = p; // self-share: count stays
  EXPECT_EQ(p->use_count(), 2u);
  r = nullptr;
  EXPECT_EQ(p->use_count(), 1u);
  auto& alias = p;
  p = std::move(alias); // self-move must not free
  EXPECT_EQ(destroyed, 0);
}

TEST_F(intrusive_ptr_test, raw_pointers_are_adopted_or_shared_on_request) {
  auto* raw = new derived{3}; // count 1, owned by us
  {
    intrusive_ptr<derived> shared{raw}; // adds a reference
    EXPECT_EQ(raw->use_count(), 2u);
  }
  EXPECT_EQ(raw->use_count(), 1u);
  intrusive_ptr<derived> adopted{raw, false};
  EXPECT_EQ(raw->use_count(), 1u);
  auto* released = adopted.release();
  EXPECT_EQ(released, raw);
  EXPECT_FALSE(adopted);
  EXPECT_EQ(raw->use_count(), 1u);
  adopted.reset(released, false);
  adopted.reset();
  EXPECT_EQ(destroyed, 1);
}

TEST_F(intrusive_ptr_test, pointers_convert_to_bases_and_cast_back) {
  intrusive_ptr<derived> d = make_intrusive<derived>(5);
  intrusive_ptr<base> b = d;
  EXPECT_EQ(b->kind(), 1);
  EXPECT_EQ(b, d);
  EXPECT_EQ(d->use_count(), 2u);
  auto back = intrusive_cast<derived>(b);
  EXPECT_EQ(back->value, 5);
  EXPECT_EQ(d->use_count(), 3u);
  auto moved = intrusive_cast<derived>(std::move(b));
  EXPECT_EQ(b, nullptr);
  EXPECT_EQ(d->use_count(), 3u);
  intrusive_ptr<ref_counted> erased = std::move(moved);
  EXPECT_EQ(d->use_count(), 3u);
  static_assert(!std::is_constructible_v<intrusive_ptr<derived>, intrusive_ptr<base>>,
                "downcasts must be explicit");
}

TEST_F(intrusive_ptr_test, pointers_compare_and_hash_by_identity) {
  auto a = make_intrusive<derived>(1);
  auto b = make_intrusive<derived>(1);
  EXPECT_NE(a, b);
  EXPECT_EQ(a < b, std::less<derived*>{}(a.get(), b.get()));
  std::set<intrusive_ptr<derived>> ordered{a, b, a};
  std::unordered_set<intrusive_ptr<derived>> hashed{a, b, a};
  EXPECT_EQ(ordered.size(), 2u);
  EXPECT_EQ(hashed.size(), 2u);
  a.swap(b);
  EXPECT_EQ(a->use_count(), 3u);
}
