#pragma once

// Internal: the host id of the handshake's capabilities. Not installed.

#include "grainflow/endpoints/uid.hpp"

#include <cstddef>

namespace grainflow::detail {

/// Names this host for shared memory: equal in two processes exactly when
/// they share a boot (/proc/sys/kernel/random/boot_id) and a network
/// namespace (the inode of /proc/self/ns/net), so that a peer reached over
/// loopback is really on this machine. The zero uid when either is unknown.
uid local_host_id() noexcept;

/// Removes from /dev/shm the segments (`grainflow-shm-<pid>-<hex>`) whose
/// creating process is gone and that are older than `min_age_seconds`: a
/// creator that died before its peer opened the segment leaves the name
/// behind (nobody else knows it). The age keeps segments of a creator in
/// another PID namespace, which looks dead from here, for their opener.
/// Returns how many it removed.
std::size_t remove_stale_segments(long min_age_seconds = 30) noexcept;

} // namespace grainflow::detail
