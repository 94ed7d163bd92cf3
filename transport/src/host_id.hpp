#pragma once

// Internal: the host id of the handshake's capabilities. Not installed.

#include "grainflow/endpoints/uid.hpp"


namespace grainflow::detail {

/// Names this host for shared memory: equal in two processes exactly when
/// they share a boot (/proc/sys/kernel/random/boot_id) and a network
/// namespace (the inode of /proc/self/ns/net), so that a peer reached over
/// loopback is really on this machine. The zero uid when either is unknown.
uid local_host_id() noexcept;

} // namespace grainflow::detail
