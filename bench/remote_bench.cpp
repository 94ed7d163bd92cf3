#include "remote_bench.hpp"

#include "child_process.hpp"
#include "grainflow_calls.hpp"
#include "remote_baselines.hpp"

#include "grainflow/actors/all.hpp"

#include <caf/all.hpp>

#include <csignal>
#include <cstdio>
#include <sstream>
#include <string_view>

namespace grainflow::bench {

namespace {

constexpr std::string_view tcp_kind = "grainflow-tcp";
constexpr std::string_view shm_kind = "grainflow-shm";

// The report line: "endpoint=<port> <token.first> <token.second>".
std::string describe(const endpoint& served) {
  return "endpoint=" + std::to_string(served.address.port()) + " " +
         std::to_string(served.token.first) + " " + std::to_string(served.token.second);
}

result<endpoint> parse_endpoint(const std::string& line) {
  std::istringstream in{line};
  std::string tag;
  unsigned port = 0;
  uid token;
  if (!std::getline(in, tag, '=') || tag != "endpoint" ||
      !(in >> port >> token.first >> token.second))
    return make_error_code(std::errc::protocol_error);
  return endpoint{network_address::loopback_v4(static_cast<std::uint16_t>(port)), token};
}

/// The transport of both processes: TCP forced for grainflow-tcp; for
/// grainflow-shm, the shared-memory link both choose on their own.
transport_config bench_transport(bool shared_memory) {
  transport_config transport;
  transport.local_address = network_address::loopback_v4(0);
  transport.use_shared_memory = shared_memory;
  return transport;
}

result<void> serve(int report_fd, bool shared_memory) {
  // SIGTERM is taken by sigwait below; blocked before any thread starts so
  // every thread inherits the mask.
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, nullptr);
  caf::actor_system_config config;
  auto server = node::create_networked(config, bench_transport(shared_memory));
  if (!server)
    return server.error();
  auto actor = server.value()->system().spawn(adder);
  auto stream = grainflow::serve<add_request>(actor, server.value()->transport());
  if (!stream)
    return stream.error();
  if (auto reported = report_to_parent(report_fd, describe(stream.value().get_endpoint()));
      !reported)
    return reported.error();
  int signal = 0;
  ::sigwait(&term, &signal);
  return success();
}

measurement best_of(node& client, const request_stream<add_request>& target, std::uint64_t n,
                    int depth, std::string_view name) {
  constexpr int runs = 3;
  measure_calls(client, target, n / 10, depth, "warm-up");
  measurement best;
  for (int run = 0; run < runs; ++run)
    best = faster(best, measure_calls(client, target, n, depth, std::string{name}));
  return best;
}

const measurement* find(const std::vector<measurement>& all, std::string_view name, int depth) {
  for (const auto& m : all)
    if (m.name == name && m.depth == depth)
      return &m;
  return nullptr;
}

/// grainflow-tcp as compare_remote measures it: get_reply from an actor of
/// this process's node to the adder of the server child's node.
class grainflow_tcp_contender final : public remote_contender {
public:
  explicit grainflow_tcp_contender(child_process server)
      : remote_contender{std::move(server)} {}
  ~grainflow_tcp_contender() override { close_client(); }

  const char* name() const noexcept override { return tcp_kind.data(); }
  result<measurement> measure(std::uint64_t n, int depth) override {
    // measure_calls ends the process on a wrong answer or a failed call.
    return measure_calls(*client_, target_, n, depth, std::string{tcp_kind});
  }

  /// Starts this process's node, to call the server child's adder.
  result<void> connect(const endpoint& target) {
    auto client = node::create_networked(config_, bench_transport(false));
    if (!client)
      return failure(client.error());
    client_ = std::move(client).value();
    target_ = request_stream<add_request>{client_->transport(), target};
    return success();
  }

protected:
  /// The client node goes before its server, so that it leaves in order.
  void close_client() override {
    target_ = {};
    client_.reset();
  }

private:
  caf::actor_system_config config_; // the node's actor system refers to it
  std::unique_ptr<node> client_;
  request_stream<add_request> target_;
};

result<std::unique_ptr<remote_contender>> start_grainflow_tcp() {
  auto server = child_process::spawn_self({"--serve", std::string{tcp_kind}});
  if (!server)
    return failure(server.error());
  auto line = server.value().read_line(std::chrono::seconds{10});
  if (!line)
    return failure(line.error());
  auto target = parse_endpoint(line.value());
  if (!target)
    return failure(target.error());
  auto created = std::make_unique<grainflow_tcp_contender>(std::move(server.value()));
  if (auto connected = created->connect(target.value()); !connected)
    return failure(connected.error());
  return std::unique_ptr<remote_contender>{std::move(created)};
}

} // namespace

bool serve_grainflow_tcp(int argc, char** argv) {
  return serve_if_asked(argc, argv, tcp_kind, [](int fd) { return serve(fd, false); });
}

bool serve_grainflow_shm(int argc, char** argv) {
  return serve_if_asked(argc, argv, shm_kind, [](int fd) { return serve(fd, true); });
}

void run_grainflow_pair(bool shared_memory, bool quick, std::vector<measurement>& results) {
  const std::string name{shared_memory ? shm_kind : tcp_kind};
  auto child = child_process::spawn_self({"--serve", name});
  if (!child) {
    std::fprintf(stderr, "bench=%s error=%s\n", name.c_str(), child.error().message().c_str());
    return;
  }
  auto line = child.value().read_line(std::chrono::seconds{10});
  auto target_endpoint = line ? parse_endpoint(line.value()) : result<endpoint>{line.error()};
  if (!target_endpoint) {
    std::fprintf(stderr, "bench=%s error=no endpoint from the server: %s\n", name.c_str(),
                 target_endpoint.error().message().c_str());
    return;
  }
  caf::actor_system_config config;
  auto client = node::create_networked(config, bench_transport(shared_memory)).value();
  request_stream<add_request> target{client->transport(), target_endpoint.value()};
  for (int depth : {1, 64}) {
    std::uint64_t n = quick ? 5'000 : (depth == 1 ? 30'000 : 300'000);
    results.push_back(best_of(*client, target, n, depth, name));
    print(results.back());
  }
  if (shared_memory) {
    auto peers = client->transport().peers();
    if (peers.empty() || !peers[0].shared_memory)
      std::fprintf(stderr, "bench=%s error=the calls did not go over shared memory\n",
                   name.c_str());
  }
  (void)child.value().terminate();
}

void print_ratios(const std::vector<measurement>& results, std::string_view ours,
                  std::string_view other) {
  for (int depth : {1, 64}) {
    const auto* a = find(results, ours, depth);
    const auto* b = find(results, other, depth);
    if (a && b)
      print_ratio(*a, *b);
  }
}

void run_remote(bool quick) {
  remote_contenders contenders;
  if (auto ours = start_grainflow_tcp(); ours)
    contenders.push_back(std::move(ours).value());
  else
    print_contender_error(tcp_kind.data(), 0, ours.error());
  for (auto& baseline : start_remote_baselines())
    contenders.push_back(std::move(baseline));
  std::vector<measurement> results;
  compare_remote(quick, contenders, results);
  for (int depth : {1, 64})
    for (std::string_view other : {"raw-tcp", "caf-remote"}) {
      const auto* ours = find(results, tcp_kind, depth);
      const auto* theirs = find(results, other, depth);
      if (ours && theirs)
        print_ratio(*ours, *theirs);
    }
}

} // namespace grainflow::bench
