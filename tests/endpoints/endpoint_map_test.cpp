// Single-threaded scenarios for endpoint_map. The INV-EPMAP-nn names refer to
// endpoints/src/endpoint_map.spec.md.

#include "grainflow/endpoints/endpoint_map.hpp"

#include "grainflow/endpoints/endpoint.hpp"

#include <gtest/gtest.h>

#include <set>
#include <system_error>
#include <vector>

using namespace grainflow;

namespace {

using receiver_ptr = endpoint_map::receiver_ptr;

/// A receiver that counts its destructions and remembers its name.
struct probe : ref_counted {
  probe(int id, int& destroyed)
      : id{id}
      , destroyed{destroyed} {}
  ~probe() override { ++destroyed; }
  int id;
  int& destroyed;
};

class endpoint_map_test : public ::testing::Test {
protected:
  receiver_ptr make(int id) { return make_intrusive<probe>(id, destroyed); }

  int id_of(const receiver_ptr& x) { return static_cast<probe*>(x.get())->id; }

  uid insert_one(endpoint_map& map, int id) {
    auto token = map.insert(make(id));
    EXPECT_TRUE(token);
    return token ? token.value() : uid{};
  }

  int destroyed = 0;
};

std::uint32_t slot_of(const uid& token) {
  return static_cast<std::uint32_t>(token.second);
}

std::uint32_t generation_of(const uid& token) {
  return static_cast<std::uint32_t>(token.second >> 32);
}

} // namespace

TEST_F(endpoint_map_test, an_inserted_receiver_is_found_under_its_token) {
  endpoint_map map{1};
  auto receiver = make(7);
  auto token = map.insert(receiver);
  ASSERT_TRUE(token);
  EXPECT_EQ(map.size(), 1u);
  EXPECT_EQ(receiver->use_count(), 2u) << "the map holds one reference";
  auto found = map.lookup(token.value());
  ASSERT_TRUE(found);
  EXPECT_EQ(found, receiver);
  EXPECT_EQ(receiver->use_count(), 3u) << "lookup hands out its own reference";
}

TEST_F(endpoint_map_test, dynamic_tokens_carry_generation_and_slot_and_are_never_well_known) {
  // INV-EPMAP-01
  endpoint_map map{2};
  std::set<std::uint64_t> randoms;
  for (int i = 0; i < 100; ++i) {
    auto token = insert_one(map, i);
    EXPECT_FALSE(is_well_known(token));
    EXPECT_NE(token.first, ~0ULL);
    EXPECT_EQ(generation_of(token), 1u);
    EXPECT_EQ(slot_of(token), static_cast<std::uint32_t>(i));
    randoms.insert(token.first);
  }
  EXPECT_EQ(randoms.size(), 100u) << "each insert draws fresh random bits";
}

TEST_F(endpoint_map_test, the_seed_determines_the_tokens) {
  endpoint_map a{42};
  endpoint_map b{42};
  endpoint_map c{43};
  auto ta = insert_one(a, 1);
  EXPECT_EQ(ta, insert_one(b, 1));
  EXPECT_NE(ta, insert_one(c, 1));
}

TEST_F(endpoint_map_test, a_run_answers_to_the_base_token_adjusted_by_method) {
  endpoint_map map{3};
  insert_one(map, 100); // occupy slot 0 so the run does not start at 0
  std::vector<receiver_ptr> methods{make(0), make(1), make(2), make(3)};
  auto base = map.insert(methods);
  ASSERT_TRUE(base);
  EXPECT_EQ(map.size(), 5u);
  endpoint ep{network_address::loopback_v4(1), base.value()};
  for (std::uint32_t i = 0; i < methods.size(); ++i) {
    auto found = map.lookup(ep.adjusted(i).token);
    ASSERT_TRUE(found) << i;
    EXPECT_EQ(id_of(found), static_cast<int>(i));
  }
  EXPECT_FALSE(map.lookup(ep.adjusted(4).token)) << "one past the run";
}

TEST_F(endpoint_map_test, a_run_is_removed_as_a_whole_with_its_exact_count) {
  endpoint_map map{4};
  std::vector<receiver_ptr> methods{make(0), make(1), make(2)};
  auto base = map.insert(methods).value();
  endpoint ep{network_address::loopback_v4(1), base};
  EXPECT_FALSE(map.remove(base, 2)) << "count must match the insert";
  EXPECT_FALSE(map.remove(base, 4));
  EXPECT_FALSE(map.remove(ep.adjusted(1).token, 1)) << "only the base token removes a run";
  EXPECT_EQ(map.size(), 3u);
  EXPECT_TRUE(map.remove(base, 3));
  EXPECT_EQ(map.size(), 0u);
  for (std::uint32_t i = 0; i < 3; ++i)
    EXPECT_FALSE(map.lookup(ep.adjusted(i).token));
  methods.clear();
  EXPECT_EQ(destroyed, 3) << "INV-EPMAP-06: the map dropped its references";
  EXPECT_FALSE(map.remove(base, 3)) << "a second remove finds nothing";
}

TEST_F(endpoint_map_test, a_removed_token_never_reaches_the_slots_next_occupant) {
  // INV-EPMAP-02, INV-EPMAP-03
  endpoint_map map{5};
  auto old_token = insert_one(map, 1);
  EXPECT_TRUE(map.remove(old_token));
  EXPECT_FALSE(map.lookup(old_token));
  auto new_token = insert_one(map, 2);
  ASSERT_EQ(slot_of(new_token), slot_of(old_token)) << "the slot is reused";
  EXPECT_GT(generation_of(new_token), generation_of(old_token));
  EXPECT_FALSE(map.lookup(old_token)) << "stale token, same slot: rejected";
  EXPECT_FALSE(map.remove(old_token)) << "and cannot remove the new occupant";
  auto found = map.lookup(new_token);
  ASSERT_TRUE(found);
  EXPECT_EQ(id_of(found), 2);
}

TEST_F(endpoint_map_test, stale_tokens_stay_dead_over_many_reuses) {
  endpoint_map map{6};
  std::vector<uid> dead;
  for (int round = 0; round < 50; ++round) {
    auto token = insert_one(map, round);
    for (const auto& d : dead)
      ASSERT_FALSE(map.lookup(d));
    ASSERT_TRUE(map.remove(token));
    dead.push_back(token);
  }
  EXPECT_EQ(generation_of(dead.back()), 50u);
  EXPECT_EQ(destroyed, 50);
}

TEST_F(endpoint_map_test, runs_are_reused_by_runs_of_the_same_length) {
  endpoint_map map{7};
  std::vector<receiver_ptr> three{make(0), make(1), make(2)};
  auto a = map.insert(three).value();
  EXPECT_TRUE(map.remove(a, 3));
  auto single = insert_one(map, 9);
  EXPECT_EQ(slot_of(single), 3u) << "a run of 1 takes a fresh slot";
  auto b = map.insert(three).value();
  EXPECT_EQ(slot_of(b), slot_of(a)) << "a run of 3 reuses the freed run of 3";
  EXPECT_EQ(generation_of(b), 2u);
  EXPECT_FALSE(map.lookup(a));
}

TEST_F(endpoint_map_test, forged_tokens_resolve_to_nothing) {
  // INV-EPMAP-03
  endpoint_map map{8};
  auto token = insert_one(map, 1);
  EXPECT_FALSE(map.lookup(uid{token.first ^ 1, token.second})) << "wrong random bits";
  EXPECT_FALSE(map.lookup(uid{token.first, token.second + (1ULL << 32)})) << "future generation";
  EXPECT_FALSE(map.lookup(uid{token.first, slot_of(token)})) << "generation 0";
  EXPECT_FALSE(map.lookup(uid{token.first, token.second + 1})) << "allocated chunk, empty slot";
  EXPECT_FALSE(map.lookup(uid{token.first, token.second + 5000})) << "chunk never allocated";
  EXPECT_FALSE(map.lookup(uid{token.first, 1ULL << 32 | 0xffffffffULL})) << "out of range";
  EXPECT_FALSE(map.lookup(uid{}));
  EXPECT_FALSE(map.lookup(uid{~0ULL, 64})) << "past the well-known range";
  EXPECT_FALSE(map.remove(uid{token.first ^ 1, token.second}));
  EXPECT_FALSE(map.remove(uid{token.first, 1ULL << 32 | 0xffffffffULL}));
  EXPECT_FALSE(map.remove(token, 0));
  EXPECT_TRUE(map.lookup(token)) << "the real token still works";
}

TEST_F(endpoint_map_test, bad_insertions_are_refused_without_side_effects) {
  endpoint_map map{9};
  auto empty = map.insert(std::span<const receiver_ptr>{});
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error(), std::errc::invalid_argument);
  auto null = map.insert(receiver_ptr{});
  ASSERT_FALSE(null);
  EXPECT_EQ(null.error(), std::errc::invalid_argument);
  auto keep = make(1);
  std::vector<receiver_ptr> with_hole{keep, nullptr};
  auto holed = map.insert(with_hole);
  ASSERT_FALSE(holed);
  EXPECT_EQ(holed.error(), std::errc::invalid_argument);
  EXPECT_EQ(keep->use_count(), 2u) << "no reference kept on failure";
  EXPECT_EQ(map.size(), 0u);
}

TEST_F(endpoint_map_test, well_known_endpoints_are_registered_once_per_index) {
  endpoint_map map{10};
  auto pinger = make(1);
  ASSERT_TRUE(map.insert_well_known(static_cast<std::uint64_t>(well_known::ping), pinger));
  EXPECT_EQ(map.size(), 1u);
  auto token = well_known_token(well_known::ping);
  EXPECT_EQ(map.lookup(token), pinger);
  auto again = map.insert_well_known(1, make(2));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), std::errc::address_in_use);
  EXPECT_EQ(destroyed, 1) << "the refused receiver was not kept";
  auto out_of_range = map.insert_well_known(64, make(3));
  ASSERT_FALSE(out_of_range);
  EXPECT_EQ(out_of_range.error(), std::errc::invalid_argument);
  EXPECT_FALSE(map.insert_well_known(5, nullptr));
  EXPECT_FALSE(map.lookup(well_known_token(well_known::endpoint_not_found)));
}

TEST_F(endpoint_map_test, a_well_known_token_survives_re_registration) {
  endpoint_map map{11};
  ASSERT_TRUE(map.insert_well_known(40, make(1)));
  auto token = well_known_token(std::uint64_t{40});
  EXPECT_FALSE(map.remove(token, 2)) << "well-known endpoints are single";
  EXPECT_TRUE(map.remove(token));
  EXPECT_FALSE(map.remove(token));
  EXPECT_FALSE(map.lookup(token));
  EXPECT_EQ(destroyed, 1);
  EXPECT_EQ(map.size(), 0u);
  ASSERT_TRUE(map.insert_well_known(40, make(2)));
  auto found = map.lookup(token);
  ASSERT_TRUE(found);
  EXPECT_EQ(id_of(found), 2) << "same name, new receiver: by design";
}

TEST_F(endpoint_map_test, a_lookup_keeps_a_removed_receiver_alive) {
  // INV-EPMAP-05
  endpoint_map map{12};
  auto token = insert_one(map, 1);
  auto held = map.lookup(token);
  EXPECT_TRUE(map.remove(token));
  EXPECT_EQ(destroyed, 0);
  EXPECT_EQ(held->use_count(), 1u);
  held.reset();
  EXPECT_EQ(destroyed, 1);
}

namespace {

/// A receiver whose destructor removes another endpoint from the same map,
/// as an actor that unregisters its helpers would.
struct chained : ref_counted {
  chained(endpoint_map& map, uid next, int& destroyed)
      : map{map}
      , next{next}
      , destroyed{destroyed} {}
  ~chained() override {
    ++destroyed;
    if (next.valid()) {
      EXPECT_TRUE(map.remove(next));
    }
  }
  endpoint_map& map;
  uid next;
  int& destroyed;
};

} // namespace

TEST_F(endpoint_map_test, receivers_are_released_outside_the_lock) {
  endpoint_map map{13};
  auto inner = insert_one(map, 1);
  auto outer = map.insert(make_intrusive<chained>(map, inner, destroyed)).value();
  EXPECT_TRUE(map.remove(outer)); // would deadlock if released under the mutex
  EXPECT_EQ(destroyed, 2);
  EXPECT_EQ(map.size(), 0u);
  auto again = insert_one(map, 2);
  EXPECT_TRUE(map.lookup(again)) << "the map is still usable";
}

TEST_F(endpoint_map_test, clear_releases_everything_exactly_once) {
  endpoint_map map{14};
  std::vector<uid> tokens;
  for (int i = 0; i < 10; ++i)
    tokens.push_back(insert_one(map, i));
  std::vector<receiver_ptr> run{make(20), make(21)};
  auto run_token = map.insert(run).value();
  run.clear();
  ASSERT_TRUE(map.insert_well_known(3, make(30)));
  EXPECT_TRUE(map.remove(tokens[4]));
  EXPECT_EQ(map.size(), 12u);
  map.clear();
  EXPECT_EQ(map.size(), 0u);
  EXPECT_EQ(destroyed, 13);
  for (const auto& t : tokens)
    EXPECT_FALSE(map.lookup(t));
  EXPECT_FALSE(map.lookup(run_token));
  EXPECT_FALSE(map.lookup(well_known_token(std::uint64_t{3})));
  map.clear();
  EXPECT_EQ(destroyed, 13) << "clearing an empty map releases nothing";
  auto after = insert_one(map, 99);
  EXPECT_TRUE(map.lookup(after));
  EXPECT_FALSE(map.lookup(tokens[0])) << "cleared tokens stay dead after reuse";
}

TEST_F(endpoint_map_test, clear_copes_with_receivers_that_remove_others_while_released) {
  endpoint_map map{15};
  auto outer = make_intrusive<chained>(map, uid{}, destroyed);
  ASSERT_TRUE(map.insert(outer));  // slot 0, released first
  auto inner = insert_one(map, 1); // slot 1, removed by outer's destructor
  outer->next = inner;
  outer.reset();
  map.clear();
  EXPECT_EQ(destroyed, 2);
  EXPECT_EQ(map.size(), 0u);
}

TEST_F(endpoint_map_test, the_destructor_releases_every_receiver) {
  {
    endpoint_map map{16};
    for (int i = 0; i < 5; ++i)
      insert_one(map, i);
    std::vector<receiver_ptr> run{make(10), make(11), make(12)};
    ASSERT_TRUE(map.insert(run));
    ASSERT_TRUE(map.insert_well_known(0, make(20)));
    EXPECT_EQ(destroyed, 0);
  }
  EXPECT_EQ(destroyed, 9);
}

TEST_F(endpoint_map_test, runs_spanning_chunks_work) {
  endpoint_map map{17};
  // 4096 slots per chunk: this run straddles the first boundary.
  std::vector<receiver_ptr> big;
  for (int i = 0; i < 5000; ++i)
    big.push_back(make(i));
  auto base = map.insert(big).value();
  big.clear();
  endpoint ep{network_address::loopback_v4(1), base};
  for (std::uint32_t i : {0u, 4095u, 4096u, 4999u}) {
    auto found = map.lookup(ep.adjusted(i).token);
    ASSERT_TRUE(found);
    EXPECT_EQ(id_of(found), static_cast<int>(i));
  }
  EXPECT_TRUE(map.remove(base, 5000));
  EXPECT_EQ(destroyed, 5000);
}

TEST_F(endpoint_map_test, a_full_map_refuses_and_then_splits_freed_runs) {
  endpoint_map map{18};
  auto one = make(1);
  // Fill the whole capacity with one run sharing a receiver (cheap), then ask
  // for more.
  std::vector<receiver_ptr> all(endpoint_map::capacity - 8, one);
  auto big = map.insert(all).value();
  all.clear();
  std::vector<receiver_ptr> eight(8, one);
  auto tail = map.insert(eight).value();
  auto full = map.insert(make(2));
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error(), std::errc::not_enough_memory);
  EXPECT_EQ(map.size(), endpoint_map::capacity);
  // Free a run of 8; a run of 3 must now split it, and the remainder serves
  // runs of 5.
  ASSERT_TRUE(map.remove(tail, 8));
  std::vector<receiver_ptr> three(3, one);
  auto a = map.insert(three).value();
  EXPECT_EQ(slot_of(a), slot_of(tail));
  EXPECT_EQ(generation_of(a), 2u);
  std::vector<receiver_ptr> five(5, one);
  auto b = map.insert(five).value();
  EXPECT_EQ(slot_of(b), slot_of(tail) + 3);
  EXPECT_FALSE(map.insert(one));
  EXPECT_FALSE(map.lookup(tail));
  EXPECT_TRUE(map.remove(big, endpoint_map::capacity - 8));
  EXPECT_EQ(map.size(), 8u);
}
