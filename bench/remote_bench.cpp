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

constexpr std::string_view serve_kind = "grainflow-tcp";

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

result<void> serve(int report_fd) {
  // SIGTERM is taken by sigwait below; blocked before any thread starts so
  // every thread inherits the mask.
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, nullptr);
  caf::actor_system_config config;
  transport_config transport;
  transport.local_address = network_address::loopback_v4(0);
  auto server = node::create_networked(config, transport);
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
                    int depth) {
  constexpr int runs = 3;
  measure_calls(client, target, n / 10, depth, "warm-up");
  measurement best;
  for (int run = 0; run < runs; ++run)
    best = faster(best, measure_calls(client, target, n, depth, "grainflow-tcp"));
  return best;
}

const measurement* find(const std::vector<measurement>& all, std::string_view name, int depth) {
  for (const auto& m : all)
    if (m.name == name && m.depth == depth)
      return &m;
  return nullptr;
}

} // namespace

bool serve_grainflow_tcp(int argc, char** argv) {
  return serve_if_asked(argc, argv, serve_kind, serve);
}

void run_remote(bool quick) {
  std::vector<measurement> results;
  {
    auto child = child_process::spawn_self({"--serve", std::string{serve_kind}});
    if (!child) {
      std::fprintf(stderr, "bench=grainflow-tcp error=%s\n", child.error().message().c_str());
      return;
    }
    auto line = child.value().read_line(std::chrono::seconds{10});
    auto target_endpoint = line ? parse_endpoint(line.value()) : result<endpoint>{line.error()};
    if (!target_endpoint) {
      std::fprintf(stderr, "bench=grainflow-tcp error=no endpoint from the server: %s\n",
                   target_endpoint.error().message().c_str());
      return;
    }
    caf::actor_system_config config;
    transport_config transport;
    transport.local_address = network_address::loopback_v4(0);
    auto client = node::create_networked(config, transport).value();
    request_stream<add_request> target{client->transport(), target_endpoint.value()};
    for (int depth : {1, 64}) {
      std::uint64_t n = quick ? 5'000 : (depth == 1 ? 30'000 : 300'000);
      results.push_back(best_of(*client, target, n, depth));
      print(results.back());
    }
    (void)child.value().terminate();
  }
  run_remote_baselines(quick, results);
  auto ratio = [&](std::string_view other, int depth) {
    const auto* ours = find(results, "grainflow-tcp", depth);
    const auto* theirs = find(results, other, depth);
    if (ours && theirs)
      print_ratio(*ours, *theirs);
  };
  for (int depth : {1, 64}) {
    ratio("raw-tcp", depth);
    ratio("caf-remote", depth);
  }
}

} // namespace grainflow::bench
