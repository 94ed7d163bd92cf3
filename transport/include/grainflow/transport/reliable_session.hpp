#pragma once

/// @file
/// The reliable session: exactly-once, in-order delivery of reliable packets
/// between two processes, across any number of connections.
///
/// A sans-IO state machine: it owns no socket, timer or thread and never reads
/// a clock. The Peer that owns the connections feeds it what arrives and writes
/// what it hands out. Its invariants (INV-SESSION-...) are named in
/// transport/src/reliable_session.spec.md; the wire is in docs/protocol.md.
///
/// Delivery guarantee: a packet accepted by push() is delivered to the peer's
/// session exactly once and in push order, as long as both processes and the
/// session live, however often connections drop. A full replay buffer refuses
/// push() (backpressure); nothing accepted is ever dropped.
///
/// The life of one connection, as the Peer drives it:
///
///     exchange handshakes (handshake.hpp); both carry last_received()
///     session.on_resume(theirs.last_received_seq)      // trims, arms replay
///     loop:
///       session.take_writable(out, room)               // replay, then new
///       if (session.ack_pending()) session.append_ack(out)
///       for each packet read: on_reliable / on_ack / unreliable routing
///     session.on_disconnect()                          // connection gone

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <vector>

#include "grainflow/endpoints/result.hpp"
#include "grainflow/endpoints/uid.hpp"
#include "grainflow/transport/packet.hpp"
#include "grainflow/transport/session_frame.hpp"

namespace grainflow {

// -- session_limits -----------------------------------------------------------

/// Bounds of one reliable session.
/// A packet in a session's replay buffer: the inner packet, whole, and
/// whether it is a request (docs/protocol.md, "Request flow control").
struct session_packet {
  std::vector<std::byte> bytes;
  bool request = false;
};

struct session_limits {
  /// The most bytes of unacknowledged inner packets the replay buffer holds.
  /// A push that would exceed it is refused until acks free space. 8 MiB.
  std::size_t replay_buffer_bytes = 8 * 1024 * 1024;

  /// The peer's packet limit. A reliable frame (inner packet plus
  /// reliable_frame_overhead) must fit it, or it could never be delivered.
  std::size_t max_packet_size = default_max_packet_size;
};

// -- reliable_session ---------------------------------------------------------

/// One per pair of processes; outlives the connections between them. Single
/// threaded: the network thread owns it (or the simulator's one thread).
class reliable_session {
public:
  // -- constructors -----------------------------------------------------------

  /// A session without a key yet (a dialer that has not finished its first
  /// handshake). Packets may be pushed at once; they wait for a connection.
  explicit reliable_session(session_limits limits = {});

  /// A session under `key`. @pre `key.valid()`.
  explicit reliable_session(uid key, session_limits limits = {});

  reliable_session(const reliable_session&) = delete;
  reliable_session& operator=(const reliable_session&) = delete;
  reliable_session(reliable_session&&) = default;
  reliable_session& operator=(reliable_session&&) = default;

  // -- properties -------------------------------------------------------------

  /// The resume key; the zero uid until one is set.
  const uid& key() const noexcept { return key_; }

  /// Sets the resume key once the handshake that establishes the session has
  /// named it. @pre `key.valid()` and no other key was set before.
  void set_key(uid key) noexcept;

  /// The limits given to the constructor.
  const session_limits& limits() const noexcept { return limits_; }

  /// Whether a connection is up (between on_resume and on_disconnect).
  bool connected() const noexcept { return connected_; }

  /// The highest sequence number received and delivered, 0 before the first.
  /// Goes into this side's handshake.
  std::uint64_t last_received() const noexcept { return last_received_; }

  /// The sequence number the next push() gets (starts at 1).
  std::uint64_t next_seq() const noexcept { return next_seq_; }

  /// The highest sequence number the peer has acknowledged, 0 before any.
  std::uint64_t acked() const noexcept { return acked_; }

  /// Packets pushed but not yet acknowledged (the replay buffer).
  std::size_t unacked_packets() const noexcept { return replay_.size(); }

  /// Bytes of those packets; never more than `limits().replay_buffer_bytes`.
  std::size_t unacked_bytes() const noexcept { return replay_bytes_; }

  /// Frames written again on a later connection after being written on an
  /// earlier one (replays), counted since construction.
  std::uint64_t retransmits() const noexcept { return retransmits_; }

  /// Whether push() of an inner packet of `bytes` bytes would be accepted now
  /// as far as the replay buffer's bound is concerned.
  bool can_push(std::size_t bytes) const noexcept;

  /// Whether take_writable() has frames to hand out (connected and some
  /// packet not yet written on this connection).
  bool has_writable() const noexcept { return connected_ && written_ + 1 < next_seq_; }

  /// Whether an ack should go out on its own: connected, data received that
  /// no frame on this connection has acknowledged yet, and no frame waiting
  /// that could carry the ack instead. The Peer decides when (at once, or at
  /// the end of a read batch).
  bool ack_pending() const noexcept;

  // -- sending ----------------------------------------------------------------

  /// Queues a reliable packet: `inner_packet` is one whole framed packet
  /// (packet.hpp) for the peer. Assigns it the next sequence number (1, 2,
  /// ...) and returns that number; it is written by take_writable() and kept
  /// for replay until acknowledged. Delivery: exactly once, in push order,
  /// while both processes and this session live.
  ///
  /// `inner_packet` is moved from only on success. On failure the session and
  /// `inner_packet` are left as they were, so the caller keeps the packet and
  /// can push it again. Fails with
  /// - std::errc::no_buffer_space when the replay buffer would exceed its
  ///   bound: backpressure. Nothing is dropped; push again after acks have
  ///   freed room (see can_push);
  /// - error::packet_too_large when the packet could never be accepted: larger
  ///   than the whole replay buffer, or too large to frame within
  ///   `limits().max_packet_size`;
  /// - error::malformed_packet when `inner_packet` is not one framed packet
  ///   (shorter than a header, or its length field differs from its size).
  /// `request` marks a request counted against the peer's request window:
  /// its frames go to the session_request token (session_frame.hpp).
  [[nodiscard]] result<std::uint64_t> push(std::vector<std::byte>&& inner_packet,
                                           bool request = false);

  /// Removes and returns, in sequence order, the packets that were never
  /// written on any connection: they certainly never reached the peer, so a
  /// session that is abandoned can hand them to its successor instead of
  /// failing their calls.
  std::vector<session_packet> take_unwritten();

  /// Appends to `out`, in sequence order, reliable frames for every packet not
  /// yet written on the current connection: after on_resume() this starts
  /// with the replay of everything unacknowledged. Each frame carries the
  /// current ack. Stops before a frame that would take this call's output
  /// past `max_bytes`, but always appends at least one frame when any is
  /// writable, so no frame is too large to ever go out. Returns how many
  /// frames it appended; 0 when disconnected.
  std::size_t take_writable(std::vector<std::byte>& out, std::size_t max_bytes);

  /// Appends an ack frame acknowledging last_received() to `out` and marks
  /// the ack as sent. Appends nothing while disconnected.
  void append_ack(std::vector<std::byte>& out);

  // -- receiving --------------------------------------------------------------

  /// Processes a reliable frame that arrived on the current connection.
  /// Returns the inner packet (a view into the frame) to deliver when
  /// `frame.seq == last_received() + 1`; nullopt for a duplicate (`seq <=
  /// last_received()`), which must not be delivered again and makes an ack
  /// due (the peer evidently has not seen one covering it). Also applies the
  /// piggybacked ack (see on_ack). Fails with error::malformed_packet, leaving
  /// the session unchanged, on a protocol violation: a gap (`seq >
  /// last_received() + 1`) or an ack beyond anything ever written. The
  /// connection must then close; the session itself stays usable.
  [[nodiscard]] result<std::optional<std::span<const std::byte>>>
  on_reliable(const reliable_frame_view& frame);

  /// Processes an acknowledgement: the peer has received everything up to
  /// `ack`. Frees those packets from the replay buffer. An ack at or below
  /// acked() is old news and changes nothing. Fails with
  /// error::malformed_packet, leaving the session unchanged, when `ack` is
  /// beyond the highest sequence number ever written: the connection must
  /// close.
  [[nodiscard]] result<void> on_ack(std::uint64_t ack);

  // -- connections ------------------------------------------------------------

  /// The current connection is gone. Nothing written on it counts as
  /// delivered: the next connection replays every unacknowledged packet.
  void on_disconnect() noexcept;

  /// A connection now carries this session (the first one included) and the
  /// peer's handshake says it has received up to `peer_last_received`. Frees
  /// what that covers (so nothing is delivered twice) and arms the replay of
  /// the rest, in order, for take_writable(). Implies on_disconnect() of any
  /// previous connection. Counts last_received() as acknowledged, since this
  /// side's handshake on the connection carried it; if it carried less (built
  /// early), the peer replays packets this side already has, which arrive as
  /// duplicates, are dropped, and make an ack due.
  ///
  /// Fails with error::malformed_packet, leaving the session unchanged, when
  /// `peer_last_received` is beyond the highest sequence number ever
  /// written: the peer's state does not belong to this session, so the
  /// session cannot continue and its callers must be failed.
  [[nodiscard]] result<void> on_resume(std::uint64_t peer_last_received);

private:
  /// Frees acknowledged packets up to `ack` (> acked_) from the front.
  void trim_to(std::uint64_t ack) noexcept;

  /// Checks the O(1) invariants of the spec in debug builds.
  void check_invariants() const noexcept;

  // -- identity and bounds --

  uid key_;
  session_limits limits_;

  // -- send side --

  /// Packets (acked_, next_seq_), in order: replay_[i] has seq acked_ + 1 + i.
  std::deque<session_packet> replay_;
  /// Sum of the sizes in replay_.
  std::size_t replay_bytes_ = 0;
  std::uint64_t next_seq_ = 1;
  std::uint64_t acked_ = 0;
  /// The highest seq written on the current connection (>= acked_).
  std::uint64_t written_ = 0;
  /// The highest seq ever written on any connection; acks cannot exceed it.
  std::uint64_t max_written_ = 0;
  std::uint64_t retransmits_ = 0;

  // -- receive side --

  std::uint64_t last_received_ = 0;
  /// The ack last told to the peer on the current connection.
  std::uint64_t ack_sent_ = 0;

  // -- connection --

  bool connected_ = false;
};

} // namespace grainflow
