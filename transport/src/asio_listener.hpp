#pragma once

// Internal to transport/: TCP listeners on Asio.

#include <memory>

#include "asio_loop.hpp"
#include "grainflow/transport/network_provider.hpp"

namespace grainflow::detail {

/// Opens a listening socket on `address` (SO_REUSEADDR), binds and listens
/// here, so errors and the real port are known on return, and starts accepting
/// on `loop`. Loop context.
result<std::unique_ptr<listener>> listen_tcp(const std::shared_ptr<asio_loop>& loop,
                                             const network_address& address,
                                             accept_handler on_accept);

} // namespace grainflow::detail
