// Scenarios for the connection handshake: a round trip through a framed
// packet, the magic and version rules, later minor versions appending fields,
// and hostile payloads that must fail cleanly, never crash.
// Invariants exercised: INV-SESSION-11, INV-SESSION-12 (reliable_session.spec.md).

#include "grainflow/transport/handshake.hpp"

#include <gtest/gtest.h>

#include <msgpack.hpp>

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "grainflow/endpoints/error.hpp"
#include "grainflow/endpoints/msgpack_adaptors.hpp"
#include "grainflow/endpoints/well_known.hpp"
#include "grainflow/transport/packet.hpp"

namespace grainflow {
namespace {

handshake example_handshake() {
  handshake x;
  x.incarnation = uid{0x1111222233334444u, 0x5555666677778888u};
  x.canonical_address = network_address::ipv4({10, 0, 0, 7}, 4500);
  x.caps.shared_memory = true;
  x.caps.host_id = uid{0xABCDEFu, 0x123456u};
  x.session_key = uid{0xFEEDu, 0xBEEFu};
  x.last_received_seq = 0x0102030405060708u;
  return x;
}

std::span<const std::byte> as_bytes(const msgpack::sbuffer& buf) {
  return {reinterpret_cast<const std::byte*>(buf.data()), buf.size()};
}

// Packs the fields of `x` as a major-1 handshake followed by `extra` more
// fields packed by `more`, the way a later minor version would.
template <class MoreFields>
msgpack::sbuffer pack_with_extra(const handshake& x, std::uint32_t extra, MoreFields more) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk{buf};
  pk.pack_array(static_cast<std::uint32_t>(handshake_field_count) + extra);
  pk.pack_uint32(x.magic);
  pk.pack_uint16(x.version.major);
  pk.pack_uint16(x.version.minor);
  pk.pack(x.incarnation);
  pk.pack(x.canonical_address);
  pk.pack(x.caps.shared_memory);
  pk.pack(x.caps.host_id);
  pk.pack(x.session_key);
  pk.pack_uint64(x.last_received_seq);
  more(pk);
  return buf;
}

msgpack::sbuffer pack_plain(const handshake& x) {
  return pack_with_extra(x, 0, [](auto&) {});
}

std::vector<std::byte> payload_of(const std::vector<std::byte>& packet) {
  auto view = parse_packet(packet);
  EXPECT_TRUE(view) << view.error().message();
  return {view.value().payload.begin(), view.value().payload.end()};
}

// -- round trips ---------------------------------------------------------------

TEST(handshake, round_trips_through_a_framed_packet) {
  const auto sent = example_handshake();
  const auto packet = encode_handshake(sent);
  auto view = parse_packet(packet);
  ASSERT_TRUE(view);
  EXPECT_EQ(view.value().token, well_known_token(well_known::connection_handshake));
  auto received = decode_handshake(view.value().payload);
  ASSERT_TRUE(received) << received.error().message();
  EXPECT_EQ(received.value(), sent);
}

TEST(handshake, default_fields_round_trip) {
  // A dialer with no session and no listening address: zero key, invalid
  // address, no capabilities.
  const handshake sent;
  auto received = decode_handshake(payload_of(encode_handshake(sent)));
  ASSERT_TRUE(received);
  EXPECT_EQ(received.value(), sent);
  EXPECT_FALSE(received.value().session_key.valid());
  EXPECT_EQ(received.value().version, (protocol_version{protocol_major, protocol_minor}));
}

TEST(handshake, ipv6_address_and_port_zero_round_trip) {
  auto sent = example_handshake();
  sent.canonical_address = network_address::loopback_v6(0);
  auto received = decode_handshake(payload_of(encode_handshake(sent)));
  ASSERT_TRUE(received);
  EXPECT_EQ(received.value().canonical_address, sent.canonical_address);
}

TEST(handshake, the_request_window_round_trips_and_a_1_0_peer_has_none) {
  auto sent = example_handshake();
  sent.request_window = 8u << 20;
  auto received = decode_handshake(payload_of(encode_handshake(sent)));
  ASSERT_TRUE(received);
  EXPECT_EQ(received.value().request_window, 8u << 20);
  // A 1.0 peer writes the nine fields without the window.
  auto old = pack_plain(sent);
  auto from_old = decode_handshake(as_bytes(old));
  ASSERT_TRUE(from_old);
  EXPECT_EQ(from_old.value().request_window, 0u);
}

TEST(handshake, payload_starts_with_field_count_and_readable_magic) {
  const auto payload = payload_of(encode_handshake(example_handshake()));
  ASSERT_GE(payload.size(), 6u);
  // fixarray(10), then uint32 0x47464c57: the bytes "GFLW" in a hex dump.
  EXPECT_EQ(payload[0], std::byte{0x9a});
  EXPECT_EQ(payload[1], std::byte{0xce});
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(payload.data() + 2), 4), "GFLW");
  EXPECT_LE(payload.size(), max_handshake_payload);
}

TEST(handshake, packet_matches_the_worked_example) {
  // docs/protocol.md, "Handshake and sessions": a dialer listening at
  // 10.0.0.7:4500 that holds no session yet. The CRC was computed bit by bit
  // from the definition, independently of crc32c().
  handshake x;
  x.incarnation = uid{1, 2};
  x.canonical_address = network_address::ipv4({10, 0, 0, 7}, 4500);
  const std::vector<unsigned> expected = {
      0x37, 0x00, 0x00, 0x00, 0x8d, 0x3b, 0xee, 0xc4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x9a, 0xce, 0x47, 0x46,
      0x4c, 0x57, 0x01, 0x01, 0x92, 0x01, 0x02, 0x93, 0x04, 0xc4, 0x04, 0x0a, 0x00, 0x00,
      0x07, 0xcd, 0x11, 0x94, 0xc2, 0x92, 0x00, 0x00, 0x92, 0x00, 0x00, 0x00, 0x00};
  std::vector<std::byte> expected_bytes;
  for (unsigned v : expected)
    expected_bytes.push_back(static_cast<std::byte>(v));
  EXPECT_EQ(encode_handshake(x), expected_bytes);
}

// -- magic and versions ----------------------------------------------------------

TEST(handshake, bad_magic_is_an_incompatible_protocol) {
  auto x = example_handshake();
  x.magic = 0x48545450; // "HTTP"
  auto received = decode_handshake(as_bytes(pack_plain(x)));
  EXPECT_EQ(received.error(), error::incompatible_protocol);
}

TEST(handshake, magic_of_the_wrong_type_is_an_incompatible_protocol) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk{buf};
  pk.pack_array(3);
  pk.pack(std::string{"GFLW"});
  pk.pack(1);
  pk.pack(0);
  EXPECT_EQ(decode_handshake(as_bytes(buf)).error(), error::incompatible_protocol);
}

TEST(handshake, different_major_is_refused_by_check_compatible) {
  const handshake mine;
  auto theirs = example_handshake();
  theirs.version = protocol_version{2, 0};
  EXPECT_EQ(check_compatible(mine, theirs).error(), error::incompatible_protocol);
  EXPECT_EQ(check_compatible(theirs, mine).error(), error::incompatible_protocol);
}

TEST(handshake, different_major_with_a_new_layout_decodes_magic_and_version_only) {
  // A major-2 peer may lay out everything after the version differently; we
  // still learn its version, so the refusal names the real reason.
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk{buf};
  pk.pack_array(4);
  pk.pack_uint32(handshake_magic);
  pk.pack_uint16(2);
  pk.pack_uint16(5);
  pk.pack(std::string{"a field only major 2 understands"});
  auto theirs = decode_handshake(as_bytes(buf));
  ASSERT_TRUE(theirs) << theirs.error().message();
  EXPECT_EQ(theirs.value().version, (protocol_version{2, 5}));
  EXPECT_FALSE(theirs.value().incarnation.valid());
  EXPECT_EQ(check_compatible(handshake{}, theirs.value()).error(), error::incompatible_protocol);
}

TEST(handshake, different_minor_is_compatible) {
  const handshake mine;
  auto theirs = example_handshake();
  theirs.version = protocol_version{protocol_major, static_cast<std::uint16_t>(protocol_minor + 7)};
  EXPECT_TRUE(check_compatible(mine, theirs));
  auto received = decode_handshake(payload_of(encode_handshake(theirs)));
  ASSERT_TRUE(received);
  EXPECT_TRUE(check_compatible(mine, received.value()));
}

TEST(handshake, check_compatible_refuses_a_bad_magic) {
  auto theirs = example_handshake();
  theirs.magic = 0;
  EXPECT_EQ(check_compatible(handshake{}, theirs).error(), error::incompatible_protocol);
}

// -- later minor versions --------------------------------------------------------

TEST(handshake, extra_trailing_fields_are_ignored) {
  auto sent = example_handshake();
  sent.version.minor = 3;
  sent.request_window = 42; // field 9, since 1.1; the rest is unknown here
  auto buf = pack_with_extra(sent, 4, [](auto& pk) {
    pk.pack(42);
    pk.pack(std::string{"a future field"});
    pk.pack_array(3);
    pk.pack(1);
    pk.pack(2);
    pk.pack(3);
    pk.pack_map(1);
    pk.pack(std::string{"k"});
    pk.pack_nil();
  });
  auto received = decode_handshake(as_bytes(buf));
  ASSERT_TRUE(received) << received.error().message();
  EXPECT_EQ(received.value(), sent);
}

TEST(handshake, a_missing_known_field_is_malformed) {
  const auto x = example_handshake();
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk{buf};
  pk.pack_array(static_cast<std::uint32_t>(handshake_field_count) - 1);
  pk.pack_uint32(x.magic);
  pk.pack_uint16(x.version.major);
  pk.pack_uint16(x.version.minor);
  pk.pack(x.incarnation);
  pk.pack(x.canonical_address);
  pk.pack(x.caps.shared_memory);
  pk.pack(x.caps.host_id);
  pk.pack(x.session_key);
  EXPECT_EQ(decode_handshake(as_bytes(buf)).error(), error::malformed_packet);
}

// -- hostile payloads --------------------------------------------------------------

TEST(handshake, every_truncation_fails_cleanly) {
  const auto payload = payload_of(encode_handshake(example_handshake()));
  for (std::size_t n = 0; n < payload.size(); ++n) {
    auto received = decode_handshake(std::span{payload}.first(n));
    EXPECT_EQ(received.error(), error::malformed_packet) << "prefix of " << n << " bytes";
  }
}

TEST(handshake, bytes_after_the_array_are_malformed) {
  auto payload = payload_of(encode_handshake(example_handshake()));
  payload.push_back(std::byte{0xc0}); // nil
  EXPECT_EQ(decode_handshake(payload).error(), error::malformed_packet);
}

TEST(handshake, fields_of_the_wrong_type_or_range_are_malformed) {
  const auto x = example_handshake();
  // Replace field i with a value it cannot hold.
  for (std::uint32_t i = 1; i < handshake_field_count; ++i) {
    msgpack::sbuffer buf;
    msgpack::packer<msgpack::sbuffer> pk{buf};
    pk.pack_array(static_cast<std::uint32_t>(handshake_field_count));
    pk.pack_uint32(x.magic);
    for (std::uint32_t j = 1; j < handshake_field_count; ++j) {
      if (j == i) {
        pk.pack(-1); // negative: no field is signed, no field is a negative uid
        continue;
      }
      switch (j) {
      case 1:
        pk.pack_uint16(x.version.major);
        break;
      case 2:
        pk.pack_uint16(x.version.minor);
        break;
      case 3:
        pk.pack(x.incarnation);
        break;
      case 4:
        pk.pack(x.canonical_address);
        break;
      case 5:
        pk.pack(x.caps.shared_memory);
        break;
      case 6:
        pk.pack(x.caps.host_id);
        break;
      case 7:
        pk.pack(x.session_key);
        break;
      default:
        pk.pack_uint64(x.last_received_seq);
        break;
      }
    }
    EXPECT_EQ(decode_handshake(as_bytes(buf)).error(), error::malformed_packet) << "field " << i;
  }
}

TEST(handshake, version_out_of_range_is_malformed) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk{buf};
  pk.pack_array(3);
  pk.pack_uint32(handshake_magic);
  pk.pack_uint32(70000);
  pk.pack_uint16(0);
  EXPECT_EQ(decode_handshake(as_bytes(buf)).error(), error::malformed_packet);
}

TEST(handshake, non_arrays_and_empty_arrays_are_malformed) {
  for (auto pack : {+[](msgpack::packer<msgpack::sbuffer>& pk) { pk.pack_nil(); },
                    +[](msgpack::packer<msgpack::sbuffer>& pk) { pk.pack(7); },
                    +[](msgpack::packer<msgpack::sbuffer>& pk) { pk.pack_array(0); },
                    +[](msgpack::packer<msgpack::sbuffer>& pk) { pk.pack_map(0); }}) {
    msgpack::sbuffer buf;
    msgpack::packer<msgpack::sbuffer> pk{buf};
    pack(pk);
    EXPECT_EQ(decode_handshake(as_bytes(buf)).error(), error::malformed_packet);
  }
  EXPECT_EQ(decode_handshake({}).error(), error::malformed_packet);
}

TEST(handshake, containers_claiming_huge_sizes_fail_without_allocating_them) {
  // array32 / str32 / bin32 / map32 headers claiming ~4 billion entries in a
  // five-byte payload: the decoder must refuse before msgpack allocates.
  for (unsigned head : {0xddu, 0xdbu, 0xc6u, 0xdfu}) {
    std::vector<std::byte> payload{std::byte(head), std::byte{0xff}, std::byte{0xff},
                                   std::byte{0xff}, std::byte{0xff}};
    EXPECT_EQ(decode_handshake(payload).error(), error::malformed_packet) << head;
  }
}

TEST(handshake, deep_nesting_fails_cleanly) {
  std::vector<std::byte> payload(1000, std::byte{0x91}); // fixarray(1), nested
  payload.push_back(std::byte{0x01});
  EXPECT_EQ(decode_handshake(payload).error(), error::malformed_packet);
}

TEST(handshake, oversized_payload_is_malformed) {
  auto buf = pack_with_extra(example_handshake(), 1,
                             [](auto& pk) { pk.pack(std::string(max_handshake_payload, 'x')); });
  EXPECT_GT(buf.size(), max_handshake_payload);
  EXPECT_EQ(decode_handshake(as_bytes(buf)).error(), error::malformed_packet);
}

TEST(handshake, random_garbage_and_mutations_never_crash) {
  std::mt19937_64 rng{20240611};
  const auto valid = payload_of(encode_handshake(example_handshake()));
  std::size_t decoded = 0;
  for (int round = 0; round < 20000; ++round) {
    std::vector<std::byte> payload;
    if (round % 2 == 0) {
      payload.resize(rng() % 160);
      for (auto& b : payload)
        b = static_cast<std::byte>(rng());
    } else {
      // Mutate a valid handshake in a few places: the interesting inputs
      // are the nearly-valid ones.
      payload = valid;
      for (auto flips = 1 + rng() % 4; flips > 0; --flips)
        payload[rng() % payload.size()] = static_cast<std::byte>(rng());
    }
    auto received = decode_handshake(payload);
    if (received) {
      ++decoded;
      EXPECT_EQ(received.value().magic, handshake_magic);
    } else {
      EXPECT_TRUE(received.error() == error::malformed_packet ||
                  received.error() == error::incompatible_protocol)
          << received.error().message();
    }
  }
  // Some mutations land in values (a seq, a key) and still decode.
  EXPECT_GT(decoded, 0u);
}

} // namespace
} // namespace grainflow
