#include "grainflow/endpoints/uid.hpp"

#include <gtest/gtest.h>

#include <set>
#include <unordered_set>

using namespace grainflow;

TEST(uid_test, the_default_uid_is_invalid_and_any_other_is_valid) {
  EXPECT_FALSE(uid{}.valid());
  EXPECT_TRUE((uid{1, 0}.valid()));
  EXPECT_TRUE((uid{0, 1}.valid()));
  static_assert(!uid{}.valid(), "valid() is usable at compile time");
}

TEST(uid_test, uids_order_by_first_then_second) {
  EXPECT_LT((uid{1, 9}), (uid{2, 0}));
  EXPECT_LT((uid{1, 1}), (uid{1, 2}));
  EXPECT_EQ((uid{3, 4}), (uid{3, 4}));
  EXPECT_NE((uid{3, 4}), (uid{4, 3}));
  std::set<uid> sorted{{2, 0}, {1, 5}, {1, 2}};
  EXPECT_EQ(*sorted.begin(), (uid{1, 2}));
  EXPECT_EQ(*sorted.rbegin(), (uid{2, 0}));
}

TEST(uid_test, to_string_prints_both_halves_as_fixed_width_hex) {
  EXPECT_EQ((uid{0x0123456789abcdefULL, 0x0000000100000002ULL}.to_string()),
            "0123456789abcdef:0000000100000002");
  EXPECT_EQ(uid{}.to_string(), "0000000000000000:0000000000000000");
  EXPECT_EQ((uid{~0ULL, 3}.to_string()), "ffffffffffffffff:0000000000000003");
}

TEST(uid_test, hashing_separates_uids_that_differ_in_either_half_or_by_swapping) {
  uid_hash h;
  EXPECT_EQ(h(uid{1, 2}), h(uid{1, 2}));
  EXPECT_EQ(std::hash<uid>{}(uid{1, 2}), h(uid{1, 2}));
  EXPECT_NE(h(uid{1, 2}), h(uid{2, 1}));
  // A run of tokens differs only in the low bits of `second`; they must not
  // collide.
  std::unordered_set<std::size_t> hashes;
  for (std::uint64_t i = 0; i < 1000; ++i) {
    hashes.insert(h(uid{42, i}));
    hashes.insert(h(uid{i, 42}));
  }
  EXPECT_EQ(hashes.size(), 2000u - 1u); // uid{42, 42} appears twice
  std::unordered_set<uid> set{{1, 2}, {1, 2}, {2, 1}};
  EXPECT_EQ(set.size(), 2u);
}
