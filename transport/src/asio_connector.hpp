#pragma once

// Internal to transport/: dialing a TCP connection on Asio, with a deadline.

#include "asio_loop.hpp"
#include "grainflow/transport/network_provider.hpp"

namespace grainflow::detail {

/// Starts connecting to `address`; `on_done` gets the connection or the error
/// (`error::timed_out` at `deadline`), unless the loop shuts down first. Loop
/// thread (asio_network::connect posts here).
void connect_tcp(asio_loop& loop, const network_address& address, time_point deadline,
                 connect_handler on_done);

} // namespace grainflow::detail
