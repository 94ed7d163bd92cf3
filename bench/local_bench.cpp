#include "local_bench.hpp"

#include "bench_report.hpp"
#include "grainflow_calls.hpp"

#include "grainflow/actors/all.hpp"

#include <caf/all.hpp>
#include <msgpack.hpp>

#include <cstdio>
#include <cstdlib>

namespace grainflow::bench {

namespace {

/// What the CAF client counts: requests issued and answered, out of `n`.
struct client_counters {
  std::uint64_t n = 0;
  std::uint64_t issued = 0;
  std::uint64_t answered = 0;
};

measurement measure_grainflow(std::uint64_t n, int depth) {
  caf::actor_system_config config;
  node process{config};
  auto server = process.system().spawn(adder);
  auto stream = serve<add_request>(server, process.transport()).value();
  return measure_calls(process, stream, n, depth, "grainflow-local");
}

// -- CAF ------------------------------------------------------------------------

caf::behavior caf_server(caf::event_based_actor*) {
  return {[](std::int32_t a, std::int32_t b) { return a + b; }};
}

struct caf_client_state : client_counters {
  caf::actor target;
};

void caf_issue(caf::stateful_actor<caf_client_state>* self) {
  auto& st = self->state;
  auto i = static_cast<std::int32_t>(st.issued++);
  // caf::infinite: a finite timeout schedules a timer per request, which
  // would make CAF look slower than it can be.
  self->request(st.target, caf::infinite, i, std::int32_t{1}).then([self, i](std::int32_t sum) {
    if (sum != i + 1) {
      std::fprintf(stderr, "caf-local: wrong answer\n");
      std::abort();
    }
    auto& st = self->state;
    if (++st.answered == st.n)
      self->quit();
    else if (st.issued < st.n)
      caf_issue(self);
  });
}

caf::behavior caf_client(caf::stateful_actor<caf_client_state>* self, caf::actor target,
                         std::uint64_t n, int depth) {
  self->state.target = target;
  self->state.n = n;
  for (int i = 0; i < depth; ++i)
    caf_issue(self);
  return {[](caf::ok_atom) {}};
}

measurement measure_caf(std::uint64_t n, int depth) {
  caf::actor_system_config config;
  caf::actor_system system{config};
  auto server = system.spawn(caf_server);
  caf::scoped_actor waiter{system};
  auto start = std::chrono::steady_clock::now();
  auto client = system.spawn(caf_client, server, n, depth);
  waiter->wait_for(client);
  auto seconds = seconds_since(start);
  anon_send_exit(server, caf::exit_reason::user_shutdown);
  return {"caf-local", depth, n, seconds};
}

} // namespace

void run_local(bool quick) {
  // Two cores shared with the OS make single runs noisy: each side gets the
  // best of several alternating runs, after a warm-up of each.
  constexpr int runs = 3;
  for (int depth : {1, 64}) {
    std::uint64_t n = quick ? 20'000 : (depth == 1 ? 100'000 : 500'000);
    measure_grainflow(n / 10, depth);
    measure_caf(n / 10, depth);
    measurement ours;
    measurement theirs;
    for (int run = 0; run < runs; ++run) {
      ours = faster(ours, measure_grainflow(n, depth));
      theirs = faster(theirs, measure_caf(n, depth));
    }
    print(ours);
    print(theirs);
    print_ratio(ours, theirs);
  }
}

} // namespace grainflow::bench
