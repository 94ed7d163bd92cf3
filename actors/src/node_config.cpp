#include "grainflow/actors/node_config.hpp"

#include "node_config_keys.hpp"

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

using namespace node_config_keys;

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
