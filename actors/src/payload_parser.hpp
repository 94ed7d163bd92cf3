#pragma once

#include <msgpack.hpp>

#include <cstddef>
#include <span>

namespace grainflow::detail {

/// Unpacks `payload` into `zone` with this thread's parser, under the limits
/// of untrusted_unpack_limit(payload.size()); the same result and the same
/// exceptions as msgpack::unpack with those limits.
///
/// msgpack::unpack builds a visitor and a parser context per call, and each
/// reserves a stack of its own: two allocations per message, on the path of
/// every request and reply. This thread's pair is built once and reset per
/// payload.
msgpack::object unpack_untrusted(msgpack::zone& zone, std::span<const std::byte> payload);

} // namespace grainflow::detail
