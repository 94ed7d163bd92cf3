// Scenarios for reading a node's configuration: a TOML file, command-line
// flags over it, every kind of bad value with the exact message a user sees,
// and to_toml round trips. No CAF, no sockets.

#include "grainflow/actors/node_config.hpp"

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include <unistd.h>

using namespace grainflow;
using namespace std::chrono_literals;

namespace {

network_address addr(std::string_view text) {
  auto parsed = network_address::parse(text);
  EXPECT_TRUE(parsed) << text;
  return parsed ? parsed.value() : network_address{};
}

/// Parses `[node]` + name + `line` as "t.toml"; the line under test is line 3.
result<node_config> parse_with(std::string_view line, std::string* why) {
  std::string text = "[node]\nname = \"n1\"\n";
  text += line;
  text += "\n";
  return parse_node_config(text, "t.toml", why);
}

/// The message for `line`, which must be rejected with invalid_argument.
std::string rejection(std::string_view line) {
  std::string why;
  auto parsed = parse_with(line, &why);
  EXPECT_FALSE(parsed) << line;
  if (!parsed) {
    EXPECT_EQ(parsed.error(), std::errc::invalid_argument) << line;
  }
  return why;
}

/// The location prefix of the value in `key = value` on line 3.
std::string at3(std::string_view key) {
  return "t.toml:3:" + std::to_string(key.size() + 4) + ": ";
}

/// Runs parse_node_args on `args` (without the program name).
result<node_config> run_args(std::vector<std::string> args, node_config base, std::string* why,
                             const node_args_options& options = {}) {
  args.insert(args.begin(), "node");
  std::vector<const char*> argv;
  for (const auto& arg : args)
    argv.push_back(arg.c_str());
  return parse_node_args(static_cast<int>(argv.size()), argv.data(), std::move(base), options, why);
}

node_config named(std::string name) {
  node_config config;
  config.name = std::move(name);
  return config;
}

/// A file in the temp directory, removed at the end of the test.
class temp_file {
public:
  explicit temp_file(std::string_view contents) {
    auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("grainflow_" + std::string(info->name()) + "_" + std::to_string(::getpid()) + ".toml");
    std::ofstream(path_) << contents;
  }
  ~temp_file() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
  const std::filesystem::path& path() const noexcept { return path_; }

private:
  std::filesystem::path path_;
};

constexpr std::string_view full_file = R"(# a node in a three-machine cluster
[node]
name = "db-1.eu_west"
listen = "10.0.0.1:4500"
seeds = ["10.0.0.2:4500", "[2001:db8::3]:4500"]
max_packet_size = "4MiB"
replay_buffer_bytes = 33554432
ping_interval = "250ms"
connection_timeout = "3s"
reconnect_min = 20
reconnect_max = "2s"
resume_window = "1min"
force_tcp = true
scheduler_threads = 8
print_stats = true
)";

} // namespace

// -- files --------------------------------------------------------------------

TEST(node_config_test, a_full_file_sets_every_key) {
  std::string why;
  auto parsed = parse_node_config(full_file, "cluster.toml", &why);
  ASSERT_TRUE(parsed) << why;
  const auto& c = parsed.value();
  EXPECT_EQ(c.name, "db-1.eu_west");
  EXPECT_EQ(c.listen, addr("10.0.0.1:4500"));
  EXPECT_EQ(c.seeds, (std::vector{addr("10.0.0.2:4500"), addr("[2001:db8::3]:4500")}));
  EXPECT_EQ(c.max_packet_size, 4u * 1024 * 1024);
  EXPECT_EQ(c.replay_buffer_bytes, 32u * 1024 * 1024);
  EXPECT_EQ(c.ping_interval, 250ms);
  EXPECT_EQ(c.connection_timeout, 3s);
  EXPECT_EQ(c.reconnect_min, 20ms);
  EXPECT_EQ(c.reconnect_max, 2s);
  EXPECT_EQ(c.resume_window, 60s);
  EXPECT_TRUE(c.force_tcp);
  EXPECT_EQ(c.scheduler_threads, 8u);
  EXPECT_TRUE(c.print_stats);
  EXPECT_TRUE(why.empty()) << "why is written only on failure";
}

TEST(node_config_test, keys_not_given_keep_their_defaults) {
  auto parsed = parse_node_config("[node]\nname = \"solo\"\n");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed.value(), named("solo"));
  const node_config defaults;
  EXPECT_EQ(defaults.listen, network_address::loopback_v4(0));
  EXPECT_TRUE(defaults.seeds.empty());
  EXPECT_EQ(defaults.max_packet_size, 16u * 1024 * 1024);
  EXPECT_EQ(defaults.replay_buffer_bytes, 16u * 1024 * 1024);
  EXPECT_EQ(defaults.ping_interval, 1s);
  EXPECT_EQ(defaults.connection_timeout, 2s);
  EXPECT_EQ(defaults.reconnect_min, 50ms);
  EXPECT_EQ(defaults.reconnect_max, 500ms);
  EXPECT_EQ(defaults.resume_window, 5s);
  EXPECT_FALSE(defaults.force_tcp);
  EXPECT_EQ(defaults.scheduler_threads, 0u);
  EXPECT_FALSE(defaults.print_stats);
}

TEST(node_config_test, every_node_needs_a_name) {
  std::string why;
  auto parsed = parse_node_config("[node]\n", "t.toml", &why);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(why, "t.toml: name: missing; every node needs one (name in [node], or --name)");
  EXPECT_FALSE(validate(node_config{}));
  EXPECT_TRUE(validate(named("x")));
}

TEST(node_config_test, a_file_is_loaded_and_named_in_messages) {
  temp_file good{"[node]\nname = \"from-file\"\nlisten = \"127.0.0.1:4600\"\n"};
  auto loaded = load_node_config(good.path());
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded.value().name, "from-file");
  EXPECT_EQ(loaded.value().listen, addr("127.0.0.1:4600"));

  temp_file bad{"[node]\nname = \"x\"\nlisten = \"127.0.0.1\"\n"};
  std::string why;
  ASSERT_FALSE(load_node_config(bad.path(), &why));
  EXPECT_EQ(why, bad.path().string() + ":3:10: listen: \"127.0.0.1\": expected host:port, e.g. "
                                       "\"10.0.0.1:4500\" or \"[::1]:4500\"");
}

TEST(node_config_test, an_unreadable_file_fails_with_the_os_error) {
  std::string why;
  auto missing = load_node_config("/nonexistent/grainflow.toml", &why);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), std::errc::no_such_file_or_directory);
  EXPECT_EQ(why, "/nonexistent/grainflow.toml: cannot read: No such file or directory");
  auto directory = load_node_config(std::filesystem::temp_directory_path(), &why);
  ASSERT_FALSE(directory);
  EXPECT_EQ(directory.error(), std::errc::is_a_directory);
}

// -- bad values, one key at a time ---------------------------------------------

TEST(node_config_test, a_bad_listen_address_says_what_is_wrong) {
  struct sample {
    const char* value;
    const char* rule;
  };
  const sample samples[] = {
      {R"("1.2.3.4:99999")", "port must be 0..65535"},
      {R"("1.2.3.4:http")", "port must be a number 0..65535"},
      {R"("1.2.3.4:")", "port must be a number 0..65535"},
      {R"("1.2.3.4")", R"(expected host:port, e.g. "10.0.0.1:4500" or "[::1]:4500")"},
      {R"(":4500")", R"(expected host:port, e.g. "10.0.0.1:4500" or "[::1]:4500")"},
      {R"("localhost:4500")",
       "host names are not resolved; give an IPv4 address or a bracketed IPv6 address"},
      {R"("1.2.3.400:1")", R"("1.2.3.400" is not a valid IPv4 or IPv6 address)"},
      {R"("::1:80")", R"(an IPv6 address needs brackets: "[addr]:port")"},
      {R"("[::1]")", R"(missing :port after "[ipv6]")"},
      {R"("[::1:80")", "missing ']' after the IPv6 address"},
      {R"("0.0.0.0:4500")",
       "must be an address other nodes can reach, not a wildcard (0.0.0.0 or [::])"},
      {R"("[::]:4500")",
       "must be an address other nodes can reach, not a wildcard (0.0.0.0 or [::])"},
      {"4500", R"(expected a string "host:port")"},
  };
  for (const auto& [value, rule] : samples)
    EXPECT_EQ(rejection(std::string("listen = ") + value),
              at3("listen") + "listen: " + value + ": " + rule);
}

TEST(node_config_test, a_bad_name_is_rejected) {
  auto name_rejection = [](const std::string& line) {
    std::string why;
    EXPECT_FALSE(parse_node_config("[node]\n\n" + line, "t.toml", &why)) << line;
    return why;
  };
  const auto rule = std::string(": must be 1..64 characters of A-Z a-z 0-9 _ . -");
  EXPECT_EQ(name_rejection("name = \"\""), at3("name") + "name: \"\"" + rule);
  EXPECT_EQ(name_rejection("name = \"db 1\""), at3("name") + "name: \"db 1\"" + rule);
  auto long_name = std::string(65, 'a');
  EXPECT_EQ(name_rejection("name = \"" + long_name + "\""),
            at3("name") + "name: \"" + long_name + "\"" + rule);
  EXPECT_EQ(name_rejection("name = 7"), at3("name") + "name: 7: expected a string");
  EXPECT_EQ(name_rejection("name = \"tab\\there\""),
            at3("name") + "name: \"tab\\u0009here\"" + rule);
  EXPECT_TRUE(parse_node_config("[node]\nname = \"" + std::string(64, 'z') + "\""));
}

TEST(node_config_test, sizes_out_of_range_or_malformed_are_rejected) {
  const std::string packet = at3("max_packet_size") + "max_packet_size: ";
  EXPECT_EQ(rejection("max_packet_size = \"2GiB\""), packet + "\"2GiB\": must be 1KiB..1GiB");
  EXPECT_EQ(rejection("max_packet_size = 1023"), packet + "1023: must be 1KiB..1GiB");
  EXPECT_EQ(rejection("max_packet_size = -1"), packet + "-1: must be 1KiB..1GiB");
  EXPECT_EQ(rejection("max_packet_size = \"99999999999999999999TiB\""),
            packet + "\"99999999999999999999TiB\": must be 1KiB..1GiB");
  EXPECT_EQ(rejection("max_packet_size = \"16MB\""),
            packet + "\"16MB\": \"MB\" is ambiguous; use KiB, MiB, GiB or TiB (powers of 1024)");
  EXPECT_EQ(rejection("max_packet_size = \"lots\""),
            packet + "\"lots\": expected bytes as an integer or with a unit B, KiB, MiB, GiB "
                     "or TiB, e.g. \"16MiB\"");
  EXPECT_EQ(rejection("max_packet_size = 1.5"),
            packet + "1.5: expected an integer (bytes) or a string with a unit, e.g. \"16MiB\"");
  EXPECT_EQ(rejection("replay_buffer_bytes = \"65GiB\""),
            at3("replay_buffer_bytes") + "replay_buffer_bytes: \"65GiB\": must be 1KiB..64GiB");
}

TEST(node_config_test, durations_out_of_range_or_malformed_are_rejected) {
  const std::string ping = at3("ping_interval") + "ping_interval: ";
  EXPECT_EQ(rejection("ping_interval = \"5ms\""), ping + "\"5ms\": must be 10ms..60s");
  EXPECT_EQ(rejection("ping_interval = 61000"), ping + "61000: must be 10ms..60s");
  EXPECT_EQ(rejection("ping_interval = -10"), ping + "-10: must be 10ms..60s");
  EXPECT_EQ(rejection("ping_interval = \"99999999999999999999h\""),
            ping + "\"99999999999999999999h\": must be 10ms..60s");
  EXPECT_EQ(rejection("ping_interval = \"2m\""),
            ping + "\"2m\": \"m\" is ambiguous; use ms or min");
  EXPECT_EQ(rejection("ping_interval = \"1.5s\""),
            ping + "\"1.5s\": expected milliseconds as an integer or a duration with a unit ms, "
                   "s, min or h, e.g. \"250ms\"");
  EXPECT_EQ(rejection("ping_interval = true"),
            ping + "true: expected an integer (milliseconds) or a string with a unit, e.g. "
                   "\"250ms\"");
  EXPECT_EQ(rejection("reconnect_min = 0"),
            at3("reconnect_min") + "reconnect_min: 0: must be 1ms..24h");
  EXPECT_EQ(rejection("resume_window = \"25h\""),
            at3("resume_window") + "resume_window: \"25h\": must be 1ms..24h");
}

TEST(node_config_test, counts_and_switches_need_their_own_types) {
  const std::string threads = at3("scheduler_threads") + "scheduler_threads: ";
  EXPECT_EQ(rejection("scheduler_threads = 5000"), threads + "5000: must be 0..4096");
  EXPECT_EQ(rejection("scheduler_threads = -1"), threads + "-1: must be 0..4096");
  EXPECT_EQ(rejection("scheduler_threads = \"4\""),
            threads + "\"4\": expected an integer, must be 0..4096");
  EXPECT_EQ(rejection("force_tcp = \"yes\""),
            at3("force_tcp") + "force_tcp: \"yes\": expected true or false");
  EXPECT_EQ(rejection("print_stats = 1"),
            at3("print_stats") + "print_stats: 1: expected true or false");
}

TEST(node_config_test, bad_seeds_name_their_position) {
  EXPECT_EQ(rejection("seeds = \"10.0.0.1:1\""),
            at3("seeds") + "seeds: \"10.0.0.1:1\": expected an array of \"host:port\" strings");
  EXPECT_EQ(rejection("seeds = [\"10.0.0.1:0\"]"),
            "t.toml:3:10: seeds[0]: \"10.0.0.1:0\": port 0 cannot be dialed; give the seed's "
            "listen port");
  EXPECT_EQ(rejection("seeds = [\"10.0.0.1:1\", 5]"),
            "t.toml:3:24: seeds[1]: 5: expected a string \"host:port\"");
  EXPECT_EQ(rejection("seeds = [\"10.0.0.1:1\", \"10.0.0.2\"]"),
            "t.toml:3:24: seeds[1]: \"10.0.0.2\": expected host:port, e.g. \"10.0.0.1:4500\" or "
            "\"[::1]:4500\"");
  EXPECT_EQ(rejection("seeds = [\"0.0.0.0:4500\"]"),
            "t.toml:3:10: seeds[0]: \"0.0.0.0:4500\": must be an address this node can reach, "
            "not a wildcard (0.0.0.0 or [::])");
}

TEST(node_config_test, typos_do_not_pass_silently) {
  EXPECT_EQ(rejection("lissten = \"10.0.0.1:1\""),
            "t.toml:3:1: lissten: unknown key in [node] (did you mean listen?)");
  EXPECT_EQ(rejection("seed = [\"10.0.0.1:1\"]"),
            "t.toml:3:1: seed: unknown key in [node] (did you mean seeds?)");
  EXPECT_EQ(rejection("colour = \"blue\""),
            "t.toml:3:1: colour: unknown key in [node]; the keys are name, listen, seeds, "
            "max_packet_size, replay_buffer_bytes, request_window_bytes, ping_interval, "
            "connection_timeout, "
            "reconnect_min, reconnect_max, resume_window, force_tcp, scheduler_threads, "
            "print_stats");
  std::string why;
  EXPECT_FALSE(parse_node_config("[nodes]\nname = \"x\"\n", "t.toml", &why));
  EXPECT_EQ(why, "t.toml:1:2: nodes: unknown table or key; settings go in the [node] table");
  EXPECT_FALSE(parse_node_config("name = \"x\"\n", "t.toml", &why));
  EXPECT_EQ(why, "t.toml:1:1: name: unknown table or key; settings go in the [node] table");
  EXPECT_FALSE(parse_node_config("", "t.toml", &why));
  EXPECT_EQ(why, "t.toml: no [node] table");
  EXPECT_FALSE(parse_node_config("node = 3\n", "t.toml", &why));
  EXPECT_EQ(why, "t.toml:1:8: node: expected a table ([node])");
}

TEST(node_config_test, the_first_problem_in_file_order_is_reported) {
  // Keys iterate alphabetically inside toml++; the user expects line order.
  std::string why;
  EXPECT_FALSE(parse_node_config("[node]\nname = \"x\"\nzz = 1\naa = 2\n", "t.toml", &why));
  EXPECT_EQ(why.substr(0, 13), "t.toml:3:1: z");
}

TEST(node_config_test, toml_syntax_errors_carry_their_position) {
  std::string why;
  auto parsed = parse_node_config("[node]\nname = \"x\nlisten = 1\n", "t.toml", &why);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error(), std::errc::invalid_argument);
  EXPECT_EQ(why.rfind("t.toml:2:", 0), 0u) << why;
  EXPECT_FALSE(parse_node_config("[node]\nname = \"x\"\nname = \"y\"\n", "t.toml", &why));
  EXPECT_EQ(why.rfind("t.toml:3:", 0), 0u) << why;
}

// -- rules between keys ---------------------------------------------------------

TEST(node_config_test, rules_between_keys_name_both_keys) {
  EXPECT_EQ(rejection("seeds = [\"10.0.0.2:4500\", \"10.0.0.3:4500\", \"10.0.0.2:4500\"]"),
            "t.toml: seeds: \"10.0.0.2:4500\": listed twice; list each seed once");
  EXPECT_EQ(rejection("listen = \"10.0.0.1:4500\"\nseeds = [\"10.0.0.1:4500\"]"),
            "t.toml: seeds: \"10.0.0.1:4500\": is this node's own listen address; list only "
            "other nodes");
  EXPECT_EQ(rejection("replay_buffer_bytes = \"1MiB\""),
            "t.toml: replay_buffer_bytes: \"1MiB\": must be at least max_packet_size "
            "(\"16MiB\"), so any packet fits");
  EXPECT_EQ(rejection("reconnect_min = \"600ms\""),
            "t.toml: reconnect_min: \"600ms\": must be at most reconnect_max (\"500ms\")");
  EXPECT_EQ(rejection("connection_timeout = \"1s\""),
            "t.toml: connection_timeout: \"1s\": must be greater than ping_interval (\"1s\"), "
            "or idle but healthy peers would time out");
  EXPECT_EQ(rejection("resume_window = \"100ms\""),
            "t.toml: resume_window: \"100ms\": must be at least reconnect_max (\"500ms\"), so "
            "a reconnect at the longest backoff can still resume the session");
  // Equal bounds are fine.
  EXPECT_TRUE(parse_with("replay_buffer_bytes = \"16MiB\"\nreconnect_min = 500", nullptr));
}

TEST(node_config_test, validate_checks_a_config_built_in_code) {
  auto config = named("coded");
  std::string why;
  config.listen = network_address{};
  ASSERT_FALSE(validate(config, &why));
  EXPECT_EQ(why, "listen: \"<invalid>\": must be set (host:port)");
  config.listen = addr("10.0.0.1:4500");
  config.seeds = {addr("10.0.0.2:0")};
  EXPECT_FALSE(validate(config, &why));
  EXPECT_EQ(why, "seeds[0]: \"10.0.0.2:0\": port 0 cannot be dialed; give the seed's listen port");
  config.seeds = {addr("10.0.0.2:4500")};
  config.max_packet_size = 100;
  auto checked = validate(config, &why);
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error(), std::errc::invalid_argument);
  EXPECT_EQ(why, "max_packet_size: 100: must be 1KiB..1GiB");
  config.max_packet_size = 1024;
  config.scheduler_threads = 1u << 20;
  EXPECT_FALSE(validate(config, &why));
  EXPECT_EQ(why, "scheduler_threads: 1048576: must be 0..4096");
  config.scheduler_threads = 4;
  EXPECT_TRUE(validate(config, &why)) << why;
}

// -- units ----------------------------------------------------------------------

TEST(node_config_test, sizes_accept_binary_units_and_plain_bytes) {
  struct sample {
    const char* value;
    std::size_t bytes;
  };
  const sample samples[] = {
      {"\"16MiB\"", 16u << 20}, {"\"512KiB\"", 512u << 10}, {"\"1 GiB\"", 1u << 30},
      {"2048", 2048},           {"\"4096\"", 4096},         {"\"1024B\"", 1024},
      {"\" 3MiB \"", 3u << 20},
  };
  for (const auto& [value, bytes] : samples) {
    std::string why;
    auto parsed = parse_with(
        std::string("max_packet_size = ") + value + "\nreplay_buffer_bytes = \"1GiB\"", &why);
    ASSERT_TRUE(parsed) << value << ": " << why;
    EXPECT_EQ(parsed.value().max_packet_size, bytes) << value;
  }
}

TEST(node_config_test, durations_accept_units_and_plain_milliseconds) {
  struct sample {
    const char* value;
    std::chrono::milliseconds ms;
  };
  const sample samples[] = {
      {"\"1s\"", 1s},     {"\"250ms\"", 250ms}, {"250", 250ms}, {"\"250\"", 250ms},
      {"\"2min\"", 2min}, {"\"1h\"", 1h},       {"1", 1ms},     {"\"10 s\"", 10s},
  };
  for (const auto& [value, ms] : samples) {
    std::string why;
    // Shrink reconnect_max so the rule between them holds for every sample.
    auto ok = parse_with(std::string("resume_window = ") + value + "\nreconnect_min = 1\n" +
                             "reconnect_max = 1",
                         &why);
    ASSERT_TRUE(ok) << value << ": " << why;
    EXPECT_EQ(ok.value().resume_window, ms) << value;
  }
}

// -- command-line flags -----------------------------------------------------------

TEST(node_config_test, flags_fill_a_config_without_a_file) {
  std::string why;
  auto parsed = run_args({"--name",
                          "cli",
                          "--listen",
                          "10.0.0.9:4500",
                          "--max-packet-size",
                          "1MiB",
                          "--replay-buffer=2MiB",
                          "--ping-interval",
                          "100ms",
                          "--connection-timeout",
                          "1s",
                          "--reconnect-min",
                          "10",
                          "--reconnect-max",
                          "1s",
                          "--resume-window",
                          "2s",
                          "--force-tcp",
                          "--threads",
                          "3",
                          "--stats"},
                         {}, &why);
  ASSERT_TRUE(parsed) << why;
  const auto& c = parsed.value();
  EXPECT_EQ(c.name, "cli");
  EXPECT_EQ(c.listen, addr("10.0.0.9:4500"));
  EXPECT_EQ(c.max_packet_size, 1u << 20);
  EXPECT_EQ(c.replay_buffer_bytes, 2u << 20);
  EXPECT_EQ(c.ping_interval, 100ms);
  EXPECT_EQ(c.connection_timeout, 1s);
  EXPECT_EQ(c.reconnect_min, 10ms);
  EXPECT_EQ(c.reconnect_max, 1s);
  EXPECT_EQ(c.resume_window, 2s);
  EXPECT_TRUE(c.force_tcp);
  EXPECT_EQ(c.scheduler_threads, 3u);
  EXPECT_TRUE(c.print_stats);
}

TEST(node_config_test, flags_override_the_file_which_overrides_the_base) {
  temp_file file{"[node]\nname = \"file\"\nlisten = \"10.0.0.1:4500\"\n"
                 "seeds = [\"10.0.0.2:4500\"]\nforce_tcp = true\nping_interval = \"2s\"\n"
                 "connection_timeout = \"5s\"\n"};
  auto base = named("base");
  base.scheduler_threads = 2; // not in the file: the program's default survives
  base.ping_interval = 20ms;  // in the file: the file wins
  std::string why;
  auto parsed = run_args({"--config", file.path().string(), "--listen", "10.0.0.1:4600",
                          "--no-force-tcp", "--seed", "10.0.0.3:4500"},
                         base, &why);
  ASSERT_TRUE(parsed) << why;
  const auto& c = parsed.value();
  EXPECT_EQ(c.name, "file");
  EXPECT_EQ(c.listen, addr("10.0.0.1:4600"));
  EXPECT_EQ(c.seeds, std::vector{addr("10.0.0.3:4500")}) << "--seed replaces the file's list";
  EXPECT_FALSE(c.force_tcp);
  EXPECT_EQ(c.ping_interval, 2s);
  EXPECT_EQ(c.scheduler_threads, 2u);
}

TEST(node_config_test, seed_is_repeatable_and_comma_separated) {
  std::string why;
  auto parsed = run_args(
      {"--name", "a", "--seed", "10.0.0.2:1", "--seed=10.0.0.3:1,[::2]:1", "--seed", "10.0.0.4:1"},
      {}, &why);
  ASSERT_TRUE(parsed) << why;
  EXPECT_EQ(parsed.value().seeds, (std::vector{addr("10.0.0.2:1"), addr("10.0.0.3:1"),
                                               addr("[::2]:1"), addr("10.0.0.4:1")}));
  EXPECT_FALSE(run_args({"--name", "a", "--seed", "10.0.0.2:1", "--seed", "10.0.0.2:1"}, {}, &why));
  EXPECT_EQ(why, "seeds: \"10.0.0.2:1\": listed twice; list each seed once");
}

TEST(node_config_test, a_flag_given_twice_takes_its_last_value) {
  auto parsed =
      run_args({"--name", "first", "--name", "second", "--stats", "--no-stats"}, {}, nullptr);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed.value().name, "second");
  EXPECT_FALSE(parsed.value().print_stats);
}

TEST(node_config_test, bad_flag_values_name_the_flag) {
  std::string why;
  auto parsed = run_args({"--name", "a", "--listen", "1.2.3.4:99999"}, {}, &why);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error(), std::errc::invalid_argument);
  EXPECT_EQ(why, "--listen: \"1.2.3.4:99999\": port must be 0..65535");
  EXPECT_FALSE(run_args({"--name", "a", "--ping-interval", "5s5"}, {}, &why));
  EXPECT_EQ(why, "--ping-interval: \"5s5\": expected milliseconds as an integer or a duration "
                 "with a unit ms, s, min or h, e.g. \"250ms\"");
  EXPECT_FALSE(run_args({"--name", "a", "--threads", "many"}, {}, &why));
  EXPECT_EQ(why, "--threads: \"many\": expected an integer, must be 0..4096");
  EXPECT_FALSE(run_args({"--name", "a", "--seed", "10.0.0.1"}, {}, &why));
  EXPECT_EQ(why, "--seed: \"10.0.0.1\": expected host:port, e.g. \"10.0.0.1:4500\" or "
                 "\"[::1]:4500\"");
  EXPECT_FALSE(run_args({"--name", "a b"}, {}, &why));
  EXPECT_EQ(why, "--name: \"a b\": must be 1..64 characters of A-Z a-z 0-9 _ . -");
  EXPECT_FALSE(
      run_args({"--name", "a", "--max-packet-size", "1MiB", "--replay-buffer", "4KiB"}, {}, &why));
  EXPECT_EQ(why, "replay_buffer_bytes: \"4KiB\": must be at least max_packet_size (\"1MiB\"), "
                 "so any packet fits");
  EXPECT_FALSE(run_args({"--name"}, {}, &why));
  EXPECT_EQ(why, "--name: 1 required NAME missing");
  EXPECT_FALSE(run_args({}, {}, &why));
  EXPECT_EQ(why, "name: missing; every node needs one (name in [node], or --name)");
}

TEST(node_config_test, unknown_flags_and_stray_arguments_are_errors) {
  std::string why;
  auto parsed = run_args({"--name", "a", "--lisen", "10.0.0.1:1"}, {}, &why);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error(), std::errc::invalid_argument);
  EXPECT_EQ(why, "--lisen: unknown flag (did you mean --listen?); run with --help for the list");
  EXPECT_FALSE(run_args({"--name", "a", "--frobnicate=3"}, {}, &why));
  EXPECT_EQ(why, "--frobnicate: unknown flag; run with --help for the list");
  EXPECT_FALSE(run_args({"--name", "a", "extra"}, {}, &why));
  EXPECT_EQ(why, "\"extra\": unexpected argument; every setting is a --flag");
}

TEST(node_config_test, a_bad_config_file_named_by_the_flag_is_reported) {
  std::string why;
  auto missing = run_args({"--config", "/nonexistent/n.toml"}, {}, &why);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), std::errc::no_such_file_or_directory);
  EXPECT_EQ(why, "--config: /nonexistent/n.toml: cannot read: No such file or directory");
  temp_file bad{"[node]\nthreads = 4\n"};
  EXPECT_FALSE(run_args({"--config", bad.path().string()}, {}, &why));
  EXPECT_EQ(why, bad.path().string() +
                     ":2:1: threads: unknown key in [node]; the keys are name, "
                     "listen, seeds, max_packet_size, replay_buffer_bytes, request_window_bytes, "
                     "ping_interval, connection_timeout, reconnect_min, "
                     "reconnect_max, resume_window, force_tcp, "
                     "scheduler_threads, print_stats");
}

TEST(node_config_test, help_prints_every_flag_and_reports_help_printed) {
  std::ostringstream out;
  int count = 1;
  node_args_options options;
  options.description = "ping-pong sample";
  options.help_out = &out;
  options.extra = [&](CLI::App& app) { app.add_option("--count", count, "pings to send"); };
  std::string why;
  auto parsed = run_args({"--help"}, named("sample"), &why, options);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error(), help_printed);
  EXPECT_EQ(parsed.error(), std::errc::operation_canceled);
  auto help = out.str();
  for (auto flag :
       {"ping-pong sample", "--config", "--name", "--listen", "--seed", "--max-packet-size",
        "--replay-buffer", "--ping-interval", "--connection-timeout", "--reconnect-min",
        "--reconnect-max", "--resume-window", "--force-tcp", "--no-force-tcp", "--threads",
        "--stats", "--count", "(default 16MiB)", "(default sample)"})
    EXPECT_NE(help.find(flag), std::string::npos) << flag << " missing from:\n" << help;
  EXPECT_FALSE(run_args({"-h"}, {}, nullptr, options));
}

TEST(node_config_test, a_program_adds_its_own_flags) {
  int count = 1;
  node_args_options options;
  options.extra = [&](CLI::App& app) {
    app.add_option("--count", count, "pings to send")->check(CLI::Range(1, 100));
  };
  std::string why;
  auto parsed = run_args({"--name", "a", "--count", "42"}, {}, &why, options);
  ASSERT_TRUE(parsed) << why;
  EXPECT_EQ(count, 42);
  EXPECT_FALSE(run_args({"--name", "a", "--count", "0"}, {}, &why, options));
  EXPECT_NE(why.find("--count"), std::string::npos) << why;
  // A program that reuses a node flag learns it at once, as an error.
  options.extra = [](CLI::App& app) { app.add_flag("--name"); };
  auto clash = run_args({"--name", "a"}, {}, &why, options);
  ASSERT_FALSE(clash);
  EXPECT_EQ(clash.error(), std::errc::invalid_argument);
  EXPECT_EQ(why, "node_args_options.extra: added option matched existing option name: name is "
                 "already added");
}

// -- to_toml ----------------------------------------------------------------------

TEST(node_config_test, to_toml_writes_every_key) {
  EXPECT_EQ(to_toml(named("n1")), R"([node]
name = "n1"
listen = "127.0.0.1:0"
seeds = []
max_packet_size = "16MiB"
replay_buffer_bytes = "16MiB"
request_window_bytes = "8MiB"
ping_interval = "1s"
connection_timeout = "2s"
reconnect_min = "50ms"
reconnect_max = "500ms"
resume_window = "5s"
force_tcp = false
scheduler_threads = 0
print_stats = false
)");
}

TEST(node_config_test, to_toml_round_trips) {
  auto full = parse_node_config(full_file);
  ASSERT_TRUE(full);
  auto odd = named("odd_one");
  odd.listen = addr("[::ffff:10.0.0.1]:7000");
  odd.seeds = {addr("[fe80::1]:1"), addr("10.1.2.3:65535")};
  odd.max_packet_size = 1500;
  odd.replay_buffer_bytes = 3 * 1024 * 1024 + 1;
  odd.ping_interval = 1500ms;
  odd.connection_timeout = 2h;
  odd.reconnect_min = 1ms;
  odd.reconnect_max = 61s;
  odd.resume_window = 24h;
  odd.scheduler_threads = 4096;
  ASSERT_TRUE(validate(odd));
  for (const auto& config : {named("n1"), full.value(), odd}) {
    std::string why;
    auto again = parse_node_config(to_toml(config), "<to_toml>", &why);
    ASSERT_TRUE(again) << why << "\n" << to_toml(config);
    EXPECT_EQ(again.value(), config) << to_toml(config);
  }
}
