#include "grainflow/transport/flow_transport.hpp"

#include "network_part.hpp"

#include "grainflow/transport/session_frame.hpp"

#include "grainflow/transport/packet.hpp"

namespace grainflow {

namespace {

std::shared_ptr<clock_provider> or_real(std::shared_ptr<clock_provider> clock) {
  return clock ? std::move(clock) : std::make_shared<real_clock>();
}

std::shared_ptr<random_provider> or_real(std::shared_ptr<random_provider> random) {
  return random ? std::move(random) : std::make_shared<real_random>();
}

// Only message_receivers are ever inserted into the map (INV-FT-01), so the
// static downcast of what it returns is safe.
intrusive_ptr<message_receiver> as_receiver(endpoint_map::receiver_ptr ptr) {
  return intrusive_cast<message_receiver>(std::move(ptr));
}

} // namespace

flow_transport::flow_transport(transport_config config, transport_providers providers)
    : config_(std::move(config))
    , providers_{or_real(std::move(providers.clock)), or_real(std::move(providers.random)),
                 std::move(providers.network)}
    , incarnation_{providers_.random->next_u64(), providers_.random->next_u64()}
    , endpoints_(providers_.random->next_u64()) {
  if (providers_.network)
    network_ = std::make_unique<network_part>(*this, *providers_.network);
}

flow_transport::~flow_transport() {
  close();
}

transport_stats flow_transport::stats() const noexcept {
  return counters_.snapshot();
}

executor* flow_transport::network_loop() const noexcept {
  return network_ ? &network_->loop() : nullptr;
}

std::vector<peer_stats> flow_transport::peers() const {
  return network_ ? network_->stats() : std::vector<peer_stats>{};
}

result<network_address> flow_transport::start_network() {
  if (!network_)
    return error::connection_failed;
  if (closed())
    return error::transport_closed;
  auto address = network_->start();
  if (!address)
    return address.error();
  config_.local_address = address.value();
  return address;
}

// -- endpoints ----------------------------------------------------------------

result<endpoint> flow_transport::add_endpoint(intrusive_ptr<message_receiver> receiver) {
  if (closed())
    return error::transport_closed;
  auto token = endpoints_.insert(endpoint_map::receiver_ptr{std::move(receiver)});
  if (!token)
    return token.error();
  return endpoint{config_.local_address, token.value()};
}

result<endpoint>
flow_transport::add_endpoints(std::span<const intrusive_ptr<message_receiver>> receivers) {
  if (closed())
    return error::transport_closed;
  std::vector<endpoint_map::receiver_ptr> generic{receivers.begin(), receivers.end()};
  auto token = endpoints_.insert(std::span<const endpoint_map::receiver_ptr>{generic});
  if (!token)
    return token.error();
  return endpoint{config_.local_address, token.value()};
}

result<void> flow_transport::add_well_known(std::uint64_t index,
                                            intrusive_ptr<message_receiver> receiver) {
  if (closed())
    return error::transport_closed;
  return endpoints_.insert_well_known(index, endpoint_map::receiver_ptr{std::move(receiver)});
}

bool flow_transport::remove_endpoint(const endpoint& base, std::size_t count) noexcept {
  if (!is_local(base.address))
    return false;
  return endpoints_.remove(base.token, count);
}

intrusive_ptr<message_receiver>
flow_transport::find_local(const endpoint& destination) const noexcept {
  if (!is_local(destination.address))
    return {};
  return as_receiver(endpoints_.lookup(destination.token));
}

// -- sending ------------------------------------------------------------------

result<void> flow_transport::send_framed(const endpoint& destination,
                                         std::vector<std::byte> framed_packet, delivery how) {
  if (closed())
    return error::transport_closed;
  if (is_local(destination.address))
    return deliver_framed_locally(framed_packet);
  if (!network_ || !destination.address.valid() || destination.address.port() == 0)
    return error::connection_failed; // no route: this process has no network
  // A reliable packet travels inside a session frame, which must fit too.
  if (how != delivery::unreliable &&
      framed_packet.size() + reliable_frame_overhead > config_.max_packet_size)
    return error::packet_too_large;
  network_->send(destination.address, std::move(framed_packet), how);
  return success();
}

result<void> flow_transport::deliver_framed_locally(std::span<const std::byte> framed) {
  // The loopback checks a packet exactly as a connection's decoder would
  // (length bounds, checksum), without the decoder's buffering.
  auto packet = parse_packet(framed, config_.max_packet_size);
  if (!packet) {
    transport_counters::bump(counters_.malformed_packets);
    return packet.error();
  }
  auto receiver = as_receiver(endpoints_.lookup(packet.value().token));
  if (!receiver) {
    transport_counters::bump(counters_.endpoints_not_found);
    return error::endpoint_not_found;
  }
  transport_counters::bump(counters_.packets_delivered);
  receiver->receive_serialized(
      incoming_packet{packet.value().token, packet.value().payload, local_address()});
  return success();
}

// -- lifecycle ----------------------------------------------------------------

void flow_transport::stop_serving() noexcept {
  // release: a receiver destroyed by the clear below sees the flag.
  shutting_down_.store(true, std::memory_order_release);
  endpoints_.clear();
}

void flow_transport::close() noexcept {
  // release: a sender that observes closed() also observes the cleared map.
  if (closed_.exchange(true, std::memory_order_acq_rel))
    return;
  if (network_)
    network_->close();
  monitor_.fail_all(make_error_code(error::transport_closed));
  endpoints_.clear();
}

} // namespace grainflow
