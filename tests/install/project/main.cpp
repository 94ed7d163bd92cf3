// A user's program built against an installed grainflow.
#include <grainflow/actors/all.hpp>

#include <caf/all.hpp>
#include <msgpack.hpp>

#include <cstdio>

struct echo_request {
  std::int32_t value = 0;
  grainflow::reply_promise<std::int32_t> reply;
  MSGPACK_DEFINE(value, reply)
};

int main() {
  caf::actor_system_config config;
  grainflow::node node{config};
  auto actor = node.system().spawn([](caf::event_based_actor*) -> caf::behavior {
    return {[](echo_request& request) { request.reply.send(request.value); }};
  });
  auto stream = grainflow::serve<echo_request>(actor, node.transport()).value();
  auto answer = stream.get_reply({7, {}}).get(std::chrono::seconds{5});
  std::printf("outside project: echo 7 -> %d\n", answer ? answer.value() : -1);
  return answer && answer.value() == 7 ? 0 : 1;
}
