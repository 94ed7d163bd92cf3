#include "link.hpp"

#include "grainflow/endpoints/error.hpp"

#include <chrono>

namespace grainflow::detail {

link_owner::~link_owner() = default;

link::link(std::unique_ptr<connection> conn, role r, std::size_t max_packet_size,
           const clock_provider& clock)
    : conn_(std::move(conn))
    , role_(r)
    , decoder_(max_packet_size)
    , clock_(clock)
    , opened_(clock.now())
    , last_received_(opened_) {}

link::~link() {
  *alive_ = false;
  // Destroying the connection guarantees none of its callbacks run again.
  conn_.reset();
}

void link::start(link_owner* owner) {
  owner_ = owner;
  conn_->start([this](std::span<const std::byte> bytes) { on_data(bytes); },
               [this](std::error_code reason) { owner_->on_link_closed(*this, reason); });
}

void link::on_data(std::span<const std::byte> bytes) {
  // The clock is read once per batch: the owners use it for idle detection,
  // which needs no finer grain.
  last_received_ = clock_.now();
  decoder_.append(bytes);
  auto alive = alive_;
  for (;;) {
    auto next = decoder_.next();
    if (!next) {
      owner_->on_link_closed(*this, next.error());
      return;
    }
    if (!next.value())
      break;
    if (!owner_->on_link_packet(*this, *next.value()) || !*alive)
      return;
  }
  owner_->on_link_batch_done(*this);
}

} // namespace grainflow::detail
