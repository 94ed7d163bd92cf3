// calculator: an interface of four methods served by one actor, called from
// the main thread. Division by zero comes back as the calculator's own error,
// which the caller tells apart from transport errors by its category. The
// same calls then run again with every message serialized, as they would
// travel between processes.

#include "calculator.hpp"

#include <caf/all.hpp>

#include <cstdio>
#include <string>

namespace {

std::string describe(const grainflow::result<std::int32_t>& answer) {
  if (answer)
    return std::to_string(answer.value());
  const auto& code = answer.error();
  if (code.category() == calc::calculator_category())
    return "application error: " + code.message();
  return std::string{"transport error ("} + code.category().name() + "): " + code.message();
}

int run(bool serialized) {
  caf::actor_system_config config;
  grainflow::transport_config transport;
  transport.serialize_local_delivery = serialized;
  grainflow::node node{config, transport};
  auto served = calc::spawn_calculator(node);
  if (!served) {
    std::printf("cannot serve the calculator: %s\n", served.error().message().c_str());
    return 1;
  }
  // A client's copy of the interface travels as one endpoint.
  auto bytes = grainflow::to_bytes(served.value());
  auto client = grainflow::from_bytes<calc::calculator>(node.transport(), bytes.value());
  std::printf("calculator (%s): interface at %s, %zu bytes on the wire\n",
              serialized ? "serialized path" : "in-process path",
              grainflow::base_endpoint(client.value()).to_string().c_str(), bytes.value().size());

  auto& calculator = client.value();
  auto timeout = std::chrono::seconds{5};
  int failures = 0;
  auto check = [&](const char* what, grainflow::result<std::int32_t> answer, bool expect_ok) {
    std::printf("  %-22s -> %s\n", what, describe(answer).c_str());
    failures += answer.has_value() != expect_ok;
  };
  check("add 20 + 22", calculator.add.get_reply({20, 22, {}}).get(timeout), true);
  check("sub 50 - 8", calculator.sub.get_reply({50, 8, {}}).get(timeout), true);
  check("mul 6 * 7", calculator.mul.get_reply({6, 7, {}}).get(timeout), true);
  check("div 84 / 2", calculator.div.get_reply({84, 2, {}}).get(timeout), true);
  check("div 1 / 0", calculator.div.get_reply({1, 0, {}}).get(timeout), false);
  check("mul 65536 * 65536", calculator.mul.get_reply({65536, 65536, {}}).get(timeout), false);
  auto stats = node.transport().stats();
  std::printf("  transport: %llu in-process deliveries, %llu packets\n",
              static_cast<unsigned long long>(stats.local_deliveries),
              static_cast<unsigned long long>(stats.packets_delivered));
  return failures;
}

} // namespace

int main() {
  int failures = run(false) + run(true);
  return failures == 0 ? 0 : 1;
}
