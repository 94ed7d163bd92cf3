#include "bench_report.hpp"

#include <cstdio>

namespace grainflow::bench {

void print(const measurement& m) {
  std::printf("bench=%s depth=%d n=%llu seconds=%.4f req_per_s=%.0f us_per_rt=%.3f\n",
              m.name.c_str(), m.depth, static_cast<unsigned long long>(m.n), m.seconds,
              m.req_per_s(), m.us_per_rt());
  std::fflush(stdout);
}

void print_ratio(const measurement& a, const measurement& b) {
  std::printf("ratio=%s/%s depth=%d req_per_s=%.3f us_per_rt=%.3f\n", a.name.c_str(),
              b.name.c_str(), a.depth, a.req_per_s() / b.req_per_s(),
              a.us_per_rt() / b.us_per_rt());
  std::fflush(stdout);
}

} // namespace grainflow::bench
