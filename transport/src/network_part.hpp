#pragma once

// Internal: the remote half of flow_transport — listener, peers, inbound
// handshakes, the tick timer. Lives on the network thread; see
// flow_transport.hpp for what callers see.

#include "link.hpp"

#include "grainflow/transport/executor.hpp"
#include "grainflow/transport/flow_transport.hpp"
#include "grainflow/transport/network_provider.hpp"
#include "grainflow/transport/peer.hpp"
#include "grainflow/transport/peer_host.hpp"

#include <atomic>
#include <memory>
#include <mutex>

#include "grainflow/endpoints/adaptive_mutex.hpp"
#include <unordered_map>
#include <vector>

namespace grainflow {

class flow_transport::network_part final : public peer_host, public detail::link_owner {
public:
  network_part(flow_transport& owner, network_provider& network);
  ~network_part() override;

  /// Listens and starts the tick timer.
  result<network_address> start();

  /// Any thread: queues a framed packet for the peer at `destination`.
  void send(const network_address& destination, std::vector<std::byte> packet, delivery how);

  std::vector<peer_stats> stats() const;

  /// Any thread: closes the listener, every connection and every session,
  /// on the network thread, and waits for that.
  void close() noexcept;

  // -- peer_host --------------------------------------------------------------

  executor& loop() noexcept override;
  network_provider& network() noexcept override;
  const transport_config& config() const noexcept override;
  clock_provider& clock() const noexcept override;
  random_provider& random() const noexcept override;
  failure_monitor& monitor() noexcept override;
  handshake local_hello() const override;
  void deliver_remote(const packet_view& packet, const network_address& from,
                      credit_ticket* ticket) override;
  void note_incarnation(const uid& incarnation, const network_address& identified) override;

  // -- link_owner: inbound connections before their hello ---------------------

  bool on_link_packet(detail::link& source, const packet_view& packet) override;
  void on_link_closed(detail::link& source, std::error_code reason) override;
  void on_link_batch_done(detail::link& source) override;

private:
  std::shared_ptr<peer> peer_for(const network_address& address);
  /// The address of the peer that speaks for the process behind `theirs`.
  network_address known_address(const handshake& theirs) const;
  void on_accept(std::unique_ptr<connection> accepted);
  void on_tick();
  void schedule_tick();
  std::unique_ptr<detail::link> take_pending(detail::link& source);
  void reject(detail::link& source, const char* why);
  void shutdown_on_loop() noexcept;

  flow_transport& owner_;
  network_provider& network_;
  handshake hello_;
  std::unique_ptr<listener> listener_;
  mutable adaptive_mutex peers_mtx_;
  std::unordered_map<network_address, std::shared_ptr<peer>> peers_;
  // Which peer speaks for which process: a process reached at one address
  // (a proxy, a mapped port) may dial us back from its canonical address.
  std::unordered_map<uid, network_address> by_incarnation_;
  std::vector<std::unique_ptr<detail::link>> pending_;
  std::vector<std::unique_ptr<detail::link>> closing_;
  timer_id tick_ = timer_id::invalid;
  std::atomic<bool> closed_{false};
};

} // namespace grainflow
