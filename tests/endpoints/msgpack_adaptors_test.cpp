#include "grainflow/endpoints/msgpack_adaptors.hpp"

#include "grainflow/endpoints/error.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <system_error>
#include <vector>

using namespace grainflow;

namespace {

template <class T>
msgpack::sbuffer encode(const T& x) {
  msgpack::sbuffer buf;
  msgpack::pack(buf, x);
  return buf;
}

/// Packs `x`, unpacks it, converts it back.
template <class T>
T round_trip(const T& x) {
  auto buf = encode(x);
  auto handle = msgpack::unpack(buf.data(), buf.size());
  return handle.get().template as<T>();
}

/// Builds a msgpack::object from `x` through object_with_zone, converts back.
template <class T>
T zone_round_trip(const T& x) {
  msgpack::zone zone;
  msgpack::object obj{x, zone};
  return obj.as<T>();
}

/// Builds arbitrary msgpack with a writer function and unpacks it.
msgpack::object_handle craft(const std::function<void(msgpack::packer<msgpack::sbuffer>&)>& f) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk{buf};
  f(pk);
  return msgpack::unpack(buf.data(), buf.size());
}

template <class T>
void expect_type_error(const msgpack::object_handle& h) {
  EXPECT_THROW(h.get().as<T>(), msgpack::type_error) << h.get();
}

void pack_bytes(msgpack::packer<msgpack::sbuffer>& pk, std::size_t n) {
  std::vector<char> bytes(n, 1);
  pk.pack_bin(static_cast<std::uint32_t>(n));
  pk.pack_bin_body(bytes.data(), static_cast<std::uint32_t>(n));
}

/// A user message that carries our types as members.
struct reply_address {
  endpoint target;
  std::error_code status;
  std::string note;
  MSGPACK_DEFINE(target, status, note)
};

class other_category final : public std::error_category {
public:
  const char* name() const noexcept override { return "msgpack_adaptors_test.other"; }
  std::string message(int) const override { return "other"; }
};

} // namespace

TEST(msgpack_adaptors_test, uids_round_trip_as_two_integers) {
  for (auto x : {uid{}, uid{1, 2}, uid{~0ULL, ~0ULL}, uid{0x0123456789abcdefULL, 7}}) {
    EXPECT_EQ(round_trip(x), x);
    EXPECT_EQ(zone_round_trip(x), x);
  }
  auto h = msgpack::unpack(encode(uid{5, 6}).data(), encode(uid{5, 6}).size());
  ASSERT_EQ(h.get().type, msgpack::type::ARRAY);
  EXPECT_EQ(h.get().via.array.size, 2u);
}

TEST(msgpack_adaptors_test, addresses_round_trip_with_their_family) {
  auto v4 = network_address::ipv4({10, 1, 2, 3}, 4500);
  auto v6 = network_address::parse("[2001:db8::1]:443").value();
  auto mapped = network_address::parse("[::ffff:10.1.2.3]:4500").value();
  for (const auto& x : {v4, v6, mapped, network_address{}}) {
    SCOPED_TRACE(x.to_string());
    EXPECT_EQ(round_trip(x), x);
    EXPECT_EQ(zone_round_trip(x), x);
  }
  // Wire shape: [4, bin(4), port] for IPv4; nil for the invalid address.
  auto buf = encode(v4);
  auto h = msgpack::unpack(buf.data(), buf.size());
  auto& arr = h.get().via.array;
  ASSERT_EQ(arr.size, 3u);
  EXPECT_EQ(arr.ptr[0].as<int>(), 4);
  ASSERT_EQ(arr.ptr[1].type, msgpack::type::BIN);
  EXPECT_EQ(arr.ptr[1].via.bin.size, 4u);
  EXPECT_EQ(arr.ptr[2].as<int>(), 4500);
  auto nil_buf = encode(network_address{});
  EXPECT_EQ(msgpack::unpack(nil_buf.data(), nil_buf.size()).get().type, msgpack::type::NIL);
}

TEST(msgpack_adaptors_test, endpoints_round_trip) {
  endpoint e{network_address::loopback_v6(9), uid{3, 4}};
  EXPECT_EQ(round_trip(e), e);
  EXPECT_EQ(zone_round_trip(e), e);
  endpoint local_only{network_address{}, uid{3, 4}};
  EXPECT_EQ(round_trip(local_only), local_only);
}

TEST(msgpack_adaptors_test, error_codes_round_trip_by_category_name) {
  for (auto ec : {make_error_code(error::timed_out), make_error_code(error::transport_closed),
                  std::make_error_code(std::errc::invalid_argument),
                  std::error_code{-5, std::system_category()}, std::error_code{}}) {
    SCOPED_TRACE(ec.message());
    auto back = round_trip(ec);
    EXPECT_EQ(back, ec);
    EXPECT_EQ(&back.category(), &ec.category());
    EXPECT_EQ(zone_round_trip(ec), ec);
  }
}

TEST(msgpack_adaptors_test, an_unregistered_category_does_not_decode_until_registered) {
  static const other_category other;
  std::error_code ec{3, other};
  auto buf = encode(ec);
  auto h = msgpack::unpack(buf.data(), buf.size());
  expect_type_error<std::error_code>(h);
  register_error_category(other);
  EXPECT_EQ(h.get().as<std::error_code>(), ec);
}

TEST(msgpack_adaptors_test, user_messages_carry_these_types_as_members) {
  reply_address msg{endpoint{network_address::loopback_v4(1), uid{1, 2}},
                    make_error_code(error::endpoint_not_found), "gone"};
  auto back = round_trip(msg);
  EXPECT_EQ(back.target, msg.target);
  EXPECT_EQ(back.status, error::endpoint_not_found);
  EXPECT_EQ(back.note, "gone");
}

TEST(msgpack_adaptors_test, malformed_uids_throw_type_error) {
  expect_type_error<uid>(craft([](auto& pk) { pk.pack_nil(); }));
  expect_type_error<uid>(craft([](auto& pk) { pk.pack_uint64(5); }));
  expect_type_error<uid>(craft([](auto& pk) { pk.pack_array(0); }));
  expect_type_error<uid>(craft([](auto& pk) {
    pk.pack_array(1);
    pk.pack_uint64(1);
  }));
  expect_type_error<uid>(craft([](auto& pk) {
    pk.pack_array(3);
    pk.pack_uint64(1);
    pk.pack_uint64(2);
    pk.pack_uint64(3);
  }));
  expect_type_error<uid>(craft([](auto& pk) {
    pk.pack_array(2);
    pk.pack_int64(-1);
    pk.pack_uint64(2);
  }));
  expect_type_error<uid>(craft([](auto& pk) {
    pk.pack_array(2);
    pk.pack_uint64(1);
    pk.pack(std::string{"2"});
  }));
  expect_type_error<uid>(craft([](auto& pk) {
    pk.pack_array(2);
    pk.pack_uint64(1);
    pk.pack_double(2.5);
  }));
}

TEST(msgpack_adaptors_test, malformed_addresses_throw_type_error) {
  using na = network_address;
  auto addr = [](std::uint64_t family, std::size_t bytes, std::uint64_t port) {
    return craft([=](auto& pk) {
      pk.pack_array(3);
      pk.pack_uint64(family);
      pack_bytes(pk, bytes);
      pk.pack_uint64(port);
    });
  };
  EXPECT_EQ(addr(4, 4, 80).get().as<na>(), na::ipv4({1, 1, 1, 1}, 80)) << "the baseline decodes";
  expect_type_error<na>(addr(5, 4, 80));    // unknown family
  expect_type_error<na>(addr(0, 4, 80));    // unknown family
  expect_type_error<na>(addr(260, 4, 80));  // family out of u8 range
  expect_type_error<na>(addr(4, 16, 80));   // v4 with 16 bytes
  expect_type_error<na>(addr(6, 4, 80));    // v6 with 4 bytes
  expect_type_error<na>(addr(4, 0, 80));    // empty bytes
  expect_type_error<na>(addr(6, 17, 80));   // too many bytes
  expect_type_error<na>(addr(4, 4, 65536)); // port out of range
  expect_type_error<na>(craft([](auto& pk) { pk.pack_uint64(4); }));
  expect_type_error<na>(craft([](auto& pk) {
    pk.pack_array(2);
    pk.pack_uint64(4);
    pack_bytes(pk, 4);
  }));
  expect_type_error<na>(craft([](auto& pk) {
    pk.pack_array(4);
    pk.pack_uint64(4);
    pack_bytes(pk, 4);
    pk.pack_uint64(80);
    pk.pack_uint64(80);
  }));
  expect_type_error<na>(craft([](auto& pk) { // bytes as a string, not bin
    pk.pack_array(3);
    pk.pack_uint64(4);
    pk.pack(std::string{"abcd"});
    pk.pack_uint64(80);
  }));
  expect_type_error<na>(craft([](auto& pk) { // negative port
    pk.pack_array(3);
    pk.pack_uint64(4);
    pack_bytes(pk, 4);
    pk.pack_int64(-80);
  }));
}

TEST(msgpack_adaptors_test, malformed_endpoints_and_error_codes_throw_type_error) {
  expect_type_error<endpoint>(craft([](auto& pk) { pk.pack_array(0); }));
  expect_type_error<endpoint>(craft([](auto& pk) { // token missing
    pk.pack_array(1);
    pk.pack_nil();
  }));
  expect_type_error<endpoint>(craft([](auto& pk) { // token malformed
    pk.pack_array(2);
    pk.pack_nil();
    pk.pack_array(1);
    pk.pack_uint64(1);
  }));
  expect_type_error<endpoint>(craft([](auto& pk) { // address malformed
    pk.pack_array(2);
    pk.pack_uint64(7);
    pk.pack(uid{1, 2});
  }));
  expect_type_error<std::error_code>(craft([](auto& pk) {
    pk.pack_array(2);
    pk.pack(std::string{"no such category"});
    pk.pack_int(1);
  }));
  expect_type_error<std::error_code>(craft([](auto& pk) { // name as bin
    pk.pack_array(2);
    pack_bytes(pk, 9);
    pk.pack_int(1);
  }));
  expect_type_error<std::error_code>(craft([](auto& pk) { // value too large for int
    pk.pack_array(2);
    pk.pack(std::string{"grainflow"});
    pk.pack_uint64(1ULL << 40);
  }));
  expect_type_error<std::error_code>(craft([](auto& pk) { // value too small for int
    pk.pack_array(2);
    pk.pack(std::string{"grainflow"});
    pk.pack_int64(-(1LL << 40));
  }));
  expect_type_error<std::error_code>(craft([](auto& pk) {
    pk.pack_array(1);
    pk.pack(std::string{"grainflow"});
  }));
  expect_type_error<std::error_code>(craft([](auto& pk) { pk.pack(std::string{"grainflow"}); }));
  auto ok = craft([](auto& pk) {
    pk.pack_array(2);
    pk.pack(std::string{"grainflow"});
    pk.pack_int(12);
  });
  EXPECT_EQ(ok.get().as<std::error_code>(), error::malformed_packet);
}
