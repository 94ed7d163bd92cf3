// kv_node: one shard of the key-value store. Serves the store interface and
// registers it as "kv/<shard-index>"; a client finds shards 0..count-1 by
// name. Runs until SIGINT or SIGTERM.
//
//   kv_node --name kv-1 --listen 127.0.0.1:23101 --shard-index 0 --shard-count 3

#include "cluster_node.hpp"
#include "kv.hpp"

#include <CLI/CLI.hpp>
#include <caf/all.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  // Before any thread starts, so that only wait_for_stop_signal() sees them.
  grainflow::samples::block_stop_signals();
  std::size_t shard_index = 0;
  std::size_t shard_count = 1;
  grainflow::node_config base;
  base.name = "kv";
  grainflow::node_args_options options;
  options.description = "kv_node: serves one shard of the key-value store as \"kv/<index>\"";
  options.extra = [&](CLI::App& app) {
    app.add_option("--shard-index", shard_index, "this shard's index, 0..count-1");
    app.add_option("--shard-count", shard_count, "how many shards the store has")
        ->check(CLI::Range(1, 1024));
  };
  int exit_code = 0;
  auto config = grainflow::samples::parse_args(argc, argv, base, options, exit_code);
  if (!config)
    return exit_code;
  if (shard_index >= shard_count) {
    std::fprintf(stderr, "kv_node: --shard-index must be below --shard-count\n");
    return 2;
  }

  caf::actor_system_config actor_config;
  auto cluster = grainflow::samples::make_node(*config, actor_config);
  if (!cluster) {
    std::printf("%s: cannot start the node: %s\n", config->name.c_str(),
                cluster.error().message().c_str());
    return 1;
  }
  auto& node = *cluster.value().node;
  auto served = kv::spawn_store(node);
  if (!served) {
    std::printf("%s: cannot serve the store: %s\n", config->name.c_str(),
                served.error().message().c_str());
    return 1;
  }
  auto name = kv::shard_name(shard_index);
  auto base_endpoint = grainflow::base_endpoint(served.value());
  auto registered =
      cluster.value().names->register_name(name, base_endpoint).get(std::chrono::seconds{5});
  if (!registered) {
    std::printf("%s: cannot register \"%s\": %s\n", config->name.c_str(), name.c_str(),
                registered.error().message().c_str());
    return 1;
  }
  // Scripts wait for this line.
  std::printf("%s: serving shard %zu of %zu as \"%s\" at %s; ready\n", config->name.c_str(),
              shard_index, shard_count, name.c_str(), base_endpoint.to_string().c_str());
  std::fflush(stdout);

  int signal = grainflow::samples::wait_for_stop_signal();
  // The shard's final size, asked like any client would.
  auto size = served.value().size.get_reply({}).get(std::chrono::seconds{1});
  if (config->print_stats)
    grainflow::samples::print_stats(node.transport());
  std::printf("%s: signal %d, stopping with %llu keys\n", config->name.c_str(), signal,
              size ? static_cast<unsigned long long>(size.value()) : 0ull);
  return 0;
}
