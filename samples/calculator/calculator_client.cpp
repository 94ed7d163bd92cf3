// calculator_client: finds "calculator" through its seeds, makes the calls —
// division by zero and an overflow included — and prints each answer. Exits
// 0 only if every answer is the expected one.
//
//   calculator_client --name calc-client --seed 127.0.0.1:23101

#include "calculator.hpp"
#include "cluster_node.hpp"

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

} // namespace

int main(int argc, char** argv) {
  grainflow::node_config base;
  base.name = "calculator-client";
  grainflow::node_args_options options;
  options.description = "calculator_client: calls the cluster's \"calculator\"";
  int exit_code = 0;
  auto config = grainflow::samples::parse_args(argc, argv, base, options, exit_code);
  if (!config)
    return exit_code;

  // The calculator's errors come back serialized, decoded by category name.
  grainflow::register_error_category(calc::calculator_category());
  caf::actor_system_config actor_config;
  auto cluster = grainflow::samples::make_node(*config, actor_config);
  if (!cluster) {
    std::printf("calculator_client: cannot start the node: %s\n",
                cluster.error().message().c_str());
    return 1;
  }
  auto& node = *cluster.value().node;
  auto found =
      grainflow::samples::find_interface<calc::calculator>(*cluster.value().names, "calculator");
  if (!found) {
    std::printf("calculator_client: cannot find \"calculator\": %s\n",
                found.error().message().c_str());
    return 1;
  }
  auto& calculator = found.value();
  std::printf("calculator_client: \"calculator\" is at %s\n",
              grainflow::base_endpoint(calculator).to_string().c_str());

  auto timeout = std::chrono::seconds{5};
  int failures = 0;
  // An expected error must be the calculator's own, not a transport failure.
  auto check = [&](const char* what, grainflow::result<std::int32_t> answer,
                   grainflow::result<std::int32_t> expected) {
    bool right = answer.has_value() == expected.has_value() &&
                 (answer ? answer.value() == expected.value() : answer.error() == expected.error());
    std::printf("  %-22s -> %s%s\n", what, describe(answer).c_str(), right ? "" : "  WRONG");
    failures += !right;
  };
  using calc::calculator_error;
  check("add 20 + 22", calculator.add.get_reply({20, 22, {}}).get(timeout), 42);
  check("sub 50 - 8", calculator.sub.get_reply({50, 8, {}}).get(timeout), 42);
  check("mul 6 * 7", calculator.mul.get_reply({6, 7, {}}).get(timeout), 42);
  check("div 84 / 2", calculator.div.get_reply({84, 2, {}}).get(timeout), 42);
  check("div 1 / 0", calculator.div.get_reply({1, 0, {}}).get(timeout),
        make_error_code(calculator_error::division_by_zero));
  check("mul 65536 * 65536", calculator.mul.get_reply({65536, 65536, {}}).get(timeout),
        make_error_code(calculator_error::overflow));
  if (config->print_stats)
    grainflow::samples::print_stats(node.transport());
  std::printf("calculator_client: %s\n", failures == 0 ? "all answers right" : "WRONG ANSWERS");
  return failures == 0 ? 0 : 1;
}
