#include "grainflow/transport/detail/packet_scratch.hpp"

namespace grainflow::detail {

namespace {

struct thread_buffer {
  std::vector<std::byte> bytes;
  bool out = false;
};

thread_local thread_buffer this_thread_buffer;

} // namespace

packet_scratch::packet_scratch() noexcept
    : buffer_(&own_)
    , borrowed_thread_buffer_(!this_thread_buffer.out) {
  if (borrowed_thread_buffer_) {
    this_thread_buffer.out = true;
    buffer_ = &this_thread_buffer.bytes;
  }
}

packet_scratch::~packet_scratch() {
  if (!borrowed_thread_buffer_)
    return;
  auto& bytes = this_thread_buffer.bytes;
  if (bytes.capacity() > kept_capacity)
    std::vector<std::byte>{}.swap(bytes);
  else
    bytes.clear();
  this_thread_buffer.out = false;
}

} // namespace grainflow::detail
