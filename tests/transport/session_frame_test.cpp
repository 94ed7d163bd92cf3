// Scenarios for session frames: reliable frames and ack frames round trip, the
// byte layout against the worked example of docs/protocol.md, frames in a byte
// stream, and malformed frames that must fail cleanly.
// Invariants exercised: INV-SESSION-11 (reliable_session.spec.md).

#include "grainflow/transport/session_frame.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <random>
#include <span>
#include <vector>

#include "grainflow/endpoints/error.hpp"
#include "grainflow/endpoints/well_known.hpp"
#include "grainflow/transport/detail/little_endian.hpp"
#include "grainflow/transport/packet.hpp"
#include "grainflow/transport/packet_decoder.hpp"

namespace grainflow {
namespace {

std::vector<std::byte> bytes(std::initializer_list<unsigned> values) {
  std::vector<std::byte> out;
  for (unsigned v : values)
    out.push_back(static_cast<std::byte>(v));
  return out;
}

const uid inner_token{.first = 0x0102030405060708u, .second = 0x1112131415161718u};

std::vector<std::byte> make_inner(std::initializer_list<unsigned> payload) {
  std::vector<std::byte> out;
  append_packet(out, inner_token, bytes(payload));
  return out;
}

// The payload of the one packet that `frame` holds.
std::vector<std::byte> outer_payload(const std::vector<std::byte>& frame, const uid& token) {
  auto view = parse_packet(frame);
  EXPECT_TRUE(view) << view.error().message();
  EXPECT_EQ(view.value().token, token);
  return {view.value().payload.begin(), view.value().payload.end()};
}

// -- reliable frames ---------------------------------------------------------------

TEST(session_frame, reliable_frame_round_trips) {
  const auto inner = make_inner({0x92, 0x01, 0x02});
  std::vector<std::byte> out;
  append_reliable_frame(out, 5, 3, inner);
  ASSERT_EQ(out.size(), inner.size() + reliable_frame_overhead);
  const auto payload = outer_payload(out, well_known_token(well_known::session_reliable));
  auto frame = parse_reliable_frame(payload);
  ASSERT_TRUE(frame) << frame.error().message();
  EXPECT_EQ(frame.value().seq, 5u);
  EXPECT_EQ(frame.value().ack, 3u);
  EXPECT_TRUE(std::equal(frame.value().inner.begin(), frame.value().inner.end(), inner.begin(),
                         inner.end()));
  EXPECT_EQ(frame.value().packet.token, inner_token);
  EXPECT_EQ(frame.value().packet.payload.size(), 3u);
  // The views point into the parsed buffer, not into a copy.
  EXPECT_EQ(frame.value().inner.data(), payload.data() + reliable_frame_prefix_size);
}

TEST(session_frame, reliable_frame_prefix_is_seq_then_ack_little_endian) {
  const auto inner = make_inner({});
  std::vector<std::byte> out;
  append_reliable_frame(out, 0x0807060504030201u, 0x100F0E0D0C0B0A09u, inner);
  const auto payload = outer_payload(out, well_known_token(well_known::session_reliable));
  EXPECT_EQ(std::vector<std::byte>(payload.begin(), payload.begin() + 16),
            bytes({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}));
  EXPECT_TRUE(std::equal(inner.begin(), inner.end(), payload.begin() + 16));
}

TEST(session_frame, ack_frame_matches_the_worked_example) {
  // docs/protocol.md, "Handshake and sessions": an ack of 5. The CRC was
  // computed bit by bit from the definition, independently of crc32c().
  std::vector<std::byte> out{std::byte{0xAA}};
  append_ack_frame(out, 5);
  EXPECT_EQ(out, bytes({0xAA,                                              // before
                        0x20, 0x00, 0x00, 0x00,                            // length 32
                        0x6C, 0x65, 0x18, 0x01,                            // checksum 0x0118656C
                        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,    // token.first = ~0
                        0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,    // token.second = 7
                        0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00})); // ack = 5
}

TEST(session_frame, ack_frame_round_trips) {
  for (std::uint64_t ack : {std::uint64_t{0}, std::uint64_t{1}, ~std::uint64_t{0}}) {
    std::vector<std::byte> out;
    append_ack_frame(out, ack);
    ASSERT_EQ(out.size(), ack_frame_size);
    auto parsed = parse_ack_frame(outer_payload(out, well_known_token(well_known::session_ack)));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed.value(), ack);
  }
}

TEST(session_frame, frames_travel_back_to_back_in_a_byte_stream) {
  std::vector<std::byte> stream;
  append_reliable_frame(stream, 1, 0, make_inner({0x01}));
  append_ack_frame(stream, 9);
  append_reliable_frame(stream, 2, 9, make_inner({0x02, 0x03}));
  packet_decoder decoder;
  // Byte by byte: the hardest chunking.
  std::vector<packet_view> seen;
  std::vector<std::vector<std::byte>> payloads;
  for (auto b : stream) {
    decoder.append(std::span{&b, 1});
    auto next = decoder.next();
    ASSERT_TRUE(next);
    if (next.value()) {
      seen.push_back(*next.value());
      payloads.emplace_back(next.value()->payload.begin(), next.value()->payload.end());
    }
  }
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].token, well_known_token(well_known::session_reliable));
  EXPECT_EQ(seen[1].token, well_known_token(well_known::session_ack));
  EXPECT_EQ(seen[2].token, well_known_token(well_known::session_reliable));
  EXPECT_EQ(parse_reliable_frame(payloads[0]).value().seq, 1u);
  EXPECT_EQ(parse_ack_frame(payloads[1]).value(), 9u);
  auto last = parse_reliable_frame(payloads[2]);
  ASSERT_TRUE(last);
  EXPECT_EQ(last.value().seq, 2u);
  EXPECT_EQ(last.value().ack, 9u);
  EXPECT_EQ(last.value().packet.payload.size(), 2u);
}

// -- malformed frames ----------------------------------------------------------------

std::vector<std::byte> reliable_payload(std::uint64_t seq, std::uint64_t ack,
                                        const std::vector<std::byte>& inner) {
  std::vector<std::byte> out;
  append_reliable_frame(out, seq, ack, inner);
  return outer_payload(out, well_known_token(well_known::session_reliable));
}

TEST(session_frame, every_payload_shorter_than_prefix_and_header_is_malformed) {
  const auto payload = reliable_payload(1, 0, make_inner({}));
  ASSERT_EQ(payload.size(), reliable_frame_prefix_size + packet_header_size);
  for (std::size_t n = 0; n < payload.size(); ++n)
    EXPECT_EQ(parse_reliable_frame(std::span{payload}.first(n)).error(), error::malformed_packet)
        << n;
  EXPECT_TRUE(parse_reliable_frame(payload));
}

TEST(session_frame, seq_zero_is_malformed) {
  EXPECT_EQ(parse_reliable_frame(reliable_payload(0, 0, make_inner({1}))).error(),
            error::malformed_packet);
}

TEST(session_frame, inner_length_must_span_the_rest_exactly) {
  auto longer = reliable_payload(1, 0, make_inner({1, 2, 3}));
  longer.push_back(std::byte{0}); // one byte beyond the inner packet
  EXPECT_EQ(parse_reliable_frame(longer).error(), error::malformed_packet);
  auto shorter = reliable_payload(1, 0, make_inner({1, 2, 3}));
  shorter.pop_back(); // inner packet cut short
  EXPECT_EQ(parse_reliable_frame(shorter).error(), error::malformed_packet);
  auto tiny = reliable_payload(1, 0, make_inner({1, 2, 3}));
  detail::store_le32(tiny.data() + reliable_frame_prefix_size, 3); // length < header
  EXPECT_EQ(parse_reliable_frame(tiny).error(), error::malformed_packet);
}

TEST(session_frame, inner_checksum_is_checked) {
  auto payload = reliable_payload(1, 0, make_inner({1, 2, 3}));
  payload.back() ^= std::byte{0x40};
  EXPECT_EQ(parse_reliable_frame(payload).error(), error::checksum_failed);
}

TEST(session_frame, inner_packet_over_the_limit_is_too_large) {
  std::vector<std::byte> inner;
  append_packet(inner, inner_token, std::vector<std::byte>(100));
  const auto payload = reliable_payload(1, 0, inner);
  EXPECT_EQ(parse_reliable_frame(payload, 64).error(), error::packet_too_large);
  EXPECT_TRUE(parse_reliable_frame(payload, inner.size()));
}

TEST(session_frame, ack_payload_must_be_exactly_eight_bytes) {
  std::vector<std::byte> payload(16);
  for (std::size_t n = 0; n <= payload.size(); ++n) {
    auto parsed = parse_ack_frame(std::span{payload}.first(n));
    EXPECT_EQ(parsed.has_value(), n == ack_frame_payload_size) << n;
    if (!parsed) {
      EXPECT_EQ(parsed.error(), error::malformed_packet);
    }
  }
}

TEST(session_frame, random_payloads_never_crash) {
  std::mt19937_64 rng{7};
  const auto valid = reliable_payload(3, 2, make_inner({1, 2, 3, 4}));
  for (int round = 0; round < 20000; ++round) {
    std::vector<std::byte> payload;
    if (round % 2 == 0) {
      payload.resize(rng() % 96);
      for (auto& b : payload)
        b = static_cast<std::byte>(rng());
    } else {
      payload = valid;
      payload[rng() % payload.size()] ^= static_cast<std::byte>(1u << (rng() % 8));
    }
    auto frame = parse_reliable_frame(payload);
    if (frame) {
      // Only a flip in seq or ack (not covered by the inner CRC) survives.
      EXPECT_EQ(frame.value().inner.size(), payload.size() - reliable_frame_prefix_size);
      EXPECT_NE(frame.value().seq, 0u);
    }
    (void)parse_ack_frame(payload);
  }
}

} // namespace
} // namespace grainflow
