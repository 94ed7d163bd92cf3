#pragma once

// The fixture of the multi-process tests: server nodes run as real processes
// (grainflow_test_node), the test process itself is the client node, and
// everything talks TCP on 127.0.0.1. A server's streams are found from the
// lines it prints; the child_process harness kills whatever a test leaves
// running, even when an assertion fails.

#include "process/process_protocol.hpp"
#include "support/child_process.hpp"

#include "grainflow/actors/all.hpp"

#include <caf/all.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace grainflow::process_test {

using namespace std::chrono_literals;

/// How long a node process may take to announce itself: a CAF actor system
/// under AddressSanitizer starts in well under a second on this machine.
constexpr std::chrono::milliseconds node_start_timeout{10'000};

/// The longest any single wait in these tests may take before it counts as
/// a hang; every scenario finishes far sooner.
constexpr std::chrono::milliseconds hang_bound{10'000};

/// Timing for a process that wants to notice failures fast: pings every
/// 100 ms, a silent peer is dropped after 500 ms, and a dropped session is
/// kept for `resume_window`.
transport_config quick_transport(duration resume_window);

/// One grainflow_test_node process and the streams it announced.
class node_process {
public:
  /// Starts the node with `args` (see test_node_main.cpp) and waits until it
  /// is ready. Returns null, with the reason (and the node's output) in
  /// `*error`, when it does not start.
  static std::unique_ptr<node_process> start(std::vector<std::string> args, std::string* error);

  /// The port the node listens on (127.0.0.1).
  std::uint16_t port() const noexcept { return port_; }

  /// The endpoint the node announced as `name` (invalid when it did not).
  endpoint stream(const std::string& name) const;

  /// Everything the node printed so far.
  std::string output() const { return child_->output(); }

  /// Signals the node's process group.
  bool kill(int signal) { return child_->kill(signal); }
  /// The node's process id (valid until it was reaped).
  pid_t pid() const noexcept { return child_->pid(); }

  /// Waits for the node to end (see child_process::wait).
  std::optional<test::exit_status> wait(std::chrono::milliseconds timeout) {
    return child_->wait(timeout);
  }

private:
  explicit node_process(std::unique_ptr<test::child_process> child) noexcept
      : child_(std::move(child)) {}

  std::unique_ptr<test::child_process> child_;
  std::uint16_t port_ = 0;
  std::map<std::string, endpoint> streams_;
};

/// A test whose process is a client node; servers are node processes.
class process_test : public ::testing::Test {
protected:
  ~process_test() override;

  /// Creates the client node (once per test, before any call).
  void start_client(transport_config transport);

  /// A port on 127.0.0.1 nothing listens on right now (0 if none was found);
  /// a test that must know its listening port before it listens uses it.
  static std::uint16_t free_loopback_port();

  /// Starts a node process or fails the test (check HasFatalFailure()).
  std::unique_ptr<node_process> start_server(std::vector<std::string> args = {});

  /// The client's handle on `server`'s stream `name`; with `via`, the same
  /// token at another address (a proxy in front of the server).
  template <class Req>
  request_stream<Req> stream(const node_process& server, const std::string& name,
                             std::optional<std::uint16_t> via = std::nullopt) {
    auto at = server.stream(name);
    if (via)
      at.address = network_address::loopback_v4(*via);
    return request_stream<Req>{client_->transport(), at};
  }

  /// The server's stats as its actor sees them now, asked at `via` if given.
  result<node_stats> stats_of(const node_process& server,
                              std::optional<std::uint16_t> via = std::nullopt);

  caf::actor_system_config client_config_;
  std::unique_ptr<node> client_;
};

/// "name" for grainflow errors, the message for others: readable failures.
std::string describe(const std::error_code& code);

/// Milliseconds since `start`, for messages.
long long ms_since(std::chrono::steady_clock::time_point start);

} // namespace grainflow::process_test
