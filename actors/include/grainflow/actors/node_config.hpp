#pragma once

/// @file
/// A node's configuration — its name, where it listens, whom it contacts
/// first, the transport's limits — and how it is read from TOML and from
/// command-line flags. Plain data and parsing: no CAF, no sockets.
///
/// Error model: every fallible call returns `result<T>` whose error code says
/// what the caller can do about it, and fills the optional `why` string with
/// the human-readable detail (which key or flag, the value as written, what is
/// allowed). The code is for programs, the text for people:
/// - `std::errc::invalid_argument`: the configuration is wrong; show `why`
///   and exit with an error;
/// - an OS error code (e.g. `no_such_file_or_directory`): a config file could
///   not be read;
/// - `help_printed` (`std::errc::operation_canceled`): `--help` was given and
///   the help text printed; exit successfully.
/// Why not a richer error type: grainflow has one error model (results of
/// `std::error_code`), and an error code cannot carry text; a thread-local
/// "last error" would be hidden global state. `*why` is written only on
/// failure.

#include "grainflow/endpoints/network_address.hpp"
#include "grainflow/endpoints/result.hpp"
#include "grainflow/transport/packet.hpp"

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

// CLI11 stays out of this header: a program that adds flags of its own
// includes <CLI/CLI.hpp> (header-only) in its own source file.
namespace CLI {
class App;
} // namespace CLI

namespace grainflow {

// -- the configuration --------------------------------------------------------

/// Everything a node needs before it starts: identity, addresses, transport
/// limits and runtime switches. docs/deploying.md lists each key with its
/// type, default, valid range and command-line flag.
///
/// A default-constructed config is invalid only in lacking a name; every
/// other member holds a working default. `validate` checks all rules.
struct node_config {
  // -- identity and addresses -------------------------------------------------

  /// This node's name in logs and statistics. Required: 1..64 characters of
  /// `A-Z a-z 0-9 _ . -`.
  std::string name;

  /// Where this node accepts connections and the address other nodes use to
  /// reach it (it is also its canonical address in the handshake), so it
  /// must not be a wildcard such as 0.0.0.0. Port 0: the node only dials out.
  network_address listen = network_address::loopback_v4(0);

  /// Other nodes to contact first. Each needs a real port, appears once, and
  /// differs from `listen`.
  std::vector<network_address> seeds;

  // -- transport limits -------------------------------------------------------

  /// Largest packet, header included, sent or accepted: 1 KiB .. 1 GiB. Both
  /// ends of a connection should agree.
  std::size_t max_packet_size = default_max_packet_size;

  /// Bytes of sent but unacknowledged reliable packets kept per peer for
  /// replay after a reconnect; a full buffer makes senders wait. At least
  /// `max_packet_size` (so any packet fits), at most 64 GiB. The default is
  /// the smallest value that holds with the default packet limit (16 MiB).
  std::size_t replay_buffer_bytes = default_max_packet_size;

  /// Bytes of requests from one peer this node takes in and has not answered
  /// yet; beyond it the peer holds its further requests back (replies always
  /// pass). 0 .. 64 GiB; 0 turns request flow control off.
  std::size_t request_window_bytes = 8 * 1024 * 1024;

  /// A ping goes out after this much idle time on a connection: 10 ms .. 60 s.
  std::chrono::milliseconds ping_interval{1000};

  /// A peer that sent nothing for this long counts as disconnected. Greater
  /// than `ping_interval` (or idle but healthy peers would time out), at
  /// most 24 h.
  std::chrono::milliseconds connection_timeout{2000};

  /// First delay before reconnecting; later ones grow up to `reconnect_max`.
  /// 1 ms .. 24 h: the backoff grows by multiplying, so 0 would never grow.
  std::chrono::milliseconds reconnect_min{50};

  /// Longest delay between reconnect attempts: `reconnect_min` .. 24 h.
  std::chrono::milliseconds reconnect_max{500};

  /// How long a disconnected peer's session (and its replay buffer) is kept
  /// for resumption. At least `reconnect_max`, so one reconnect attempt at
  /// the longest backoff still finds it; at most 24 h.
  std::chrono::milliseconds resume_window{5000};

  // -- runtime ----------------------------------------------------------------

  /// Never use shared memory, even with a peer on the same host.
  bool force_tcp = false;

  /// Scheduler threads for actors: 0 .. 4096. 0 leaves the network thread a
  /// core: one per hardware thread less one, at least one.
  std::size_t scheduler_threads = 0;

  /// Print transport statistics while running and at exit.
  bool print_stats = false;

  /// Compares every member.
  friend bool operator==(const node_config&, const node_config&) = default;
};

// -- reading and checking -----------------------------------------------------

/// The error of `parse_node_args` after it printed the help text: the program
/// should exit successfully. Compare with `r.error() == help_printed`.
inline constexpr std::errc help_printed = std::errc::operation_canceled;

/// How `parse_node_args` presents itself and which flags a program adds.
struct node_args_options {
  /// First line of `--help`.
  std::string description = {};

  /// Called with the parser after the node's flags are registered, so a
  /// program can add its own (`app.add_option("--count", count_, ...)`).
  /// The caller includes <CLI/CLI.hpp>; options it adds are parsed along
  /// with the node's, and their errors are reported like the node's. Values
  /// are assigned as parsing proceeds, even if parsing later fails.
  std::function<void(CLI::App&)> extra = {};

  /// Where `--help` prints; null means std::cout.
  std::ostream* help_out = nullptr;
};

/// Parses TOML text: a `[node]` table with the keys of `node_config` (sizes as
/// integer bytes or strings like "16MiB", durations as integer milliseconds
/// or strings like "250ms"). Keys not given keep their defaults. Unknown keys
/// and tables are errors — a typo must not pass silently. Validates the
/// result. Messages start with `source_name:line:column:`.
[[nodiscard]] result<node_config> parse_node_config(std::string_view toml_text,
                                                    std::string_view source_name = "<config>",
                                                    std::string* why = nullptr);

/// Reads `file` and parses it as `parse_node_config` does, naming the file in
/// messages. Fails with the OS's error code when the file cannot be read.
[[nodiscard]] result<node_config> load_node_config(const std::filesystem::path& file,
                                                   std::string* why = nullptr);

/// Applies command-line flags over `base`, in layers: `base`, then the file
/// of `--config FILE` (its keys only), then every other flag; validates the
/// result. Flags: --config, --name, --listen, --seed (repeatable and
/// comma-separated; given at all, it replaces the seed list), --max-packet-size,
/// --replay-buffer, --ping-interval, --connection-timeout, --reconnect-min,
/// --reconnect-max, --resume-window, --force-tcp / --no-force-tcp, --threads,
/// --stats / --no-stats, -h / --help. A flag given twice takes its last value.
/// Unknown flags and stray arguments are errors. On `--help`, prints the help
/// text (including the flags `options.extra` added) and fails with
/// `help_printed`. `argv[0]` is the program name.
[[nodiscard]] result<node_config> parse_node_args(int argc, const char* const* argv,
                                                  node_config base = {},
                                                  const node_args_options& options = {},
                                                  std::string* why = nullptr);

/// Checks every rule of `node_config`, single-key ranges and the rules
/// between keys (seeds distinct and not `listen`, replay buffer >= max
/// packet, timeout > ping interval, reconnect_min <= reconnect_max <=
/// resume_window). The parsers call it; call it yourself on a config built
/// in code.
[[nodiscard]] result<void> validate(const node_config& config, std::string* why = nullptr);

/// Renders `config` as a TOML `[node]` table with every key, sizes and
/// durations in the largest exact unit. For every config that passes
/// `validate`, `parse_node_config(to_toml(c))` yields `c` again.
std::string to_toml(const node_config& config);

} // namespace grainflow
