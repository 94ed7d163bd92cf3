#include "network_part.hpp"

#include "grainflow/transport/detail/log_warning.hpp"
#include "host_id.hpp"

#include "grainflow/endpoints/error.hpp"
#include "grainflow/endpoints/well_known.hpp"
#include "grainflow/shm/segment.hpp"
#include "grainflow/transport/detail/little_endian.hpp"

#include <chrono>
#include <future>

namespace grainflow {

namespace {

// How long close() waits for the network thread to tear down.
constexpr auto close_wait = std::chrono::seconds{5};

// The not-found notice: the missing token, first then second, u64 LE each.
constexpr std::size_t notice_size = 16;

/// Receives "your token X does not exist here" from peers and fails the
/// calls waiting on X.
class endpoint_not_found_receiver final : public message_receiver {
public:
  explicit endpoint_not_found_receiver(failure_monitor& monitor)
      : monitor_(monitor) {}
  void receive_serialized(const incoming_packet& packet) noexcept override {
    if (packet.payload.size() != notice_size)
      return;
    uid missing{detail::load_le64(packet.payload.data()),
                detail::load_le64(packet.payload.data() + 8)};
    monitor_.on_endpoint_not_found(packet.source, missing);
  }

private:
  failure_monitor& monitor_;
};

} // namespace

flow_transport::network_part::network_part(flow_transport& owner, network_provider& network)
    : owner_(owner)
    , network_(network) {}

flow_transport::network_part::~network_part() {
  close();
}

result<network_address> flow_transport::network_part::start() {
  // The listener belongs to the network thread: made there, used there.
  auto make_listener = [this] {
    return network_.listen(
        owner_.config_.local_address,
        [this](std::unique_ptr<connection> accepted) { on_accept(std::move(accepted)); });
  };
  auto listening = [&]() -> result<std::unique_ptr<listener>> {
    if (network_.loop().in_executor_thread())
      return make_listener();
    std::promise<result<std::unique_ptr<listener>>> made;
    auto ready = made.get_future();
    network_.loop().post([&] { made.set_value(make_listener()); });
    if (ready.wait_for(close_wait) != std::future_status::ready)
      return error::transport_closed; // the network thread does not run
    return ready.get();
  }();
  if (!listening)
    return listening.error();
  listener_ = std::move(listening).value();
  auto address = owner_.config_.advertised_address.value_or(listener_->local_address());
  hello_.incarnation = owner_.incarnation_;
  hello_.request_window = owner_.config_.request_window_bytes;
  hello_.canonical_address = address;
  if (owner_.config_.use_shared_memory && network_.real_processes()) {
    hello_.caps.host_id = detail::local_host_id();
    hello_.caps.shared_memory = hello_.caps.host_id.valid();
    // A creator that died before its peer opened the segment leaves the
    // name behind (nobody else knows it). The age keeps segments of a
    // creator in another PID namespace, which looks dead from here, for
    // their opener.
    (void)shm::segment::remove_stale(std::chrono::seconds{30});
  }
  auto notices = owner_.endpoints_.insert_well_known(
      static_cast<std::uint64_t>(well_known::endpoint_not_found),
      endpoint_map::receiver_ptr{make_intrusive<endpoint_not_found_receiver>(owner_.monitor_)});
  if (!notices)
    return notices.error();
  network_.loop().post([this] { schedule_tick(); });
  return address;
}

void flow_transport::network_part::send(const network_address& destination,
                                        std::vector<std::byte> packet, delivery how) {
  auto kind = how == delivery::request    ? peer::kind::request
              : how == delivery::reliable ? peer::kind::reliable
                                          : peer::kind::unreliable;
  if (auto target = peer_for(destination))
    target->send(std::move(packet), kind);
}

std::shared_ptr<peer> flow_transport::network_part::peer_for(const network_address& address) {
  std::lock_guard<adaptive_mutex> guard{peers_mtx_};
  if (closed_.load(std::memory_order_acquire))
    return nullptr;
  auto& slot = peers_[address];
  if (!slot)
    slot = std::make_shared<peer>(*this, address);
  return slot;
}

network_address flow_transport::network_part::known_address(const handshake& theirs) const {
  std::lock_guard<adaptive_mutex> guard{peers_mtx_};
  auto found = by_incarnation_.find(theirs.incarnation);
  return found != by_incarnation_.end() ? found->second : theirs.canonical_address;
}

void flow_transport::network_part::note_incarnation(const uid& incarnation,
                                                    const network_address& identified) {
  std::lock_guard<adaptive_mutex> guard{peers_mtx_};
  by_incarnation_[incarnation] = identified;
}

std::vector<peer_stats> flow_transport::network_part::stats() const {
  std::vector<peer_stats> out;
  std::lock_guard<adaptive_mutex> guard{peers_mtx_};
  for (const auto& [address, known] : peers_)
    out.push_back(known->stats());
  return out;
}

// -- ticks --------------------------------------------------------------------

void flow_transport::network_part::schedule_tick() {
  if (closed_.load(std::memory_order_acquire))
    return;
  tick_ = network_.loop().schedule_at(clock().now() + owner_.config_.tick_interval,
                                      [this] { on_tick(); });
}

void flow_transport::network_part::on_tick() {
  auto now = clock().now();
  std::vector<std::shared_ptr<peer>> known;
  {
    std::lock_guard<adaptive_mutex> guard{peers_mtx_};
    for (auto& [address, each] : peers_)
      known.push_back(each);
  }
  for (auto& each : known)
    each->tick(now);
  closing_.clear();
  // A client that connects and says nothing is shown the door.
  for (std::size_t i = 0; i < pending_.size();) {
    if (now - pending_[i]->opened() > owner_.config_.connection_timeout) {
      transport_counters::bump(owner_.counters_.rejected_connections);
      detail::log_warning("inbound connection from %s sent no handshake: closed",
                          pending_[i]->conn().remote_address().to_string().c_str());
      pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
  schedule_tick();
}

// -- inbound connections ------------------------------------------------------

void flow_transport::network_part::on_accept(std::unique_ptr<connection> accepted) {
  if (closed_.load(std::memory_order_acquire))
    return;
  auto inbound = std::make_unique<detail::link>(std::move(accepted), detail::link::role::acceptor,
                                                owner_.config_.max_packet_size + 64, clock());
  auto* raw = inbound.get();
  pending_.push_back(std::move(inbound));
  raw->start(this);
}

std::unique_ptr<detail::link> flow_transport::network_part::take_pending(detail::link& source) {
  for (auto i = pending_.begin(); i != pending_.end(); ++i)
    if (i->get() == &source) {
      auto out = std::move(*i);
      pending_.erase(i);
      return out;
    }
  return nullptr;
}

void flow_transport::network_part::reject(detail::link& source, const char* why) {
  transport_counters::bump(owner_.counters_.rejected_connections);
  detail::log_warning("inbound connection from %s refused: %s",
                      source.conn().remote_address().to_string().c_str(), why);
  take_pending(source); // destroyed here: the connection closes
}

bool flow_transport::network_part::on_link_packet(detail::link& source, const packet_view& packet) {
  if (packet.token != well_known_token(well_known::connection_handshake)) {
    reject(source, "the first packet was not a handshake");
    return false;
  }
  auto theirs = decode_handshake(packet.payload);
  if (!theirs) {
    reject(source, "malformed handshake");
    return false;
  }
  if (auto compatible = check_compatible(hello_, theirs.value()); !compatible) {
    // Answer with our own hello first, so the other side can say why too.
    auto mine = encode_handshake(hello_);
    source.conn().write(mine);
    source.conn().close();
    transport_counters::bump(owner_.counters_.rejected_connections);
    detail::log_warning("inbound connection from %s refused: protocol %u.%u is incompatible",
                        source.conn().remote_address().to_string().c_str(),
                        theirs.value().version.major, theirs.value().version.minor);
    // Kept until the next tick so the hello goes out before the socket does.
    closing_.push_back(take_pending(source));
    return false;
  }
  auto from = peer_for(known_address(theirs.value()));
  if (!from || !from->accepts_inbound(theirs.value())) {
    take_pending(source); // our own dial to it wins
    return false;
  }
  source.theirs = theirs.value();
  from->adopt_inbound(take_pending(source));
  return true;
}

void flow_transport::network_part::on_link_closed(detail::link& source, std::error_code reason) {
  // Closed before its handshake completed: a truncated hello, garbage, or a
  // client that gave up. Counted like any other refused connection.
  reject(source, reason ? reason.message().c_str() : "closed before its handshake");
}

void flow_transport::network_part::on_link_batch_done(detail::link&) {}

// -- delivery -----------------------------------------------------------------

void flow_transport::network_part::deliver_remote(const packet_view& packet,
                                                  const network_address& from,
                                                  credit_ticket* ticket) {
  auto receiver = intrusive_cast<message_receiver>(owner_.endpoints_.lookup(packet.token));
  if (receiver) {
    transport_counters::bump(owner_.counters_.packets_delivered);
    receiver->receive_serialized(incoming_packet{packet.token, packet.payload, from, ticket});
    return;
  }
  transport_counters::bump(owner_.counters_.endpoints_not_found);
  if (is_well_known(packet.token))
    return; // never answer a notice with a notice
  std::array<std::byte, notice_size> notice{};
  detail::store_le64(notice.data(), packet.token.first);
  detail::store_le64(notice.data() + 8, packet.token.second);
  std::vector<std::byte> out;
  append_packet(out, well_known_token(well_known::endpoint_not_found), notice);
  send(from, std::move(out), delivery::reliable);
}

// -- peer_host ----------------------------------------------------------------

executor& flow_transport::network_part::loop() noexcept {
  return network_.loop();
}
network_provider& flow_transport::network_part::network() noexcept {
  return network_;
}
const transport_config& flow_transport::network_part::config() const noexcept {
  return owner_.config_;
}
clock_provider& flow_transport::network_part::clock() const noexcept {
  return owner_.clock();
}
random_provider& flow_transport::network_part::random() const noexcept {
  return owner_.random();
}
failure_monitor& flow_transport::network_part::monitor() noexcept {
  return owner_.monitor_;
}
handshake flow_transport::network_part::local_hello() const {
  return hello_;
}

// -- shutdown -----------------------------------------------------------------

void flow_transport::network_part::shutdown_on_loop() noexcept {
  if (tick_ != timer_id::invalid)
    network_.loop().cancel(tick_);
  listener_.reset();
  pending_.clear();
  closing_.clear();
  std::unordered_map<network_address, std::shared_ptr<peer>> gone;
  {
    std::lock_guard<adaptive_mutex> guard{peers_mtx_};
    gone.swap(peers_);
  }
  for (auto& [address, each] : gone)
    each->shutdown();
}

void flow_transport::network_part::close() noexcept {
  if (closed_.exchange(true, std::memory_order_acq_rel))
    return;
  if (network_.loop().in_executor_thread()) {
    shutdown_on_loop();
    return;
  }
  auto done = std::make_shared<std::promise<void>>();
  auto finished = done->get_future();
  network_.loop().post([this, done] {
    shutdown_on_loop();
    done->set_value();
  });
  if (finished.wait_for(close_wait) != std::future_status::ready)
    detail::log_warning("the network thread did not shut the transport down in time");
}

} // namespace grainflow
