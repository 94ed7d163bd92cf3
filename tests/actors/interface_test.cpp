// Scenarios of interfaces: served in one call, one endpoint on the wire,
// method i at base token + i, working copies from bytes.

#include "test_requests.hpp"

namespace grainflow::test {
namespace {

struct arithmetic {
  request_stream<add_request> add;
  request_stream<hold_request> hold;
  request_stream<release_all_request> release_all;

  static constexpr std::size_t method_count = 3;

  template <class F>
  void visit_methods(F&& f) {
    // Declared out of member order on purpose: the numbers rule the wire.
    f(release_all, 2);
    f(add, 0);
    f(hold, 1);
  }
};

struct misnumbered {
  request_stream<add_request> add;
  request_stream<hold_request> hold;
  static constexpr std::size_t method_count = 2;
  template <class F>
  void visit_methods(F&& f) {
    f(add, 0);
    f(hold, 0);
  }
};

using interface_test = actor_test;

TEST_P(interface_test, methods_sit_at_the_base_token_adjusted_by_their_number) {
  handler_counts counts;
  auto actor = node_->system().spawn(test_server, &counts);
  auto iface = serve<arithmetic>(actor, node_->transport()).value();
  auto base = iface.add.get_endpoint();
  EXPECT_EQ(base_endpoint(iface), base);
  EXPECT_EQ(iface.hold.get_endpoint(), base.adjusted(1));
  EXPECT_EQ(iface.release_all.get_endpoint(), base.adjusted(2));
  EXPECT_EQ(iface.add.get_reply({3, 4, {}}).get(test_timeout).value(), 7);
}

TEST_P(interface_test, an_interface_travels_as_one_endpoint_and_works_after_decoding) {
  handler_counts counts;
  auto actor = node_->system().spawn(test_server, &counts);
  auto served = serve<arithmetic>(actor, node_->transport()).value();
  auto bytes = to_bytes(served).value();
  auto endpoint_bytes = to_bytes(served.add.get_endpoint()).value();
  EXPECT_EQ(bytes.size(), endpoint_bytes.size());
  auto copy = from_bytes<arithmetic>(node_->transport(), bytes).value();
  EXPECT_EQ(copy.add.get_reply({1, 1, {}}).get(test_timeout).value(), 2);
  auto held = copy.hold.get_reply({5, {}});
  EXPECT_EQ(copy.release_all.get_reply({}).get(test_timeout).value(), 1);
  EXPECT_EQ(held.get(test_timeout).value(), 0);
}

TEST_P(interface_test, malformed_bytes_do_not_make_an_interface) {
  std::vector<std::byte> garbage{std::byte{0x93}, std::byte{0x01}};
  auto decoded = from_bytes<arithmetic>(node_->transport(), garbage);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error(), error::serialization_failed);
}

TEST_P(interface_test, duplicate_method_numbers_are_refused) {
  handler_counts counts;
  auto actor = node_->system().spawn(test_server, &counts);
  auto served = serve<misnumbered>(actor, node_->transport());
  ASSERT_FALSE(served);
  EXPECT_EQ(served.error(), std::errc::invalid_argument);
  caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
}

/// An application's own error category.
class shop_category final : public std::error_category {
public:
  const char* name() const noexcept override { return "test-shop"; }
  std::string message(int) const override { return "out of stock"; }
};

const std::error_category& shop_errors() {
  static const shop_category instance;
  return instance;
}

caf::behavior refusing_actor(caf::event_based_actor*) {
  return {[](add_request& request) { request.reply.send_error({7, shop_errors()}); }};
}

TEST_P(interface_test, an_application_error_comes_back_as_itself) {
  register_error_category(shop_errors());
  auto actor = node_->system().spawn(refusing_actor);
  auto stream = serve<add_request>(actor, node_->transport()).value();
  auto answer = stream.get_reply({1, 1, {}}).get(test_timeout);
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error(), std::error_code(7, shop_errors()));
  EXPECT_NE(answer.error().category(), grainflow_category());
}

INSTANTIATE_TEST_SUITE_P(both_paths, interface_test, ::testing::Bool(), path_name);

} // namespace
} // namespace grainflow::test
