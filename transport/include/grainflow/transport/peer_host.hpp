#pragma once

#include "grainflow/transport/handshake.hpp"
#include "grainflow/transport/packet.hpp"

#include <system_error>

namespace grainflow {

class executor;
class network_provider;
class clock_provider;
class random_provider;
class failure_monitor;
class credit_ticket;
struct transport_config;

/// What a peer needs from the transport that owns it. An interface, so that
/// a peer can be tested with a host of the test's own.
class peer_host {
public:
  virtual ~peer_host();

  virtual executor& loop() noexcept = 0;
  virtual network_provider& network() noexcept = 0;
  virtual const transport_config& config() const noexcept = 0;
  virtual clock_provider& clock() const noexcept = 0;
  virtual random_provider& random() const noexcept = 0;
  virtual failure_monitor& monitor() noexcept = 0;

  /// This process's hello, without the session fields.
  virtual handshake local_hello() const = 0;

  /// `identified` now speaks for the process with this incarnation: an
  /// inbound connection from that process (dialed to another of our
  /// addresses, or through a proxy) belongs to it. Network thread.
  virtual void note_incarnation(const uid& incarnation, const network_address& identified) = 0;

  /// A packet arrived from `from` (the inner packet of a reliable frame, or an
  /// unreliable one). A request comes with its ticket, which the receiver
  /// may keep (see incoming_packet::ticket). Network thread.
  virtual void deliver_remote(const packet_view& packet, const network_address& from,
                              credit_ticket* ticket = nullptr) = 0;
};

} // namespace grainflow
