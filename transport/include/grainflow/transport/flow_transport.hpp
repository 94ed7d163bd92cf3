#pragma once

#include "grainflow/endpoints/endpoint.hpp"
#include "grainflow/endpoints/endpoint_map.hpp"
#include "grainflow/endpoints/error.hpp"
#include "grainflow/endpoints/intrusive_ptr.hpp"
#include "grainflow/endpoints/result.hpp"
#include "grainflow/transport/detail/packet_scratch.hpp"
#include "grainflow/transport/executor.hpp"
#include "grainflow/transport/failure_monitor.hpp"
#include "grainflow/transport/message_receiver.hpp"
#include "grainflow/transport/packet_writer.hpp"
#include "grainflow/transport/peer_stats.hpp"
#include "grainflow/transport/providers.hpp"
#include "grainflow/transport/transport_stats.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

namespace grainflow {

/// Whether a packet must arrive.
enum class delivery : std::uint8_t {
  /// Kept until acknowledged and replayed after reconnects: exactly once
  /// while both processes live (requests of get_reply, replies, notices).
  reliable,
  /// Dropped while disconnected: at most once (send(), pings).
  unreliable,
  /// Reliable, and counted against the receiver's request window: the calls
  /// of get_reply and try_get_reply. Held back in this process while that
  /// window is full (docs/protocol.md, "Request flow control").
  request,
};

/// How a transport is set up.
struct transport_config {
  /// This process's canonical address: endpoints registered here carry it,
  /// and messages to it are delivered in-process. With a network provider,
  /// start_network() listens here (port 0: an ephemeral port, which then
  /// becomes the canonical address).
  network_address local_address = network_address::loopback_v4(0);
  /// Where other processes should dial this one when that differs from where
  /// it listens (behind a proxy, NAT or a port mapping). The handshake and
  /// every endpoint carry it, so peers' reconnects and replies go there.
  std::optional<network_address> advertised_address;
  /// Largest packet, header included, this transport sends or accepts.
  std::size_t max_packet_size = default_max_packet_size;
  /// Sends same-process messages through the packet path (serialize, frame,
  /// checksum, decode) instead of moving the object. For tests and for
  /// checking that a type survives the wire before deploying it.
  bool serialize_local_delivery = false;

  // -- remote peers (used once a network provider is given) --------------------

  /// Bytes of unacknowledged reliable packets kept per peer for replay.
  std::size_t replay_buffer_bytes = 8 * 1024 * 1024;
  /// Bytes queued per peer before senders wait (backpressure).
  std::size_t outbox_bytes = 8 * 1024 * 1024;
  /// Bytes of requests from one peer that this process takes in and has not
  /// answered yet; the peer holds further requests back until answers free
  /// room (docs/protocol.md, "Request flow control"). 0 turns it off.
  std::size_t request_window_bytes = 8 * 1024 * 1024;
  /// A ping goes out when nothing was sent for this long.
  duration ping_interval = std::chrono::seconds{1};
  /// A connection that received nothing for this long is dropped.
  duration connection_timeout = std::chrono::seconds{2};
  /// Reconnect backoff: starts at min, grows by 1.2x up to max.
  duration reconnect_min = std::chrono::milliseconds{50};
  duration reconnect_max = std::chrono::milliseconds{500};
  /// How long a disconnected peer's session is kept for it to come back;
  /// after that its calls fail and its unacknowledged packets are dropped.
  duration resume_window = std::chrono::seconds{5};
  /// Whether a peer in another process on this host is reached over a
  /// shared-memory link once the TCP handshake showed that both sides can
  /// (docs/protocol.md, "Shared memory"); false forces TCP.
  bool use_shared_memory = true;
  /// How long the link's waker spins before it sleeps on the futex doorbell
  /// while the network thread sleeps (the network thread itself polls the
  /// link while it is awake). Zero by default: on a machine with few cores
  /// a second spinning thread per process costs more than the futex wake-up
  /// it saves (grainflow-bench shm).
  std::chrono::microseconds shm_spin{0};
  /// How often the transport checks its peers' timers.
  duration tick_interval = std::chrono::milliseconds{50};
};

/// Routes every message of a process: to an endpoint of this process without
/// serialization, or as a packet. Owns the endpoint map.
///
/// Thread safety: every member may be called from any thread. Receivers are
/// called on the sending thread for same-process delivery; the transport holds
/// no lock while it calls them, so they may send in turn.
class flow_transport {
public:
  // -- construction -----------------------------------------------------------

  explicit flow_transport(transport_config config = {}, transport_providers providers = {});
  ~flow_transport();
  flow_transport(const flow_transport&) = delete;
  flow_transport& operator=(const flow_transport&) = delete;

  // -- properties -------------------------------------------------------------

  const transport_config& config() const noexcept { return config_; }
  const network_address& local_address() const noexcept { return config_.local_address; }
  clock_provider& clock() const noexcept { return *providers_.clock; }
  random_provider& random() const noexcept { return *providers_.random; }
  /// The network provider's executor (the network thread, or the
  /// simulator's), for the timers of code built on this transport, such as
  /// the name registry's retries; null without a network provider.
  executor* network_loop() const noexcept;
  /// This process start's random identity (the handshake's incarnation).
  const uid& incarnation() const noexcept { return incarnation_; }
  /// Which calls wait on which peer; fails them when peers fail.
  failure_monitor& monitor() noexcept { return monitor_; }
  /// One entry per remote process this transport knows.
  std::vector<peer_stats> peers() const;
  /// True when `address` names this process.
  bool is_local(const network_address& address) const noexcept {
    return address == config_.local_address;
  }
  /// True once stop_serving() or close() began: endpoints are going away.
  bool shutting_down() const noexcept {
    // acquire: pairs with the release in stop_serving()/close().
    return shutting_down_.load(std::memory_order_acquire) || closed();
  }
  /// True after close().
  bool closed() const noexcept {
    // acquire: pairs with close()'s release so a sender that sees the flag
    // also sees the cleared map.
    return closed_.load(std::memory_order_acquire);
  }
  transport_stats stats() const noexcept;

  // -- endpoints --------------------------------------------------------------

  /// Registers a receiver under a new token of this process.
  [[nodiscard]] result<endpoint> add_endpoint(intrusive_ptr<message_receiver> receiver);
  /// Registers receivers[i] under base.adjusted(i): an interface's methods.
  [[nodiscard]] result<endpoint>
  add_endpoints(std::span<const intrusive_ptr<message_receiver>> receivers);
  /// Registers a receiver under a well-known token (n < 64).
  [[nodiscard]] result<void> add_well_known(std::uint64_t index,
                                            intrusive_ptr<message_receiver> receiver);
  /// Removes what add_endpoint(s) registered; `count` as registered.
  /// Returns false for an unknown or stale endpoint.
  bool remove_endpoint(const endpoint& base, std::size_t count = 1) noexcept;
  /// The receiver of a same-process endpoint, or null when the endpoint is
  /// remote, removed or unknown. Lock-free.
  intrusive_ptr<message_receiver> find_local(const endpoint& destination) const noexcept;
  /// Counts a packet whose payload its receiver could not decode.
  void note_undecodable_payload() const noexcept {
    transport_counters::bump(counters_.undecodable_payloads);
  }
  /// Counts an object a sender handed straight to a typed_receiver.
  void note_local_delivery() const noexcept {
    transport_counters::bump(counters_.local_deliveries);
  }

  // -- sending ----------------------------------------------------------------

  /// Sends one packet to `destination`; `write_payload(std::vector<std::byte>&)`
  /// appends the msgpack payload. Same-process destinations are delivered
  /// before this returns. At most once: errors say it was certainly not
  /// delivered (endpoint_not_found for a same-process token that does not
  /// exist, packet_too_large, transport_closed, connection_failed when no
  /// route to the destination exists).
  /// Remote destinations: `how` says whether the packet survives
  /// disconnects; a peer that is not connected yet is dialed.
  template <class WritePayload>
  [[nodiscard]] result<void> send_packet(const endpoint& destination, WritePayload&& write_payload,
                                         delivery how = delivery::reliable) {
    detail::packet_scratch scratch;
    auto& serialized = scratch.buffer();
    auto start = begin_packet(serialized, destination.token);
    write_payload(serialized);
    if (auto done = finish_packet(serialized, start, config_.max_packet_size); !done)
      return done.error();
    return send_framed(destination, std::vector<std::byte>(serialized.begin(), serialized.end()),
                       how);
  }

  /// Sends a packet already framed by `append_packet`/`packet_writer`.
  [[nodiscard]] result<void> send_framed(const endpoint& destination,
                                         std::vector<std::byte> framed_packet,
                                         delivery how = delivery::reliable);

  // -- network ----------------------------------------------------------------

  /// Starts listening on config().local_address with the network provider,
  /// and returns the address listened on (the canonical address from now
  /// on). Call it before registering endpoints: they carry the address.
  /// Fails without a network provider, or when the address is taken.
  [[nodiscard]] result<network_address> start_network();

  // -- lifecycle --------------------------------------------------------------

  /// The first step of an orderly shutdown: removes every endpoint (their
  /// receivers are released; the actor binding stops the actors that served
  /// them) while the network keeps running, so the answers those actors give
  /// or break on their way out still reach remote callers. Idempotent.
  void stop_serving() noexcept;

  /// Removes every endpoint, closes every connection (what is queued is still
  /// written), fails every waiting call with transport_closed, and fails later
  /// sends with transport_closed. Idempotent.
  void close() noexcept;

  class network_part;

private:
  result<void> deliver_framed_locally(std::span<const std::byte> framed);

  transport_config config_;
  transport_providers providers_;
  uid incarnation_;
  endpoint_map endpoints_;
  failure_monitor monitor_;
  std::unique_ptr<network_part> network_;
  std::atomic<bool> closed_{false};
  std::atomic<bool> shutting_down_{false};
  mutable transport_counters counters_;
};

} // namespace grainflow
