// The streaming packet decoder.

#include "grainflow/transport/packet_decoder.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <utility>

#include "grainflow/endpoints/error.hpp"
#include "grainflow/transport/detail/little_endian.hpp"

namespace grainflow {

namespace {

// The first allocation: large enough for typical socket reads, small enough
// that an idle connection costs little.
constexpr std::size_t initial_capacity = 16 * 1024;

} // namespace

packet_decoder::packet_decoder(std::size_t max_packet_size) noexcept
    : max_packet_size_(max_packet_size) {
  assert(max_packet_size >= packet_header_size);
}

packet_decoder::packet_decoder(packet_decoder&& other) noexcept
    : storage_(std::move(other.storage_))
    , capacity_(std::exchange(other.capacity_, 0))
    , begin_(std::exchange(other.begin_, 0))
    , end_(std::exchange(other.end_, 0))
    , prepared_(std::exchange(other.prepared_, 0))
    , max_packet_size_(other.max_packet_size_)
    , packets_decoded_(std::exchange(other.packets_decoded_, 0))
    , error_(std::exchange(other.error_, std::error_code{})) {}

packet_decoder& packet_decoder::operator=(packet_decoder&& other) noexcept {
  if (this != &other) {
    storage_ = std::move(other.storage_);
    capacity_ = std::exchange(other.capacity_, 0);
    begin_ = std::exchange(other.begin_, 0);
    end_ = std::exchange(other.end_, 0);
    prepared_ = std::exchange(other.prepared_, 0);
    max_packet_size_ = other.max_packet_size_;
    packets_decoded_ = std::exchange(other.packets_decoded_, 0);
    error_ = std::exchange(other.error_, std::error_code{});
  }
  return *this;
}

void packet_decoder::append(std::span<const std::byte> bytes) {
  if (error_ || bytes.empty())
    return;
  std::memcpy(prepare(bytes.size()).data(), bytes.data(), bytes.size());
  commit(bytes.size());
}

std::span<std::byte> packet_decoder::prepare(std::size_t size) {
  reserve_tail(size);
  prepared_ = size;
  return {storage_.get() + end_, size};
}

void packet_decoder::commit(std::size_t size) noexcept {
  assert(size <= prepared_);
  prepared_ = 0;
  if (error_)
    return; // the stream is dead; what follows the error means nothing
  end_ += size;
}

result<std::optional<packet_view>> packet_decoder::next() noexcept {
  if (error_)
    return error_;
  const std::size_t available = end_ - begin_;
  if (available < 4)
    return std::nullopt;
  const std::byte* packet = storage_.get() + begin_;
  // Checking the length before the body arrives bounds what a peer can make
  // us buffer, and fails a stream that lost its framing early.
  const std::uint32_t length = detail::load_le32(packet + packet_length_offset);
  if (length < packet_header_size)
    return fail(error::malformed_packet);
  if (length > max_packet_size_)
    return fail(error::packet_too_large);
  if (available < length)
    return std::nullopt;
  auto parsed = parse_packet({packet, length}, max_packet_size_);
  if (!parsed)
    return fail(parsed.error());
  begin_ += length;
  ++packets_decoded_;
  return std::optional<packet_view>{parsed.value()};
}

void packet_decoder::reserve_tail(std::size_t size) {
  if (capacity_ - end_ >= size)
    return;
  const std::size_t live = end_ - begin_;
  // Compact only when the bytes to move are no more than the bytes consumed
  // since the last move: each consumed byte pays for at most one moved byte.
  if (live + size <= capacity_ && begin_ >= live) {
    if (live > 0)
      std::memmove(storage_.get(), storage_.get() + begin_, live);
    begin_ = 0;
    end_ = live;
    return;
  }
  const std::size_t capacity = std::max({initial_capacity, 2 * capacity_, live + size});
  auto storage = std::make_unique_for_overwrite<std::byte[]>(capacity);
  if (live > 0)
    std::memcpy(storage.get(), storage_.get() + begin_, live);
  storage_ = std::move(storage);
  capacity_ = capacity;
  begin_ = 0;
  end_ = live;
}

result<std::optional<packet_view>> packet_decoder::fail(std::error_code code) noexcept {
  error_ = code;
  begin_ = end_ = 0;
  return code;
}

} // namespace grainflow
