// kv_client: finds shards kv/0..kv/N-1 through its seeds, writes --keys keys
// spread over them by a stable hash with --in-flight calls outstanding,
// reads every key back and checks its value. Prints counts and timings;
// exits non-zero on any wrong value or failed call.
//
//   kv_client --name kv-client --seed 127.0.0.1:23101 --shards 3 --keys 5000

#include "cluster_node.hpp"
#include "kv.hpp"

#include <CLI/CLI.hpp>
#include <caf/all.hpp>

#include <chrono>
#include <cstdio>
#include <deque>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

/// Runs calls 0..count-1 with up to `in_flight` outstanding: `start(i)` makes
/// call i and returns its future, `finish(i, result)` takes its answer.
/// Waiting on the oldest call keeps the pipe full without any callback
/// machinery: the others progress meanwhile.
template <class Start, class Finish>
void pipelined(std::size_t count, std::size_t in_flight, Start start, Finish finish) {
  using future = decltype(start(std::size_t{0}));
  std::deque<std::pair<std::size_t, future>> pending;
  for (std::size_t i = 0; i < count || !pending.empty();) {
    if (i < count && pending.size() < in_flight) {
      pending.emplace_back(i, start(i));
      ++i;
      continue;
    }
    auto [index, oldest] = std::move(pending.front());
    pending.pop_front();
    finish(index, oldest.get(std::chrono::seconds{10}));
  }
}

double milliseconds_since(clock_type::time_point start) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - start).count();
}

} // namespace

int main(int argc, char** argv) {
  std::size_t shard_count = 3;
  std::size_t key_count = 5000;
  std::size_t in_flight = 64;
  grainflow::node_config base;
  base.name = "kv-client";
  grainflow::node_args_options options;
  options.description = "kv_client: writes keys across the kv shards and reads them back";
  options.extra = [&](CLI::App& app) {
    app.add_option("--shards", shard_count, "how many shards (kv/0..kv/N-1)")
        ->check(CLI::Range(1, 1024));
    app.add_option("--keys", key_count, "how many keys to write and read")
        ->check(CLI::Range(1, 10'000'000));
    app.add_option("--in-flight", in_flight, "calls outstanding at once")
        ->check(CLI::Range(1, 100'000));
  };
  int exit_code = 0;
  auto config = grainflow::samples::parse_args(argc, argv, base, options, exit_code);
  if (!config)
    return exit_code;

  kv::register_errors();
  caf::actor_system_config actor_config;
  auto cluster = grainflow::samples::make_node(*config, actor_config);
  if (!cluster) {
    std::printf("kv_client: cannot start the node: %s\n", cluster.error().message().c_str());
    return 1;
  }
  auto& node = *cluster.value().node;

  std::vector<kv::store> shards;
  for (std::size_t i = 0; i < shard_count; ++i) {
    auto name = kv::shard_name(i);
    auto found = grainflow::samples::find_interface<kv::store>(*cluster.value().names, name);
    if (!found) {
      std::printf("kv_client: cannot find \"%s\": %s\n", name.c_str(),
                  found.error().message().c_str());
      return 1;
    }
    std::printf("kv_client: \"%s\" is at %s\n", name.c_str(),
                grainflow::base_endpoint(found.value()).to_string().c_str());
    shards.push_back(std::move(found).value());
  }

  // A tag per run, so that values left by an earlier run never pass the check.
  auto run_tag = std::to_string(std::random_device{}());
  auto key_of = [](std::size_t i) { return "key-" + std::to_string(i); };
  auto value_of = [&](std::size_t i) { return "value-" + std::to_string(i) + "-" + run_tag; };
  auto shard_for = [&](const std::string& key) -> kv::store& {
    return shards[kv::shard_of(key, shard_count)];
  };

  std::size_t errors = 0;
  auto report_error = [&](const char* what, std::size_t i, const std::error_code& code) {
    if (++errors <= 5)
      std::printf("  %s key-%zu failed: %s\n", what, i, code.message().c_str());
  };

  auto write_start = clock_type::now();
  pipelined(
      key_count, in_flight,
      [&](std::size_t i) {
        auto key = key_of(i);
        return shard_for(key).put.get_reply({key, value_of(i), {}});
      },
      [&](std::size_t i, grainflow::result<bool> r) {
        if (!r)
          report_error("put", i, r.error());
      });
  auto write_ms = milliseconds_since(write_start);
  std::printf("kv_client: wrote %zu keys over %zu shards in %.1f ms (%.0f puts/s, %zu in flight)\n",
              key_count, shard_count, write_ms, key_count / write_ms * 1000, in_flight);

  std::size_t mismatches = 0;
  auto read_start = clock_type::now();
  pipelined(
      key_count, in_flight,
      [&](std::size_t i) {
        auto key = key_of(i);
        return shard_for(key).get.get_reply({key, {}});
      },
      [&](std::size_t i, grainflow::result<std::string> r) {
        if (!r)
          report_error("get", i, r.error());
        else if (r.value() != value_of(i) && ++mismatches <= 5)
          std::printf("  get key-%zu: wrong value \"%s\"\n", i, r.value().c_str());
      });
  auto read_ms = milliseconds_since(read_start);
  std::printf("kv_client: read %zu keys back in %.1f ms (%.0f gets/s): %zu right, %zu wrong, "
              "%zu failed calls\n",
              key_count, read_ms, key_count / read_ms * 1000, key_count - mismatches, mismatches,
              errors);

  // How the keys spread: FNV-1a should give each shard about a third.
  for (std::size_t i = 0; i < shard_count; ++i) {
    auto size = shards[i].size.get_reply({}).get(std::chrono::seconds{5});
    if (size)
      std::printf("  %s holds %llu keys\n", kv::shard_name(i).c_str(),
                  static_cast<unsigned long long>(size.value()));
    else
      report_error("size", i, size.error());
  }
  // A key never written must come back as the store's own "not found".
  auto missing =
      shard_for("no-such-key").get.get_reply({"no-such-key", {}}).get(std::chrono::seconds{5});
  bool missing_right = !missing && missing.error() == kv::make_error_code(kv::kv_error::not_found);
  std::printf("  get no-such-key -> %s\n",
              missing ? missing.value().c_str() : missing.error().message().c_str());

  if (config->print_stats)
    grainflow::samples::print_stats(node.transport());
  bool ok = mismatches == 0 && errors == 0 && missing_right;
  std::printf("kv_client: %s\n", ok ? "every key read back right" : "FAILED");
  return ok ? 0 : 1;
}
