// CRC32C with the SSE4.2 crc32 instruction.
//
// Why this is the only translation unit with SSE4.2 code, and why it uses
// per-function target attributes rather than -msse4.2 for the file: code
// compiled for SSE4.2 must never run before the CPU check. With -msse4.2 the
// compiler may use SSE4.2 (and POPCNT) anywhere in the file, including in
// inline functions from headers (std::span, std::memcpy wrappers) emitted
// here; the linker keeps one copy of each such function for the whole
// program and may pick this one, so unrelated code could crash with SIGILL
// on an old CPU. Marking only the functions below keeps the instruction set
// where the dispatcher in crc32c.cpp can guard it.

#include "grainflow/transport/crc32c.hpp"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace grainflow {

#if defined(__x86_64__)

namespace {

constexpr std::uint32_t reflected_polynomial = 0x82F63B78u;

// A linear operator on the 32-bit CRC register over GF(2), as its 32 columns:
// column n is the image of the register value 1 << n.
using gf2_matrix = std::array<std::uint32_t, 32>;

constexpr std::uint32_t gf2_apply(const gf2_matrix& m, std::uint32_t vec) noexcept {
  std::uint32_t sum = 0;
  for (std::size_t n = 0; vec != 0; vec >>= 1, ++n)
    if ((vec & 1u) != 0)
      sum ^= m[n];
  return sum;
}

constexpr gf2_matrix gf2_compose(const gf2_matrix& a, const gf2_matrix& b) noexcept {
  gf2_matrix result{};
  for (std::size_t n = 0; n < 32; ++n)
    result[n] = gf2_apply(a, b[n]);
  return result;
}

// The operator that feeds `bytes` zero bytes through the (unconditioned) CRC
// register, built by square-and-multiply from the one-zero-bit operator.
constexpr gf2_matrix zeros_operator(std::size_t bytes) noexcept {
  gf2_matrix power{};
  power[0] = reflected_polynomial;
  for (std::size_t n = 1; n < 32; ++n)
    power[n] = std::uint32_t{1} << (n - 1);
  gf2_matrix result{};
  for (std::size_t n = 0; n < 32; ++n)
    result[n] = std::uint32_t{1} << n;
  for (std::size_t bits = bytes * 8; bits != 0; bits >>= 1) {
    if ((bits & 1u) != 0)
      result = gf2_compose(power, result);
    power = gf2_compose(power, power);
  }
  return result;
}

// The same operator as four byte-indexed tables, so shifting a register costs
// four lookups (Mark Adler's crc32c.c uses the same construction).
using shift_tables = std::array<std::array<std::uint32_t, 256>, 4>;

constexpr shift_tables make_shift_tables(std::size_t bytes) noexcept {
  const gf2_matrix op = zeros_operator(bytes);
  shift_tables tables{};
  for (std::uint32_t b = 0; b < 256; ++b)
    for (std::size_t k = 0; k < 4; ++k)
      tables[k][b] = gf2_apply(op, b << (8 * k));
  return tables;
}

std::uint32_t shift(const shift_tables& tables, std::uint32_t reg) noexcept {
  return tables[0][reg & 0xFFu] ^ tables[1][(reg >> 8) & 0xFFu] ^ tables[2][(reg >> 16) & 0xFFu] ^
         tables[3][reg >> 24];
}

// The crc32 instruction has a latency of three cycles and a throughput of one
// per cycle, so three independent streams keep it busy. Each stream covers a
// lane of `long_lane` (or `short_lane`) bytes; the lanes are then joined by
// shifting the running register over the next lane's length.
constexpr std::size_t long_lane = 8192;
constexpr std::size_t short_lane = 256;
constexpr shift_tables long_shift = make_shift_tables(long_lane);
constexpr shift_tables short_shift = make_shift_tables(short_lane);

static_assert(make_shift_tables(1)[0][1] == 0xF26B8303u,
              "the one-byte shift must equal the CRC32C byte table");

std::uint64_t load64(const std::byte* p) noexcept {
  std::uint64_t value;
  std::memcpy(&value, p, sizeof(value)); // x86 is little-endian, as the wire
  return value;
}

__attribute__((target("sse4.2"))) std::uint64_t three_lanes(std::uint64_t reg,
                                                            const std::byte*& next,
                                                            std::size_t& size, std::size_t lane,
                                                            const shift_tables& joiner) noexcept {
  while (size >= 3 * lane) {
    std::uint64_t reg1 = 0;
    std::uint64_t reg2 = 0;
    const std::byte* end = next + lane;
    for (; next < end; next += 8) {
      reg = _mm_crc32_u64(reg, load64(next));
      reg1 = _mm_crc32_u64(reg1, load64(next + lane));
      reg2 = _mm_crc32_u64(reg2, load64(next + 2 * lane));
    }
    reg = shift(joiner, static_cast<std::uint32_t>(reg)) ^ reg1;
    reg = shift(joiner, static_cast<std::uint32_t>(reg)) ^ reg2;
    next += 2 * lane;
    size -= 3 * lane;
  }
  return reg;
}

} // namespace

__attribute__((target("sse4.2"))) std::uint32_t
detail::crc32c_hardware(std::uint32_t crc, std::span<const std::byte> data) noexcept {
  const std::byte* next = data.data();
  std::size_t size = data.size();
  std::uint64_t reg = ~crc;
  // Leading bytes up to an 8-byte boundary, so the wide loads never straddle
  // a cache line.
  for (; size > 0 && (reinterpret_cast<std::uintptr_t>(next) & 7u) != 0; --size, ++next)
    reg = _mm_crc32_u8(static_cast<std::uint32_t>(reg), std::to_integer<std::uint8_t>(*next));
  reg = three_lanes(reg, next, size, long_lane, long_shift);
  reg = three_lanes(reg, next, size, short_lane, short_shift);
  for (; size >= 8; size -= 8, next += 8)
    reg = _mm_crc32_u64(reg, load64(next));
  for (; size > 0; --size, ++next)
    reg = _mm_crc32_u8(static_cast<std::uint32_t>(reg), std::to_integer<std::uint8_t>(*next));
  return ~static_cast<std::uint32_t>(reg);
}

bool detail::crc32c_hardware_available() noexcept {
  // Needed only before libgcc's own constructor has run (a static
  // initialiser elsewhere may compute a CRC), harmless afterwards.
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2") != 0;
}

#else // not x86-64: no hardware path yet, the portable one serves.

std::uint32_t detail::crc32c_hardware(std::uint32_t crc, std::span<const std::byte> data) noexcept {
  return crc32c_portable(crc, data);
}

bool detail::crc32c_hardware_available() noexcept {
  return false;
}

#endif

} // namespace grainflow
