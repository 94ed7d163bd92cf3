// CRC32C: the portable slicing-by-8 implementation and the one-time choice
// between it and the SSE4.2 implementation in crc32c_sse42.cpp.

#include "grainflow/transport/crc32c.hpp"

#include <array>

#include "grainflow/transport/detail/little_endian.hpp"

namespace grainflow {

namespace {

constexpr std::uint32_t reflected_polynomial = 0x82F63B78u;

using slice_tables = std::array<std::array<std::uint32_t, 256>, 8>;

// Slicing-by-8 (Kounavis and Berry): tables[0] is the classic byte-at-a-time
// table; tables[k][b] is the CRC contribution of byte b followed by k zero
// bytes, so eight table lookups retire eight input bytes at once.
constexpr slice_tables make_slice_tables() noexcept {
  slice_tables tables{};
  for (std::uint32_t b = 0; b < 256; ++b) {
    std::uint32_t crc = b;
    for (int bit = 0; bit < 8; ++bit)
      crc = (crc >> 1) ^ ((crc & 1u) != 0 ? reflected_polynomial : 0u);
    tables[0][b] = crc;
  }
  for (std::size_t k = 1; k < tables.size(); ++k)
    for (std::size_t b = 0; b < 256; ++b)
      tables[k][b] = (tables[k - 1][b] >> 8) ^ tables[0][tables[k - 1][b] & 0xFFu];
  return tables;
}

// Computed by the compiler: no start-up cost and no initialisation race.
constexpr slice_tables tables = make_slice_tables();

static_assert(tables[0][1] == 0xF26B8303u,
              "CRC32C byte table does not match the Castagnoli polynomial");

using crc32c_function = std::uint32_t (*)(std::uint32_t, std::span<const std::byte>) noexcept;

crc32c_function choose_implementation() noexcept {
  return detail::crc32c_hardware_available() ? &detail::crc32c_hardware : &detail::crc32c_portable;
}

} // namespace

std::uint32_t detail::crc32c_portable(std::uint32_t crc, std::span<const std::byte> data) noexcept {
  const std::byte* next = data.data();
  std::size_t size = data.size();
  std::uint32_t reg = ~crc;
  // The loads are little-endian on every host, which is what the reflected
  // tables expect: the first byte on the wire sits in the low bits.
  for (; size >= 8; size -= 8, next += 8) {
    const std::uint32_t lo = detail::load_le32(next) ^ reg;
    const std::uint32_t hi = detail::load_le32(next + 4);
    reg = tables[7][lo & 0xFFu] ^ tables[6][(lo >> 8) & 0xFFu] ^ tables[5][(lo >> 16) & 0xFFu] ^
          tables[4][lo >> 24] ^ tables[3][hi & 0xFFu] ^ tables[2][(hi >> 8) & 0xFFu] ^
          tables[1][(hi >> 16) & 0xFFu] ^ tables[0][hi >> 24];
  }
  for (; size > 0; --size, ++next)
    reg = (reg >> 8) ^ tables[0][(reg ^ std::to_integer<std::uint32_t>(*next)) & 0xFFu];
  return ~reg;
}

std::uint32_t crc32c_extend(std::uint32_t crc, std::span<const std::byte> data) noexcept {
  // A function-local static is initialised exactly once even when several
  // threads make the first call together (the compiler guards it), and costs
  // one predictable branch afterwards.
  static const crc32c_function implementation = choose_implementation();
  return implementation(crc, data);
}

std::uint32_t crc32c(std::span<const std::byte> data) noexcept {
  return crc32c_extend(0, data);
}

} // namespace grainflow
