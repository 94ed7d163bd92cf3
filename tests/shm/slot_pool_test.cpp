// The sender's slot bookkeeping, one thread: allocation, generations, and
// refusal of every return that would free a slot twice. INV-SLOT-01..03, 06.

#include "grainflow/shm/slot_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <set>
#include <vector>

namespace {

using namespace grainflow::shm;

struct test_pool {
  explicit test_pool(std::uint32_t count)
      : generations(count)
      , pool(count, generations.data()) {}

  std::vector<std::atomic<std::uint32_t>> generations;
  slot_pool pool;
};

TEST(slot_pool, hands_out_every_slot_once_then_nothing) {
  test_pool t{8};
  std::set<std::uint32_t> seen;
  for (int i = 0; i < 8; ++i) {
    auto ticket = t.pool.allocate();
    ASSERT_TRUE(ticket.has_value());
    EXPECT_TRUE(seen.insert(ticket->slot).second);
    EXPECT_EQ(ticket->generation, 1u);
    EXPECT_EQ(t.generations[ticket->slot].load(), 1u); // published
  }
  EXPECT_FALSE(t.pool.allocate().has_value());
  EXPECT_EQ(t.pool.in_flight(), 8u);
  EXPECT_EQ(t.pool.free_count(), 0u);
}

TEST(slot_pool, every_reuse_gets_a_new_generation) {
  // INV-SLOT-02.
  test_pool t{1};
  std::uint32_t last = 0;
  for (int i = 0; i < 100; ++i) {
    auto ticket = t.pool.allocate();
    ASSERT_TRUE(ticket.has_value());
    EXPECT_GT(ticket->generation, last);
    last = ticket->generation;
    ASSERT_TRUE(t.pool.take_back(*ticket));
  }
}

TEST(slot_pool, generations_skip_zero_when_they_wrap) {
  test_pool t{1};
  t.generations[0] = 0xFFFFFFFF;
  slot_pool pool{1, t.generations.data()};
  auto ticket = pool.allocate();
  ASSERT_TRUE(ticket.has_value());
  EXPECT_EQ(ticket->generation, 1u);
}

TEST(slot_pool, refuses_returns_that_would_free_twice) {
  // INV-SLOT-03: duplicates, old generations, free slots, forged indices.
  test_pool t{4};
  auto a = *t.pool.allocate();
  auto b = *t.pool.allocate();
  EXPECT_FALSE(t.pool.take_back({a.slot, a.generation + 1}));
  EXPECT_FALSE(t.pool.take_back({99, a.generation}));
  EXPECT_TRUE(t.pool.take_back(a));
  EXPECT_FALSE(t.pool.take_back(a)); // twice
  auto c = *t.pool.allocate();       // reuses a's slot under a new generation
  EXPECT_EQ(c.slot, a.slot);
  EXPECT_FALSE(t.pool.take_back(a)); // the old generation
  EXPECT_TRUE(t.pool.take_back(c));
  EXPECT_TRUE(t.pool.take_back(b));
  EXPECT_EQ(t.pool.in_flight(), 0u);
  EXPECT_EQ(t.pool.free_count(), 4u);
}

TEST(slot_pool, reclaim_all_frees_what_the_peer_held) {
  // INV-SLOT-06: after the peer died nothing comes back; everything is ours.
  test_pool t{4};
  auto a = *t.pool.allocate();
  (void)*t.pool.allocate();
  (void)*t.pool.allocate();
  ASSERT_TRUE(t.pool.take_back(a));
  EXPECT_EQ(t.pool.reclaim_all(), 2u);
  EXPECT_EQ(t.pool.in_flight(), 0u);
  EXPECT_EQ(t.pool.reclaim_all(), 0u);
  for (int i = 0; i < 4; ++i)
    EXPECT_TRUE(t.pool.allocate().has_value());
}

TEST(slot_pool, random_use_never_loses_or_duplicates_a_slot) {
  // INV-SLOT-01 against a model: a set of slots in flight.
  test_pool t{16};
  std::mt19937 random{7};
  std::vector<slot_ticket> in_flight;
  for (int step = 0; step < 20000; ++step) {
    if (random() % 2 == 0) {
      auto ticket = t.pool.allocate();
      ASSERT_EQ(ticket.has_value(), in_flight.size() < 16);
      if (ticket)
        in_flight.push_back(*ticket);
    } else if (!in_flight.empty()) {
      const auto i = random() % in_flight.size();
      ASSERT_TRUE(t.pool.take_back(in_flight[i]));
      ASSERT_FALSE(t.pool.take_back(in_flight[i]));
      in_flight.erase(in_flight.begin() + static_cast<std::ptrdiff_t>(i));
    }
    ASSERT_EQ(t.pool.in_flight(), in_flight.size());
  }
}

TEST(slot_pool, return_entries_encode_slot_and_generation) {
  const slot_ticket ticket{0x1234, 0xABCDEF01};
  EXPECT_EQ(decode_return(encode_return(ticket)), ticket);
}

} // namespace
