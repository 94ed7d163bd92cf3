// The messages of the two-process stress test: message n of stream `seed`
// has a size and bytes both sides compute, so the receiver checks every byte
// without the sender shipping a copy.

#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace grainflow::shm::test {

/// The size of message `n`: 40 % in one descriptor (0-56 bytes), 20 %
/// inline with continuations (57-248), 39 % small slots (249-1024), 0.5 % up
/// to `max`, 0.1 % exactly `max`.
std::size_t stress_size(std::uint64_t seed, std::uint64_t n, std::size_t max) noexcept;

/// Fills `out` with the bytes of message `n`.
void stress_fill(std::uint64_t seed, std::uint64_t n, std::span<std::byte> out) noexcept;

/// True when `message` is message `n` of `seed`, size `stress_size(...)`.
bool stress_check(std::uint64_t seed, std::uint64_t n, std::size_t max,
                  std::span<const std::byte> message) noexcept;

} // namespace grainflow::shm::test
