#pragma once

#include "grainflow/actors/detail/reply_codec.hpp"
#include "grainflow/actors/detail/serialization_context.hpp"
#include "grainflow/endpoints/endpoint.hpp"
#include "grainflow/endpoints/msgpack_adaptors.hpp"
#include "grainflow/transport/flow_transport.hpp"

#include <msgpack.hpp>

#include <chrono>
#include <optional>

namespace grainflow::detail {

/// Request payloads (docs/protocol.md, "Request and reply payloads"):
/// `[deadline, reply_to, body]` — deadline as int64 nanoseconds remaining
/// when the request left (nil: none), reply_to the caller's reply endpoint
/// (nil for send()), body the request object. reply_to stands outside the
/// body so a receiver can answer serialization_failed to a body it cannot
/// read.
template <class Req>
void append_request(std::vector<std::byte>& out, const Req& request,
                    const std::optional<endpoint>& reply_to, std::optional<time_point> deadline,
                    time_point now) {
  byte_buffer_writer writer{out};
  msgpack::packer<byte_buffer_writer> packer{writer};
  packer.pack_array(3);
  if (deadline)
    packer.pack(static_cast<std::int64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(*deadline - now).count()));
  else
    packer.pack_nil();
  if (reply_to)
    packer.pack(*reply_to);
  else
    packer.pack_nil();
  packer.pack(request);
}

/// A request as it came off the wire.
template <class Req>
struct decoded_request {
  result<Req> request = error::serialization_failed;
  std::optional<endpoint> reply_to;
  std::optional<time_point> deadline;
};

/// Decodes a request payload. Promises in the body are armed only when the
/// whole payload decoded; otherwise `request` is serialization_failed and
/// `reply_to` says whom to tell, when that much was readable.
template <class Req>
decoded_request<Req> decode_request(flow_transport& transport,
                                    std::span<const std::byte> payload) noexcept {
  decoded_request<Req> out;
  try {
    unpacked_payload unpacked{payload};
    const msgpack::object& root = unpacked.get();
    if (root.type != msgpack::type::ARRAY || root.via.array.size != 3)
      return out;
    const msgpack::object* fields = root.via.array.ptr;
    if (!fields[1].is_nil())
      out.reply_to = fields[1].as<endpoint>();
    if (!fields[0].is_nil())
      out.deadline =
          transport.clock().now() + std::chrono::nanoseconds{fields[0].as<std::int64_t>()};
    // `request` outlives `scope`: on failure the scope disarms the promises
    // decoded so far before the half-built request drops them.
    Req request;
    unpack_scope scope{transport};
    current_unpack_context()->deadline = out.deadline;
    fields[2].convert(request);
    scope.commit();
    out.request = std::move(request);
  } catch (...) {
    // Untrusted input: every decoding failure is serialization_failed.
  }
  return out;
}

} // namespace grainflow::detail
