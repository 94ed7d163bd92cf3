#pragma once

/// @file
/// An IPv4 or IPv6 address with a port.

#include "grainflow/endpoints/result.hpp"

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace grainflow {

/// Where a process listens: an IPv4 or IPv6 address and a port, by value.
///
/// Both families keep 16 bytes: an IPv4 address is stored IPv4-mapped
/// (`::ffff:a.b.c.d`) plus a flag that it was given as IPv4, so `bytes()` has
/// one shape for both and `[::ffff:1.2.3.4]:80` stays distinct from
/// `1.2.3.4:80` (they print and serialize differently). A default-constructed
/// address is invalid: it stands for "unspecified", e.g. a process that only
/// dials out.
class network_address {
public:
  // -- constructors -----------------------------------------------------------

  /// Constructs the invalid (unspecified) address.
  constexpr network_address() noexcept = default;

  /// Parses "a.b.c.d:port" or "[ipv6]:port". IPv4 parts are decimal without
  /// leading zeros (so "010" is never mistaken for octal); IPv6 accepts every
  /// RFC 4291 text form, including "::" and a trailing dotted IPv4 part, but
  /// no zone index. The port is decimal, 0..65535. Host names are not
  /// resolved. Fails with `std::errc::invalid_argument` on anything else.
  [[nodiscard]] static result<network_address> parse(std::string_view text);

  /// Returns the IPv4 address `bytes` (network order, "1.2.3.4" is {1, 2, 3,
  /// 4}) with `port`.
  static constexpr network_address ipv4(std::array<std::uint8_t, 4> bytes,
                                        std::uint16_t port) noexcept {
    network_address result;
    result.family_ = family::v4;
    result.bytes_[10] = 0xff;
    result.bytes_[11] = 0xff;
    for (std::size_t i = 0; i < 4; ++i)
      result.bytes_[12 + i] = bytes[i];
    result.port_ = port;
    return result;
  }

  /// Returns the IPv6 address `bytes` (network order) with `port`.
  static constexpr network_address ipv6(std::array<std::uint8_t, 16> bytes,
                                        std::uint16_t port) noexcept {
    network_address result;
    result.family_ = family::v6;
    result.bytes_ = bytes;
    result.port_ = port;
    return result;
  }

  /// Returns 127.0.0.1 with `port`.
  static constexpr network_address loopback_v4(std::uint16_t port) noexcept {
    return ipv4({127, 0, 0, 1}, port);
  }

  /// Returns ::1 with `port`.
  static constexpr network_address loopback_v6(std::uint16_t port) noexcept {
    return ipv6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, port);
  }

  // -- properties -------------------------------------------------------------

  /// Returns whether this is an address at all (not default-constructed).
  constexpr bool valid() const noexcept { return family_ != family::none; }

  /// Returns whether this address was made as IPv4.
  constexpr bool is_v4() const noexcept { return family_ == family::v4; }

  /// Returns whether this address was made as IPv6.
  constexpr bool is_v6() const noexcept { return family_ == family::v6; }

  /// Returns the port (0 when invalid).
  constexpr std::uint16_t port() const noexcept { return port_; }

  /// Returns the 16 address bytes in network order; IPv4 addresses appear
  /// IPv4-mapped, an invalid address as all zeros.
  constexpr const std::array<std::uint8_t, 16>& bytes() const noexcept { return bytes_; }

  /// Returns the four IPv4 bytes. Meaningful only when `is_v4()`.
  constexpr std::array<std::uint8_t, 4> v4_bytes() const noexcept {
    return {bytes_[12], bytes_[13], bytes_[14], bytes_[15]};
  }

  /// Returns the same host with another port.
  constexpr network_address with_port(std::uint16_t port) const noexcept {
    auto result = *this;
    result.port_ = port;
    return result;
  }

  /// Returns "1.2.3.4:80" or "[::1]:80", the IPv6 part in RFC 5952 canonical
  /// form (lowercase, longest zero run compressed, IPv4-mapped addresses with
  /// a dotted tail); "<invalid>" for the invalid address. `parse` accepts
  /// everything this prints except "<invalid>".
  std::string to_string() const;

  // -- comparison -------------------------------------------------------------

  /// Orders by family (invalid < IPv4 < IPv6), then bytes, then port.
  friend constexpr auto operator<=>(const network_address&,
                                    const network_address&) noexcept = default;

  /// Compares family, bytes and port.
  friend constexpr bool operator==(const network_address&,
                                   const network_address&) noexcept = default;

private:
  enum class family : std::uint8_t { none, v4, v6 };

  family family_ = family::none;
  std::array<std::uint8_t, 16> bytes_{};
  std::uint16_t port_ = 0;
};

} // namespace grainflow

namespace std {

/// Makes `grainflow::network_address` usable as a key of unordered containers.
template <>
struct hash<grainflow::network_address> {
  /// Returns a hash over family, bytes and port.
  std::size_t operator()(const grainflow::network_address& x) const noexcept;
};

} // namespace std
