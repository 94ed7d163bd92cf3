#include "grainflow/actors/node_config.hpp"

// Both libraries report errors by throwing; every call into them below sits
// inside a try block, so nothing escapes the API.
#include <CLI/CLI.hpp>
#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <numeric>
#include <optional>
#include <sstream>
#include <utility>
#include <variant>

namespace grainflow {

namespace {

using std::chrono::milliseconds;

constexpr std::int64_t kib = 1024;
constexpr std::int64_t mib = 1024 * kib;
constexpr std::int64_t gib = 1024 * mib;
constexpr std::int64_t tib = 1024 * gib;
constexpr std::int64_t ms_per_s = 1000;
constexpr std::int64_t ms_per_min = 60 * ms_per_s;
constexpr std::int64_t ms_per_h = 60 * ms_per_min;

static_assert(default_max_packet_size >= kib && default_max_packet_size <= gib,
              "the transport's default packet limit must be a valid max_packet_size");

// -- the keys -----------------------------------------------------------------

enum class kind { name, address, address_list, bytes, duration, count, boolean };

using member = std::variant<std::string node_config::*, network_address node_config::*,
                            std::vector<network_address> node_config::*, std::size_t node_config::*,
                            milliseconds node_config::*, bool node_config::*>;

/// One key: its TOML name, its flag, where it lives and, for numbers, its
/// range (in bytes, milliseconds or units). docs/deploying.md mirrors this.
struct key_spec {
  std::string_view key;
  std::string_view flag;
  kind type;
  member field;
  std::int64_t min = 0;
  std::int64_t max = 0;
  std::string_view value_name = {};
  std::string_view help = {};
};

const key_spec keys[] = {
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

constexpr std::size_t key_count = std::size(keys);

template <class T>
T& field(node_config& config, const key_spec& spec) {
  return config.*std::get<T node_config::*>(spec.field);
}

template <class T>
const T& field(const node_config& config, const key_spec& spec) {
  return config.*std::get<T node_config::*>(spec.field);
}

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
std::string format_bytes(std::uint64_t bytes) {
  constexpr std::pair<std::uint64_t, std::string_view> units[] = {
      {tib, "TiB"}, {gib, "GiB"}, {mib, "MiB"}, {kib, "KiB"}};
  for (auto [factor, unit] : units)
    if (bytes >= factor && bytes % factor == 0)
      return std::to_string(bytes / factor).append(unit);
  return std::to_string(bytes);
}

/// "2h", "5s" or "250ms": the largest unit that divides `ms` exactly.
std::string format_duration(std::int64_t ms) {
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

/// A TOML value as written in the file (strings double-quoted), shortened.
std::string toml_repr(const toml::node& value) {
  if (auto* text = value.as_string())
    return quote(text->get());
  std::ostringstream out;
  value.visit([&](const auto& x) { out << toml::toml_formatter{x}; });
  auto repr = out.str();
  std::replace(repr.begin(), repr.end(), '\n', ' ');
  return repr.size() > 60 ? repr.substr(0, 57) + "..." : repr;
}

// -- rules --------------------------------------------------------------------

constexpr std::string_view name_rule = "must be 1..64 characters of A-Z a-z 0-9 _ . -";

bool valid_name(std::string_view name) {
  auto allowed = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  };
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), allowed);
}

bool is_wildcard(const network_address& address) {
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

std::string_view trim(std::string_view text) {
  auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos)
    return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

/// Splits "16 MiB" into 16 and "MiB". A number too large for 64 bits comes
/// back as the largest value, so the key's range check reports it. False
/// when `text` does not start with a digit.
bool split_number(std::string_view text, std::uint64_t& number, std::string_view& unit) {
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

std::int64_t saturating_multiply(std::uint64_t n, std::int64_t factor) {
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  auto limit = static_cast<std::uint64_t>(max / factor);
  return n > limit ? max : static_cast<std::int64_t>(n) * factor;
}

/// Parses "16MiB", "512 KiB" or "1048576" into bytes; returns the broken
/// rule or "".
std::string parse_bytes(std::string_view text, std::int64_t& bytes) {
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
std::string parse_duration(std::string_view text, std::int64_t& ms) {
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
std::string parse_address(std::string_view text, network_address& address) {
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

/// The candidate a typo most likely meant, or "" when none is close.
template <class Range>
std::string closest(std::string_view word, const Range& candidates) {
  std::string best;
  auto best_distance = std::min<std::size_t>(2, word.size() / 2);
  for (const auto& candidate : candidates) {
    auto d = edit_distance(word, candidate);
    if (d <= best_distance) {
      best = std::string(candidate);
      best_distance = d;
    }
  }
  return best;
}

// -- TOML ---------------------------------------------------------------------

std::string at(std::string_view source, const toml::source_region& region) {
  return std::string(source) + ":" + std::to_string(region.begin.line) + ":" +
         std::to_string(region.begin.column) + ": ";
}

/// Applies one `[node]` entry; returns the message for a bad value or "".
std::string apply_toml_entry(node_config& config, const key_spec& spec, const toml::node& value,
                             std::string_view source) {
  auto bad_value = [&](const toml::node& bad, std::string_view name, std::string_view rule) {
    return at(source, bad.source()) + std::string(name) + ": " + toml_repr(bad) + ": " +
           std::string(rule);
  };
  if (spec.type == kind::address_list) {
    auto* list = value.as_array();
    if (!list)
      return bad_value(value, spec.key, "expected an array of \"host:port\" strings");
    std::vector<network_address> seeds;
    for (std::size_t i = 0; i < list->size(); ++i) {
      auto name = std::string(spec.key) + "[" + std::to_string(i) + "]";
      auto* text = (*list)[i].as_string();
      network_address seed;
      auto rule = text ? parse_seed(text->get(), seed) : "expected a string \"host:port\"";
      if (!rule.empty())
        return bad_value((*list)[i], name, rule);
      seeds.push_back(seed);
    }
    field<std::vector<network_address>>(config, spec) = std::move(seeds);
    return {};
  }
  std::string rule;
  if (auto* flag = value.as_boolean(); flag && spec.type == kind::boolean)
    field<bool>(config, spec) = flag->get();
  else if (auto* text = value.as_string();
           text && spec.type != kind::boolean && spec.type != kind::count)
    rule = apply_text(config, spec, text->get());
  else if (auto* number = value.as_integer();
           number &&
           (spec.type == kind::bytes || spec.type == kind::duration || spec.type == kind::count))
    rule = set_number(config, spec, number->get());
  else
    rule = spec.type == kind::boolean   ? "expected true or false"
           : spec.type == kind::count   ? "expected an integer, " + range_rule(spec)
           : spec.type == kind::name    ? "expected a string"
           : spec.type == kind::address ? "expected a string \"host:port\""
           : spec.type == kind::bytes
               ? "expected an integer (bytes) or a string with a unit, e.g. \"16MiB\""
               : "expected an integer (milliseconds) or a string with a unit, e.g. \"250ms\"";
  return rule.empty() ? rule : bad_value(value, spec.key, rule);
}

std::string unknown_key(std::string_view key) {
  std::vector<std::string_view> names;
  for (const auto& spec : keys)
    names.push_back(spec.key);
  if (auto guess = closest(key, names); !guess.empty())
    return std::string(key) + ": unknown key in [node] (did you mean " + guess + "?)";
  std::string list;
  for (auto name : names)
    list.append(list.empty() ? "" : ", ").append(name);
  return std::string(key) + ": unknown key in [node]; the keys are " + list;
}

/// Applies the `[node]` table of `text` over `config`, without validating
/// the result; returns the first problem in file order, or "".
std::string apply_toml(node_config& config, std::string_view text, std::string_view source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return at(source, e.source()) + std::string(e.description());
  }
  for (const auto& [key, value] : root)
    if (key.str() != "node")
      return at(source, key.source()) + std::string(key.str()) +
             ": unknown table or key; settings go in the [node] table";
  auto* node = root.get("node");
  if (!node)
    return std::string(source) + ": no [node] table";
  auto* table = node->as_table();
  if (!table)
    return at(source, node->source()) + "node: expected a table ([node])";
  // A table iterates in key order; report the first problem in file order.
  std::vector<std::pair<const toml::key*, const toml::node*>> entries;
  for (const auto& [key, value] : *table)
    entries.emplace_back(&key, &value);
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    auto pa = a.first->source().begin;
    auto pb = b.first->source().begin;
    return std::pair{pa.line, pa.column} < std::pair{pb.line, pb.column};
  });
  for (auto [key, value] : entries) {
    auto* spec = find_key(key->str());
    auto problem = spec ? apply_toml_entry(config, *spec, *value, source)
                        : at(source, key->source()) + unknown_key(key->str());
    if (!problem.empty())
      return problem;
  }
  return {};
}

// -- validation ---------------------------------------------------------------

std::string seeds_problem(const node_config& config) {
  const auto& seeds = config.seeds;
  for (std::size_t i = 0; i < seeds.size(); ++i) {
    auto shown = quote(seeds[i].to_string());
    if (auto rule = seed_rule(seeds[i]); !rule.empty())
      return "seeds[" + std::to_string(i) + "]: " + shown + ": " + std::string(rule);
    if (std::find(seeds.begin(), seeds.begin() + static_cast<std::ptrdiff_t>(i), seeds[i]) !=
        seeds.begin() + static_cast<std::ptrdiff_t>(i))
      return "seeds: " + shown + ": listed twice; list each seed once";
    if (seeds[i] == config.listen)
      return "seeds: " + shown + ": is this node's own listen address; list only other nodes";
  }
  return {};
}

/// Rules between keys; each names the key that must move and why.
std::string cross_problem(const node_config& c) {
  auto show = [&](std::string_view key) { return toml_value(c, *find_key(key)); };
  auto problem = [&](std::string_view key, std::string_view rule) {
    return std::string(key) + ": " + show(key) + ": " + std::string(rule);
  };
  if (c.replay_buffer_bytes < c.max_packet_size)
    return problem("replay_buffer_bytes", "must be at least max_packet_size (" +
                                              show("max_packet_size") + "), so any packet fits");
  if (c.connection_timeout <= c.ping_interval)
    return problem("connection_timeout", "must be greater than ping_interval (" +
                                             show("ping_interval") +
                                             "), or idle but healthy peers would time out");
  if (c.reconnect_min > c.reconnect_max)
    return problem("reconnect_min",
                   "must be at most reconnect_max (" + show("reconnect_max") + ")");
  if (c.resume_window < c.reconnect_max)
    return problem("resume_window",
                   "must be at least reconnect_max (" + show("reconnect_max") +
                       "), so a reconnect at the longest backoff can still resume the session");
  return {};
}

/// Every rule of `node_config`; returns the first broken one's message or "".
std::string config_problem(const node_config& c) {
  if (c.name.empty())
    return "name: missing; every node needs one (name in [node], or --name)";
  for (const auto& spec : keys) {
    std::string rule;
    switch (spec.type) {
    case kind::name:
      rule = valid_name(c.name) ? "" : name_rule;
      break;
    case kind::address:
      rule = listen_rule(c.listen);
      break;
    case kind::bytes:
    case kind::count: {
      auto x = field<std::size_t>(c, spec);
      rule =
          x <= static_cast<std::uint64_t>(spec.max) && in_range(spec, static_cast<std::int64_t>(x))
              ? ""
              : range_rule(spec);
      break;
    }
    case kind::duration:
      rule = in_range(spec, field<milliseconds>(c, spec).count()) ? "" : range_rule(spec);
      break;
    case kind::address_list:
    case kind::boolean:
      break;
    }
    if (!rule.empty())
      return std::string(spec.key) + ": " + toml_value(c, spec) + ": " + rule;
  }
  if (auto problem = seeds_problem(c); !problem.empty())
    return problem;
  return cross_problem(c);
}

// -- files --------------------------------------------------------------------

result<std::string> read_text(const std::filesystem::path& file, std::string& problem) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec))
    ec = std::make_error_code(std::errc::is_a_directory);
  std::string text;
  if (!ec) {
    errno = 0;
    std::ifstream in(file, std::ios::binary);
    if (in)
      text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (!in.is_open() || in.bad())
      ec = std::error_code(errno != 0 ? errno : EIO, std::generic_category());
  }
  if (ec) {
    problem = file.string() + ": cannot read: " + ec.message();
    return failure(ec);
  }
  return text;
}

template <class T>
result<T> fail(std::error_code code, std::string problem, std::string* why) {
  if (why)
    *why = std::move(problem);
  return failure(code);
}

// -- flags --------------------------------------------------------------------

/// What CLI11 collected; flags are applied after --config, in table order.
/// Plain values, because the parser (and its options) is gone by then.
struct flag_values {
  std::optional<std::string> config;
  std::array<std::optional<std::string>, key_count> text;
  std::array<bool, key_count> on{};
  std::vector<std::string> seeds;
  std::array<bool, key_count> given{};
};

/// Registers the node's flags; returns them by key index.
std::array<CLI::Option*, key_count> add_node_flags(CLI::App& app, flag_values& values,
                                                   const node_config& base) {
  std::array<CLI::Option*, key_count> options{};
  app.add_option("--config", values.config,
                 "TOML file with a [node] table, applied before the other flags")
      ->type_name("FILE");
  for (std::size_t i = 0; i < key_count; ++i) {
    const auto& spec = keys[i];
    std::string flag(spec.flag);
    std::string help(spec.help);
    if (auto shown = plain_value(base, spec); spec.type != kind::boolean && !shown.empty())
      help += " (default " + shown + ")";
    CLI::Option* option = nullptr;
    if (spec.type == kind::boolean)
      option = app.add_flag(flag + ",!--no-" + flag.substr(2), values.on[i], help);
    else if (spec.type == kind::address_list)
      option = app.add_option(flag, values.seeds, help)->delimiter(',');
    else
      option = app.add_option(flag, values.text[i], help);
    option->multi_option_policy(spec.type == kind::address_list ? CLI::MultiOptionPolicy::TakeAll
                                                                : CLI::MultiOptionPolicy::TakeLast);
    if (!spec.value_name.empty())
      option->type_name(std::string(spec.value_name));
    options[i] = option;
  }
  app.footer("SIZE: bytes, or with a unit B, KiB, MiB, GiB, TiB (\"16MiB\").\n"
             "DURATION: milliseconds, or with a unit ms, s, min, h (\"250ms\", \"1s\").\n"
             "A --config file sets the same values as keys of its [node] table "
             "(docs/deploying.md).");
  return options;
}

/// The message for arguments CLI11 did not recognize.
std::string unexpected_arguments(const CLI::App& app) {
  auto remaining = app.remaining();
  if (remaining.empty())
    return "unexpected arguments";
  const auto& first = remaining.front();
  if (first.empty() || first.front() != '-')
    return quote(first) + ": unexpected argument; every setting is a --flag";
  auto name = first.substr(0, first.find('='));
  std::vector<std::string> flags;
  for (const auto* option : app.get_options())
    for (const auto& long_name : option->get_lnames())
      flags.push_back("--" + long_name);
  auto guess = closest(name, flags);
  return name + ": unknown flag" + (guess.empty() ? "" : " (did you mean " + guess + "?)") +
         "; run with --help for the list";
}

/// Applies the collected flags over `config`; returns the first problem.
std::string apply_flags(node_config& config, const flag_values& values) {
  for (std::size_t i = 0; i < key_count; ++i) {
    const auto& spec = keys[i];
    if (!values.given[i])
      continue;
    if (spec.type == kind::boolean) {
      field<bool>(config, spec) = values.on[i];
    } else if (spec.type == kind::address_list) {
      std::vector<network_address> seeds;
      for (const auto& text : values.seeds) {
        network_address seed;
        if (auto rule = parse_seed(text, seed); !rule.empty())
          return std::string(spec.flag) + ": " + quote(text) + ": " + rule;
        seeds.push_back(seed);
      }
      field<std::vector<network_address>>(config, spec) = std::move(seeds);
    } else if (auto rule = apply_text(config, spec, *values.text[i]); !rule.empty()) {
      return std::string(spec.flag) + ": " + quote(*values.text[i]) + ": " + rule;
    }
  }
  return {};
}

} // namespace

// -- public API ---------------------------------------------------------------

result<node_config> parse_node_config(std::string_view toml_text, std::string_view source_name,
                                      std::string* why) {
  node_config config;
  if (auto problem = apply_toml(config, toml_text, source_name); !problem.empty())
    return fail<node_config>(std::make_error_code(std::errc::invalid_argument), problem, why);
  if (auto problem = config_problem(config); !problem.empty())
    return fail<node_config>(std::make_error_code(std::errc::invalid_argument),
                             std::string(source_name) + ": " + problem, why);
  return config;
}

result<node_config> load_node_config(const std::filesystem::path& file, std::string* why) {
  std::string problem;
  auto text = read_text(file, problem);
  if (!text)
    return fail<node_config>(text.error(), problem, why);
  return parse_node_config(text.value(), file.string(), why);
}

result<node_config> parse_node_args(int argc, const char* const* argv, node_config base,
                                    const node_args_options& options, std::string* why) {
  auto invalid = std::make_error_code(std::errc::invalid_argument);
  flag_values values;
  try {
    CLI::App app{options.description};
    auto node_flags = add_node_flags(app, values, base);
    try {
      if (options.extra)
        options.extra(app);
    } catch (const std::exception& e) {
      // A programming error of the caller (a flag added twice, say), but
      // still a value: the program reports it like any other.
      return fail<node_config>(invalid, std::string("node_args_options.extra: ") + e.what(), why);
    }
    try {
      if (argc > 0 && argv != nullptr)
        app.parse(argc, argv);
      else
        app.parse(std::vector<std::string>{});
      for (std::size_t i = 0; i < key_count; ++i)
        values.given[i] = node_flags[i]->count() > 0;
    } catch (const CLI::CallForHelp&) {
      (options.help_out ? *options.help_out : std::cout) << app.help();
      return fail<node_config>(std::make_error_code(help_printed), "help printed", why);
    } catch (const CLI::ExtrasError&) {
      return fail<node_config>(invalid, unexpected_arguments(app), why);
    }
  } catch (const std::exception& e) {
    // CLI::ParseError (a flag without its value, a failed check of a
    // program's flag) names the flag itself, as does a program's own
    // conversion that throws.
    return fail<node_config>(invalid, e.what(), why);
  }
  if (values.config) {
    std::string problem;
    auto text = read_text(*values.config, problem);
    if (!text)
      return fail<node_config>(text.error(), "--config: " + problem, why);
    if (problem = apply_toml(base, text.value(), *values.config); !problem.empty())
      return fail<node_config>(invalid, problem, why);
  }
  if (auto problem = apply_flags(base, values); !problem.empty())
    return fail<node_config>(invalid, problem, why);
  if (auto problem = config_problem(base); !problem.empty())
    return fail<node_config>(invalid, problem, why);
  return base;
}

result<void> validate(const node_config& config, std::string* why) {
  if (auto problem = config_problem(config); !problem.empty())
    return fail<void>(std::make_error_code(std::errc::invalid_argument), problem, why);
  return success();
}

std::string to_toml(const node_config& config) {
  std::string out = "[node]\n";
  for (const auto& spec : keys)
    out.append(spec.key).append(" = ").append(toml_value(config, spec)).append("\n");
  return out;
}

} // namespace grainflow
