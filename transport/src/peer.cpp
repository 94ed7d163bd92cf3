#include "grainflow/transport/peer.hpp"

#include "grainflow/transport/detail/log_warning.hpp"
#include "link.hpp"

#include "grainflow/endpoints/error.hpp"
#include "grainflow/endpoints/well_known.hpp"
#include "grainflow/transport/detail/little_endian.hpp"
#include "grainflow/transport/executor.hpp"
#include "grainflow/transport/failure_monitor.hpp"
#include "grainflow/transport/flow_transport.hpp"
#include "grainflow/transport/network_provider.hpp"
#include "grainflow/transport/packet_decoder.hpp"
#include "grainflow/transport/session_frame.hpp"

#include "grainflow/shm/link.hpp"

#include <algorithm>
#include <iterator>

namespace grainflow {

namespace {

// Ping payload: kind (u8: 0 ping, 1 pong) and a nonce (u64 LE).
constexpr std::uint8_t ping_kind = 0;
constexpr std::uint8_t pong_kind = 1;
constexpr std::size_t ping_payload_size = 9;

// How much of the session one flush writes before it waits for the socket to
// drain: big enough to coalesce, small enough to share the thread.
constexpr std::size_t write_budget = 1024 * 1024;

std::vector<std::byte> ping_packet(std::uint8_t kind, std::uint64_t nonce) {
  std::array<std::byte, ping_payload_size> payload{};
  payload[0] = static_cast<std::byte>(kind);
  detail::store_le64(payload.data() + 1, nonce);
  std::vector<std::byte> out;
  append_packet(out, well_known_token(well_known::ping), payload);
  return out;
}

} // namespace

/// Routes link callbacks to the peer.
class peer::link_events final : public detail::link_owner {
public:
  explicit link_events(peer& owner)
      : owner_(owner) {}
  bool on_link_packet(detail::link& source, const packet_view& packet) override {
    return owner_.on_packet(source, packet);
  }
  void on_link_closed(detail::link& source, std::error_code reason) override {
    owner_.on_link_closed(source, reason);
  }
  void on_link_batch_done(detail::link&) override { owner_.flush_after_batch(); }

private:
  peer& owner_;
};

// -- construction -------------------------------------------------------------

peer::peer(peer_host& host, network_address address)
    : host_(host)
    , address_(std::move(address))
    , session_(session_limits{host.config().replay_buffer_bytes, host.config().max_packet_size})
    , events_(std::make_unique<link_events>(*this))
    , disconnected_since_(host.clock().now())
    , next_connect_(disconnected_since_)
    , backoff_(host.config().reconnect_min)
    , last_sent_(disconnected_since_) {}

peer::~peer() {
  shutdown();
}

peer_stats peer::stats() const {
  peer_stats out;
  out.address = address_;
  out.connected = connected_.load(std::memory_order_relaxed);
  out.bytes_sent = bytes_sent_.load(std::memory_order_relaxed);
  out.bytes_received = bytes_received_.load(std::memory_order_relaxed);
  out.packets_sent = packets_sent_.load(std::memory_order_relaxed);
  out.packets_received = packets_received_.load(std::memory_order_relaxed);
  out.reliable_in_flight = reliable_in_flight_.load(std::memory_order_relaxed);
  out.retransmits = retransmits_.load(std::memory_order_relaxed);
  auto connections = connections_.load(std::memory_order_relaxed);
  out.reconnects = connections > 0 ? connections - 1 : 0;
  out.protocol_errors = protocol_errors_.load(std::memory_order_relaxed);
  out.requests_held = requests_held_.load(std::memory_order_relaxed);
  out.window_stalls = window_stalls_.load(std::memory_order_relaxed);
  {
    // The account is replaced on the network thread under mtx_.
    std::lock_guard<adaptive_mutex> guard{mtx_};
    out.inbound_backlog_bytes = inbound_credit_ ? inbound_credit_->backlog() : 0;
  }
  out.ping_round_trip = std::chrono::microseconds{ping_rtt_us_.load(std::memory_order_relaxed)};
  out.shared_memory = shm_active_.load(std::memory_order_relaxed);
  out.shm_links = shm_links_.load(std::memory_order_relaxed);
  out.shm_bytes_sent = shm_bytes_sent_.load(std::memory_order_relaxed);
  out.shm_bytes_received = shm_bytes_received_.load(std::memory_order_relaxed);
  return out;
}

// -- any thread ---------------------------------------------------------------

void peer::send(std::vector<std::byte> packet, kind how) {
  bool post = false;
  {
    std::unique_lock<adaptive_mutex> lock{mtx_};
    // Requests also wait for those the peer's window holds back; replies and
    // control never do: they are what frees the window on the other side.
    auto full = [this, how] {
      auto queued = outbox_bytes_ + (how == kind::request ? held_bytes_published_ : 0);
      return queued >= host_.config().outbox_bytes;
    };
    // The network thread never waits: it is the one that makes room.
    if (!host_.loop().in_executor_thread() && !closed_ && full()) {
      ++waiting_senders_;
      room_.wait(lock, [&] { return closed_ || !full(); });
      --waiting_senders_;
    }
    if (closed_)
      return;
    outbox_bytes_ += packet.size();
    outbox_.push_back(outbound{std::move(packet), how});
    post = !std::exchange(flush_posted_, true);
  }
  if (post)
    host_.loop().post([weak = weak_from_this()] {
      if (auto self = weak.lock())
        self->flush();
    });
}

// -- network thread: traffic --------------------------------------------------

void peer::flush_after_batch() {
  // What a batch brought is mostly answered at once: the actors it woke run
  // on this thread right after it (posted), and their answers carry the ack.
  // So the ack alone waits two turns of posted tasks: past the actors' runs
  // and past the flush their answers posted. Only an ack still owed then
  // goes alone, and the other side is not woken twice per exchange.
  defer_ack_ = true;
  flush();
  defer_ack_ = false;
  if (!session_.ack_pending() || std::exchange(ack_check_posted_, true))
    return;
  host_.loop().post([weak = weak_from_this()] {
    if (auto self = weak.lock())
      self->host_.loop().post([weak = std::move(weak)] {
        if (auto self = weak.lock()) {
          self->ack_check_posted_ = false;
          if (self->session_.ack_pending())
            self->flush();
        }
      });
  });
}

void peer::move_outbox_to_session() {
  {
    std::lock_guard<adaptive_mutex> guard{mtx_};
    flush_posted_ = false;
    if (staging_.empty()) {
      staging_.swap(outbox_);
    } else {
      std::move(outbox_.begin(), outbox_.end(), std::back_inserter(staging_));
      outbox_.clear();
    }
  }
  std::size_t moved = 0;
  while (!staging_.empty()) {
    auto& next = staging_.front();
    auto size = next.packet.size();
    if (next.how == kind::request) {
      // Into the session in order, as the peer's window allows.
      held_bytes_ += size;
      held_.push_back(std::move(next.packet));
    } else if (next.how == kind::reliable) {
      if (!session_.can_push(size))
        break; // backpressure: wait for acks to free the replay buffer
      (void)session_.push(std::move(next.packet));
    } else if (active_) {
      write_buffer_.insert(write_buffer_.end(), next.packet.begin(), next.packet.end());
    } // else: unreliable while disconnected is dropped, as documented
    packets_sent_.fetch_add(1, std::memory_order_relaxed);
    moved += size;
    staging_.pop_front();
  }
  release_held_requests();
  std::lock_guard<adaptive_mutex> guard{mtx_};
  outbox_bytes_ -= moved;
  held_bytes_published_ = held_bytes_;
  if (waiting_senders_ > 0)
    room_.notify_all();
}

void peer::flush() {
  move_outbox_to_session();
  if (!active_) {
    write_buffer_.clear();
    return;
  }
  auto& conn = active_->conn();
  if (conn.pending_write_bytes() < write_budget)
    session_.take_writable(write_buffer_, write_budget);
  if (session_.ack_pending() && !defer_ack_)
    session_.append_ack(write_buffer_);
  if (!write_buffer_.empty()) {
    bytes_sent_.fetch_add(write_buffer_.size(), std::memory_order_relaxed);
    if (shm_sending_) {
      if (!write_shm(write_buffer_)) {
        write_buffer_.clear();
        return; // the connection went with the link
      }
    } else {
      conn.write(write_buffer_);
    }
    write_buffer_.clear();
    last_sent_ = host_.clock().now();
  }
  if (session_.has_writable()) {
    if (shm_sending_) {
      // The link took everything at once: the rest goes in the next turn.
      host_.loop().post([weak = weak_from_this()] {
        if (auto self = weak.lock())
          self->flush();
      });
    } else {
      conn.on_drained([this] { flush(); });
    }
  }
  reliable_in_flight_.store(session_.unacked_packets(), std::memory_order_relaxed);
  retransmits_.store(session_.retransmits(), std::memory_order_relaxed);
}

bool peer::on_packet(detail::link& source, const packet_view& packet) {
  bytes_received_.fetch_add(packet_header_size + packet.payload.size(), std::memory_order_relaxed);
  if (&source != active_.get()) {
    // Our dial, waiting for the other side's hello.
    if (packet.token != well_known_token(well_known::connection_handshake)) {
      protocol_errors_.fetch_add(1, std::memory_order_relaxed);
      dialing_.reset();
      return false;
    }
    auto theirs = decode_handshake(packet.payload);
    if (!theirs) {
      protocol_errors_.fetch_add(1, std::memory_order_relaxed);
      dialing_.reset();
      return false;
    }
    if (auto compatible = check_compatible(host_.local_hello(), theirs.value()); !compatible) {
      protocol_errors_.fetch_add(1, std::memory_order_relaxed);
      detail::log_warning("peer %s speaks protocol %u.%u, incompatible with ours: refused",
                          address_.to_string().c_str(), theirs.value().version.major,
                          theirs.value().version.minor);
      dialing_.reset();
      return false;
    }
    source.theirs = theirs.value();
    return establish(std::move(dialing_), theirs.value());
  }
  packets_received_.fetch_add(1, std::memory_order_relaxed);
  auto fail = [&](std::error_code reason) {
    protocol_errors_.fetch_add(1, std::memory_order_relaxed);
    detail::log_warning("closing the connection to %s: %s", address_.to_string().c_str(),
                        reason.message().c_str());
    drop_connection(reason);
    return false;
  };
  bool request = packet.token == well_known_token(well_known::session_request);
  if (request || packet.token == well_known_token(well_known::session_reliable)) {
    auto frame = parse_reliable_frame(packet.payload, host_.config().max_packet_size);
    if (!frame)
      return fail(frame.error());
    auto inner = session_.on_reliable(frame.value());
    if (!inner)
      return fail(inner.error());
    if (inner.value()) {
      auto parsed = parse_packet(*inner.value(), host_.config().max_packet_size);
      if (!parsed)
        return fail(parsed.error());
      // A request counts against the peer's window until its ticket goes:
      // here, when the receiver did not keep it, or when it is answered.
      credit_ticket ticket;
      if (request && inbound_credit_) {
        inbound_credit_->admit(inner.value()->size());
        ticket = credit_ticket{inbound_credit_, inner.value()->size()};
      }
      host_.deliver_remote(parsed.value(), address_, request ? &ticket : nullptr);
    }
    return true;
  }
  if (packet.token == well_known_token(well_known::request_credit)) {
    if (packet.payload.size() != 8)
      return fail(make_error_code(error::malformed_packet));
    if (detail::load_le64(packet.payload.data()) > credit_used_)
      return fail(make_error_code(error::malformed_packet)); // releases what we never sent
    on_credit(packet);
    return true;
  }
  if (packet.token == well_known_token(well_known::session_ack)) {
    auto ack = parse_ack_frame(packet.payload);
    if (!ack)
      return fail(ack.error());
    if (auto applied = session_.on_ack(ack.value()); !applied)
      return fail(applied.error());
    return true;
  }
  if (packet.token == well_known_token(well_known::ping)) {
    on_ping(packet);
    return true;
  }
  if (packet.token == well_known_token(well_known::connection_handshake))
    return fail(make_error_code(error::malformed_packet));
  if (packet.token == well_known_token(well_known::shm_offer)) {
    on_shm_offer(packet);
    return active_ != nullptr;
  }
  if (packet.token == well_known_token(well_known::shm_switch))
    return on_shm_switch();
  host_.deliver_remote(packet, address_);
  return true;
}

void peer::on_ping(const packet_view& packet) {
  if (packet.payload.size() != ping_payload_size)
    return;
  auto kind = static_cast<std::uint8_t>(packet.payload[0]);
  auto nonce = detail::load_le64(packet.payload.data() + 1);
  if (kind == ping_kind) {
    auto pong = ping_packet(pong_kind, nonce);
    write_buffer_.insert(write_buffer_.end(), pong.begin(), pong.end());
  } else if (kind == pong_kind && nonce == ping_nonce_) {
    auto rtt = host_.clock().now() - ping_sent_at_;
    ping_rtt_us_.store(std::chrono::duration_cast<std::chrono::microseconds>(rtt).count(),
                       std::memory_order_relaxed);
  }
}

void peer::send_ping(time_point now) {
  ping_sent_at_ = now;
  auto ping = ping_packet(ping_kind, ++ping_nonce_);
  write_buffer_.insert(write_buffer_.end(), ping.begin(), ping.end());
  flush();
}

// -- network thread: connections ----------------------------------------------

bool peer::wants_connection() const noexcept {
  return session_.key().valid() || has_pending_work();
}

bool peer::has_pending_work() const noexcept {
  if (session_.unacked_packets() > 0 || !staging_.empty() || !held_.empty())
    return true;
  {
    std::lock_guard<adaptive_mutex> guard{mtx_};
    if (!outbox_.empty())
      return true;
  }
  return host_.monitor().tracked(address_) > 0;
}

bool peer::accepts_inbound(const handshake& theirs) const noexcept {
  // Both sides dialed at once: the dial of the smaller address wins, on both
  // sides, so exactly one connection survives. A dial counts once it has
  // connected and sent its hello (the other side can adopt it); a connect
  // still pending is abandoned for a connection that works — else a side
  // whose connects keep hanging would refuse every dial of the other side.
  // (Found by the simulator: kv workload, seed 52.)
  if (dialing_)
    return address_ < host_.local_hello().canonical_address;
  // The hello of the losing dial of such a race may arrive after the winning
  // connection established the session (even after it dropped again, when
  // the hello waited in an accept backlog): the other side abandoned that
  // dial, but its hello — naming no session, or an older one — was already on
  // its way. Answering it would replace the live connection with a dead one,
  // so it is refused while a connection is up. (Without one, answering it is
  // harmless: a hello that names no later session never changes ours.)
  // (Found by the simulator: rpc workload, seeds 13 and 431.)
  return !(active_ && is_leftover_hello(host_.local_hello().incarnation, standing_,
                                        theirs.incarnation, theirs.session_key));
}

void peer::start_connect(time_point now) {
  connecting_ = true;
  auto generation = ++connect_generation_;
  host_.network().connect(
      address_, now + host_.config().connection_timeout,
      [weak = weak_from_this(), generation](result<std::unique_ptr<connection>> connected) {
        auto self = weak.lock();
        if (!self || generation != self->connect_generation_)
          return; // abandoned: the connection (if any) closes as it is dropped
        self->connecting_ = false;
        auto now = self->host_.clock().now();
        if (!connected || self->active_) {
          // Failed, or an inbound connection won meanwhile.
          if (!connected) {
            self->note_failed_dial(connected.error().message().c_str());
            self->next_connect_ = now + self->jittered(self->backoff_);
            self->backoff_ = std::min(std::chrono::duration_cast<duration>(self->backoff_ * 6 / 5),
                                      self->host_.config().reconnect_max);
            // Nothing listens where a process we had a session with listened:
            // it is gone (a live transport never refuses), so its calls fail
            // now, not at the end of the resume window.
            if (connected.error() == std::errc::connection_refused &&
                self->session_.key().valid()) {
              self->lose_session(make_error_code(error::connection_failed));
              self->reset_session();
              self->drop_held();
              self->disconnected_since_ = now;
            }
          }
          return;
        }
        auto dialed = std::make_unique<detail::link>(
            std::move(connected).value(), detail::link::role::dialer,
            self->host_.config().max_packet_size + 64, self->host_.clock());
        self->dialing_ = std::move(dialed);
        self->dialing_->start(self->events_.get());
        auto hello = encode_handshake(self->hello_for_session());
        self->dialing_->conn().write(hello);
      });
}

void peer::note_failed_dial(const char* why) {
  // Once per streak: a peer that stays down is redialed every reconnect_max.
  // And only when something waits for it: a client that left is redialed
  // once for its session (refused: the session goes), which is no news.
  ++failed_dials_;
  if (!failed_dials_logged_ && has_pending_work()) {
    failed_dials_logged_ = true;
    detail::log_warning("cannot connect to %s: %s; retrying", address_.to_string().c_str(), why);
  }
}

void peer::adopt_inbound(std::unique_ptr<detail::link> inbound) {
  // We answer a dial: our own attempt, if any, is abandoned.
  ++connect_generation_;
  connecting_ = false;
  dialing_.reset();
  auto theirs = *inbound->theirs;
  establish(std::move(inbound), theirs);
}

duration peer::jittered(duration base) const {
  // ±20%: two sides that failed together do not retry in lockstep.
  auto permille = 800 + static_cast<std::int64_t>(host_.random().next_u64() % 401);
  return base * permille / 1000;
}

handshake peer::hello_for_session() const {
  auto hello = host_.local_hello();
  hello.session_key = hello_session_key(hello.incarnation, standing_);
  hello.last_received_seq = session_.last_received();
  return hello;
}

bool peer::establish(std::unique_ptr<detail::link> l, const handshake& theirs) {
  // Both sides settle on the same key by the same rule, whichever handshake
  // arrives first or is lost (docs/protocol.md, "Session keys and resuming").
  auto settled = settle_session(host_.local_hello().incarnation, standing_, theirs.incarnation,
                                theirs.session_key);
  if (settled.restart) {
    // The process at this address restarted, or gave up the session we hold:
    // every call that may have reached it fails now rather than at a timeout;
    // what never left goes to the new session (whose answer, for an endpoint
    // of a previous incarnation, is endpoint_not_found).
    restart_session();
  }
  standing_ = settled.next;
  if (!session_.key().valid())
    session_.set_key(settled.key);
  host_.note_incarnation(theirs.incarnation, address_);
  const std::uint64_t resume_from = settled.replay_all ? 0 : theirs.last_received_seq;
  if (l->side() == detail::link::role::acceptor) {
    auto hello = encode_handshake(hello_for_session());
    l->conn().write(hello);
  }
  if (active_)
    drop_connection(make_error_code(error::connection_failed));
  active_ = std::move(l);
  active_->set_owner(events_.get());
  if (auto resumed = session_.on_resume(resume_from); !resumed) {
    protocol_errors_.fetch_add(1, std::memory_order_relaxed);
    drop_connection(resumed.error());
    return false;
  }
  window_known_ = true;
  their_window_ = theirs.request_window;
  if (!inbound_credit_)
    renew_credit_account();
  shm_allowed_ = shm_eligible(theirs);
  if (shm_allowed_ && host_.local_hello().canonical_address < address_)
    offer_shm();
  connected_.store(true, std::memory_order_relaxed);
  connections_.fetch_add(1, std::memory_order_relaxed);
  backoff_ = host_.config().reconnect_min;
  if (auto failed = std::exchange(failed_dials_, 0); std::exchange(failed_dials_logged_, false))
    detail::log_warning("connected to %s after %llu failed attempts", address_.to_string().c_str(),
                        static_cast<unsigned long long>(failed));
  host_.monitor().on_connected(address_);
  // Credits are cumulative: after every handshake the peer learns where this
  // session's stand, whatever was lost with the previous connection.
  send_credit();
  flush();
  return true;
}

void peer::on_link_closed(detail::link& source, std::error_code reason) {
  if (&source == active_.get()) {
    drop_connection(reason);
  } else if (&source == dialing_.get()) {
    dialing_.reset();
    note_failed_dial(reason.message().c_str());
    next_connect_ = host_.clock().now() + backoff_;
  }
}

void peer::drop_connection(std::error_code) {
  if (!active_)
    return;
  drop_shm();
  active_.reset();
  session_.on_disconnect();
  connected_.store(false, std::memory_order_relaxed);
  auto now = host_.clock().now();
  disconnected_since_ = now;
  next_connect_ = now + jittered(backoff_);
  host_.monitor().on_disconnected(address_);
}

void peer::lose_session(std::error_code never_sent) {
  host_.monitor().on_peer_lost(address_, never_sent);
}

void peer::reset_session() {
  standing_.give_up();
  session_ = reliable_session(
      session_limits{host_.config().replay_buffer_bytes, host_.config().max_packet_size});
  // Flow control starts over with the session, on both sides.
  credit_used_ = 0;
  credit_released_ = 0;
  if (inbound_credit_)
    renew_credit_account();
}

void peer::restart_session() {
  auto unsent = session_.take_unwritten();
  host_.monitor().on_session_lost(address_);
  reset_session();
  // Requests that never left wait again for the new session's window, ahead
  // of later ones; the rest fits: it fit in the old session.
  for (auto it = unsent.rbegin(); it != unsent.rend(); ++it) {
    if (it->request) {
      held_bytes_ += it->bytes.size();
      held_.push_front(std::move(it->bytes));
    }
  }
  for (auto& packet : unsent)
    if (!packet.request)
      (void)session_.push(std::move(packet.bytes));
  requests_held_.store(held_.size(), std::memory_order_relaxed);
  publish_held();
}

void peer::tick(time_point now) {
  const auto& config = host_.config();
  if (active_) {
    auto last = active_->last_received();
    if (shm_receiving_)
      last = std::max(last, shm_last_received_);
    if (now - last > config.connection_timeout) {
      detail::log_warning("peer %s sent nothing for too long: disconnecting",
                          address_.to_string().c_str());
      drop_connection(make_error_code(error::timed_out));
    } else if (now - last_sent_ >= config.ping_interval) {
      send_ping(now);
    }
  }
  if (dialing_ && now - dialing_->opened() > config.connection_timeout) {
    dialing_.reset();
    note_failed_dial("no handshake within the connection timeout");
    next_connect_ = now + backoff_;
  }
  if (!active_) {
    if (now - disconnected_since_ > config.resume_window &&
        (session_.key().valid() || host_.monitor().tracked(address_) > 0 ||
         session_.unacked_packets() > 0)) {
      // Gone for good: calls fail, the session and its replay buffer go.
      lose_session(make_error_code(error::connection_failed));
      reset_session();
      drop_held();
      disconnected_since_ = now;
    }
    if (!connecting_ && !dialing_ && now >= next_connect_ && wants_connection())
      start_connect(now);
  }
  flush();
}

void peer::shutdown() noexcept {
  {
    std::lock_guard<adaptive_mutex> guard{mtx_};
    closed_ = true;
    outbox_.clear();
    outbox_bytes_ = 0;
    held_bytes_published_ = 0;
  }
  staging_.clear();
  held_.clear();
  held_bytes_ = 0;
  if (inbound_credit_)
    inbound_credit_->retire();
  room_.notify_all();
  ++connect_generation_;
  drop_shm();
  active_.reset();
  dialing_.reset();
  connected_.store(false, std::memory_order_relaxed);
}

} // namespace grainflow
