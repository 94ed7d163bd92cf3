// grainflow_test_node: the server process of the multi-process tests
// (tests/process/). A networked node on 127.0.0.1 whose one actor serves the
// streams of tests/process/process_protocol.hpp. It announces each stream on
// stdout as "stream=<name> port=<port> first=<u64> second=<u64>", then
// "ready", and serves until SIGTERM (which prints its final stats and exits 0)
// or SIGKILL.
//
// Usage: grainflow_test_node [--port N] [--ping-interval-ms N]
//          [--connection-timeout-ms N] [--resume-window-ms N] [--threads N]
// --port 0 (the default) listens on an ephemeral port.

#include "process/process_protocol.hpp"

#include "grainflow/actors/all.hpp"

#include <caf/all.hpp>

#include <csignal>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <pthread.h>

namespace {

using namespace grainflow;
using namespace grainflow::process_test;

/// What the command line asks for.
struct options {
  std::uint16_t port = 0;
  transport_config transport;
  std::size_t threads = 2;
};

std::optional<std::uint64_t> parse_number(std::string_view text, std::uint64_t max) {
  if (text.empty() || text.size() > 19)
    return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (value > max)
    return std::nullopt;
  return value;
}

/// Parses the flags; prints why and returns nullopt on anything unknown.
std::optional<options> parse_options(int argc, char** argv) {
  options out;
  // The tests kill this process on purpose: peers should notice quickly.
  out.transport.ping_interval = std::chrono::milliseconds{100};
  out.transport.connection_timeout = std::chrono::milliseconds{500};
  for (int i = 1; i < argc; ++i) {
    std::string_view flag{argv[i]};
    if (i + 1 >= argc) {
      std::fprintf(stderr, "grainflow_test_node: %s needs a value\n", argv[i]);
      return std::nullopt;
    }
    auto value = parse_number(argv[++i], flag == "--port" ? 65535 : 86'400'000);
    if (!value) {
      std::fprintf(stderr, "grainflow_test_node: bad value for %s: %s\n", argv[i - 1], argv[i]);
      return std::nullopt;
    }
    auto ms = std::chrono::milliseconds{*value};
    if (flag == "--port")
      out.port = static_cast<std::uint16_t>(*value);
    else if (flag == "--ping-interval-ms")
      out.transport.ping_interval = ms;
    else if (flag == "--connection-timeout-ms")
      out.transport.connection_timeout = ms;
    else if (flag == "--resume-window-ms")
      out.transport.resume_window = ms;
    else if (flag == "--threads" && *value > 0)
      out.threads = static_cast<std::size_t>(*value);
    else if (flag == "--threads") {
      std::fprintf(stderr, "grainflow_test_node: --threads needs at least 1\n");
      return std::nullopt;
    } else {
      std::fprintf(stderr, "grainflow_test_node: unknown flag %s\n", argv[i - 1]);
      return std::nullopt;
    }
  }
  out.transport.local_address = network_address::loopback_v4(out.port);
  return out;
}

// -- the serving actor ----------------------------------------------------------

/// Everything the actor counts. The actor writes it, main reads it after
/// SIGTERM: hence the mutex, uncontended in practice.
struct counters {
  std::mutex mtx;
  node_stats stats;                                      // guarded by mtx
  std::unordered_map<std::uint64_t, std::uint32_t> runs; // guarded by mtx: runs per tagged id
};

/// Bounds the duplicate list in a stats reply; the count says the rest.
constexpr std::size_t max_reported_duplicates = 16;

struct server_state {
  std::vector<hold_request> held;
};

caf::behavior test_node_server(caf::stateful_actor<server_state>* self, counters* counts,
                               flow_transport* transport) {
  return {
      [counts](add_request& r) {
        {
          std::lock_guard<std::mutex> guard{counts->mtx};
          ++counts->stats.add_runs;
        }
        r.reply.send(r.a + r.b);
      },
      [self, counts](hold_request& r) {
        {
          std::lock_guard<std::mutex> guard{counts->mtx};
          ++counts->stats.hold_runs;
        }
        self->state.held.push_back(std::move(r));
      },
      [self](release_request& r) {
        auto held = std::move(self->state.held);
        self->state.held.clear();
        for (auto& each : held)
          each.reply.send(each.id);
        r.reply.send(static_cast<std::int32_t>(held.size()));
      },
      [counts](drop_request&) {
        std::lock_guard<std::mutex> guard{counts->mtx};
        ++counts->stats.drop_runs;
      },
      [counts](tagged_request& r) {
        {
          std::lock_guard<std::mutex> guard{counts->mtx};
          auto& stats = counts->stats;
          ++stats.tagged_runs;
          auto& runs = counts->runs[r.id];
          if (++runs == 1) {
            ++stats.tagged_distinct;
          } else {
            ++stats.tagged_duplicates;
            if (stats.duplicate_ids.size() < max_reported_duplicates)
              stats.duplicate_ids.push_back(r.id);
          }
        }
        r.reply.send(tagged_answer(r.id, r.value));
      },
      [counts, transport](stats_request& r) {
        node_stats copy;
        {
          std::lock_guard<std::mutex> guard{counts->mtx};
          copy = counts->stats;
        }
        for (const auto& peer : transport->peers()) {
          copy.reconnects += peer.reconnects;
          copy.retransmits += peer.retransmits;
        }
        r.reply.send(std::move(copy));
      },
  };
}

template <class Req>
bool announce(const caf::actor& server, flow_transport& transport, const char* name) {
  auto served = serve<Req>(server, transport);
  if (!served) {
    std::fprintf(stderr, "grainflow_test_node: serving %s: %s\n", name,
                 served.error().message().c_str());
    return false;
  }
  const auto& at = served.value().get_endpoint();
  std::printf("stream=%s port=%u first=%llu second=%llu\n", name,
              static_cast<unsigned>(at.address.port()),
              static_cast<unsigned long long>(at.token.first),
              static_cast<unsigned long long>(at.token.second));
  return true;
}

int run(const options& opts, const sigset_t& stop_signals) {
  caf::actor_system_config config;
  config.set("scheduler.max-threads", opts.threads);
  auto made = node::create_networked(config, opts.transport);
  if (!made) {
    std::fprintf(stderr, "grainflow_test_node: cannot start on port %u: %s\n",
                 static_cast<unsigned>(opts.port), made.error().message().c_str());
    return 1;
  }
  auto& the_node = *made.value();
  counters counts;
  auto server = the_node.system().spawn(test_node_server, &counts, &the_node.transport());
  auto& transport = the_node.transport();
  bool served = announce<add_request>(server, transport, stream_names::add) &&
                announce<hold_request>(server, transport, stream_names::hold) &&
                announce<release_request>(server, transport, stream_names::release) &&
                announce<drop_request>(server, transport, stream_names::drop) &&
                announce<tagged_request>(server, transport, stream_names::tagged) &&
                announce<stats_request>(server, transport, stream_names::stats);
  if (!served)
    return 1;
  std::printf("%s\n", ready_line);
  std::fflush(stdout); // stdout is a pipe: fully buffered otherwise
  int signal = 0;
  ::sigwait(&stop_signals, &signal);
  {
    std::lock_guard<std::mutex> guard{counts.mtx};
    const auto& s = counts.stats;
    std::printf("%sadd=%llu hold=%llu tagged=%llu distinct=%llu duplicates=%llu\n",
                final_stats_prefix, static_cast<unsigned long long>(s.add_runs),
                static_cast<unsigned long long>(s.hold_runs),
                static_cast<unsigned long long>(s.tagged_runs),
                static_cast<unsigned long long>(s.tagged_distinct),
                static_cast<unsigned long long>(s.tagged_duplicates));
    std::fflush(stdout);
  }
  // Nothing more than a user's program would do: the node's destructor shuts
  // down in its documented order (transport first, then the actors).
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  auto opts = parse_options(argc, argv);
  if (!opts)
    return 2;
  // Blocked before any thread starts, so every thread inherits the mask and
  // the signals reach only the sigwait in run().
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  if (::pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr) != 0)
    return 1;
  return run(*opts, stop_signals);
}
