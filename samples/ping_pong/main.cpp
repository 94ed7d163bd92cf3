// ping_pong: two actors in one process. The pinger calls the ponger's
// request stream with get_reply and continues, inside its own actor, when
// each answer arrives — the way CAF's request(...).then(...) does.

#include "grainflow/actors/all.hpp"

#include <caf/all.hpp>
#include <msgpack.hpp>

#include <cstdio>

namespace {

/// A ping carries a counter; the pong answers it incremented.
struct ping {
  std::int32_t count = 0;
  grainflow::reply_promise<std::int32_t> reply;
  MSGPACK_DEFINE(count, reply)
};

caf::behavior ponger(caf::event_based_actor*) {
  return {
      [](ping& request) {
        std::printf("  ponger: got ping %d, answering %d\n", request.count, request.count + 1);
        request.reply.send(request.count + 1);
      },
  };
}

struct pinger_state {
  grainflow::request_stream<ping> target;
  std::int32_t rounds = 0;
};

void send_ping(caf::stateful_actor<pinger_state>* self, std::int32_t count) {
  auto future = self->state.target.get_reply(ping{count, {}});
  grainflow::then(self, std::move(future), [self](grainflow::result<std::int32_t> answer) {
    if (!answer) {
      std::printf("  pinger: call failed: %s\n", answer.error().message().c_str());
      self->quit();
      return;
    }
    std::printf("  pinger: got pong %d\n", answer.value());
    if (answer.value() >= self->state.rounds) {
      self->quit();
      return;
    }
    send_ping(self, answer.value());
  });
}

caf::behavior pinger(caf::stateful_actor<pinger_state>* self,
                     grainflow::request_stream<ping> target, std::int32_t rounds) {
  self->state.target = target;
  self->state.rounds = rounds;
  send_ping(self, 0);
  return {[](caf::unit_t) {}};
}

} // namespace

int main() {
  caf::actor_system_config config;
  grainflow::node node{config};
  auto pong_actor = node.system().spawn(ponger);
  auto stream = grainflow::serve<ping>(pong_actor, node.transport());
  if (!stream) {
    std::printf("serve failed: %s\n", stream.error().message().c_str());
    return 1;
  }
  std::printf("ping_pong: ponger serves %s\n", stream.value().get_endpoint().to_string().c_str());

  std::printf("ping_pong: a pinger actor plays 5 rounds\n");
  {
    caf::scoped_actor waiter{node.system()};
    auto player = node.system().spawn(pinger, stream.value(), 5);
    waiter->wait_for(player);
  }

  std::printf("ping_pong: the main thread calls and blocks on get()\n");
  auto answer = stream.value().get_reply(ping{41, {}}).get(std::chrono::seconds{5});
  std::printf("  main: ping 41 -> %s\n",
              answer ? std::to_string(answer.value()).c_str() : answer.error().message().c_str());
  return answer && answer.value() == 42 ? 0 : 1;
}
