// Pins the request and reply payloads byte for byte, as docs/protocol.md
// ("Request and reply payloads", Example) shows them.

#include "test_requests.hpp"

#include "grainflow/actors/all.hpp"

#include <gtest/gtest.h>
#include <msgpack.hpp>

#include <cstdio>
#include <string>

namespace grainflow::test {
namespace {

struct div_request {
  std::int32_t a = 0;
  std::int32_t b = 0;
  reply_promise<std::int32_t> reply;
  MSGPACK_DEFINE(a, b, reply)
};

class calculator_errors final : public std::error_category {
public:
  const char* name() const noexcept override { return "calculator"; }
  std::string message(int) const override { return "division by zero"; }
};

TEST(wire_format, a_request_payload_is_deadline_reply_to_and_body) {
  endpoint reply_to{network_address::loopback_v4(4000), uid{1, 2}};
  auto now = std::chrono::steady_clock::now();
  std::vector<std::byte> payload;
  // The body's promise is empty here: what a reply promise writes is the
  // same endpoint as reply_to (see a_promise_travels_as_its_endpoint).
  detail::append_request(payload, div_request{84, 2, {}}, reply_to, now + std::chrono::seconds{5},
                         now);
  EXPECT_EQ(hex(payload), "93 cf 00 00 00 01 2a 05 f2 00 92 93 04 c4 04 7f 00 00 01 cd 0f a0 92 01 "
                          "02 93 54 02 c0");
}

TEST(wire_format, a_reply_payload_is_a_kind_and_a_value_or_an_error) {
  std::vector<std::byte> value;
  detail::append_reply(value, result<std::int32_t>{42});
  EXPECT_EQ(hex(value), "92 00 2a");
  static const calculator_errors category;
  std::vector<std::byte> failure;
  detail::append_reply(failure, result<std::int32_t>{std::error_code{1, category}});
  EXPECT_EQ(hex(failure), "92 01 92 aa 63 61 6c 63 75 6c 61 74 6f 72 01");
}

TEST(wire_format, a_promise_travels_as_its_endpoint) {
  flow_transport transport;
  auto state = make_intrusive<detail::reply_state<std::int32_t>>(&transport, std::nullopt);
  div_request request{1, 2, reply_promise<std::int32_t>{state}};
  auto bytes = to_bytes(request).value();
  auto shipped = state->ship().value();
  auto expected = to_bytes(std::make_tuple(1, 2, shipped)).value();
  EXPECT_EQ(hex(bytes), hex(expected));
  request.reply.send(0);
}

// Payloads unpack into zones their thread reuses: each decode must still see
// only its own payload, whatever was decoded before or is still alive.
TEST(wire_format, payloads_decode_independently_in_reused_zones) {
  auto pack = [](const auto& value) {
    std::vector<std::byte> out;
    byte_buffer_writer writer{out};
    msgpack::pack(writer, value);
    return out;
  };
  auto big = pack(std::vector<std::string>(1000, std::string(100, 'x')));
  auto words = pack(std::vector<std::string>{"alpha", "beta"});
  auto number = pack(7);
  {
    detail::unpacked_payload outer{big};
    {
      // Nested: a second decode while the first tree is alive.
      detail::unpacked_payload inner{words};
      EXPECT_EQ(inner.get().as<std::vector<std::string>>(),
                (std::vector<std::string>{"alpha", "beta"}));
    }
    EXPECT_EQ(outer.get().as<std::vector<std::string>>().size(), 1000U);
    EXPECT_EQ(outer.get().as<std::vector<std::string>>()[999], std::string(100, 'x'));
  }
  // Malformed input throws and leaves the zones usable.
  std::vector<std::byte> truncated(words.begin(), words.end() - 2);
  EXPECT_ANY_THROW(detail::unpacked_payload{truncated});
  for (int round = 0; round < 3; ++round) {
    detail::unpacked_payload again{round == 1 ? words : number};
    if (round == 1)
      EXPECT_EQ(again.get().as<std::vector<std::string>>().size(), 2U);
    else
      EXPECT_EQ(again.get().as<int>(), 7);
  }
  EXPECT_EQ(detail::decode_reply<std::int32_t>(pack(std::make_tuple(0, 42))).value(), 42);
}

// Payloads come from other processes: a container may not claim more
// elements than the payload has bytes, nor nest deeper than the limit; either
// fails that payload alone, and the thread's parser goes on decoding.
TEST(wire_format, forged_sizes_and_deep_nesting_fail_and_decoding_goes_on) {
  auto bytes = [](std::initializer_list<unsigned> values) {
    std::vector<std::byte> out;
    for (auto v : values)
      out.push_back(static_cast<std::byte>(v));
    return out;
  };
  // array32 claiming 2^24 elements in a 9-byte payload
  EXPECT_THROW(detail::unpacked_payload{bytes({0xdd, 0x01, 0x00, 0x00, 0x00, 1, 2, 3, 4})},
               msgpack::array_size_overflow);
  // map32 claiming 2^24 pairs
  EXPECT_THROW(detail::unpacked_payload{bytes({0xdf, 0x01, 0x00, 0x00, 0x00, 1, 2, 3, 4})},
               msgpack::map_size_overflow);
  auto nested = [](std::size_t depth) {
    std::vector<std::byte> out(depth, std::byte{0x91}); // fixarray of one
    out.push_back(std::byte{0x07});
    return out;
  };
  EXPECT_EQ(detail::unpacked_payload{nested(64)}.get().type, msgpack::type::ARRAY);
  EXPECT_THROW(detail::unpacked_payload{nested(65)}, msgpack::depth_size_overflow);
  EXPECT_THROW(detail::unpacked_payload{bytes({0xc1})}, msgpack::parse_error); // never used
  EXPECT_THROW(detail::unpacked_payload{bytes({0x92, 0x01})}, msgpack::insufficient_bytes);
  EXPECT_THROW(detail::unpacked_payload{bytes({})}, msgpack::insufficient_bytes);
  EXPECT_EQ(detail::decode_reply<std::int32_t>(bytes({0x92, 0x00, 0x2a})).value(), 42);
  // As msgpack::unpack: bytes after the first object are ignored.
  EXPECT_EQ(detail::unpacked_payload{bytes({0x07, 0x08})}.get().as<int>(), 7);
}

} // namespace
} // namespace grainflow::test
