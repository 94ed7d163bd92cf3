#pragma once

// Internal: what one simulated process sees of the network — its provider
// and its listeners. Not installed.

#include "fabric.hpp"

#include "grainflow/transport/network_provider.hpp"

#include <memory>

namespace grainflow::sim::detail {

/// A process's network_provider: listen and connect on its machine, every
/// callback on its executor. Bound to one life of the machine: once that
/// process died, listen fails and connect does nothing (its handler is
/// destroyed without running, as for a stopped provider).
class host_network final : public network_provider {
public:
  host_network(fabric& net, process_id id, std::uint64_t life, executor& loop) noexcept
      : net_(net)
      , id_(id)
      , life_(life)
      , loop_(loop) {}

  [[nodiscard]] executor& loop() noexcept override { return loop_; }

  [[nodiscard]] result<std::unique_ptr<listener>> listen(const network_address& address,
                                                         accept_handler on_accept) override {
    return net_.listen(id_, life_, address, std::move(on_accept));
  }

  void connect(const network_address& address, time_point deadline,
               connect_handler on_done) override {
    net_.connect(id_, life_, address, deadline, std::move(on_done));
  }

private:
  fabric& net_;
  process_id id_;
  std::uint64_t life_;
  executor& loop_;
};

/// A listening socket of the simulated network.
class sim_listener final : public listener {
public:
  sim_listener(fabric& net, std::shared_ptr<listener_state> state) noexcept
      : net_(net)
      , state_(std::move(state)) {}
  ~sim_listener() override { close(); }

  [[nodiscard]] network_address local_address() const noexcept override { return state_->address; }

  void close() override { net_.close_listener(*state_); }

private:
  fabric& net_;
  std::shared_ptr<listener_state> state_;
};

} // namespace grainflow::sim::detail
