#pragma once

// A flow_transport with its own network thread, listening on 127.0.0.1: the
// fixture of the scenarios between transports over real TCP.

#include "grainflow/transport/asio_network.hpp"
#include "grainflow/transport/flow_transport.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace grainflow::test {

struct networked {
  explicit networked(transport_config config = {}) {
    auto created = asio_network::create();
    EXPECT_TRUE(created);
    network = std::shared_ptr<asio_network>(std::move(created).value());
    EXPECT_TRUE(network->start());
    config.local_address = network_address::loopback_v4(0);
    transport = std::make_unique<flow_transport>(config, transport_providers{{}, {}, network});
    address = transport->start_network().value();
  }
  ~networked() {
    transport->close();
    network->stop();
  }
  std::shared_ptr<asio_network> network;
  std::unique_ptr<flow_transport> transport;
  network_address address;
};

} // namespace grainflow::test
