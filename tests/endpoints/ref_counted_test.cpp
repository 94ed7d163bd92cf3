#include "grainflow/endpoints/ref_counted.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

using namespace grainflow;

namespace {

struct tracked : ref_counted {
  explicit tracked(std::atomic<int>& destroyed)
      : destroyed_{&destroyed} {}
  ~tracked() override { destroyed_->fetch_add(1); }
  int payload = 0;
  std::atomic<int>* destroyed_;
};

} // namespace

TEST(ref_counted_test, a_new_object_starts_with_one_reference_owned_by_its_creator) {
  std::atomic<int> destroyed{0};
  auto* x = new tracked{destroyed};
  EXPECT_EQ(x->use_count(), 1u);
  x->ref();
  EXPECT_EQ(x->use_count(), 2u);
  x->deref();
  EXPECT_EQ(destroyed.load(), 0);
  x->deref();
  EXPECT_EQ(destroyed.load(), 1);
}

TEST(ref_counted_test, copies_get_their_own_count) {
  std::atomic<int> destroyed{0};
  auto* x = new tracked{destroyed};
  x->ref();
  auto* y = new tracked{*x};
  EXPECT_EQ(y->use_count(), 1u);
  *y = *x;
  EXPECT_EQ(y->use_count(), 1u);
  EXPECT_EQ(x->use_count(), 2u);
  y->deref();
  x->deref();
  x->deref();
  EXPECT_EQ(destroyed.load(), 2);
}

// Threads drop references while reading the object: the last one deletes it,
// exactly once, and TSan sees every read ordered before the destructor.
TEST(ref_counted_test, the_last_of_many_threads_to_drop_a_reference_deletes_exactly_once) {
  for (int round = 0; round < 50; ++round) {
    std::atomic<int> destroyed{0};
    auto* x = new tracked{destroyed};
    x->payload = 42;
    constexpr int threads = 4;
    for (int i = 1; i < threads; ++i)
      x->ref();
    std::atomic<int> sum{0};
    std::vector<std::thread> workers;
    for (int i = 0; i < threads; ++i)
      workers.emplace_back([x, &sum] {
        sum.fetch_add(x->payload);
        x->deref();
      });
    for (auto& w : workers)
      w.join();
    EXPECT_EQ(sum.load(), 42 * threads);
    EXPECT_EQ(destroyed.load(), 1);
  }
}
