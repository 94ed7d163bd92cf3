#pragma once

/// @file
/// CRC32C (Castagnoli), the checksum of every grainflow packet.
///
/// Parameters (the iSCSI CRC of RFC 3720): polynomial 0x1EDC6F41, processed
/// reflected (0x82F63B78), register initialised to 0xFFFFFFFF, result xored
/// with 0xFFFFFFFF. Check value: crc32c("123456789") == 0xE3069283.
///
/// The CPU's crc32 instruction (SSE4.2) is used when the processor has it, a
/// portable slicing-by-8 table implementation otherwise; the choice is made
/// once, on first use. All functions are thread-safe and never fail.

#include <cstddef>
#include <cstdint>
#include <span>

namespace grainflow {

/// The CRC32C of `data`. The CRC of no bytes is 0.
[[nodiscard]] std::uint32_t crc32c(std::span<const std::byte> data) noexcept;

/// Continues a CRC32C: given `crc == crc32c(a)`, returns `crc32c(a + data)`
/// (concatenation). `crc32c_extend(0, x) == crc32c(x)`, so a checksum over
/// scattered pieces is computed piece by piece without copying them together.
[[nodiscard]] std::uint32_t crc32c_extend(std::uint32_t crc,
                                          std::span<const std::byte> data) noexcept;

} // namespace grainflow

namespace grainflow::detail {

/// The table implementation; same contract as crc32c_extend. Exposed so that
/// tests pin both implementations to the same vectors.
[[nodiscard]] std::uint32_t crc32c_portable(std::uint32_t crc,
                                            std::span<const std::byte> data) noexcept;

/// The SSE4.2 implementation; same contract as crc32c_extend.
/// @pre `crc32c_hardware_available()`: on a CPU without SSE4.2 this executes an
///      illegal instruction. On non-x86 builds it forwards to crc32c_portable.
[[nodiscard]] std::uint32_t crc32c_hardware(std::uint32_t crc,
                                            std::span<const std::byte> data) noexcept;

/// Whether this CPU executes crc32c_hardware (x86 with SSE4.2).
[[nodiscard]] bool crc32c_hardware_available() noexcept;

} // namespace grainflow::detail
