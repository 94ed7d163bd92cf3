// The SPSC ring against a model (std::deque): random sequences of pushes,
// staged pushes, publishes and pops, with wrap-around of the slot index and
// of the 64-bit positions. INV-RING-01..03.

#include "grainflow/shm/descriptor.hpp"
#include "grainflow/shm/spsc_ring.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <vector>

namespace {

using namespace grainflow::shm;

/// A ring of `capacity` u64 entries in ordinary memory, both halves in one
/// thread, positions starting at `start`.
struct test_ring {
  test_ring(std::uint32_t capacity, std::uint64_t start)
      : indices(std::make_unique<ring_indices>())
      , entries(capacity, 0) {
    indices->head.store(start);
    indices->tail.store(start);
    producer = ring_producer<std::uint64_t>{*indices, entries.data(), capacity};
    consumer = ring_consumer<std::uint64_t>{*indices, entries.data(), capacity};
  }

  std::unique_ptr<ring_indices> indices;
  std::vector<std::uint64_t> entries;
  ring_producer<std::uint64_t> producer;
  ring_consumer<std::uint64_t> consumer;
};

/// One random run: the ring and the model must agree after every step.
void run_model(std::uint32_t capacity, std::uint64_t start, std::uint64_t seed, int steps) {
  SCOPED_TRACE("capacity " + std::to_string(capacity) + " start " + std::to_string(start) +
               " seed " + std::to_string(seed));
  test_ring ring{capacity, start};
  std::deque<std::uint64_t> published; // what the consumer may see
  std::deque<std::uint64_t> staged;    // written, not yet published
  std::mt19937_64 random{seed};
  std::uint64_t next_value = 1;
  for (int step = 0; step < steps; ++step) {
    const auto total = published.size() + staged.size();
    switch (random() % 5) {
    case 0:
    case 1: { // try_push
      const auto status = ring.producer.try_push(next_value);
      if (total < capacity) {
        ASSERT_EQ(status, ring_status::ok);
        published.insert(published.end(), staged.begin(), staged.end());
        staged.clear();
        published.push_back(next_value++);
      } else {
        ASSERT_EQ(status, ring_status::full);
      }
      break;
    }
    case 2: { // try_stage, maybe publish
      const auto status = ring.producer.try_stage(next_value);
      if (total < capacity) {
        ASSERT_EQ(status, ring_status::ok);
        staged.push_back(next_value++);
      } else {
        ASSERT_EQ(status, ring_status::full);
      }
      if (random() % 2 == 0) {
        ring.producer.publish();
        published.insert(published.end(), staged.begin(), staged.end());
        staged.clear();
      }
      break;
    }
    default: { // refresh, read some, pop some
      const auto status = ring.consumer.refresh(std::memory_order_acquire);
      ASSERT_EQ(status, published.empty() ? ring_status::empty : ring_status::ok);
      ASSERT_EQ(ring.consumer.readable(), published.size());
      const auto n = published.empty() ? 0 : random() % (published.size() + 1);
      for (std::uint64_t i = 0; i < n; ++i)
        ASSERT_EQ(ring.consumer.read(i), published[i]) << "entry " << i;
      ring.consumer.pop(n);
      published.erase(published.begin(), published.begin() + static_cast<std::ptrdiff_t>(n));
      break;
    }
    }
    ASSERT_EQ(ring.producer.staged(), staged.size());
    ASSERT_EQ(ring.producer.head() - ring.consumer.tail(), published.size() + staged.size());
  }
}

TEST(spsc_ring, agrees_with_a_deque_under_random_operations) {
  // INV-RING-01/02: order kept, nothing lost or duplicated, never more than
  // the capacity in flight; small capacities wrap the slot index constantly.
  for (std::uint32_t capacity : {2u, 4u, 8u, 64u})
    for (std::uint64_t seed = 1; seed <= 20; ++seed)
      run_model(capacity, 0, seed, 5000);
}

TEST(spsc_ring, positions_wrap_around_two_to_the_sixty_four) {
  // Positions are u64 and compared by difference: starting just below 2^64
  // crosses the wrap within a few hundred steps.
  for (std::uint64_t seed = 1; seed <= 10; ++seed)
    run_model(8, ~std::uint64_t{0} - 100, seed, 3000);
}

TEST(spsc_ring, a_full_ring_refuses_until_the_consumer_pops) {
  test_ring ring{4, 0};
  for (std::uint64_t v = 0; v < 4; ++v)
    ASSERT_EQ(ring.producer.try_push(v), ring_status::ok);
  EXPECT_EQ(ring.producer.try_push(99), ring_status::full);
  ASSERT_EQ(ring.consumer.refresh(std::memory_order_acquire), ring_status::ok);
  ring.consumer.pop(1);
  EXPECT_EQ(ring.producer.try_push(4), ring_status::ok);
  ASSERT_EQ(ring.consumer.refresh(std::memory_order_acquire), ring_status::ok);
  EXPECT_EQ(ring.consumer.read(3), 4u);
}

TEST(spsc_ring, an_impossible_head_is_reported_as_corrupt_and_not_used) {
  // INV-RING-03: the consumer reads the peer's head once and bound-checks it.
  test_ring ring{8, 100};
  ASSERT_EQ(ring.producer.try_push(1), ring_status::ok);
  ring.indices->head.store(100 + 9); // more than the capacity ahead
  EXPECT_EQ(ring.consumer.refresh(std::memory_order_acquire), ring_status::corrupt);
  EXPECT_EQ(ring.consumer.readable(), 0u);
  ring.indices->head.store(99); // behind the tail
  EXPECT_EQ(ring.consumer.refresh(std::memory_order_acquire), ring_status::corrupt);
  ring.indices->head.store(101);
  EXPECT_EQ(ring.consumer.refresh(std::memory_order_acquire), ring_status::ok);
  EXPECT_EQ(ring.consumer.readable(), 1u);
}

TEST(spsc_ring, an_impossible_tail_is_reported_as_corrupt) {
  test_ring ring{4, 0};
  for (std::uint64_t v = 0; v < 4; ++v)
    ASSERT_EQ(ring.producer.try_push(v), ring_status::ok);
  ring.indices->tail.store(7); // ahead of the producer's head
  EXPECT_EQ(ring.producer.try_push(5), ring_status::corrupt);
  EXPECT_EQ(ring.producer.refresh(std::memory_order_acquire), ring_status::corrupt);
}

TEST(spsc_ring, carries_descriptors_whole) {
  std::vector<descriptor> entries(4);
  ring_indices indices{};
  ring_producer<descriptor> producer{indices, entries.data(), 4};
  ring_consumer<descriptor> consumer{indices, entries.data(), 4};
  const std::byte payload[3] = {std::byte{1}, std::byte{2}, std::byte{3}};
  ASSERT_EQ(producer.try_push(make_inline_descriptor(payload)), ring_status::ok);
  ASSERT_EQ(consumer.refresh(std::memory_order_acquire), ring_status::ok);
  const descriptor d = consumer.read(0);
  EXPECT_EQ(d.kind, static_cast<std::uint8_t>(descriptor_kind::inline_payload));
  EXPECT_EQ(d.length, 3u);
  EXPECT_EQ(d.body[2], std::byte{3});
}

} // namespace
