// Request flow control on the network thread: requests the peer's window
// holds back, and the credits that give room back (docs/protocol.md
// "Request flow control").
#include "grainflow/transport/peer.hpp"

#include "grainflow/endpoints/well_known.hpp"
#include "grainflow/transport/detail/little_endian.hpp"
#include "grainflow/transport/executor.hpp"
#include "grainflow/transport/flow_transport.hpp"
#include "grainflow/transport/packet_decoder.hpp"

namespace grainflow {

void peer::release_held_requests() {
  // Until the first handshake tells the peer's window, requests wait.
  while (window_known_ && !held_.empty()) {
    auto size = held_.front().size();
    bool metered = meters_requests();
    if (metered) {
      // A request larger than the window still goes when nothing else is
      // outstanding, alone.
      auto outstanding = credit_used_ - credit_released_;
      if (outstanding > 0 && outstanding + size > their_window_) {
        window_stalls_.fetch_add(1, std::memory_order_relaxed);
        break;
      }
    }
    if (!session_.can_push(size))
      break; // the replay buffer is full: acks will make room
    (void)session_.push(std::move(held_.front()), metered);
    if (metered)
      credit_used_ += size;
    held_bytes_ -= size;
    held_.pop_front();
  }
  requests_held_.store(held_.size(), std::memory_order_relaxed);
}

void peer::publish_held() {
  std::lock_guard<adaptive_mutex> guard{mtx_};
  held_bytes_published_ = held_bytes_;
  if (waiting_senders_ > 0)
    room_.notify_all();
}

void peer::drop_held() noexcept {
  // Their calls failed with the session; nothing waits for these packets.
  held_.clear();
  held_bytes_ = 0;
  requests_held_.store(0, std::memory_order_relaxed);
  publish_held();
}

void peer::on_credit(const packet_view& packet) {
  credit_released_ = std::max(credit_released_, detail::load_le64(packet.payload.data()));
  // flush() releases what the credit makes room for and tells the senders.
  flush();
}

void peer::renew_credit_account() {
  if (inbound_credit_)
    inbound_credit_->retire();
  auto window = host_.config().request_window_bytes;
  intrusive_ptr<credit_account> next;
  if (window > 0)
    next = make_intrusive<credit_account>(window / 4, [weak = weak_from_this()] {
      if (auto self = weak.lock())
        self->post_credit();
    });
  std::lock_guard<adaptive_mutex> guard{mtx_};
  inbound_credit_ = std::move(next);
}

void peer::post_credit() {
  // Any thread (a released ticket). Under mtx_ so that shutdown(), which
  // comes before the executor goes away, cannot slip in between.
  std::lock_guard<adaptive_mutex> guard{mtx_};
  if (closed_)
    return;
  host_.loop().post([weak = weak_from_this()] {
    if (auto self = weak.lock())
      self->send_credit();
  });
}

void peer::send_credit() {
  if (!inbound_credit_ || !active_)
    return;
  std::array<std::byte, 8> payload{};
  detail::store_le64(payload.data(), inbound_credit_->take_grant());
  append_packet(write_buffer_, well_known_token(well_known::request_credit), payload);
  flush();
}

} // namespace grainflow
