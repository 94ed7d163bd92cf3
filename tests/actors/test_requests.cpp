#include "test_requests.hpp"

#include <algorithm>
#include <cstdio>

namespace grainflow::test {

caf::behavior test_server(caf::stateful_actor<std::vector<reply_promise<std::int32_t>>>* self,
                          handler_counts* counts) {
  return {
      [counts](add_request& request) {
        ++counts->add;
        request.reply.send(request.a + request.b);
      },
      [self, counts](hold_request& request) {
        ++counts->hold;
        self->state.push_back(request.reply);
      },
      [counts](drop_request&) { ++counts->drop; },
      [self](release_all_request& request) {
        auto held = std::move(self->state);
        self->state.clear();
        for (std::size_t i = 0; i < held.size(); ++i)
          held[i].send(static_cast<std::int32_t>(i));
        request.reply.send(static_cast<std::int32_t>(held.size()));
      },
  };
}

transport_config loopback_transport() {
  transport_config config;
  config.local_address = network_address::loopback_v4(0);
  return config;
}

transport_config quick_failure_detection() {
  using namespace std::chrono_literals;
  auto config = loopback_transport();
  config.ping_interval = 100ms * timing_scale;
  config.connection_timeout = 500ms * timing_scale;
  config.resume_window = 700ms * timing_scale;
  return config;
}

log_capture::log_capture() {
  set_log_handler(&capture, this);
}

log_capture::~log_capture() {
  set_log_handler(nullptr, nullptr);
}

void log_capture::capture(void* context, const char* line) noexcept {
  auto* self = static_cast<log_capture*>(context);
  std::lock_guard<std::mutex> guard{self->mtx_};
  self->lines_.emplace_back(line);
}

bool log_capture::contains(std::string_view text) {
  std::lock_guard<std::mutex> guard{mtx_};
  return std::any_of(lines_.begin(), lines_.end(),
                     [&](const std::string& line) { return line.find(text) != line.npos; });
}

std::string log_capture::lines() {
  std::lock_guard<std::mutex> guard{mtx_};
  std::string out;
  for (const auto& line : lines_)
    out += line + "\n";
  return out;
}

actor_test::actor_test() {
  transport_config transport;
  transport.serialize_local_delivery = GetParam();
  node_ = std::make_unique<node>(config_, transport);
}

actor_test::~actor_test() = default;

served_streams serve_test_server(node& host, handler_counts* counts) {
  served_streams out;
  out.actor = host.system().spawn(test_server, counts);
  auto& transport = host.transport();
  out.add = serve<add_request>(out.actor, transport).value();
  out.hold = serve<hold_request>(out.actor, transport).value();
  out.drop = serve<drop_request>(out.actor, transport).value();
  out.release_all = serve<release_all_request>(out.actor, transport).value();
  return out;
}

served_streams actor_test::spawn_server() {
  return serve_test_server(*node_, &counts_);
}

std::string hex(const std::vector<std::byte>& bytes) {
  std::string out;
  char buf[4];
  for (auto b : bytes) {
    std::snprintf(buf, sizeof(buf), "%02x ", static_cast<unsigned>(b));
    out += buf;
  }
  if (!out.empty())
    out.pop_back();
  return out;
}

std::string to_string_error(const std::error_code& code) {
  if (code.category() == grainflow_category())
    return std::string{to_string(static_cast<error>(code.value()))};
  return code.message();
}

std::string path_name(const ::testing::TestParamInfo<bool>& info) {
  return info.param ? "serialized" : "in_process";
}

} // namespace grainflow::test
