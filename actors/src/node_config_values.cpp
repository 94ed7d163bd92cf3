// The node configuration's keys and the text forms of their values: the key
// table, rendering a value, the rules a value must keep, and parsing values
// given as text (flags, TOML strings). node_config.cpp reads files and flags
// with them.
#include "node_config_keys.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <iterator>
#include <limits>
#include <numeric>

namespace grainflow::node_config_keys {

static_assert(default_max_packet_size >= kib && default_max_packet_size <= gib,
              "the transport's default packet limit must be a valid max_packet_size");

const key_spec keys[key_count] = {
    {"name", "--name", kind::name, &node_config::name, 0, 0, "NAME",
     "this node's name (required): 1..64 of A-Z a-z 0-9 _ . -"},
    {"listen", "--listen", kind::address, &node_config::listen, 0, 0, "HOST:PORT",
     "where this node listens and how others reach it; port 0 = dial out only"},
    {"seeds", "--seed", kind::address_list, &node_config::seeds, 0, 0, "HOST:PORT",
     "a node to contact first; repeatable or comma-separated, replaces the file's list"},
    {"max_packet_size", "--max-packet-size", kind::bytes, &node_config::max_packet_size, kib, gib,
     "SIZE", "largest packet sent or accepted"},
    {"replay_buffer_bytes", "--replay-buffer", kind::bytes, &node_config::replay_buffer_bytes, kib,
     64 * gib, "SIZE", "unacknowledged bytes kept per peer for replay (>= max packet size)"},
    {"request_window_bytes", "--request-window", kind::bytes, &node_config::request_window_bytes, 0,
     64 * gib, "SIZE", "unanswered request bytes taken from one peer; 0 = no limit"},
    {"ping_interval", "--ping-interval", kind::duration, &node_config::ping_interval, 10,
     60 * ms_per_s, "DURATION", "idle time before a ping"},
    {"connection_timeout", "--connection-timeout", kind::duration, &node_config::connection_timeout,
     1, 24 * ms_per_h, "DURATION",
     "silence after which a peer counts as disconnected (> ping interval)"},
    {"reconnect_min", "--reconnect-min", kind::duration, &node_config::reconnect_min, 1,
     24 * ms_per_h, "DURATION", "first reconnect delay"},
    {"reconnect_max", "--reconnect-max", kind::duration, &node_config::reconnect_max, 1,
     24 * ms_per_h, "DURATION", "longest reconnect delay (>= reconnect min)"},
    {"resume_window", "--resume-window", kind::duration, &node_config::resume_window, 1,
     24 * ms_per_h, "DURATION",
     "how long a disconnected peer's session is kept for resumption (>= reconnect max)"},
    {"force_tcp", "--force-tcp", kind::boolean, &node_config::force_tcp, 0, 0, "",
     "never use shared memory, even on one host"},
    {"scheduler_threads", "--threads", kind::count, &node_config::scheduler_threads, 0, 4096, "N",
     "actor scheduler threads; 0 = hardware threads - 1 (at least 1)"},
    {"print_stats", "--stats", kind::boolean, &node_config::print_stats, 0, 0, "",
     "print transport statistics"},
};

static_assert(std::size(keys) == key_count, "key_count counts the keys");

const key_spec* find_key(std::string_view key) {
  for (const auto& spec : keys)
    if (spec.key == key)
      return &spec;
  return nullptr;
}

// -- rendering values ---------------------------------------------------------

/// Quotes `text` as a TOML basic string, which is also how messages show a
/// value that was given as text.
std::string quote(std::string_view text) {
  constexpr char hex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\')
      out.append(1, '\\').append(1, c);
    else if (byte < 0x20 || byte == 0x7f)
      out.append("\\u00").append(1, hex[byte >> 4]).append(1, hex[byte & 0xf]);
    else
      out += c;
  }
  return out + '"';
}

/// "16MiB" when a binary unit divides `bytes` exactly, else plain digits.
static std::string format_bytes(std::uint64_t bytes) {
  constexpr std::pair<std::uint64_t, std::string_view> units[] = {
      {tib, "TiB"}, {gib, "GiB"}, {mib, "MiB"}, {kib, "KiB"}};
  for (auto [factor, unit] : units)
    if (bytes >= factor && bytes % factor == 0)
      return std::to_string(bytes / factor).append(unit);
  return std::to_string(bytes);
}

/// "2h", "5s" or "250ms": the largest unit that divides `ms` exactly.
static std::string format_duration(std::int64_t ms) {
  if (ms != 0 && ms % ms_per_h == 0)
    return std::to_string(ms / ms_per_h) + "h";
  if (ms != 0 && ms % ms_per_s == 0)
    return std::to_string(ms / ms_per_s) + "s";
  return std::to_string(ms) + "ms";
}

/// The key's value as typed on a command line: "16MiB", "10.0.0.1:4500".
std::string plain_value(const node_config& config, const key_spec& spec) {
  switch (spec.type) {
  case kind::name:
    return field<std::string>(config, spec);
  case kind::address:
    return field<network_address>(config, spec).to_string();
  case kind::address_list: {
    std::string out;
    for (const auto& seed : field<std::vector<network_address>>(config, spec))
      out.append(out.empty() ? "" : ",").append(seed.to_string());
    return out;
  }
  case kind::bytes:
    return format_bytes(field<std::size_t>(config, spec));
  case kind::duration:
    return format_duration(field<milliseconds>(config, spec).count());
  case kind::count:
    return std::to_string(field<std::size_t>(config, spec));
  case kind::boolean:
    return field<bool>(config, spec) ? "true" : "false";
  }
  return {};
}

/// The key's value as TOML: what `to_toml` writes and messages show.
std::string toml_value(const node_config& config, const key_spec& spec) {
  auto plain = plain_value(config, spec);
  switch (spec.type) {
  case kind::address_list: {
    std::string out = "[";
    for (const auto& seed : field<std::vector<network_address>>(config, spec))
      out.append(out.size() > 1 ? ", " : "").append(quote(seed.to_string()));
    return out + "]";
  }
  case kind::bytes:
    return plain.back() == 'B' ? quote(plain) : plain;
  case kind::count:
  case kind::boolean:
    return plain;
  default:
    return quote(plain);
  }
}

// -- rules --------------------------------------------------------------------

bool valid_name(std::string_view name) {
  auto allowed = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  };
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), allowed);
}

static bool is_wildcard(const network_address& address) {
  const auto& bytes = address.bytes();
  auto zero_from = address.is_v4() ? std::size_t{12} : std::size_t{0};
  return std::all_of(bytes.begin() + static_cast<std::ptrdiff_t>(zero_from), bytes.end(),
                     [](std::uint8_t b) { return b == 0; });
}

/// The rule `listen` breaks, or "".
std::string_view listen_rule(const network_address& address) {
  if (!address.valid())
    return "must be set (host:port)";
  // The same address is bound and announced in the handshake; a wildcard
  // could be bound but never dialed by another node.
  if (is_wildcard(address))
    return "must be an address other nodes can reach, not a wildcard (0.0.0.0 or [::])";
  return {};
}

/// The rule a seed breaks on its own, or "".
std::string_view seed_rule(const network_address& address) {
  if (!address.valid())
    return "must be set (host:port)";
  if (address.port() == 0)
    return "port 0 cannot be dialed; give the seed's listen port";
  if (is_wildcard(address))
    return "must be an address this node can reach, not a wildcard (0.0.0.0 or [::])";
  return {};
}

/// "must be 1KiB..1GiB", in the key's own unit.
std::string range_rule(const key_spec& spec) {
  auto show = [&](std::int64_t x) {
    switch (spec.type) {
    case kind::bytes:
      return format_bytes(static_cast<std::uint64_t>(x));
    case kind::duration:
      return format_duration(x);
    default:
      return std::to_string(x);
    }
  };
  return "must be " + show(spec.min) + ".." + show(spec.max);
}

bool in_range(const key_spec& spec, std::int64_t x) {
  return x >= spec.min && x <= spec.max;
}

// -- parsing text: flags, and TOML strings ------------------------------------

static std::string_view trim(std::string_view text) {
  auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos)
    return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

/// Splits "16 MiB" into 16 and "MiB". A number too large for 64 bits comes
/// back as the largest value, so the key's range check reports it. False
/// when `text` does not start with a digit.
static bool split_number(std::string_view text, std::uint64_t& number, std::string_view& unit) {
  text = trim(text);
  if (text.empty() || text.front() < '0' || text.front() > '9')
    return false;
  auto* end = text.data() + text.size();
  auto [rest, ec] = std::from_chars(text.data(), end, number);
  if (ec == std::errc::result_out_of_range)
    number = std::numeric_limits<std::uint64_t>::max();
  unit = trim(std::string_view(rest, static_cast<std::size_t>(end - rest)));
  return true;
}

static std::int64_t saturating_multiply(std::uint64_t n, std::int64_t factor) {
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  auto limit = static_cast<std::uint64_t>(max / factor);
  return n > limit ? max : static_cast<std::int64_t>(n) * factor;
}

/// Parses "16MiB", "512 KiB" or "1048576" into bytes; returns the broken
/// rule or "".
static std::string parse_bytes(std::string_view text, std::int64_t& bytes) {
  constexpr std::pair<std::string_view, std::int64_t> units[] = {
      {"", 1}, {"B", 1}, {"KiB", kib}, {"MiB", mib}, {"GiB", gib}, {"TiB", tib}};
  std::uint64_t n = 0;
  std::string_view unit;
  if (split_number(text, n, unit)) {
    for (auto [name, factor] : units) {
      if (unit == name) {
        bytes = saturating_multiply(n, factor);
        return {};
      }
    }
    auto lower = static_cast<char>(unit.empty() ? 0 : unit.front() | 0x20);
    bool decimal = unit.size() <= 2 &&
                   (lower == 'k' || lower == 'm' || lower == 'g' || lower == 't') &&
                   (unit.size() == 1 || unit[1] == 'B' || unit[1] == 'b');
    if (decimal)
      return quote(unit) + " is ambiguous; use KiB, MiB, GiB or TiB (powers of 1024)";
  }
  return "expected bytes as an integer or with a unit B, KiB, MiB, GiB or TiB, e.g. \"16MiB\"";
}

/// Parses "250ms", "1s", "2min", "1h" or "250" (milliseconds); returns the
/// broken rule or "".
static std::string parse_duration(std::string_view text, std::int64_t& ms) {
  constexpr std::pair<std::string_view, std::int64_t> units[] = {
      {"", 1}, {"ms", 1}, {"s", ms_per_s}, {"min", ms_per_min}, {"h", ms_per_h}};
  std::uint64_t n = 0;
  std::string_view unit;
  if (split_number(text, n, unit)) {
    for (auto [name, factor] : units) {
      if (unit == name) {
        ms = saturating_multiply(n, factor);
        return {};
      }
    }
    if (unit == "m")
      return "\"m\" is ambiguous; use ms or min";
  }
  return "expected milliseconds as an integer or a duration with a unit ms, s, min or h, "
         "e.g. \"250ms\"";
}

/// Parses "host:port" with a precise reason for each way it can be wrong.
static std::string parse_address(std::string_view text, network_address& address) {
  constexpr std::string_view form = "expected host:port, e.g. \"10.0.0.1:4500\" or \"[::1]:4500\"";
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos)
      return "missing ']' after the IPv6 address";
    if (close + 1 >= text.size() || text[close + 1] != ':')
      return "missing :port after \"[ipv6]\"";
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
      return std::string(form);
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos)
      return "an IPv6 address needs brackets: \"[addr]:port\"";
  }
  if (host.empty())
    return std::string(form);
  if (port.empty() ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return "port must be a number 0..65535";
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc{} || value > 65535)
    return "port must be 0..65535";
  auto parsed = network_address::parse(text);
  if (!parsed) {
    if (std::any_of(host.begin(), host.end(), [](char c) { return (c | 0x20) >= 'g'; }))
      return "host names are not resolved; give an IPv4 address or a bracketed IPv6 address";
    return quote(host) + " is not a valid IPv4 or IPv6 address";
  }
  address = parsed.value();
  return {};
}

/// Stores a number into a numeric key after its range check.
std::string set_number(node_config& config, const key_spec& spec, std::int64_t x) {
  if (!in_range(spec, x))
    return range_rule(spec);
  if (spec.type == kind::duration)
    field<milliseconds>(config, spec) = milliseconds{x};
  else
    field<std::size_t>(config, spec) = static_cast<std::size_t>(x);
  return {};
}

/// Applies one value given as text to a scalar key; returns the broken rule.
std::string apply_text(node_config& config, const key_spec& spec, std::string_view text) {
  std::string rule;
  std::int64_t number = 0;
  switch (spec.type) {
  case kind::name:
    if (!valid_name(text))
      return std::string(name_rule);
    field<std::string>(config, spec) = std::string(text);
    return {};
  case kind::address: {
    network_address address;
    if (rule = parse_address(text, address); rule.empty())
      rule = listen_rule(address);
    if (rule.empty())
      field<network_address>(config, spec) = address;
    return rule;
  }
  case kind::bytes:
    rule = parse_bytes(text, number);
    break;
  case kind::duration:
    rule = parse_duration(text, number);
    break;
  case kind::count: {
    std::string_view unit;
    std::uint64_t n = 0;
    if (!split_number(text, n, unit) || !unit.empty())
      return "expected an integer, " + range_rule(spec);
    number = saturating_multiply(n, 1);
    break;
  }
  case kind::address_list:
  case kind::boolean:
    return "expected a single value";
  }
  return rule.empty() ? set_number(config, spec, number) : rule;
}

/// Parses one seed; returns the broken rule or "".
std::string parse_seed(std::string_view text, network_address& seed) {
  auto rule = parse_address(text, seed);
  return rule.empty() ? std::string(seed_rule(seed)) : rule;
}

// -- suggestions --------------------------------------------------------------

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), std::size_t{0});
  for (std::size_t i = 1; i <= a.size(); ++i) {
    auto diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      auto above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = above;
    }
  }
  return row[b.size()];
}

} // namespace grainflow::node_config_keys
