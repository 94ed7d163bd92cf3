#include "grainflow/endpoints/network_address.hpp"

#include <gtest/gtest.h>

#include <string>
#include <system_error>
#include <unordered_set>

using namespace grainflow;

namespace {

network_address must_parse(std::string_view text) {
  auto r = network_address::parse(text);
  EXPECT_TRUE(r) << text;
  return r ? r.value() : network_address{};
}

} // namespace

TEST(network_address_test, a_default_address_is_invalid) {
  network_address none;
  EXPECT_FALSE(none.valid());
  EXPECT_FALSE(none.is_v4());
  EXPECT_FALSE(none.is_v6());
  EXPECT_EQ(none.port(), 0);
  EXPECT_EQ(none.to_string(), "<invalid>");
}

TEST(network_address_test, ipv4_addresses_are_stored_ipv4_mapped) {
  auto a = network_address::ipv4({192, 168, 1, 20}, 8080);
  EXPECT_TRUE(a.valid());
  EXPECT_TRUE(a.is_v4());
  EXPECT_FALSE(a.is_v6());
  EXPECT_EQ(a.port(), 8080);
  std::array<std::uint8_t, 16> mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 1, 20};
  EXPECT_EQ(a.bytes(), mapped);
  EXPECT_EQ(a.v4_bytes(), (std::array<std::uint8_t, 4>{192, 168, 1, 20}));
  EXPECT_EQ(a.to_string(), "192.168.1.20:8080");
  EXPECT_EQ(network_address::loopback_v4(1).to_string(), "127.0.0.1:1");
  EXPECT_EQ(a.with_port(9).to_string(), "192.168.1.20:9");
}

TEST(network_address_test, ipv4_text_round_trips) {
  for (auto text : {"1.2.3.4:80", "0.0.0.0:0", "255.255.255.255:65535", "10.0.0.1:4500"}) {
    auto a = must_parse(text);
    EXPECT_TRUE(a.is_v4());
    EXPECT_EQ(a.to_string(), text);
  }
  EXPECT_EQ(must_parse("1.2.3.4:80"), network_address::ipv4({1, 2, 3, 4}, 80));
}

TEST(network_address_test, ipv6_prints_in_rfc5952_canonical_form) {
  struct sample {
    const char* input;
    const char* canonical;
  };
  const sample samples[] = {
      {"[::1]:80", "[::1]:80"},
      {"[::]:1", "[::]:1"},
      {"[0:0:0:0:0:0:0:1]:80", "[::1]:80"},
      {"[2001:DB8:0:0:0:0:2:1]:443", "[2001:db8::2:1]:443"},
      // Leading zeros dropped, but a single zero group stays.
      {"[2001:0db8:0000:0001:0001:0001:0001:0001]:1", "[2001:db8:0:1:1:1:1:1]:1"},
      // Longest run wins.
      {"[2001:0:0:1:0:0:0:1]:1", "[2001:0:0:1::1]:1"},
      // Equal runs: the first one is compressed.
      {"[2001:db8:0:0:1:0:0:1]:1", "[2001:db8::1:0:0:1]:1"},
      {"[1::]:2", "[1::]:2"},
      {"[1:0:0:0:0:0:0:0]:2", "[1::]:2"},
      {"[fe80::1:2]:3", "[fe80::1:2]:3"},
      {"[1:2:3:4:5:6:7:8]:9", "[1:2:3:4:5:6:7:8]:9"},
      {"[1:2:3:4:5:6:7::]:9", "[1:2:3:4:5:6:7:0]:9"},
      // IPv4-mapped keeps the dotted tail (RFC 5952 section 5).
      {"[::ffff:1.2.3.4]:5", "[::ffff:1.2.3.4]:5"},
      {"[::FFFF:0102:0304]:5", "[::ffff:1.2.3.4]:5"},
      // Other embedded IPv4 forms print as hex.
      {"[64:ff9b::192.0.2.33]:5", "[64:ff9b::c000:221]:5"},
      {"[::1.2.3.4]:5", "[::102:304]:5"},
  };
  for (const auto& s : samples) {
    SCOPED_TRACE(s.input);
    auto a = must_parse(s.input);
    EXPECT_TRUE(a.is_v6());
    EXPECT_EQ(a.to_string(), s.canonical);
    // Canonical text parses back to the same address.
    EXPECT_EQ(must_parse(a.to_string()), a);
  }
}

TEST(network_address_test, ipv6_bytes_are_in_network_order) {
  auto a = must_parse("[2001:db8::ff00:42:8329]:1");
  std::array<std::uint8_t, 16> expected{0x20, 0x01, 0x0d, 0xb8, 0, 0,    0,    0,
                                        0,    0,    0xff, 0,    0, 0x42, 0x83, 0x29};
  EXPECT_EQ(a.bytes(), expected);
  EXPECT_EQ(network_address::ipv6(expected, 1), a);
  EXPECT_EQ(network_address::loopback_v6(7).to_string(), "[::1]:7");
}

TEST(network_address_test, an_ipv4_mapped_ipv6_address_differs_from_the_ipv4_address) {
  auto v4 = must_parse("1.2.3.4:5");
  auto v6 = must_parse("[::ffff:1.2.3.4]:5");
  EXPECT_EQ(v4.bytes(), v6.bytes());
  EXPECT_NE(v4, v6);
  EXPECT_LT(v4, v6);
}

TEST(network_address_test, malformed_text_is_an_invalid_argument) {
  for (auto text : {
           "",
           "1.2.3.4",                   // no port
           "1.2.3.4:",                  // empty port
           "1.2.3.4:65536",             // port out of range
           "1.2.3.4:-1",                // signed port
           "1.2.3.4:8O",                // letter in port
           "1.2.3.4:123456",            // too many port digits
           "1.2.3:80",                  // three parts
           "1.2.3.4.5:80",              // five parts
           "1.2.3.256:80",              // part out of range
           "01.2.3.4:80",               // leading zero, octal or not
           "1..3.4:80",                 // empty part
           "1.2.3.4 :80",               // stray space
           "localhost:80",              // names are not resolved
           "::1:80",                    // IPv6 without brackets
           "[::1]80",                   // missing colon
           "[::1]",                     // missing port
           "[::1:80",                   // unclosed bracket
           "[1.2.3.4]:80",              // IPv4 in brackets
           "[1:2:3:4:5:6:7:8:9]:1",     // nine groups
           "[1:2:3:4:5:6:7]:1",         // seven groups, no ::
           "[1::2::3]:1",               // two ::
           "[:::]:1",                   // triple colon
           "[:1::2]:1",                 // lone leading colon
           "[1::2:]:1",                 // lone trailing colon
           "[12345::]:1",               // group too long
           "[g::]:1",                   // not hex
           "[1:2:3:4:5:6:7:8::]:1",     // :: standing for no group
           "[1.2.3.4::]:1",             // IPv4 part not last
           "[::1.2.3]:1",               // short IPv4 tail
           "[1:2:3:4:5:6:7:1.2.3.4]:1", // IPv4 tail makes nine groups
           "[fe80::1%eth0]:1",          // zone index
           "<invalid>",
       }) {
    SCOPED_TRACE(text);
    auto r = network_address::parse(text);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::invalid_argument);
  }
}

TEST(network_address_test, addresses_hash_by_family_bytes_and_port) {
  std::hash<network_address> h;
  auto a = network_address::ipv4({1, 2, 3, 4}, 5);
  EXPECT_EQ(h(a), h(must_parse("1.2.3.4:5")));
  EXPECT_NE(h(a), h(a.with_port(6)));
  std::unordered_set<network_address> set{a, a.with_port(6), must_parse("[::ffff:1.2.3.4]:5"), a};
  EXPECT_EQ(set.size(), 3u);
}
