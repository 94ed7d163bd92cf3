#pragma once

/// @file
/// The connection handshake: the first packet each side sends on every
/// connection, before any session frame.
///
/// Wire form (docs/protocol.md, "Handshake and sessions", has the full text):
/// a packet to `well_known_token(well_known::connection_handshake)` whose
/// payload is one msgpack array. The array header is the leading field count;
/// the fields, by position:
///
///     0 magic              uint <= 0xFFFFFFFF, must be handshake_magic
///     1 version.major      uint <= 0xFFFF
///     2 version.minor      uint <= 0xFFFF
///     3 incarnation        uid  ([first, second])
///     4 canonical_address  network_address (nil or [family, bin, port])
///     5 caps.shared_memory bool
///     6 caps.host_id       uid
///     7 session_key        uid: [pair id, generation] (session_key.hpp), all
///                          zero while the receiver's incarnation is unknown
///     8 last_received_seq  uint (u64)
///
/// Later minor versions only append fields: a decoder requires the fields it
/// knows and ignores any that follow. A peer with another major number may
/// lay out everything after field 2 differently, so for it only magic and
/// version are decoded (and check_compatible rejects it).

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "grainflow/endpoints/network_address.hpp"
#include "grainflow/endpoints/result.hpp"
#include "grainflow/endpoints/uid.hpp"

namespace grainflow {

// -- constants ----------------------------------------------------------------

/// The first field of every handshake: "GFLW" read as a big-endian u32. A
/// connection whose first packet lacks it is not speaking grainflow.
inline constexpr std::uint32_t handshake_magic = 0x47464c57;

/// The major protocol version this build speaks. Processes talk only when
/// their major numbers match.
inline constexpr std::uint16_t protocol_major = 1;

/// The minor protocol version this build speaks. A higher minor only appends
/// handshake fields and adds optional behaviour; it never breaks a peer with a
/// lower one.
inline constexpr std::uint16_t protocol_minor = 1;

/// How many fields a major-1 handshake must have. More are allowed (appended by
/// later minor versions) and ignored.
inline constexpr std::size_t handshake_field_count = 9;

/// Fields this version writes: the required ones, then those added by later
/// minor versions (1.1: the request window), which decoders may not find.
inline constexpr std::size_t handshake_encoded_field_count = 10;

/// The largest handshake payload a decoder accepts. An honest handshake is
/// about 100 bytes; the cap bounds what a hostile peer can make the decoder
/// allocate before the connection is even established.
inline constexpr std::size_t max_handshake_payload = 4096;

// -- message types ------------------------------------------------------------

/// A protocol version. Two versions are compatible when their majors match.
struct protocol_version {
  /// Changes when the wire changes incompatibly.
  std::uint16_t major = protocol_major;

  /// Changes when the wire gains something an older peer may ignore.
  std::uint16_t minor = protocol_minor;

  /// Compares both numbers.
  friend constexpr bool operator==(const protocol_version&,
                                   const protocol_version&) noexcept = default;
};

/// What the sender can do beyond plain TCP.
struct capabilities {
  /// Whether the sender can move traffic to a shared-memory link.
  bool shared_memory = false;

  /// Names the sender's host: two processes see the same value exactly when
  /// they share a boot and a network namespace. Computed by the caller; zero
  /// when unknown (never matches, so no shared memory).
  uid host_id;

  /// Compares both fields.
  friend constexpr bool operator==(const capabilities&, const capabilities&) noexcept = default;
};

/// The first packet on every connection, in both directions.
struct handshake {
  /// Always handshake_magic on the wire.
  std::uint32_t magic = handshake_magic;

  /// The sender's protocol version.
  protocol_version version;

  /// The sender's process incarnation: random 128 bits drawn at process start.
  /// A changed incarnation means the peer restarted and every session with its
  /// previous incarnation is gone.
  uid incarnation;

  /// Where the sender listens; port 0 if it only dials out.
  network_address canonical_address;

  /// What the sender can do.
  capabilities caps;

  /// The key of the session this connection continues, or of the one the
  /// sender would start: derived from both incarnations and the pair's
  /// generation (session_key.hpp); the zero uid while the sender does not
  /// know the receiver's incarnation.
  uid session_key;

  /// The highest reliable sequence number the sender has received in the
  /// session it holds (0 if none), so the receiver replays only what is
  /// missing.
  std::uint64_t last_received_seq = 0;

  /// Since 1.1: the bytes of requests the sender accepts from the receiver
  /// unanswered (docs/protocol.md, "Request flow control"); 0 when it does
  /// not meter them (also for a 1.0 peer, which does not send the field).
  std::uint64_t request_window = 0;

  /// Compares every field.
  friend bool operator==(const handshake&, const handshake&) noexcept = default;
};

// -- encoding and decoding ----------------------------------------------------

/// Returns a whole framed packet (header included) carrying `x` to the
/// connection-handshake token, ready to be written to the connection.
[[nodiscard]] std::vector<std::byte> encode_handshake(const handshake& x);

/// Decodes the payload of a handshake packet (the packet itself was already
/// checked by the packet decoder). Fails with error::incompatible_protocol
/// when the magic is not handshake_magic, and error::malformed_packet for
/// anything else that is not a handshake: not exactly one msgpack value, not an
/// array, a field missing, of the wrong type or out of range, or a payload
/// over max_handshake_payload. Extra trailing fields are ignored. When the
/// major version is not protocol_major, only magic and version are decoded and
/// the other fields keep their defaults. Never throws, never crashes.
[[nodiscard]] result<handshake> decode_handshake(std::span<const std::byte> payload) noexcept;

/// Succeeds when the two sides can talk: both carry handshake_magic and their
/// major versions match. Fails with error::incompatible_protocol otherwise.
/// Minor versions never matter here.
[[nodiscard]] result<void> check_compatible(const handshake& mine,
                                            const handshake& theirs) noexcept;

} // namespace grainflow
