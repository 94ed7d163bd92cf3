#include "grainflow/endpoints/well_known.hpp"

#include <gtest/gtest.h>

using namespace grainflow;

TEST(well_known_test, well_known_tokens_have_all_ones_first_and_their_index_second) {
  static_assert(well_known_token(well_known::ping) == uid{~0ULL, 1});
  EXPECT_EQ(well_known_token(well_known::endpoint_not_found), (uid{~0ULL, 0}));
  EXPECT_EQ(well_known_token(well_known::unauthorized), (uid{~0ULL, 2}));
  EXPECT_EQ(well_known_token(well_known::connection_handshake), (uid{~0ULL, 3}));
  EXPECT_EQ(well_known_token(well_known::name_registry), (uid{~0ULL, 4}));
  EXPECT_EQ(well_known_token(well_known::grain_directory), (uid{~0ULL, 5}));
  EXPECT_EQ(well_known_token(std::uint64_t{40}), (uid{~0ULL, 40}));
}

TEST(well_known_test, the_application_range_is_32_to_63) {
  EXPECT_EQ(static_cast<std::uint64_t>(well_known::first_application), 32u);
  EXPECT_EQ(static_cast<std::uint64_t>(well_known::count), 64u);
  EXPECT_EQ(well_known_count, 64u);
  EXPECT_TRUE(is_well_known(well_known_token(well_known::first_application)));
  EXPECT_TRUE(is_well_known(well_known_token(std::uint64_t{63})));
}

TEST(well_known_test, only_indexes_below_64_with_all_ones_first_are_well_known) {
  EXPECT_TRUE(is_well_known(uid{~0ULL, 0}));
  EXPECT_FALSE(is_well_known(uid{~0ULL, 64}));
  EXPECT_FALSE(is_well_known(well_known_token(well_known::count)));
  EXPECT_FALSE(is_well_known(uid{~0ULL - 1, 1}));
  EXPECT_FALSE(is_well_known(uid{0, 1}));
  EXPECT_FALSE(is_well_known(uid{}));
}
