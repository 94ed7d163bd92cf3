#pragma once

#include "grainflow/endpoints/network_address.hpp"
#include "grainflow/endpoints/ref_counted.hpp"
#include "grainflow/endpoints/uid.hpp"

#include <cstddef>
#include <span>
#include <typeinfo>

namespace grainflow {

class credit_ticket;

/// A packet that reached this process serialized, as the transport hands it
/// to the receiver registered for its token.
struct incoming_packet {
  /// The token the packet was addressed to.
  uid token;
  /// The msgpack payload; valid only during the receive call.
  std::span<const std::byte> payload;
  /// Where it came from: the sender's canonical address (this process's own
  /// address for the serializing loopback).
  network_address source;
  /// A request's claim on its sender's request window, or null (replies,
  /// unreliable packets, the loopback). A receiver that keeps the request
  /// past the call moves the ticket along with it and releases it when the
  /// request is answered; otherwise it is released when the call returns.
  credit_ticket* ticket = nullptr;
};

/// Whatever an endpoint's token is registered to in the endpoint map.
///
/// Two ways in: `receive_serialized` for packets (from a peer or the
/// serializing loopback) and, for receivers of one C++ type, the unserialized
/// same-process path of `typed_receiver<T>`. Receivers are called from any
/// thread (the network thread, or the sender's thread for same-process
/// delivery) and must not block.
class message_receiver : public ref_counted {
public:
  ~message_receiver() override;

  /// Delivers a serialized packet. Must not throw: a payload that does not
  /// decode is answered or counted by the receiver itself.
  virtual void receive_serialized(const incoming_packet& packet) noexcept = 0;

  /// The C++ type this receiver accepts unserialized, or nullptr when it
  /// only takes packets. `typed_receiver<T>` returns `&typeid(T)`.
  virtual const std::type_info* local_type() const noexcept;
};

} // namespace grainflow
