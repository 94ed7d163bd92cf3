// Encoding and decoding the connection handshake.

#include "grainflow/transport/handshake.hpp"

#include <msgpack.hpp>

#include <cassert>
#include <limits>

#include "grainflow/endpoints/error.hpp"
#include "grainflow/endpoints/msgpack_adaptors.hpp"
#include "grainflow/endpoints/well_known.hpp"
#include "grainflow/transport/packet_writer.hpp"

namespace grainflow {

namespace {

// The handshake arrives before we know anything about the peer, so nothing in
// it is trusted. msgpack allocates a container's elements as soon as it reads
// the header, so every size is capped by the payload size (an honest element
// takes at least one byte) and nesting by a small depth.
msgpack::unpack_limit handshake_unpack_limit(std::size_t payload_size) noexcept {
  constexpr std::size_t max_depth = 8;
  return msgpack::unpack_limit{payload_size, payload_size / 2 + 1, payload_size,
                               payload_size, payload_size,         max_depth};
}

// Thrown (and caught in decode_handshake) for a value of the wrong type or out
// of range, the same exception the adaptors in msgpack_adaptors.hpp throw.
void expect(bool condition) {
  if (!condition)
    throw msgpack::type_error();
}

std::uint64_t unsigned_of(const msgpack::object& x, std::uint64_t max) {
  expect(x.type == msgpack::type::POSITIVE_INTEGER && x.via.u64 <= max);
  return x.via.u64;
}

bool bool_of(const msgpack::object& x) {
  expect(x.type == msgpack::type::BOOLEAN);
  return x.via.boolean;
}

// Reads the fields of a major-1 handshake; throws on a malformed field. The
// caller has checked that `fields` holds at least handshake_field_count.
void read_v1_fields(const msgpack::object* fields, handshake& out) {
  out.incarnation = detail::uid_from_msgpack(fields[3]);
  out.canonical_address = detail::network_address_from_msgpack(fields[4]);
  out.caps.shared_memory = bool_of(fields[5]);
  out.caps.host_id = detail::uid_from_msgpack(fields[6]);
  out.session_key = detail::uid_from_msgpack(fields[7]);
  out.last_received_seq = unsigned_of(fields[8], std::numeric_limits<std::uint64_t>::max());
}

} // namespace

std::vector<std::byte> encode_handshake(const handshake& x) {
  std::vector<std::byte> out;
  {
    packet_writer writer{out, well_known_token(well_known::connection_handshake)};
    msgpack::packer<byte_buffer_writer> packer{writer.sink()};
    packer.pack_array(static_cast<std::uint32_t>(handshake_encoded_field_count));
    packer.pack_uint32(x.magic);
    packer.pack_uint16(x.version.major);
    packer.pack_uint16(x.version.minor);
    packer.pack(x.incarnation);
    packer.pack(x.canonical_address);
    packer.pack(x.caps.shared_memory);
    packer.pack(x.caps.host_id);
    packer.pack(x.session_key);
    packer.pack_uint64(x.last_received_seq);
    packer.pack_uint64(x.request_window);
    // A handshake is a few dozen bytes, far below any packet limit.
    [[maybe_unused]] auto done = writer.finish();
    assert(done);
  }
  return out;
}

result<handshake> decode_handshake(std::span<const std::byte> payload) noexcept {
  if (payload.empty() || payload.size() > max_handshake_payload)
    return error::malformed_packet;
  try {
    std::size_t offset = 0;
    auto handle = msgpack::unpack(reinterpret_cast<const char*>(payload.data()), payload.size(),
                                  offset, nullptr, nullptr, handshake_unpack_limit(payload.size()));
    // Exactly one value: bytes after it mean the peer framed something else.
    if (offset != payload.size())
      return error::malformed_packet;
    const msgpack::object& root = handle.get();
    if (root.type != msgpack::type::ARRAY || root.via.array.size == 0)
      return error::malformed_packet;
    const msgpack::object* fields = root.via.array.ptr;
    // Magic first: anything that is not ours is a different protocol, not a
    // damaged grainflow handshake.
    if (fields[0].type != msgpack::type::POSITIVE_INTEGER || fields[0].via.u64 != handshake_magic)
      return error::incompatible_protocol;
    if (root.via.array.size < 3)
      return error::malformed_packet;
    handshake out;
    out.magic = handshake_magic;
    out.version.major = static_cast<std::uint16_t>(unsigned_of(fields[1], 0xFFFF));
    out.version.minor = static_cast<std::uint16_t>(unsigned_of(fields[2], 0xFFFF));
    // Another major owns the layout after the version: report it as is and
    // let check_compatible refuse it, rather than calling it malformed.
    if (out.version.major != protocol_major)
      return out;
    if (root.via.array.size < handshake_field_count)
      return error::malformed_packet;
    read_v1_fields(fields, out);
    if (root.via.array.size > 9)
      out.request_window = unsigned_of(fields[9], std::numeric_limits<std::uint64_t>::max());
    return out;
  } catch (...) {
    // msgpack's parse, size and type errors, and bad_alloc: all mean the
    // payload is not a handshake we can use.
    return error::malformed_packet;
  }
}

result<void> check_compatible(const handshake& mine, const handshake& theirs) noexcept {
  if (mine.magic != handshake_magic || theirs.magic != handshake_magic)
    return error::incompatible_protocol;
  if (mine.version.major != theirs.version.major)
    return error::incompatible_protocol;
  return success();
}

} // namespace grainflow
