#include "grainflow/endpoints/msgpack_adaptors.hpp"

#include "grainflow/endpoints/error.hpp"

#include <array>
#include <limits>

namespace grainflow::detail {

namespace {

// Every check throws msgpack::type_error: that is how msgpack's convert
// reports a value that does not fit, and the transport catches exactly that.
void expect(bool condition) {
  if (!condition)
    throw msgpack::type_error();
}

const msgpack::object* array_of(const msgpack::object& x, std::uint32_t size) {
  expect(x.type == msgpack::type::ARRAY && x.via.array.size == size);
  return x.via.array.ptr;
}

std::uint64_t unsigned_of(const msgpack::object& x, std::uint64_t max) {
  expect(x.type == msgpack::type::POSITIVE_INTEGER && x.via.u64 <= max);
  return x.via.u64;
}

int int_of(const msgpack::object& x) {
  if (x.type == msgpack::type::POSITIVE_INTEGER) {
    expect(x.via.u64 <= static_cast<std::uint64_t>(std::numeric_limits<int>::max()));
    return static_cast<int>(x.via.u64);
  }
  expect(x.type == msgpack::type::NEGATIVE_INTEGER && x.via.i64 >= std::numeric_limits<int>::min());
  return static_cast<int>(x.via.i64);
}

msgpack::object* make_array(msgpack::object::with_zone& out, std::uint32_t size) {
  out.type = msgpack::type::ARRAY;
  out.via.array.size = size;
  out.via.array.ptr = static_cast<msgpack::object*>(out.zone.allocate_align(
      sizeof(msgpack::object) * size, MSGPACK_ZONE_ALIGNOF(msgpack::object)));
  return out.via.array.ptr;
}

// Copies into the zone: the object must not point into memory it does not own.
const char* copy_to_zone(msgpack::zone& zone, const void* data, std::size_t size) {
  auto* ptr = static_cast<char*>(zone.allocate_no_align(size));
  std::memcpy(ptr, data, size);
  return ptr;
}

} // namespace

// -- decoding -----------------------------------------------------------------

uid uid_from_msgpack(const msgpack::object& x) {
  auto* xs = array_of(x, 2);
  auto max = std::numeric_limits<std::uint64_t>::max();
  return uid{unsigned_of(xs[0], max), unsigned_of(xs[1], max)};
}

network_address network_address_from_msgpack(const msgpack::object& x) {
  if (x.type == msgpack::type::NIL)
    return network_address{};
  auto* xs = array_of(x, 3);
  auto family = unsigned_of(xs[0], 255);
  expect(family == 4 || family == 6);
  const std::uint32_t size = family == 4 ? 4 : 16;
  expect(xs[1].type == msgpack::type::BIN && xs[1].via.bin.size == size);
  auto port = static_cast<std::uint16_t>(unsigned_of(xs[2], 65535));
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(xs[1].via.bin.ptr);
  if (family == 4)
    return network_address::ipv4({bytes[0], bytes[1], bytes[2], bytes[3]}, port);
  std::array<std::uint8_t, 16> v6{};
  std::memcpy(v6.data(), bytes, v6.size());
  return network_address::ipv6(v6, port);
}

endpoint endpoint_from_msgpack(const msgpack::object& x) {
  auto* xs = array_of(x, 2);
  return endpoint{network_address_from_msgpack(xs[0]), uid_from_msgpack(xs[1])};
}

std::error_code error_code_from_msgpack(const msgpack::object& x) {
  auto* xs = array_of(x, 2);
  expect(xs[0].type == msgpack::type::STR);
  auto* category = find_error_category(std::string_view{xs[0].via.str.ptr, xs[0].via.str.size});
  expect(category != nullptr);
  return std::error_code{int_of(xs[1]), *category};
}

// -- encoding into objects ----------------------------------------------------

void uid_to_msgpack(msgpack::object::with_zone& out, const uid& x) {
  auto* xs = make_array(out, 2);
  xs[0] = msgpack::object(x.first);
  xs[1] = msgpack::object(x.second);
}

void network_address_to_msgpack(msgpack::object::with_zone& out, const network_address& x) {
  if (!x.valid()) {
    out.type = msgpack::type::NIL;
    return;
  }
  const std::uint32_t size = x.is_v4() ? 4 : 16;
  auto* xs = make_array(out, 3);
  xs[0] = msgpack::object(static_cast<std::uint8_t>(x.is_v4() ? 4 : 6));
  xs[1].type = msgpack::type::BIN;
  xs[1].via.bin.size = size;
  xs[1].via.bin.ptr = copy_to_zone(out.zone, x.bytes().data() + 16 - size, size);
  xs[2] = msgpack::object(x.port());
}

void endpoint_to_msgpack(msgpack::object::with_zone& out, const endpoint& x) {
  auto* xs = make_array(out, 2);
  xs[0] = msgpack::object(x.address, out.zone);
  xs[1] = msgpack::object(x.token, out.zone);
}

void error_code_to_msgpack(msgpack::object::with_zone& out, const std::error_code& x) {
  std::string_view name = x.category().name();
  auto* xs = make_array(out, 2);
  xs[0].type = msgpack::type::STR;
  xs[0].via.str.size = static_cast<std::uint32_t>(name.size());
  xs[0].via.str.ptr = copy_to_zone(out.zone, name.data(), name.size());
  xs[1] = msgpack::object(x.value());
}

} // namespace grainflow::detail
