#pragma once

#include "grainflow/endpoints/error.hpp"
#include "grainflow/endpoints/msgpack_adaptors.hpp"
#include "grainflow/endpoints/result.hpp"
#include "grainflow/transport/packet_writer.hpp"

#include <msgpack.hpp>

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

namespace grainflow::detail {

/// Reply payloads (docs/protocol.md, "Request and reply payloads"):
/// `[0, value]` for a value, `[1, [category, code]]` for an error.
enum class reply_kind : int { value = 0, error = 1 };

/// Limits for unpacking untrusted payloads: no container may claim more
/// elements than the payload has bytes, so a forged length cannot make the
/// decoder allocate more than the packet is worth.
msgpack::unpack_limit untrusted_unpack_limit(std::size_t payload_size) noexcept;

/// A payload unpacked into a zone the calling thread reuses: decoding a
/// message allocates nothing for its msgpack tree. (A zone per payload cost
/// an 8 KiB malloc and free per message, above glibc's per-thread cache, so
/// every decode took the allocator's arena lock, which the network thread
/// and the actor threads then fought over.) Throws msgpack exceptions on
/// malformed input (callers catch them and answer serialization_failed).
/// Nested decodes on one thread each get their own zone.
class unpacked_payload {
public:
  explicit unpacked_payload(std::span<const std::byte> payload);
  ~unpacked_payload();
  unpacked_payload(const unpacked_payload&) = delete;
  unpacked_payload& operator=(const unpacked_payload&) = delete;

  [[nodiscard]] const msgpack::object& get() const noexcept { return root_; }

private:
  std::unique_ptr<msgpack::zone> zone_;
  msgpack::object root_;
};

template <class Rep>
void append_reply(std::vector<std::byte>& out, const result<Rep>& outcome) {
  byte_buffer_writer writer{out};
  msgpack::packer<byte_buffer_writer> packer{writer};
  packer.pack_array(2);
  if (outcome) {
    packer.pack(static_cast<int>(reply_kind::value));
    packer.pack(outcome.value());
  } else {
    packer.pack(static_cast<int>(reply_kind::error));
    packer.pack(outcome.error());
  }
}

/// Decodes a reply payload; a malformed one decodes as serialization_failed
/// (the caller learns that the answer was unreadable, not a wrong value).
template <class Rep>
result<Rep> decode_reply(std::span<const std::byte> payload) noexcept {
  try {
    unpacked_payload unpacked{payload};
    const msgpack::object& root = unpacked.get();
    if (root.type != msgpack::type::ARRAY || root.via.array.size != 2)
      return error::serialization_failed;
    auto kind = root.via.array.ptr[0].as<int>();
    if (kind == static_cast<int>(reply_kind::value))
      return root.via.array.ptr[1].as<Rep>();
    if (kind == static_cast<int>(reply_kind::error))
      return root.via.array.ptr[1].as<std::error_code>();
  } catch (...) {
    // Untrusted input: any decoding failure is the same failure.
  }
  return error::serialization_failed;
}

} // namespace grainflow::detail
