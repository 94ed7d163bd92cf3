#include "test_requests.hpp"

namespace grainflow::test {

caf::behavior test_server(caf::stateful_actor<std::vector<reply_promise<std::int32_t>>>* self,
                          handler_counts* counts) {
  return {
      [counts](add_request& request) {
        ++counts->add;
        request.reply.send(request.a + request.b);
      },
      [self, counts](hold_request& request) {
        ++counts->hold;
        self->state.push_back(request.reply);
      },
      [counts](drop_request&) { ++counts->drop; },
      [self](release_all_request& request) {
        auto held = std::move(self->state);
        self->state.clear();
        for (std::size_t i = 0; i < held.size(); ++i)
          held[i].send(static_cast<std::int32_t>(i));
        request.reply.send(static_cast<std::int32_t>(held.size()));
      },
  };
}

actor_test::actor_test() {
  transport_config transport;
  transport.serialize_local_delivery = GetParam();
  node_ = std::make_unique<node>(config_, transport);
}

actor_test::~actor_test() = default;

served_streams actor_test::spawn_server() {
  served_streams out;
  out.actor = node_->system().spawn(test_server, &counts_);
  auto& transport = node_->transport();
  out.add = serve<add_request>(out.actor, transport).value();
  out.hold = serve<hold_request>(out.actor, transport).value();
  out.drop = serve<drop_request>(out.actor, transport).value();
  out.release_all = serve<release_all_request>(out.actor, transport).value();
  return out;
}

std::string to_string_error(const std::error_code& code) {
  if (code.category() == grainflow_category())
    return std::string{to_string(static_cast<error>(code.value()))};
  return code.message();
}

std::string path_name(const ::testing::TestParamInfo<bool>& info) {
  return info.param ? "serialized" : "in_process";
}

} // namespace grainflow::test
