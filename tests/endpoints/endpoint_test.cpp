#include "grainflow/endpoints/endpoint.hpp"

#include <gtest/gtest.h>

#include <unordered_set>

using namespace grainflow;

namespace {

const auto here = network_address::ipv4({10, 0, 0, 7}, 4500);

} // namespace

TEST(endpoint_test, adjusted_names_method_i_of_an_interface) {
  // An interface registered at slot 5, generation 3: method i lives in slot
  // 5 + i under the same generation and random part.
  endpoint base{here, uid{0xabcdef, 3ULL << 32 | 5}};
  auto m2 = base.adjusted(2);
  EXPECT_EQ(m2.address, here);
  EXPECT_EQ(m2.token.first, 0xabcdefu);
  EXPECT_EQ(m2.token.second, 3ULL << 32 | 7);
  EXPECT_EQ(base.adjusted(0), base);
  EXPECT_EQ(base.adjusted(1).adjusted(1), m2);
}

TEST(endpoint_test, an_endpoint_needs_an_address_and_a_token_to_be_valid) {
  EXPECT_FALSE(endpoint{}.valid());
  EXPECT_FALSE((endpoint{here, uid{}}.valid()));
  EXPECT_FALSE((endpoint{network_address{}, uid{1, 2}}.valid()));
  EXPECT_TRUE((endpoint{here, uid{1, 2}}.valid()));
}

TEST(endpoint_test, endpoints_compare_by_address_then_token) {
  endpoint a{network_address::ipv4({10, 0, 0, 1}, 1), uid{9, 9}};
  endpoint b{network_address::ipv4({10, 0, 0, 2}, 1), uid{1, 1}};
  EXPECT_LT(a, b);
  EXPECT_LT(a, (endpoint{a.address, uid{9, 10}}));
  EXPECT_EQ(a, (endpoint{a.address, uid{9, 9}}));
  std::unordered_set<endpoint> set{a, b, a};
  EXPECT_EQ(set.size(), 2u);
}

TEST(endpoint_test, to_string_joins_address_and_token) {
  endpoint e{network_address::loopback_v6(80), uid{1, 2}};
  EXPECT_EQ(e.to_string(), "[::1]:80/0000000000000001:0000000000000002");
}
