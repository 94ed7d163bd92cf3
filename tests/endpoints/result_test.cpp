#include "grainflow/endpoints/result.hpp"

#include "grainflow/endpoints/error.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace grainflow;

namespace {

result<int> parse_digit(char c) {
  if (c < '0' || c > '9')
    return error::malformed_packet;
  return c - '0';
}

result<void> check_even(int x) {
  if (x % 2 != 0)
    return failure(make_error_code(error::wrong_message_type));
  return success();
}

} // namespace

TEST(result_test, a_result_holds_a_value_or_an_error_code) {
  auto good = parse_digit('7');
  ASSERT_TRUE(good);
  EXPECT_EQ(good.value(), 7);
  auto bad = parse_digit('x');
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), error::malformed_packet);
}

TEST(result_test, void_results_use_success_and_failure) {
  EXPECT_TRUE(check_even(4));
  auto odd = check_even(3);
  ASSERT_FALSE(odd);
  EXPECT_EQ(odd.error(), error::wrong_message_type);
}

TEST(result_test, standard_error_conditions_travel_in_the_same_type) {
  result<std::string> r = std::make_error_code(std::errc::invalid_argument);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::invalid_argument);
}
