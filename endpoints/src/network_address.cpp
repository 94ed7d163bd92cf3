#include "grainflow/endpoints/network_address.hpp"

#include "grainflow/endpoints/mix64.hpp"

#include <cstring>
#include <optional>
#include <system_error>

namespace grainflow {

namespace {

using v4_bytes_t = std::array<std::uint8_t, 4>;
using v6_bytes_t = std::array<std::uint8_t, 16>;

constexpr bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

// Decimal without sign; `max_digits` bounds the work before the range check.
std::optional<unsigned> parse_decimal(std::string_view s, std::size_t max_digits,
                                      unsigned max_value) noexcept {
  if (s.empty() || s.size() > max_digits)
    return std::nullopt;
  unsigned value = 0;
  for (char c : s) {
    if (!is_digit(c))
      return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > max_value)
    return std::nullopt;
  return value;
}

std::optional<v4_bytes_t> parse_v4(std::string_view s) noexcept {
  v4_bytes_t result{};
  for (std::size_t i = 0; i < 4; ++i) {
    auto dot = s.find('.');
    if ((i < 3) == (dot == std::string_view::npos))
      return std::nullopt;
    auto part = s.substr(0, dot);
    // "010" is octal to inet_aton and decimal to others; refuse to guess.
    if (part.size() > 1 && part[0] == '0')
      return std::nullopt;
    auto value = parse_decimal(part, 3, 255);
    if (!value)
      return std::nullopt;
    result[i] = static_cast<std::uint8_t>(*value);
    s = i < 3 ? s.substr(dot + 1) : std::string_view{};
  }
  return result;
}

// Parses colon-separated groups into `out` (at most 8), appending a dotted
// IPv4 tail as two groups when `allow_v4` (only the last piece may be one).
// Returns the number of groups, or nullopt on a malformed piece.
std::optional<std::size_t> parse_groups(std::string_view s, bool allow_v4,
                                        std::array<std::uint16_t, 8>& out) noexcept {
  std::size_t n = 0;
  if (s.empty())
    return n;
  for (;;) {
    auto colon = s.find(':');
    auto piece = s.substr(0, colon);
    if (colon == std::string_view::npos && allow_v4 && piece.find('.') != std::string_view::npos) {
      auto v4 = parse_v4(piece);
      if (!v4 || n + 2 > out.size())
        return std::nullopt;
      out[n++] = static_cast<std::uint16_t>((*v4)[0] << 8 | (*v4)[1]);
      out[n++] = static_cast<std::uint16_t>((*v4)[2] << 8 | (*v4)[3]);
      return n;
    }
    if (piece.empty() || piece.size() > 4 || n == out.size())
      return std::nullopt;
    unsigned group = 0;
    for (char c : piece) {
      auto digit = hex_value(c);
      if (digit < 0)
        return std::nullopt;
      group = group << 4 | static_cast<unsigned>(digit);
    }
    out[n++] = static_cast<std::uint16_t>(group);
    if (colon == std::string_view::npos)
      return n;
    s = s.substr(colon + 1);
  }
}

std::optional<v6_bytes_t> parse_v6(std::string_view s) noexcept {
  std::array<std::uint16_t, 8> head{};
  std::array<std::uint16_t, 8> tail{};
  auto gap = s.find("::");
  auto compressed = gap != std::string_view::npos;
  if (compressed && s.find("::", gap + 1) != std::string_view::npos)
    return std::nullopt;
  auto n_head = parse_groups(s.substr(0, gap), !compressed, head);
  auto n_tail = compressed ? parse_groups(s.substr(gap + 2), true, tail) : std::size_t{0};
  if (!n_head || !n_tail)
    return std::nullopt;
  // "::" stands for at least one zero group, so a compressed form has <= 7.
  auto total = *n_head + *n_tail;
  if (compressed ? total > 7 : total != 8)
    return std::nullopt;
  std::array<std::uint16_t, 8> groups{};
  for (std::size_t i = 0; i < *n_head; ++i)
    groups[i] = head[i];
  for (std::size_t i = 0; i < *n_tail; ++i)
    groups[8 - *n_tail + i] = tail[i];
  v6_bytes_t result{};
  for (std::size_t i = 0; i < 8; ++i) {
    result[2 * i] = static_cast<std::uint8_t>(groups[i] >> 8);
    result[2 * i + 1] = static_cast<std::uint8_t>(groups[i] & 0xff);
  }
  return result;
}

void append_v4(std::string& out, const std::uint8_t* bytes) {
  for (int i = 0; i < 4; ++i) {
    if (i > 0)
      out.push_back('.');
    out += std::to_string(bytes[i]);
  }
}

void append_hex_group(std::string& out, unsigned group) {
  constexpr char digits[] = "0123456789abcdef";
  bool started = false;
  for (int shift = 12; shift >= 0; shift -= 4) {
    auto digit = (group >> shift) & 0xf;
    if (digit != 0 || started || shift == 0) {
      out.push_back(digits[digit]);
      started = true;
    }
  }
}

// RFC 5952: lowercase, no leading zeros, the longest run of two or more zero
// groups (the first one on a tie) becomes "::", and IPv4-mapped addresses
// keep their dotted tail (section 5).
void append_v6(std::string& out, const v6_bytes_t& bytes) {
  std::array<unsigned, 8> groups{};
  for (std::size_t i = 0; i < 8; ++i)
    groups[i] = static_cast<unsigned>(bytes[2 * i] << 8 | bytes[2 * i + 1]);
  auto mapped = groups[0] == 0 && groups[1] == 0 && groups[2] == 0 && groups[3] == 0 &&
                groups[4] == 0 && groups[5] == 0xffff;
  if (mapped) {
    out += "::ffff:";
    append_v4(out, bytes.data() + 12);
    return;
  }
  std::size_t best_start = 8;
  std::size_t best_len = 1; // a single zero group is never compressed
  for (std::size_t i = 0; i < 8;) {
    if (groups[i] != 0) {
      ++i;
      continue;
    }
    auto j = i;
    while (j < 8 && groups[j] == 0)
      ++j;
    if (j - i > best_len) {
      best_start = i;
      best_len = j - i;
    }
    i = j;
  }
  for (std::size_t i = 0; i < 8; ++i) {
    if (i == best_start) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (i > 0 && i != best_start + best_len)
      out.push_back(':');
    append_hex_group(out, groups[i]);
  }
}

std::error_code invalid() noexcept {
  return std::make_error_code(std::errc::invalid_argument);
}

} // namespace

result<network_address> network_address::parse(std::string_view text) {
  std::string_view host;
  std::string_view port_text;
  bool bracketed = !text.empty() && text.front() == '[';
  if (bracketed) {
    auto close = text.find("]:");
    if (close == std::string_view::npos)
      return invalid();
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
      return invalid();
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  auto port = parse_decimal(port_text, 5, 65535);
  if (!port)
    return invalid();
  auto port16 = static_cast<std::uint16_t>(*port);
  if (bracketed) {
    if (auto bytes = parse_v6(host))
      return ipv6(*bytes, port16);
    return invalid();
  }
  if (auto bytes = parse_v4(host))
    return ipv4(*bytes, port16);
  return invalid();
}

std::string network_address::to_string() const {
  std::string out;
  switch (family_) {
  case family::none:
    return "<invalid>";
  case family::v4:
    append_v4(out, bytes_.data() + 12);
    break;
  case family::v6:
    out.push_back('[');
    append_v6(out, bytes_);
    out.push_back(']');
    break;
  }
  out.push_back(':');
  out += std::to_string(port_);
  return out;
}

} // namespace grainflow

std::size_t std::hash<grainflow::network_address>::operator()(
    const grainflow::network_address& x) const noexcept {
  // Hashed on every send and every call watched (peer table, failure
  // monitor): two 64-bit loads and splitmix64 rather than a byte loop.
  std::uint64_t high = 0;
  std::uint64_t low = 0;
  std::memcpy(&high, x.bytes().data(), sizeof high);
  std::memcpy(&low, x.bytes().data() + sizeof high, sizeof low);
  const std::uint64_t family = x.is_v4() ? 4 : x.is_v6() ? 6 : 0;
  const std::uint64_t rest = (family << 16) | x.port();
  using grainflow::mix64;
  return static_cast<std::size_t>(mix64(high ^ mix64(low ^ mix64(rest))));
}
