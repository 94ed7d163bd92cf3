#pragma once

/// @file
/// Little-endian loads and stores for the wire format.
///
/// The wire is little-endian on every host. These helpers read and write
/// through std::memcpy, so they accept any alignment, and swap bytes only on
/// big-endian hosts, where the compiler removes the branch at compile time.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace grainflow::detail {

static_assert(std::endian::native == std::endian::little || std::endian::native == std::endian::big,
              "grainflow's wire code supports little- and big-endian hosts only");

/// Reverses the byte order of an unsigned integer (std::byteswap is C++23).
template <class T>
constexpr T byte_swap(T value) noexcept {
  static_assert(sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8,
                "byte_swap supports 16, 32 and 64 bit integers");
  if constexpr (sizeof(T) == 2)
    return static_cast<T>(__builtin_bswap16(static_cast<std::uint16_t>(value)));
  else if constexpr (sizeof(T) == 4)
    return static_cast<T>(__builtin_bswap32(static_cast<std::uint32_t>(value)));
  else
    return static_cast<T>(__builtin_bswap64(static_cast<std::uint64_t>(value)));
}

/// Reads a little-endian `T` from `src` (any alignment; sizeof(T) bytes).
template <class T>
[[nodiscard]] inline T load_le(const std::byte* src) noexcept {
  T value;
  std::memcpy(&value, src, sizeof(T));
  if constexpr (std::endian::native == std::endian::big)
    value = byte_swap(value);
  return value;
}

/// Writes `value` to `dst` as little-endian (any alignment; sizeof(T) bytes).
template <class T>
inline void store_le(std::byte* dst, T value) noexcept {
  if constexpr (std::endian::native == std::endian::big)
    value = byte_swap(value);
  std::memcpy(dst, &value, sizeof(T));
}

[[nodiscard]] inline std::uint32_t load_le32(const std::byte* src) noexcept {
  return load_le<std::uint32_t>(src);
}

[[nodiscard]] inline std::uint64_t load_le64(const std::byte* src) noexcept {
  return load_le<std::uint64_t>(src);
}

inline void store_le32(std::byte* dst, std::uint32_t value) noexcept {
  store_le(dst, value);
}

inline void store_le64(std::byte* dst, std::uint64_t value) noexcept {
  store_le(dst, value);
}

} // namespace grainflow::detail
