#pragma once

#include <cstddef>
#include <vector>

namespace grainflow::detail {

/// A buffer a thread reuses to serialize one packet at a time.
///
/// msgpack appends a few bytes per call, so a packet serialized into a fresh
/// vector reallocated about five times on its way to 60 bytes. Serialized
/// here and then copied into one vector of its exact size, a packet costs one
/// allocation, and what the replay buffer keeps (and counts by size) is what
/// it holds in memory.
///
/// A nested borrow on the same thread (a payload whose serialization sends a
/// packet) gets a fresh vector of its own. A buffer that grew past
/// `kept_capacity` for a large packet is released when returned, so one
/// large packet does not pin its size for the thread's lifetime.
class packet_scratch {
public:
  static constexpr std::size_t kept_capacity = 64 * 1024;

  packet_scratch() noexcept;
  ~packet_scratch();

  packet_scratch(const packet_scratch&) = delete;
  packet_scratch& operator=(const packet_scratch&) = delete;

  /// Empty when borrowed.
  std::vector<std::byte>& buffer() noexcept { return *buffer_; }

private:
  std::vector<std::byte>* buffer_;
  std::vector<std::byte> own_; // used when this thread's buffer is already out
  bool borrowed_thread_buffer_;
};

} // namespace grainflow::detail
