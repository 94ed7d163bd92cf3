// Descriptor encoding and every check the receiver applies before it touches
// a payload. INV-SLOT-04 (hand back once), INV-SLOT-05 (checks first).

#include "grainflow/shm/descriptor.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <vector>

namespace {

using namespace grainflow::shm;

constexpr std::uint32_t slot_size = 256;
constexpr std::uint32_t slot_count = 4;

/// A slab of 4 slots of 256 bytes with its generations.
struct test_slab {
  test_slab()
      : bytes(std::size_t{slot_size} * slot_count)
      , generations(slot_count) {}

  descriptor_checker checker() { return {bytes.data(), slot_size, slot_count, generations.data()}; }

  std::vector<std::byte> bytes;
  std::vector<std::atomic<std::uint32_t>> generations;
};

/// Checks a single descriptor (no entries after it).
checked_descriptor check_one(descriptor_checker& checker, const descriptor& d) {
  return checker.check(std::span<const descriptor>{&d, 1});
}

TEST(descriptor, inline_payloads_round_trip) {
  std::vector<std::byte> payload(descriptor_inline_capacity);
  for (std::size_t i = 0; i < payload.size(); ++i)
    payload[i] = static_cast<std::byte>(i);
  test_slab slab;
  auto checker = slab.checker();
  const descriptor d = make_inline_descriptor(payload);
  const auto checked = check_one(checker, d);
  ASSERT_EQ(checked.fault, descriptor_fault::none);
  EXPECT_FALSE(checked.return_slot);
  ASSERT_EQ(checked.payload.size(), payload.size());
  EXPECT_TRUE(std::equal(payload.begin(), payload.end(), checked.payload.begin()));
  EXPECT_EQ(checked.payload.data(), d.body); // inside the checked copy
}

TEST(descriptor, slot_payloads_point_into_the_slab) {
  test_slab slab;
  slab.generations[2] = 7;
  auto checker = slab.checker();
  const auto checked = check_one(checker, make_slot_descriptor({2, 7, 16}, 100));
  ASSERT_EQ(checked.fault, descriptor_fault::none);
  EXPECT_TRUE(checked.return_slot);
  EXPECT_EQ(checked.slot, 2u);
  EXPECT_EQ(checked.generation, 7u);
  EXPECT_EQ(checked.payload.data(), slab.bytes.data() + 2 * slot_size + 16);
  EXPECT_EQ(checked.payload.size(), 100u);
}

TEST(descriptor, a_slot_may_be_filled_to_its_last_byte) {
  test_slab slab;
  slab.generations[3] = 1;
  auto checker = slab.checker();
  EXPECT_EQ(check_one(checker, make_slot_descriptor({3, 1, 0}, slot_size)).fault,
            descriptor_fault::none);
}

TEST(descriptor, unknown_kinds_and_flags_are_rejected) {
  test_slab slab;
  auto checker = slab.checker();
  descriptor d = make_inline_descriptor({});
  d.kind = 0;
  EXPECT_EQ(check_one(checker, d).fault, descriptor_fault::unknown_kind);
  d.kind = 3;
  EXPECT_EQ(check_one(checker, d).fault, descriptor_fault::unknown_kind);
  d = make_inline_descriptor({});
  d.flags = 1;
  EXPECT_EQ(check_one(checker, d).fault, descriptor_fault::unknown_kind);
  d = make_inline_descriptor({});
  d.reserved = 1;
  EXPECT_EQ(check_one(checker, d).fault, descriptor_fault::unknown_kind);
}

TEST(descriptor, inline_payloads_spill_into_up_to_three_more_entries) {
  test_slab slab;
  auto checker = slab.checker();
  for (std::size_t size : {57, 120, 121, 184, 185, 247, 248}) {
    std::vector<std::byte> payload(size);
    for (std::size_t i = 0; i < size; ++i)
      payload[i] = static_cast<std::byte>(i * 3 + size);
    std::array<descriptor, 4> entries;
    const std::size_t n = encode_inline(payload, entries);
    ASSERT_EQ(n, inline_entries(size)) << size;
    EXPECT_EQ(n, 1 + (size - 56 + 63) / 64) << size;
    EXPECT_EQ(claimed_entries(entries[0]), n);
    const auto checked = checker.check(std::span<const descriptor>{entries.data(), n});
    ASSERT_EQ(checked.fault, descriptor_fault::none) << size;
    EXPECT_EQ(checked.entries, n);
    ASSERT_EQ(checked.payload.size(), size);
    EXPECT_TRUE(std::equal(payload.begin(), payload.end(), checked.payload.begin())) << size;
  }
}

TEST(descriptor, an_inline_length_beyond_the_limit_is_rejected) {
  test_slab slab;
  auto checker = slab.checker();
  descriptor d = make_inline_descriptor({});
  d.length = max_inline_payload + 1;
  const auto checked = check_one(checker, d);
  EXPECT_EQ(checked.fault, descriptor_fault::inline_too_long);
  EXPECT_EQ(checked.entries, 1u);
  EXPECT_TRUE(checked.payload.empty());
  d.length = 0xFFFFFFFF;
  EXPECT_EQ(check_one(checker, d).fault, descriptor_fault::inline_too_long);
  EXPECT_EQ(claimed_entries(d), 1u);
}

TEST(descriptor, inline_continuations_that_are_missing_are_rejected) {
  test_slab slab;
  auto checker = slab.checker();
  std::vector<std::byte> payload(200);
  std::array<descriptor, 4> entries;
  ASSERT_EQ(encode_inline(payload, entries), 4u);
  for (std::size_t available = 1; available < 4; ++available) {
    const auto checked = checker.check(std::span<const descriptor>{entries.data(), available});
    EXPECT_EQ(checked.fault, descriptor_fault::inline_truncated);
    EXPECT_EQ(checked.entries, available); // consumed, never read as descriptors
    EXPECT_TRUE(checked.payload.empty());
  }
}

TEST(descriptor, a_slot_out_of_range_is_rejected_and_not_handed_back) {
  test_slab slab;
  auto checker = slab.checker();
  for (std::uint32_t slot : {slot_count, slot_count + 1, 0xFFFFFFFFu}) {
    const auto checked = check_one(checker, make_slot_descriptor({slot, 1, 0}, 8));
    EXPECT_EQ(checked.fault, descriptor_fault::slot_out_of_range);
    EXPECT_FALSE(checked.return_slot);
  }
}

TEST(descriptor, a_generation_other_than_the_slots_is_rejected_and_not_handed_back) {
  test_slab slab;
  slab.generations[1] = 5;
  auto checker = slab.checker();
  for (std::uint32_t generation : {0u, 4u, 6u}) {
    const auto checked = check_one(checker, make_slot_descriptor({1, generation, 0}, 8));
    EXPECT_EQ(checked.fault, descriptor_fault::generation_mismatch);
    EXPECT_FALSE(checked.return_slot);
  }
}

TEST(descriptor, a_slot_is_accepted_once_per_generation) {
  // INV-SLOT-04: a replayed descriptor would otherwise be handed back twice.
  test_slab slab;
  slab.generations[0] = 1;
  auto checker = slab.checker();
  EXPECT_EQ(check_one(checker, make_slot_descriptor({0, 1, 0}, 8)).fault, descriptor_fault::none);
  const auto again = check_one(checker, make_slot_descriptor({0, 1, 0}, 8));
  EXPECT_EQ(again.fault, descriptor_fault::already_received);
  EXPECT_FALSE(again.return_slot);
  slab.generations[0] = 2; // the sender reused the slot
  EXPECT_EQ(check_one(checker, make_slot_descriptor({0, 2, 0}, 8)).fault, descriptor_fault::none);
}

TEST(descriptor, generations_compare_across_the_wrap) {
  EXPECT_TRUE(generation_after(1, 0));
  EXPECT_TRUE(generation_after(0x00000002, 0xFFFFFFFE));
  EXPECT_FALSE(generation_after(5, 5));
  EXPECT_FALSE(generation_after(4, 5));
  test_slab slab;
  auto checker = slab.checker();
  slab.generations[0] = 0xFFFFFFFF;
  EXPECT_EQ(check_one(checker, make_slot_descriptor({0, 0xFFFFFFFF, 0}, 1)).fault,
            descriptor_fault::none);
  slab.generations[0] = 1; // wrapped, 0 skipped
  EXPECT_EQ(check_one(checker, make_slot_descriptor({0, 1, 0}, 1)).fault, descriptor_fault::none);
}

TEST(descriptor, bounds_beyond_the_slot_are_rejected_but_the_slot_goes_back) {
  // A genuine slot with bad bounds: no payload, yet the slot is handed back,
  // or it would be lost to the sender.
  struct bounds {
    std::uint32_t offset;
    std::uint32_t length;
  };
  for (auto [offset, length] :
       {bounds{0, slot_size + 1}, bounds{1, slot_size}, bounds{slot_size + 1, 0},
        bounds{0xFFFFFFF0, 0x20}, bounds{16, 0xFFFFFFFF}}) {
    test_slab slab;
    slab.generations[1] = 3;
    auto checker = slab.checker();
    const auto checked = check_one(checker, make_slot_descriptor({1, 3, offset}, length));
    EXPECT_EQ(checked.fault, descriptor_fault::out_of_slot_bounds) << offset << "+" << length;
    EXPECT_TRUE(checked.return_slot);
    EXPECT_TRUE(checked.payload.empty());
  }
}

TEST(descriptor, faults_have_names) {
  EXPECT_EQ(to_string(descriptor_fault::none), "none");
  EXPECT_EQ(to_string(descriptor_fault::already_received), "already_received");
  EXPECT_EQ(to_string(static_cast<descriptor_fault>(200)), "unknown");
}

} // namespace
