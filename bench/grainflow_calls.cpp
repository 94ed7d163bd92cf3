#include "grainflow_calls.hpp"

#include "grainflow/actors/all.hpp"

#include <caf/all.hpp>

#include <cstdio>
#include <cstdlib>

namespace grainflow::bench {

namespace {

struct client_state {
  request_stream<add_request> target;
  std::uint64_t n = 0;
  std::uint64_t issued = 0;
  std::uint64_t answered = 0;
};

void issue(caf::stateful_actor<client_state>* self) {
  auto& st = self->state;
  auto i = static_cast<std::int32_t>(st.issued++);
  then(self, st.target.get_reply(add_request{i, 1, {}}), [self, i](result<std::int32_t> sum) {
    if (!sum || sum.value() != i + 1) {
      std::fprintf(stderr, "grainflow-bench: wrong answer: %s\n",
                   sum ? std::to_string(sum.value()).c_str() : sum.error().message().c_str());
      std::abort();
    }
    auto& st = self->state;
    if (++st.answered == st.n)
      self->quit();
    else if (st.issued < st.n)
      issue(self);
  });
}

caf::behavior client(caf::stateful_actor<client_state>* self, request_stream<add_request> target,
                     std::uint64_t n, int depth) {
  self->state.target = target;
  self->state.n = n;
  for (int i = 0; i < depth; ++i)
    issue(self);
  return {[](caf::ok_atom) {}};
}

} // namespace

caf::behavior adder(caf::event_based_actor*) {
  return {[](add_request& request) { request.reply.send(request.a + request.b); }};
}

measurement measure_calls(node& caller, const request_stream<add_request>& target, std::uint64_t n,
                          int depth, std::string name) {
  caf::scoped_actor waiter{caller.system()};
  auto start = std::chrono::steady_clock::now();
  auto calling = caller.system().spawn(client, target, n, depth);
  waiter->wait_for(calling);
  return {std::move(name), depth, n, seconds_since(start)};
}

} // namespace grainflow::bench
