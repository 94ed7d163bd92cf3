#pragma once

// The node configuration's keys (TOML name, flag, field, range) and the
// rules and text forms of their values, shared by node_config_values.cpp,
// which defines them, and node_config.cpp (files, flags, validation).

#include "grainflow/actors/node_config.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace grainflow::node_config_keys {

using std::chrono::milliseconds;

constexpr std::int64_t kib = 1024;
constexpr std::int64_t mib = 1024 * kib;
constexpr std::int64_t gib = 1024 * mib;
constexpr std::int64_t tib = 1024 * gib;
constexpr std::int64_t ms_per_s = 1000;
constexpr std::int64_t ms_per_min = 60 * ms_per_s;
constexpr std::int64_t ms_per_h = 60 * ms_per_min;

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

/// Every key, in the order docs/deploying.md lists them.
inline constexpr std::size_t key_count = 14;
extern const key_spec keys[key_count];

template <class T>
T& field(node_config& config, const key_spec& spec) {
  return config.*std::get<T node_config::*>(spec.field);
}

template <class T>
const T& field(const node_config& config, const key_spec& spec) {
  return config.*std::get<T node_config::*>(spec.field);
}

const key_spec* find_key(std::string_view key);

// -- rendering values ---------------------------------------------------------

/// Quotes `text` as a TOML basic string, which is also how messages show a
/// value that was given as text.
std::string quote(std::string_view text);
/// The key's value as typed on a command line: "16MiB", "10.0.0.1:4500".
std::string plain_value(const node_config& config, const key_spec& spec);
/// The key's value as TOML: what `to_toml` writes and messages show.
std::string toml_value(const node_config& config, const key_spec& spec);

// -- rules --------------------------------------------------------------------

inline constexpr std::string_view name_rule = "must be 1..64 characters of A-Z a-z 0-9 _ . -";

bool valid_name(std::string_view name);
/// The rule `listen` breaks, or "".
std::string_view listen_rule(const network_address& address);
/// The rule a seed breaks on its own, or "".
std::string_view seed_rule(const network_address& address);
/// "must be 1KiB..1GiB", in the key's own unit.
std::string range_rule(const key_spec& spec);
bool in_range(const key_spec& spec, std::int64_t x);

// -- parsing text -------------------------------------------------------------

/// Stores a number into a numeric key after its range check.
std::string set_number(node_config& config, const key_spec& spec, std::int64_t x);
/// Applies one value given as text to a scalar key; returns the broken rule.
std::string apply_text(node_config& config, const key_spec& spec, std::string_view text);
/// Parses one seed; returns the broken rule or "".
std::string parse_seed(std::string_view text, network_address& seed);

// -- suggestions --------------------------------------------------------------

std::size_t edit_distance(std::string_view a, std::string_view b);

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

} // namespace grainflow::node_config_keys
