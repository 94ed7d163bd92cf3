// Scenarios for single packets: the byte layout against hand-written bytes,
// encoding in one call or in place behind a reserved header, and checking a
// packet that arrives whole (a shared-memory slot).

#include "grainflow/transport/packet.hpp"

#include <gtest/gtest.h>

#include <msgpack.hpp>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "grainflow/endpoints/error.hpp"
#include "grainflow/transport/crc32c.hpp"
#include "grainflow/transport/detail/little_endian.hpp"
#include "grainflow/transport/packet_writer.hpp"

namespace grainflow {
namespace {

std::vector<std::byte> bytes(std::initializer_list<unsigned> values) {
  std::vector<std::byte> out;
  for (unsigned v : values)
    out.push_back(static_cast<std::byte>(v));
  return out;
}

const uid example_token{.first = 0x0102030405060708u, .second = 0x1112131415161718u};

// The worked example of docs/protocol.md: msgpack [1, 2] to example_token.
// The CRC was computed independently, bit by bit, from the definition.
const std::vector<std::byte> example_packet = bytes({
    0x1B, 0x00, 0x00, 0x00,                         // length 27
    0xE8, 0x41, 0x85, 0x69,                         // checksum 0x698541E8
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // token.first
    0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11, // token.second
    0x92, 0x01, 0x02,                               // payload: fixarray(2) 1 2
});

const std::vector<std::byte> example_payload = bytes({0x92, 0x01, 0x02});

TEST(little_endian, stores_and_loads_least_significant_byte_first) {
  std::vector<std::byte> buf(12);
  detail::store_le32(buf.data(), 0x04030201u);
  detail::store_le64(buf.data() + 4, 0x0C0B0A0908070605u);
  EXPECT_EQ(buf, bytes({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
  EXPECT_EQ(detail::load_le32(buf.data()), 0x04030201u);
  EXPECT_EQ(detail::load_le64(buf.data() + 4), 0x0C0B0A0908070605u);
  // Unaligned access is part of the contract.
  EXPECT_EQ(detail::load_le32(buf.data() + 1), 0x05040302u);
}

TEST(packet, layout_matches_the_hand_written_example) {
  std::vector<std::byte> out;
  append_packet(out, example_token, example_payload);
  EXPECT_EQ(out, example_packet);
  EXPECT_EQ(crc32c(std::span{example_packet}.subspan(8)), 0x698541E8u);
}

TEST(packet, empty_payload_is_a_bare_header) {
  std::vector<std::byte> out;
  append_packet(out, uid{}, {});
  EXPECT_EQ(out, bytes({0x18, 0, 0, 0, 0xEA, 0x9A, 0x70, 0x42, 0, 0, 0, 0,
                        0,    0, 0, 0, 0,    0,    0,    0,    0, 0, 0, 0}));
}

TEST(packet, append_keeps_what_the_buffer_held) {
  std::vector<std::byte> out = bytes({0xAA, 0xBB});
  append_packet(out, example_token, example_payload);
  append_packet(out, example_token, example_payload);
  ASSERT_EQ(out.size(), 2 + 2 * example_packet.size());
  EXPECT_EQ(out[0], std::byte{0xAA});
  EXPECT_TRUE(std::equal(example_packet.begin(), example_packet.end(), out.begin() + 2));
  EXPECT_TRUE(std::equal(example_packet.begin(), example_packet.end(), out.begin() + 29));
}

TEST(packet, msgpack_packs_straight_into_the_packet) {
  std::vector<std::byte> out;
  packet_writer writer{out, example_token};
  msgpack::packer<byte_buffer_writer> packer{writer.sink()};
  packer.pack(std::vector<int>{1, 2});
  EXPECT_EQ(writer.payload_size(), 3u);
  ASSERT_TRUE(writer.finish());
  EXPECT_EQ(out, example_packet);
}

TEST(packet, begin_and_finish_frame_a_payload_in_place) {
  std::vector<std::byte> out = bytes({0x55});
  const std::size_t start = begin_packet(out, example_token);
  EXPECT_EQ(start, 1u);
  EXPECT_EQ(out.size(), 1 + packet_header_size);
  out.insert(out.end(), example_payload.begin(), example_payload.end());
  ASSERT_TRUE(finish_packet(out, start));
  EXPECT_TRUE(std::equal(example_packet.begin(), example_packet.end(), out.begin() + 1));
}

TEST(packet, finish_accepts_exactly_the_limit_and_rejects_one_more) {
  const std::size_t limit = 100;
  std::vector<std::byte> out = bytes({1, 2, 3});
  auto start = begin_packet(out, example_token);
  out.resize(start + limit, std::byte{0x7F});
  ASSERT_TRUE(finish_packet(out, start, limit));
  ASSERT_EQ(out.size(), 3 + limit);

  const auto before = out;
  start = begin_packet(out, example_token);
  out.resize(start + limit + 1, std::byte{0x7F});
  auto too_big = finish_packet(out, start, limit);
  ASSERT_FALSE(too_big);
  EXPECT_EQ(too_big.error(), error::packet_too_large);
  EXPECT_EQ(out, before) << "the partial packet must be gone, the rest untouched";
}

TEST(packet, writer_too_large_removes_its_packet) {
  std::vector<std::byte> out = bytes({9});
  {
    packet_writer writer{out, example_token, 64};
    msgpack::packer<byte_buffer_writer> packer{writer.sink()};
    packer.pack(std::string(100, 'x'));
    auto done = writer.finish();
    ASSERT_FALSE(done);
    EXPECT_EQ(done.error(), error::packet_too_large);
    EXPECT_TRUE(writer.finished());
  }
  EXPECT_EQ(out, bytes({9}));
}

TEST(packet, writer_abandoned_unfinished_removes_its_packet) {
  std::vector<std::byte> out = bytes({9});
  {
    packet_writer writer{out, example_token};
    msgpack::packer<byte_buffer_writer> packer{writer.sink()};
    packer.pack(12345);
    EXPECT_GT(out.size(), 1 + packet_header_size);
  }
  EXPECT_EQ(out, bytes({9}));
}

TEST(packet, parse_round_trips) {
  auto parsed = parse_packet(example_packet);
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed.value().token.first, example_token.first);
  EXPECT_EQ(parsed.value().token.second, example_token.second);
  EXPECT_EQ(parsed.value().payload.data(), example_packet.data() + 24) << "a view, not a copy";
  EXPECT_TRUE(std::ranges::equal(parsed.value().payload, example_payload));
}

TEST(packet, parse_rejects_a_span_that_is_not_exactly_one_packet) {
  const std::span<const std::byte> whole{example_packet};
  EXPECT_EQ(parse_packet(whole.first(3)).error(), error::malformed_packet);
  EXPECT_EQ(parse_packet(whole.first(26)).error(), error::malformed_packet);
  auto longer = example_packet;
  longer.push_back(std::byte{0});
  EXPECT_EQ(parse_packet(longer).error(), error::malformed_packet);
}

TEST(packet, parse_checks_the_length_field) {
  auto packet = example_packet;
  detail::store_le32(packet.data(), 23);
  EXPECT_EQ(parse_packet(packet).error(), error::malformed_packet);
  detail::store_le32(packet.data(), 0);
  EXPECT_EQ(parse_packet(packet).error(), error::malformed_packet);
  EXPECT_EQ(parse_packet(example_packet, 26).error(), error::packet_too_large);
  EXPECT_TRUE(parse_packet(example_packet, 27));
}

TEST(packet, parse_detects_every_single_bit_flip) {
  for (std::size_t pos = 0; pos < example_packet.size(); ++pos) {
    for (int bit = 0; bit < 8; ++bit) {
      auto packet = example_packet;
      packet[pos] ^= std::byte{1} << bit;
      auto parsed = parse_packet(packet);
      ASSERT_FALSE(parsed) << "byte " << pos << " bit " << bit;
      if (pos >= 4)
        EXPECT_EQ(parsed.error(), error::checksum_failed);
      else
        EXPECT_NE(parsed.error(), error::checksum_failed) << "a wrong length is caught first";
    }
  }
}

} // namespace
} // namespace grainflow
