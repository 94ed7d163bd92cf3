// calculator_node: one node of a cluster that serves the calculator and
// registers it under the name "calculator", so that a client anywhere finds
// it through its seeds. Runs until SIGINT or SIGTERM.
//
//   calculator_node --name calc-1 --listen 127.0.0.1:23111 --seed 127.0.0.1:23101

#include "calculator.hpp"
#include "cluster_node.hpp"

#include <caf/all.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  // Before any thread starts, so that only wait_for_stop_signal() sees them.
  grainflow::samples::block_stop_signals();
  grainflow::node_config base;
  base.name = "calculator";
  grainflow::node_args_options options;
  options.description = "calculator_node: serves the calculator as \"calculator\"";
  int exit_code = 0;
  auto config = grainflow::samples::parse_args(argc, argv, base, options, exit_code);
  if (!config)
    return exit_code;

  caf::actor_system_config actor_config;
  auto cluster = grainflow::samples::make_node(*config, actor_config);
  if (!cluster) {
    std::printf("%s: cannot start the node: %s\n", config->name.c_str(),
                cluster.error().message().c_str());
    return 1;
  }
  auto& node = *cluster.value().node;
  auto served = calc::spawn_calculator(node);
  if (!served) {
    std::printf("%s: cannot serve the calculator: %s\n", config->name.c_str(),
                served.error().message().c_str());
    return 1;
  }
  auto base_endpoint = grainflow::base_endpoint(served.value());
  auto registered = cluster.value()
                        .names->register_name("calculator", base_endpoint)
                        .get(std::chrono::seconds{5});
  if (!registered) {
    std::printf("%s: cannot register \"calculator\": %s\n", config->name.c_str(),
                registered.error().message().c_str());
    return 1;
  }
  // Scripts wait for this line.
  std::printf("%s: serving \"calculator\" at %s; ready\n", config->name.c_str(),
              base_endpoint.to_string().c_str());
  std::fflush(stdout);

  int signal = grainflow::samples::wait_for_stop_signal();
  if (config->print_stats)
    grainflow::samples::print_stats(node.transport());
  std::printf("%s: signal %d, stopping\n", config->name.c_str(), signal);
  return 0;
}
