// grainflow-bench [local|remote|all] [--quick]: runs the measurements of a
// group, each beside its comparison in the same run. `--serve ...` is the
// server side of a remote measurement, started by the bench itself.

#include "local_bench.hpp"
#include "remote_baselines.hpp"
#include "remote_bench.hpp"

#include <cstdio>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
  if (grainflow::bench::serve_remote_baseline(argc, argv) ||
      grainflow::bench::serve_grainflow_tcp(argc, argv))
    return 0;
  std::string group = "all";
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0)
      quick = true;
    else
      group = argv[i];
  }
  if (group != "all" && group != "local" && group != "remote") {
    std::fprintf(stderr, "usage: grainflow-bench [local|remote|all] [--quick]\n");
    return 2;
  }
  if (group == "all" || group == "local")
    grainflow::bench::run_local(quick);
  if (group == "all" || group == "remote")
    grainflow::bench::run_remote(quick);
  return 0;
}
