// Moving a peer's session onto a shared-memory link once the handshake shows
// both processes on one host (docs/protocol.md "Shared memory").
#include "grainflow/transport/peer.hpp"

#include "asio_loop.hpp"
#include "grainflow/transport/detail/log_warning.hpp"
#include "link.hpp"

#include "grainflow/endpoints/error.hpp"
#include "grainflow/endpoints/well_known.hpp"
#include "grainflow/transport/executor.hpp"
#include "grainflow/transport/flow_transport.hpp"
#include "grainflow/transport/packet_decoder.hpp"

#include "grainflow/shm/link.hpp"

namespace grainflow {

bool peer::shm_eligible(const handshake& theirs) const noexcept {
  const auto& mine = host_.local_hello();
  return host_.config().use_shared_memory && mine.caps.shared_memory && theirs.caps.shared_memory &&
         mine.caps.host_id.valid() && theirs.caps.host_id == mine.caps.host_id;
}

namespace {

/// How long the network thread waits for room on a link before it gives the
/// connection up: long enough for any live peer to take its messages, short
/// enough that a stalled one does not stall every other peer for long.
constexpr std::chrono::seconds shm_send_patience{2};

shm::link_config shm_config(const transport_config& transport, bool polled) {
  shm::link_config config;
  config.spin = transport.shm_spin;
  config.receiving = polled ? shm::receive_mode::polled : shm::receive_mode::thread;
  return config;
}

using data_fn = void (peer::*)(std::uint64_t, std::vector<std::byte>, bool);
using failed_fn = void (peer::*)(std::uint64_t, std::error_code);

// Thread mode (an executor other than the Asio loop): the link's handlers run
// on its receiver thread; they copy and post to the network thread, which
// owns the peer. `generation` names the link, so that posts of a link
// already replaced are ignored.
shm::link_handlers make_shm_handlers(executor& loop, std::weak_ptr<peer> weak,
                                     std::uint64_t generation, data_fn on_data,
                                     failed_fn on_failed) {
  shm::link_handlers handlers;
  // Messages posted and not yet handled: the handler of the last one flushes.
  auto posted = std::make_shared<std::atomic<std::size_t>>(0);
  handlers.on_message = [&loop, weak, generation, on_data,
                         posted](std::span<const std::byte> bytes) {
    // relaxed: only the count matters; the post orders the bytes.
    posted->fetch_add(1, std::memory_order_relaxed);
    loop.post([weak, generation, on_data, posted,
               copy = std::vector<std::byte>(bytes.begin(), bytes.end())]() mutable {
      bool last = posted->fetch_sub(1, std::memory_order_relaxed) == 1;
      if (auto self = weak.lock())
        ((*self).*on_data)(generation, std::move(copy), last);
    });
  };
  handlers.on_failure = [&loop, weak, generation, on_failed](std::error_code reason) {
    loop.post([weak, generation, on_failed, reason] {
      if (auto self = weak.lock())
        ((*self).*on_failed)(generation, reason);
    });
  };
  return handlers;
}

/// What a polled link and the loop source draining it share: the link
/// (owned by the peer; valid while the inbox is alive, since the link's
/// handlers own the inbox) and the bytes taken off it, not yet decoded.
struct shm_inbox {
  shm::link* link = nullptr;
  std::vector<std::byte> bytes;
};

// Polled mode (the Asio loop): the network thread takes the messages off the
// link itself, with no thread in between. The handlers only append to the
// inbox (a handler of a polled link must not touch the link); the source
// hands the inbox to the peer after each poll, outside the link.
shm::link_handlers make_polled_handlers(const std::shared_ptr<shm_inbox>& inbox, executor& loop,
                                        std::weak_ptr<peer> weak, std::uint64_t generation,
                                        failed_fn on_failed) {
  shm::link_handlers handlers;
  handlers.on_message = [inbox](std::span<const std::byte> bytes) {
    inbox->bytes.insert(inbox->bytes.end(), bytes.begin(), bytes.end());
  };
  // Called inside poll(): posted, so the peer may drop the link.
  handlers.on_failure = [&loop, weak, generation, on_failed](std::error_code reason) {
    loop.post([weak, generation, on_failed, reason] {
      if (auto self = weak.lock())
        ((*self).*on_failed)(generation, reason);
    });
  };
  return handlers;
}

/// Drains one polled link on the network thread. Holds the peer and the
/// inbox weakly: the link is alive while both are (the peer destroys links
/// only on the network thread, which is the one running this).
class shm_source final : public detail::loop_source {
public:
  shm_source(std::weak_ptr<peer> owner, std::weak_ptr<shm_inbox> inbox, std::uint64_t generation,
             data_fn on_data)
      : owner_(std::move(owner))
      , inbox_(std::move(inbox))
      , generation_(generation)
      , on_data_(on_data) {}

  status poll() override {
    auto self = owner_.lock();
    auto inbox = inbox_.lock();
    if (!self || !inbox || inbox->link == nullptr)
      return status::finished;
    const std::size_t taken = inbox->link->poll();
    if (inbox->bytes.empty())
      return taken > 0 ? status::worked : status::idle;
    // The peer may drop the link while it handles these bytes: the inbox
    // (held here) outlives it, the link is not touched again.
    ((*self).*on_data_)(generation_, std::exchange(inbox->bytes, {}), true);
    return status::worked;
  }

  bool before_sleep() override {
    auto self = owner_.lock();
    auto inbox = inbox_.lock();
    if (!self || !inbox || inbox->link == nullptr)
      return true;
    return inbox->bytes.empty() && inbox->link->prepare_sleep();
  }

private:
  std::weak_ptr<peer> owner_;
  std::weak_ptr<shm_inbox> inbox_;
  std::uint64_t generation_;
  data_fn on_data_;
};

/// The Asio loop, when the peer runs on one (the simulator's executor is
/// not: its links keep their receiver thread).
detail::asio_loop* polling_loop(executor& loop) noexcept {
  return dynamic_cast<detail::asio_loop*>(&loop);
}

/// Creates (`name` empty) or opens a link for `owner`; in polled mode also
/// registers the source that drains it.
result<std::unique_ptr<shm::link>> start_link(const std::string& name, executor& loop,
                                              const transport_config& transport,
                                              std::weak_ptr<peer> owner, std::uint64_t generation,
                                              data_fn on_data, failed_fn on_failed,
                                              int liveness_fd) {
  auto* polled = polling_loop(loop);
  const auto config = shm_config(transport, polled != nullptr);
  std::shared_ptr<shm_inbox> inbox;
  shm::link_handlers handlers;
  if (polled) {
    inbox = std::make_shared<shm_inbox>();
    handlers = make_polled_handlers(inbox, loop, owner, generation, on_failed);
  } else {
    handlers = make_shm_handlers(loop, owner, generation, on_data, on_failed);
  }
  auto made = name.empty() ? shm::link::create(config, std::move(handlers), liveness_fd)
                           : shm::link::open(name, config, std::move(handlers), liveness_fd);
  if (!made || !polled)
    return made;
  inbox->link = made.value().get();
  polled->add_source(std::make_shared<shm_source>(owner, inbox, generation, on_data),
                     made.value()->wake_fd());
  return made;
}

} // namespace

void peer::offer_shm() {
  drop_shm();
  auto generation = shm_generation_;
  auto created =
      start_link({}, host_.loop(), host_.config(), weak_from_this(), generation, &peer::on_shm_data,
                 &peer::on_shm_failed, active_->conn().native_handle());
  if (!created) {
    detail::log_warning("no shared memory with %s: %s", address_.to_string().c_str(),
                        created.error().message().c_str());
    return;
  }
  shm_ = std::move(created).value();
  shm_decoder_ = std::make_unique<packet_decoder>(host_.config().max_packet_size + 64);
  const auto& name = shm_->name();
  std::vector<std::byte> offer;
  append_packet(offer, well_known_token(well_known::shm_offer),
                std::as_bytes(std::span{name.data(), name.size()}));
  active_->conn().write(offer);
}

void peer::on_shm_offer(const packet_view& packet) {
  // Only the side with the larger address opens; anything else is ignored
  // and the offering side gives the segment up after its attach timeout.
  if (!shm_allowed_ || shm_ || !(address_ < host_.local_hello().canonical_address))
    return;
  drop_shm();
  auto generation = shm_generation_;
  std::string name(reinterpret_cast<const char*>(packet.payload.data()), packet.payload.size());
  auto opened =
      start_link(name, host_.loop(), host_.config(), weak_from_this(), generation,
                 &peer::on_shm_data, &peer::on_shm_failed, active_->conn().native_handle());
  if (!opened) {
    detail::log_warning("cannot open the shared memory %s offered: %s",
                        address_.to_string().c_str(), opened.error().message().c_str());
    return;
  }
  shm_ = std::move(opened).value();
  shm_decoder_ = std::make_unique<packet_decoder>(host_.config().max_packet_size + 64);
  switch_to_shm();
}

void peer::switch_to_shm() {
  // What is queued for the connection leaves on it, then the switch: the
  // other side reads our link only after it read the switch.
  flush();
  if (!active_ || !shm_)
    return;
  std::vector<std::byte> marker;
  append_packet(marker, well_known_token(well_known::shm_switch), {});
  active_->conn().write(marker);
  shm_sending_ = true;
  shm_active_.store(true, std::memory_order_relaxed);
  shm_links_.fetch_add(1, std::memory_order_relaxed);
}

bool peer::on_shm_switch() {
  if (!shm_ || shm_receiving_) {
    protocol_errors_.fetch_add(1, std::memory_order_relaxed);
    drop_connection(make_error_code(error::malformed_packet));
    return false;
  }
  shm_receiving_ = true;
  shm_last_received_ = host_.clock().now();
  if (!shm_sending_)
    switch_to_shm(); // we offered: our frames follow theirs onto the link
  if (!shm_early_.empty()) {
    auto early = std::move(shm_early_);
    shm_early_.clear();
    if (!feed_shm(early))
      return false;
  }
  return active_ != nullptr;
}

void peer::on_shm_data(std::uint64_t generation, std::vector<std::byte> bytes, bool last) {
  if (generation != shm_generation_ || !shm_ || !active_)
    return;
  shm_bytes_received_.fetch_add(bytes.size(), std::memory_order_relaxed);
  if (!shm_receiving_) {
    // Overtook their switch, still on its way over the connection.
    shm_early_.insert(shm_early_.end(), bytes.begin(), bytes.end());
    return;
  }
  shm_last_received_ = host_.clock().now();
  // Flush after the last message posted so far: the answers and one ack for
  // all of them leave together, as after one read from a socket.
  if (feed_shm(bytes) && last)
    flush();
}

bool peer::feed_shm(std::span<const std::byte> bytes) {
  shm_decoder_->append(bytes);
  while (shm_decoder_ && active_) {
    auto next = shm_decoder_->next();
    if (!next) {
      protocol_errors_.fetch_add(1, std::memory_order_relaxed);
      detail::log_warning("bad packet from %s over shared memory: %s", address_.to_string().c_str(),
                          next.error().message().c_str());
      drop_connection(next.error());
      return false;
    }
    if (!next.value())
      return true;
    if (!on_packet(*active_, *next.value()))
      return false;
  }
  return false;
}

bool peer::write_shm(std::span<const std::byte> bytes) {
  auto chunk = shm_->max_message_size();
  const auto received_before = shm_->stats().messages_received;
  for (std::size_t at = 0; at < bytes.size(); at += chunk) {
    auto piece = bytes.subspan(at, std::min(chunk, bytes.size() - at));
    // A deadline: this is the network thread, and every other peer waits
    // while it does.
    const auto deadline = std::chrono::steady_clock::now() + shm_send_patience;
    if (auto sent = shm_->send(piece, deadline); !sent) {
      detail::log_warning("shared memory to %s failed: %s", address_.to_string().c_str(),
                          sent.error().message().c_str());
      drop_connection(sent.error());
      return false;
    }
  }
  shm_bytes_sent_.fetch_add(bytes.size(), std::memory_order_relaxed);
  // A polled link's send that waited for room took the peer's messages
  // meanwhile (INV-POLL-02): they are decoded only after this flush, but
  // they show the peer alive now, so a long flush does not time it out.
  if (shm_->stats().messages_received != received_before)
    shm_last_received_ = host_.clock().now();
  return true;
}

void peer::on_shm_failed(std::uint64_t generation, std::error_code reason) {
  if (generation != shm_generation_ || !shm_)
    return;
  if (shm_sending_ || shm_receiving_) {
    // Frames may be lost with it: the connection goes too, and the session
    // resumes (or fails) on the next one, as after any broken connection. A
    // peer that closed its end (a normal exit) is no failure worth a warning.
    if (!shm_->stats().peer_closed)
      detail::log_warning("shared memory with %s failed: %s", address_.to_string().c_str(),
                          reason.message().c_str());
    drop_connection(reason);
  } else {
    drop_shm(); // never used: stay on the connection
  }
}

void peer::drop_shm() noexcept {
  ++shm_generation_;
  shm_.reset();
  shm_decoder_.reset();
  shm_sending_ = false;
  shm_receiving_ = false;
  shm_early_.clear();
  shm_active_.store(false, std::memory_order_relaxed);
}

} // namespace grainflow
