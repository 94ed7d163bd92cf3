#pragma once

#include "grainflow/endpoints/network_address.hpp"
#include "grainflow/transport/handshake.hpp"
#include "grainflow/transport/peer_host.hpp"
#include "grainflow/transport/peer_stats.hpp"
#include "grainflow/transport/providers.hpp"
#include "grainflow/transport/reliable_session.hpp"
#include "grainflow/transport/request_credit.hpp"
#include "grainflow/transport/session_key.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>

#include "grainflow/endpoints/adaptive_mutex.hpp"
#include <optional>
#include <vector>

namespace grainflow {

namespace detail {
class link;
} // namespace detail

namespace shm {
class link;
} // namespace shm

class packet_decoder;

/// One remote process: the reliable session with it, the connection that
/// currently carries it, reconnects, pings and idle detection.
///
/// - Reliable packets stay in the session until acknowledged and are
///   replayed, in order, on the next connection: each is delivered exactly
///   once while both processes live.
/// - Unreliable packets (pings, send()) go out only while connected.
/// - One connection per pair: when both sides dial at once, the connection
///   dialed by the side with the smaller canonical address wins.
///
/// Thread safety: send() and stats() from any thread; everything else on the
/// network thread only.
class peer : public std::enable_shared_from_this<peer> {
public:
  // -- construction -----------------------------------------------------------

  peer(peer_host& host, network_address address);
  ~peer();
  peer(const peer&) = delete;
  peer& operator=(const peer&) = delete;

  // -- properties -------------------------------------------------------------

  const network_address& address() const noexcept { return address_; }
  peer_stats stats() const;

  // -- any thread -------------------------------------------------------------

  /// What a queued packet is: how it travels and whether it counts against
  /// the peer's request window (docs/protocol.md, "Request flow control").
  enum class kind : std::uint8_t { unreliable, reliable, request };

  /// Queues one framed packet. A thread other than the network thread waits
  /// while the peer's outbox is over its bound (backpressure, never loss);
  /// requests also wait while those held back by the peer's window fill it.
  void send(std::vector<std::byte> packet, kind how);

  // -- network thread ---------------------------------------------------------

  /// Whether an inbound connection from this peer, whose hello is `theirs`,
  /// is welcome now; false while our own dial has connected and awaits the
  /// answer to its hello and our address is the smaller, and false, while a
  /// connection is up, for a leftover of such a race (is_leftover_hello).
  bool accepts_inbound(const handshake& theirs) const noexcept;

  /// Takes over an accepted connection whose hello has arrived.
  void adopt_inbound(std::unique_ptr<detail::link> inbound);

  /// Periodic work: pings, idle timeouts, reconnects, the resume window.
  void tick(time_point now);

  /// Moves queued packets onto the connection.
  void flush();
  /// flush() after a batch of reads, except that an ack with nothing to ride
  /// on waits two turns of posted tasks for an answer to carry it.
  void flush_after_batch();

  /// Closes the connection and gives up the session; waiting senders wake.
  void shutdown() noexcept;

  // For link callbacks (see peer.cpp): the peer is the links' owner.
  class link_events;

private:
  friend class link_events;

  struct outbound {
    std::vector<std::byte> packet;
    kind how = kind::unreliable;
  };

  // Connection life.
  void start_connect(time_point now);
  void on_connected(std::unique_ptr<detail::link> dialed);
  bool on_hello(detail::link& source, const handshake& theirs);
  bool establish(std::unique_ptr<detail::link> l, const handshake& theirs);
  void drop_connection(std::error_code reason);
  void lose_session(std::error_code never_sent);
  void reset_session();
  void restart_session();
  handshake hello_for_session() const;
  duration jittered(duration base) const;
  /// A dial of ours failed (`why`): logged once per streak of failures, if
  /// anything waits for the peer.
  void note_failed_dial(const char* why);
  /// Packets or calls wait for this peer (wants_connection() without the
  /// session it would resume).
  bool has_pending_work() const noexcept;

  // Traffic.
  bool on_packet(detail::link& source, const packet_view& packet);
  void on_link_closed(detail::link& source, std::error_code reason);
  void on_ping(const packet_view& packet);
  void send_ping(time_point now);
  void move_outbox_to_session();
  // Request flow control: whether the peer meters our requests, moving held
  // requests into the session as its window allows, and telling senders
  // (mtx_ taken) what is held and that there may be room.
  bool meters_requests() const noexcept { return window_known_ && their_window_ > 0; }
  void release_held_requests();
  void publish_held();
  void on_credit(const packet_view& packet);
  void send_credit();
  void post_credit();
  void renew_credit_account();
  void drop_held() noexcept;
  bool wants_connection() const noexcept;

  // Shared memory (docs/protocol.md, "Shared memory").
  bool shm_eligible(const handshake& theirs) const noexcept;
  void offer_shm();
  void on_shm_offer(const packet_view& packet);
  bool on_shm_switch();
  void switch_to_shm();
  void on_shm_data(std::uint64_t generation, std::vector<std::byte> bytes, bool last);
  void on_shm_failed(std::uint64_t generation, std::error_code reason);
  bool feed_shm(std::span<const std::byte> bytes);
  bool write_shm(std::span<const std::byte> bytes);
  void drop_shm() noexcept;

  peer_host& host_;
  network_address address_;

  // -- shared with sending threads (mtx_) -------------------------------------
  mutable adaptive_mutex mtx_;
  std::condition_variable_any room_;
  // Senders blocked in send() on a full outbox: only then is room_ notified.
  std::size_t waiting_senders_ = 0;
  std::deque<outbound> outbox_;
  // Bytes in outbox_ and staging_: what senders put in and the session has
  // not taken yet.
  std::size_t outbox_bytes_ = 0;
  // held_bytes_ as last published by the network thread: requests the
  // peer's window holds back count towards the outbox bound for senders of
  // requests only.
  std::size_t held_bytes_published_ = 0;
  // Requests this session delivered to us and not yet answered. Replaced on
  // the network thread (under mtx_, for stats()).
  intrusive_ptr<credit_account> inbound_credit_;
  bool flush_posted_ = false;
  // Network thread: a standalone ack waits (see flush_after_batch).
  bool defer_ack_ = false;
  bool ack_check_posted_ = false;
  bool closed_ = false;

  // -- network thread only ----------------------------------------------------
  // The outbox as the network thread took it, all at once, so that senders
  // wait for the lock only as long as a swap takes: what the session could
  // not take yet (a full replay buffer) waits here, ahead of newer packets.
  std::deque<outbound> staging_;
  // Requests the peer's window holds back, in order, and their bytes
  // (published to senders as held_bytes_published_).
  std::deque<std::vector<std::byte>> held_;
  std::size_t held_bytes_ = 0;
  // The peer's request window (0: it does not meter), and this session's
  // request bytes put into the session and released by its credits.
  bool window_known_ = false;
  std::uint64_t their_window_ = 0;
  std::uint64_t credit_used_ = 0;
  std::uint64_t credit_released_ = 0;
  reliable_session session_;
  // The remote incarnation and the generation of our session with it; the
  // session's key derives from them (session_key.hpp).
  session_standing standing_;
  std::unique_ptr<detail::link> active_;
  std::unique_ptr<detail::link> dialing_;
  std::unique_ptr<link_events> events_;
  bool connecting_ = false;
  std::uint64_t connect_generation_ = 0;
  time_point disconnected_since_;
  time_point next_connect_;
  duration backoff_{};
  // Dials that failed since the last connection. The first one made while
  // something waits for the peer is logged, and then the connection that
  // ends the streak says how many there were.
  std::uint64_t failed_dials_ = 0;
  bool failed_dials_logged_ = false;
  time_point last_sent_;
  std::uint64_t ping_nonce_ = 0;
  time_point ping_sent_at_;
  std::vector<std::byte> write_buffer_;
  // The shared-memory link of the current connection, if any: whether the
  // handshake allows one, our frames go over it (after our shm_switch) and
  // theirs come over it (after their shm_switch; bytes that overtook the
  // switch wait in shm_early_). shm_generation_ tells stale posts apart.
  bool shm_allowed_ = false;
  std::unique_ptr<shm::link> shm_;
  std::uint64_t shm_generation_ = 0;
  bool shm_sending_ = false;
  bool shm_receiving_ = false;
  std::vector<std::byte> shm_early_;
  std::unique_ptr<packet_decoder> shm_decoder_;
  time_point shm_last_received_;

  // -- counters (relaxed atomics: independent, read only for reporting) -------
  std::atomic<std::uint64_t> bytes_sent_{0};
  std::atomic<std::uint64_t> bytes_received_{0};
  std::atomic<std::uint64_t> packets_sent_{0};
  std::atomic<std::uint64_t> packets_received_{0};
  std::atomic<std::uint64_t> reliable_in_flight_{0};
  std::atomic<std::uint64_t> retransmits_{0};
  std::atomic<std::uint64_t> connections_{0};
  std::atomic<std::uint64_t> protocol_errors_{0};
  std::atomic<std::uint64_t> requests_held_{0};
  std::atomic<std::uint64_t> window_stalls_{0};
  std::atomic<std::int64_t> ping_rtt_us_{0};
  std::atomic<bool> connected_{false};
  std::atomic<bool> shm_active_{false};
  std::atomic<std::uint64_t> shm_links_{0};
  std::atomic<std::uint64_t> shm_bytes_sent_{0};
  std::atomic<std::uint64_t> shm_bytes_received_{0};
};

} // namespace grainflow
