#pragma once

// Internal: one connection as the transport drives it. Not installed.

#include "grainflow/transport/handshake.hpp"
#include "grainflow/transport/network_provider.hpp"
#include "grainflow/transport/packet_decoder.hpp"
#include "grainflow/transport/providers.hpp"

#include <memory>
#include <optional>
#include <system_error>

namespace grainflow::detail {

class link;

/// Whoever currently owns a link: the transport while its hello is awaited,
/// then the peer. Called on the network thread.
class link_owner {
public:
  virtual ~link_owner();
  /// A packet arrived. Returns false when the owner closed or destroyed the
  /// link, so the link stops touching itself.
  virtual bool on_link_packet(link& source, const packet_view& packet) = 0;
  /// The connection ended (`reason`: closed, reset, bad input). The owner
  /// destroys the link.
  virtual void on_link_closed(link& source, std::error_code reason) = 0;
  /// Bytes were read (after all their packets were handled): a moment to flush.
  virtual void on_link_batch_done(link& source) = 0;
};

/// A connection plus its stream decoder and the facts its handshake taught.
class link {
public:
  enum class role { dialer, acceptor };

  link(std::unique_ptr<connection> conn, role r, std::size_t max_packet_size,
       const clock_provider& clock);
  ~link();
  link(const link&) = delete;
  link& operator=(const link&) = delete;

  /// Starts reading; every callback goes to the current owner.
  void start(link_owner* owner);
  void set_owner(link_owner* owner) noexcept { owner_ = owner; }

  connection& conn() noexcept { return *conn_; }
  role side() const noexcept { return role_; }
  /// When the peer last showed life: a packet completed, or a large one made
  /// headway (see on_data). Bytes alone do not count.
  time_point last_received() const noexcept { return last_received_; }
  time_point opened() const noexcept { return opened_; }
  /// The peer's hello once it arrived.
  std::optional<handshake> theirs;

private:
  void on_data(std::span<const std::byte> bytes);

  std::unique_ptr<connection> conn_;
  role role_;
  packet_decoder decoder_;
  link_owner* owner_ = nullptr;
  const clock_provider& clock_;
  time_point opened_;
  time_point last_received_;
  // Bytes received since the last sign of life (see on_data).
  std::size_t bytes_without_packet_ = 0;
  // Set by the destructor so a callback in progress notices (see on_data).
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace grainflow::detail
