// grainflow-bench [local|all] [--quick]: runs the measurements of a group,
// each beside its comparison in the same run.

#include "local_bench.hpp"

#include <cstdio>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
  std::string group = "all";
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0)
      quick = true;
    else
      group = argv[i];
  }
  if (group != "all" && group != "local") {
    std::fprintf(stderr, "usage: grainflow-bench [local|all] [--quick]\n");
    return 2;
  }
  grainflow::bench::run_local(quick);
  return 0;
}
