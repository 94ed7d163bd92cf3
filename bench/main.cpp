// grainflow-bench [local|remote|shm|all] [--quick]: runs the measurements of a
// group, each beside its comparison in the same run. `--serve ...` is the
// server side of a remote measurement, started by the bench itself.

#include "local_bench.hpp"
#include "remote_baselines.hpp"
#include "remote_bench.hpp"
#include "shm_bench.hpp"

#include <cstdio>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
  if (grainflow::bench::serve_remote_baseline(argc, argv) ||
      grainflow::bench::serve_grainflow_tcp(argc, argv) ||
      grainflow::bench::serve_grainflow_shm(argc, argv) ||
      grainflow::bench::serve_shm_link(argc, argv))
    return 0;
  std::string group = "all";
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0)
      quick = true;
    else
      group = argv[i];
  }
  if (group != "all" && group != "local" && group != "remote" && group != "shm") {
    std::fprintf(stderr, "usage: grainflow-bench [local|remote|shm|all] [--quick]\n");
    return 2;
  }
  if (group == "all" || group == "local")
    grainflow::bench::run_local(quick);
  if (group == "all" || group == "remote")
    grainflow::bench::run_remote(quick);
  if (group == "all" || group == "shm")
    grainflow::bench::run_shm(quick);
  return 0;
}
