#include "process/process_fixture.hpp"

#include <cstdio>
#include <sstream>

#ifndef GRAINFLOW_TEST_NODE
#error "GRAINFLOW_TEST_NODE must name the grainflow_test_node binary (tests/process/CMakeLists.txt)"
#endif

namespace grainflow::process_test {

transport_config quick_transport(duration resume_window) {
  transport_config config;
  config.local_address = network_address::loopback_v4(0);
  config.ping_interval = 100ms;
  config.connection_timeout = 500ms;
  config.resume_window = resume_window;
  return config;
}

// -- node_process ---------------------------------------------------------------

std::unique_ptr<node_process> node_process::start(std::vector<std::string> args,
                                                  std::string* error) {
  std::string why;
  auto child = test::child_process::spawn(GRAINFLOW_TEST_NODE, std::move(args), {}, &why);
  if (!child) {
    *error = "cannot start " GRAINFLOW_TEST_NODE ": " + why;
    return nullptr;
  }
  std::unique_ptr<node_process> out{new node_process{std::move(child)}};
  if (!out->child_->wait_for_output(std::string{ready_line} + "\n", node_start_timeout)) {
    *error = "the node did not get ready; its output:\n" + out->output();
    return nullptr;
  }
  std::istringstream lines{out->output()};
  std::string line;
  while (std::getline(lines, line)) {
    char name[32] = {};
    unsigned port = 0;
    unsigned long long first = 0;
    unsigned long long second = 0;
    if (std::sscanf(line.c_str(), "stream=%31s port=%u first=%llu second=%llu", name, &port, &first,
                    &second) != 4)
      continue;
    out->port_ = static_cast<std::uint16_t>(port);
    out->streams_[name] = endpoint{network_address::loopback_v4(out->port_), uid{first, second}};
  }
  if (out->port_ == 0) {
    *error = "the node announced no stream; its output:\n" + out->output();
    return nullptr;
  }
  return out;
}

endpoint node_process::stream(const std::string& name) const {
  auto found = streams_.find(name);
  return found == streams_.end() ? endpoint{} : found->second;
}

// -- process_test ---------------------------------------------------------------

process_test::~process_test() = default;

std::uint16_t process_test::free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof(address);
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0)
    port = ntohs(address.sin_port);
  ::close(fd);
  return port;
}

void process_test::start_client(transport_config transport) {
  auto made = node::create_networked(client_config_, std::move(transport));
  ASSERT_TRUE(made) << "client node: " << made.error().message();
  client_ = std::move(made).value();
}

std::unique_ptr<node_process> process_test::start_server(std::vector<std::string> args) {
  std::string why;
  auto started = node_process::start(std::move(args), &why);
  EXPECT_TRUE(started) << why;
  return started;
}

result<node_stats> process_test::stats_of(const node_process& server,
                                          std::optional<std::uint16_t> via) {
  return stream<stats_request>(server, stream_names::stats, via)
      .get_reply({})
      .get(std::chrono::duration_cast<duration>(hang_bound));
}

std::string describe(const std::error_code& code) {
  if (code.category() == grainflow_category())
    return std::string{to_string(static_cast<error>(code.value()))};
  return code.category().name() + std::string{": "} + code.message();
}

long long ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start)
      .count();
}

} // namespace grainflow::process_test
