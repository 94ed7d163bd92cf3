#pragma once

#include "grainflow/actors/detail/reply_codec.hpp"
#include "grainflow/actors/detail/serialization_context.hpp"
#include "grainflow/endpoints/result.hpp"
#include "grainflow/transport/flow_transport.hpp"
#include "grainflow/transport/packet_writer.hpp"

#include <msgpack.hpp>

#include <vector>

namespace grainflow {

/// Serializes any msgpack-serializable value — a request, an interface, a
/// stream — the way the transport does. Promises inside are shipped: from
/// then on their calls are answered by whoever decodes the bytes.
template <class T>
[[nodiscard]] result<std::vector<std::byte>> to_bytes(const T& value) noexcept {
  try {
    std::vector<std::byte> out;
    byte_buffer_writer writer{out};
    msgpack::pack(writer, value);
    return out;
  } catch (...) {
    return error::serialization_failed;
  }
}

/// Decodes what to_bytes produced into a working object bound to
/// `transport`: streams and interfaces send through it, promises answer
/// through it. Malformed bytes give serialization_failed.
template <class T>
[[nodiscard]] result<T> from_bytes(flow_transport& transport,
                                   std::span<const std::byte> bytes) noexcept {
  try {
    detail::unpacked_payload unpacked{bytes};
    T value;
    detail::unpack_scope scope{transport};
    unpacked.get().convert(value);
    scope.commit();
    return value;
  } catch (...) {
    return error::serialization_failed;
  }
}

} // namespace grainflow
