// Scenarios of the name registry: on one node (objects moved, and every
// message serialized), across three nodes over TCP on 127.0.0.1 (a seed, a
// service, a client), under threads, and its wire format byte for byte as
// docs/protocol.md ("Name registry") shows it.

#include "test_requests.hpp"

#include "grainflow/actors/name_registry.hpp"
#include "grainflow/actors/registry_messages.hpp"
#include "grainflow/endpoints/well_known.hpp"
#include "grainflow/transport/packet.hpp"

#include <algorithm>
#include <cstdio>
#include <thread>

namespace grainflow::test {
namespace {

using namespace std::chrono_literals;

/// An interface of two methods, to find by name as a whole.
struct arithmetic {
  request_stream<add_request> add;
  request_stream<drop_request> drop;

  static constexpr std::size_t method_count = 2;

  template <class F>
  void visit_methods(F&& f) {
    f(add, 0);
    f(drop, 1);
  }
};

/// Not a registry request: a string where the op should be.
struct misshapen_registry_request {
  std::string op;
  reply_promise<registry_answer> reply;
  MSGPACK_DEFINE(op, reply)
};

endpoint registry_endpoint(const network_address& address) {
  return endpoint{address, well_known_token(well_known::name_registry)};
}

bool has_name(const name_registry& registry, const std::string& name) {
  auto names = registry.names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

/// Waits until `condition` holds, for at most test_timeout.
template <class Condition>
bool eventually(Condition condition) {
  auto give_up = std::chrono::steady_clock::now() + test_timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > give_up)
      return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

/// Stops an actor and waits until its endpoints are gone.
void stop_server(node& host, const served_streams& served) {
  caf::scoped_actor self{host.system()};
  self->send_exit(served.actor, caf::exit_reason::user_shutdown);
  self->wait_for(served.actor);
  ASSERT_TRUE(eventually([&] { return !host.transport().find_local(served.add.get_endpoint()); }));
}

/// The value of a result, or a default-constructed T on failure.
template <class T>
T or_default(const result<T>& x) {
  return x ? x.value() : T{};
}

// -- one node -----------------------------------------------------------------

class name_registry_test : public actor_test {
protected:
  name_registry_test()
      : registry_(name_registry::start(node_->transport(), {}).value()) {}

  /// A stream to this node's registry, for requests the API never sends.
  request_stream<registry_request> raw_registry() {
    return {node_->transport(), registry_endpoint(node_->address())};
  }

  std::unique_ptr<name_registry> registry_;
};

TEST_P(name_registry_test, a_registered_name_is_found_and_its_endpoint_answers) {
  auto served = spawn_server();
  EXPECT_TRUE(
      registry_->register_name("calc/add", served.add.get_endpoint()).get(test_timeout).value());
  auto found = registry_->lookup("calc/add");
  ASSERT_TRUE(found) << to_string_error(found.error());
  EXPECT_EQ(found.value(), served.add.get_endpoint());
  request_stream<add_request> add{node_->transport(), found.value()};
  EXPECT_EQ(add.get_reply({2, 3, {}}).get(test_timeout).value(), 5);
  EXPECT_EQ(registry_->names(), std::vector<std::string>{"calc/add"});
}

TEST_P(name_registry_test, the_latest_registration_wins) {
  auto served = spawn_server();
  EXPECT_TRUE(registry_->register_name("svc", served.add.get_endpoint()).get(test_timeout).value());
  // false: the name existed and now names another endpoint.
  EXPECT_FALSE(
      registry_->register_name("svc", served.hold.get_endpoint()).get(test_timeout).value());
  EXPECT_EQ(registry_->lookup("svc").value(), served.hold.get_endpoint());
  EXPECT_EQ(registry_->names().size(), 1u);
}

TEST_P(name_registry_test, an_unregistered_name_is_not_found) {
  auto served = spawn_server();
  ASSERT_TRUE(registry_->register_name("svc", served.add.get_endpoint()).get(test_timeout));
  EXPECT_TRUE(registry_->unregister_name("svc").get(test_timeout).value());
  EXPECT_FALSE(registry_->unregister_name("svc").get(test_timeout).value());
  auto found = registry_->lookup("svc");
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error(), error::endpoint_not_found);
  EXPECT_TRUE(registry_->names().empty());
}

TEST_P(name_registry_test, an_unregister_for_another_endpoint_leaves_the_name_alone) {
  auto served = spawn_server();
  ASSERT_TRUE(registry_->register_name("svc", served.add.get_endpoint()).get(test_timeout));
  auto stale = raw_registry()
                   .get_reply({static_cast<std::uint8_t>(registry_op::unregister_name),
                               "svc",
                               served.hold.get_endpoint(),
                               {}})
                   .get(test_timeout);
  ASSERT_TRUE(stale);
  EXPECT_FALSE(stale.value().found);
  EXPECT_EQ(registry_->lookup("svc").value(), served.add.get_endpoint());
}

TEST_P(name_registry_test, bad_names_are_refused) {
  auto served = spawn_server();
  auto target = served.add.get_endpoint();
  for (std::string bad :
       {std::string{}, std::string(129, 'x'), std::string{"tab\there"}, std::string{"nul\0byte", 8},
        std::string{"del\x7f"}, std::string{"caf\xc3\xa9"}}) {
    EXPECT_FALSE(name_registry::valid_name(bad)) << bad;
    auto registered = registry_->register_name(bad, target).get(test_timeout);
    ASSERT_FALSE(registered);
    EXPECT_EQ(registered.error(), std::errc::invalid_argument);
    EXPECT_EQ(registry_->lookup(bad).error(), std::errc::invalid_argument);
    EXPECT_EQ(registry_->unregister_name(bad).get(test_timeout).error(),
              std::errc::invalid_argument);
    // The registry itself checks too: other nodes are not trusted.
    auto raw = raw_registry().get_reply({0, bad, target, {}}).get(test_timeout);
    ASSERT_FALSE(raw);
    EXPECT_EQ(raw.error(), std::errc::invalid_argument);
  }
  for (std::string good : {std::string(128, 'x'), std::string{"a"}, std::string{"with space ~!"}})
    EXPECT_TRUE(registry_->register_name(good, target).get(test_timeout)) << good;
  EXPECT_EQ(registry_->register_name("no-target", endpoint{}).get(test_timeout).error(),
            std::errc::invalid_argument);
}

TEST_P(name_registry_test, a_name_of_a_terminated_actor_is_forgotten) {
  auto served = spawn_server();
  ASSERT_TRUE(registry_->register_name("svc", served.add.get_endpoint()).get(test_timeout));
  stop_server(*node_, served);
  auto found = registry_->lookup("svc");
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error(), error::endpoint_not_found);
  EXPECT_TRUE(registry_->names().empty());
  // Nor can a gone endpoint of this node be registered.
  EXPECT_EQ(registry_->register_name("svc", served.add.get_endpoint()).get(test_timeout).error(),
            error::endpoint_not_found);
}

TEST_P(name_registry_test, an_interface_is_found_as_a_whole) {
  auto actor = node_->system().spawn(test_server, &counts_);
  auto iface = serve<arithmetic>(actor, node_->transport()).value();
  ASSERT_TRUE(registry_->register_name("arithmetic", base_endpoint(iface)).get(test_timeout));
  auto found = registry_->lookup_interface<arithmetic>("arithmetic");
  ASSERT_TRUE(found);
  EXPECT_EQ(found.value().add.get_reply({20, 22, {}}).get(test_timeout).value(), 42);
  EXPECT_EQ(found.value().drop.get_reply({}).get(test_timeout).error(), error::broken_promise);
}

TEST_P(name_registry_test, one_registry_per_transport) {
  auto second = name_registry::start(node_->transport(), {});
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error(), std::errc::address_in_use);
  // The failed second one did not take the first one's token with it.
  EXPECT_TRUE(node_->transport().find_local(registry_endpoint(node_->address())));
  registry_.reset();
  EXPECT_FALSE(node_->transport().find_local(registry_endpoint(node_->address())));
  EXPECT_TRUE(name_registry::start(node_->transport(), {}));
}

TEST_P(name_registry_test, a_passed_deadline_is_timed_out) {
  auto found = registry_->lookup("svc", call_options::until(std::chrono::steady_clock::now() - 1s));
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error(), error::timed_out);
}

TEST_P(name_registry_test, garbage_is_answered_serialization_failed_and_counted) {
  auto before = node_->transport().stats().undecodable_payloads;
  request_stream<misshapen_registry_request> garbage{node_->transport(),
                                                     registry_endpoint(node_->address())};
  auto answer = garbage.get_reply({"register", {}}).get(test_timeout);
  ASSERT_FALSE(answer);
  if (GetParam()) {
    EXPECT_EQ(answer.error(), error::serialization_failed);
    EXPECT_EQ(node_->transport().stats().undecodable_payloads, before + 1);
  } else {
    // Same process, unserialized: the type is checked before delivery.
    EXPECT_EQ(answer.error(), error::wrong_message_type);
  }
  // Bytes that are not msgpack at all, with nobody to answer: counted.
  auto sent = node_->transport().send_packet(
      registry_endpoint(node_->address()),
      [](std::vector<std::byte>& out) { out.push_back(std::byte{0xc1}); });
  EXPECT_TRUE(sent);
  EXPECT_EQ(node_->transport().stats().undecodable_payloads, before + (GetParam() ? 2 : 1));
}

TEST_P(name_registry_test, an_unknown_operation_is_refused) {
  auto answer = raw_registry().get_reply({99, "svc", {}, {}}).get(test_timeout);
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error(), std::errc::operation_not_supported);
}

TEST_P(name_registry_test, a_closed_transport_withdraws_every_name) {
  auto served = spawn_server();
  ASSERT_TRUE(registry_->register_name("svc", served.add.get_endpoint()).get(test_timeout));
  node_->transport().close();
  EXPECT_TRUE(registry_->names().empty());
  EXPECT_EQ(registry_->lookup("svc").error(), error::transport_closed);
  EXPECT_EQ(registry_->register_name("svc", served.add.get_endpoint()).get(test_timeout).error(),
            error::transport_closed);
}

TEST_P(name_registry_test, threads_register_and_look_up_at_once) {
  auto served = spawn_server();
  const std::vector<endpoint> targets{served.add.get_endpoint(), served.hold.get_endpoint(),
                                      served.drop.get_endpoint()};
  constexpr int threads = 4;
  constexpr int rounds = 100;
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      for (int i = 0; i < rounds; ++i) {
        auto own = "worker-" + std::to_string(t) + "/" + std::to_string(i);
        const auto& target = targets[static_cast<std::size_t>(i) % targets.size()];
        if (!registry_->register_name(own, target).get(test_timeout))
          ++failures;
        if (or_default(registry_->lookup(own)) != target)
          ++failures;
        // Everyone overwrites and reads the shared name: any of the targets.
        (void)registry_->register_name("shared", target).get(test_timeout);
        auto shared = registry_->lookup("shared");
        if (!shared || std::find(targets.begin(), targets.end(), shared.value()) == targets.end())
          ++failures;
        if (i % 2 == 0 && !or_default(registry_->unregister_name(own).get(test_timeout)))
          ++failures;
        (void)registry_->names();
      }
    });
  for (auto& worker : workers)
    worker.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(registry_->names().size(), 1u + threads * rounds / 2);
}

INSTANTIATE_TEST_SUITE_P(paths, name_registry_test, ::testing::Bool(), path_name);

// -- three nodes --------------------------------------------------------------

/// The address of a node that is gone: nobody listens there any more.
network_address dead_address() {
  caf::actor_system_config config;
  return node::create_networked(config, loopback_transport()).value()->address();
}

/// A is the seed, B serves and registers, C looks up.
class name_registry_cluster_test : public ::testing::Test {
protected:
  name_registry_cluster_test() {
    a_ = node::create_networked(a_config_, loopback_transport()).value();
    b_ = node::create_networked(b_config_, loopback_transport()).value();
    c_ = node::create_networked(c_config_, loopback_transport()).value();
    // A lists itself, as a shared seed list does: it skips itself.
    a_registry_ = name_registry::start(a_->transport(), {a_->address()}).value();
    b_registry_ = name_registry::start(b_->transport(), {a_->address()}).value();
  }

  void start_c(std::vector<network_address> seeds) {
    c_registry_ = name_registry::start(c_->transport(), std::move(seeds)).value();
  }

  served_streams spawn_server_on_b() { return serve_test_server(*b_, &counts_); }

  /// Registers on B and waits until the seed has it.
  void register_on_b(const std::string& name, const endpoint& target) {
    ASSERT_TRUE(b_registry_->register_name(name, target).get(test_timeout));
    ASSERT_TRUE(eventually([&] { return has_name(*a_registry_, name); })) << log_.lines();
  }

  // First: the handler is process-wide, and the nodes log until they are gone.
  log_capture log_;
  caf::actor_system_config a_config_;
  caf::actor_system_config b_config_;
  caf::actor_system_config c_config_;
  handler_counts counts_;
  std::unique_ptr<node> a_;
  std::unique_ptr<node> b_;
  std::unique_ptr<node> c_;
  // Declared after the nodes, so destroyed first: a transport outlives its
  // registry.
  std::unique_ptr<name_registry> a_registry_;
  std::unique_ptr<name_registry> b_registry_;
  std::unique_ptr<name_registry> c_registry_;
};

TEST_F(name_registry_cluster_test, a_client_finds_a_service_through_the_seed) {
  start_c({a_->address()});
  auto served = spawn_server_on_b();
  register_on_b("adder", served.add.get_endpoint());
  auto found = c_registry_->lookup("adder");
  ASSERT_TRUE(found) << to_string_error(found.error());
  EXPECT_EQ(found.value(), served.add.get_endpoint());
  request_stream<add_request> add{c_->transport(), found.value()};
  EXPECT_EQ(add.get_reply({40, 2, {}}).get(test_timeout).value(), 42);
  EXPECT_FALSE(has_name(*c_registry_, "adder")); // C asked, it keeps nothing
}

/// A node whose announcements to `seed`, where nobody listens yet, fail
/// quickly, and a seed that comes up there when asked.
struct late_seed {
  explicit late_seed(handler_counts* counts) {
    node_ = node::create_networked(node_config_, quick_failure_detection()).value();
    registry_ = name_registry::start(node_->transport(), {address_}).value();
    served_ = serve_test_server(*node_, counts);
  }

  void come_up() {
    auto transport = loopback_transport();
    transport.local_address = address_;
    seed_ = node::create_networked(seed_config_, transport).value();
    seed_registry_ = name_registry::start(seed_->transport(), {}).value();
  }

  network_address address_ = dead_address();
  caf::actor_system_config node_config_;
  caf::actor_system_config seed_config_;
  std::unique_ptr<node> node_;
  std::unique_ptr<node> seed_;
  served_streams served_;
  std::unique_ptr<name_registry> registry_;
  std::unique_ptr<name_registry> seed_registry_;
};

TEST_F(name_registry_cluster_test, a_seed_that_comes_up_later_still_learns_the_name) {
  late_seed late{&counts_};
  ASSERT_TRUE(
      late.registry_->register_name("adder", late.served_.add.get_endpoint()).get(test_timeout));
  ASSERT_TRUE(eventually([&] { return log_.contains("retrying until it answers"); }))
      << log_.lines();
  auto up = std::chrono::steady_clock::now();
  late.come_up();
  EXPECT_TRUE(eventually([&] { return has_name(*late.seed_registry_, "adder"); })) << log_.lines();
  std::printf("the seed learned the name %lld ms after it came up\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now() - up)
                                         .count()));
  EXPECT_TRUE(eventually([&] { return log_.contains("answers again"); })) << log_.lines();
  // The transport named the failed dials once, and the connection that ended them.
  const auto seed = late.address_.to_string();
  EXPECT_TRUE(log_.contains("cannot connect to " + seed + ": ")) << log_.lines();
  EXPECT_TRUE(log_.contains("connected to " + seed + " after ")) << log_.lines();
}

TEST_F(name_registry_cluster_test, a_name_removed_meanwhile_is_not_announced_to_a_late_seed) {
  late_seed late{&counts_};
  ASSERT_TRUE(
      late.registry_->register_name("adder", late.served_.add.get_endpoint()).get(test_timeout));
  ASSERT_TRUE(eventually([&] { return log_.contains("retrying until it answers"); }));
  // Removed before the seed comes up: the retry waiting to register it there
  // gives up; the removal, announced too, finds nothing there.
  ASSERT_TRUE(late.registry_->unregister_name("adder").get(test_timeout).value());
  late.come_up();
  // The scenario above learns it well within this (it prints how fast).
  std::this_thread::sleep_for(1500ms);
  EXPECT_FALSE(has_name(*late.seed_registry_, "adder"));
}

TEST_F(name_registry_cluster_test, a_seed_that_restarted_empty_learns_the_names_back) {
  const auto refresh = 200ms * timing_scale;
  b_registry_.reset(); // one that refreshes often takes its place
  b_registry_ = name_registry::start(b_->transport(), {a_->address()}, refresh).value();
  auto served = spawn_server_on_b();
  register_on_b("adder", served.add.get_endpoint());
  auto seed_address = a_->address();
  a_registry_.reset();
  a_.reset();
  auto transport = loopback_transport();
  transport.local_address = seed_address;
  caf::actor_system_config restarted_config;
  auto restarted = node::create_networked(restarted_config, transport).value();
  auto restarted_registry = name_registry::start(restarted->transport(), {}).value();
  EXPECT_TRUE(eventually([&] { return has_name(*restarted_registry, "adder"); })) << log_.lines();
  // A name removed here is removed there, and no refresh brings it back.
  ASSERT_TRUE(b_registry_->unregister_name("adder").get(test_timeout).value());
  EXPECT_TRUE(eventually([&] { return !has_name(*restarted_registry, "adder"); }));
  std::this_thread::sleep_for(3 * refresh);
  EXPECT_FALSE(has_name(*restarted_registry, "adder"));
  b_registry_.reset();
  restarted_registry.reset();
}

TEST_F(name_registry_cluster_test, a_registry_refuses_a_refresh_interval_that_is_not_positive) {
  b_registry_.reset();
  auto refused = name_registry::start(b_->transport(), {a_->address()}, 0ms);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), std::errc::invalid_argument);
}

TEST_F(name_registry_cluster_test, a_name_nobody_registered_is_not_found) {
  start_c({a_->address()});
  auto found = c_registry_->lookup("nobody");
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error(), error::endpoint_not_found);
}

TEST_F(name_registry_cluster_test, a_seed_that_is_down_is_skipped) {
  start_c({dead_address(), a_->address()});
  auto served = spawn_server_on_b();
  register_on_b("adder", served.add.get_endpoint());
  auto start = std::chrono::steady_clock::now();
  auto found = c_registry_->lookup("adder");
  ASSERT_TRUE(found) << to_string_error(found.error());
  EXPECT_EQ(found.value(), served.add.get_endpoint());
  // The dead seed cost at most its own wait, not the caller's patience.
  EXPECT_LT(std::chrono::steady_clock::now() - start, name_registry::default_call_timeout + 1s);
}

TEST_F(name_registry_cluster_test, a_lookup_gives_up_at_its_deadline) {
  start_c({dead_address()});
  auto start = std::chrono::steady_clock::now();
  auto found = c_registry_->lookup("adder", call_options::within(300ms));
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error(), error::timed_out);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST_F(name_registry_cluster_test, a_seed_drops_a_name_whose_endpoint_is_gone) {
  start_c({a_->address()});
  auto served = spawn_server_on_b();
  register_on_b("adder", served.add.get_endpoint());
  stop_server(*b_, served);
  // A still names the endpoint; C's check with B finds it gone.
  auto found = c_registry_->lookup("adder");
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error(), error::endpoint_not_found);
  EXPECT_TRUE(eventually([&] { return !has_name(*a_registry_, "adder"); }));
  EXPECT_TRUE(b_registry_->names().empty());
}

TEST_F(name_registry_cluster_test, unregistering_reaches_the_seed_but_spares_a_newer_binding) {
  start_c({a_->address()});
  auto on_b = spawn_server_on_b();
  register_on_b("adder", on_b.add.get_endpoint());
  ASSERT_TRUE(b_registry_->unregister_name("adder").get(test_timeout).value());
  EXPECT_TRUE(eventually([&] { return !has_name(*a_registry_, "adder"); }));

  // The service moves from B to C; B's late unregister must not remove C's.
  register_on_b("svc", on_b.add.get_endpoint());
  auto on_c_actor = c_->system().spawn(test_server, &counts_);
  auto on_c = serve<add_request>(on_c_actor, c_->transport()).value();
  ASSERT_TRUE(c_registry_->register_name("svc", on_c.get_endpoint()).get(test_timeout));
  ASSERT_TRUE(
      eventually([&] { return or_default(a_registry_->lookup("svc")) == on_c.get_endpoint(); }));
  ASSERT_TRUE(b_registry_->unregister_name("svc").get(test_timeout).value());
  // B's next request to A travels behind the unregister on the same session.
  auto found = b_registry_->lookup("svc");
  ASSERT_TRUE(found) << to_string_error(found.error());
  EXPECT_EQ(found.value(), on_c.get_endpoint());
  EXPECT_TRUE(has_name(*a_registry_, "svc"));
}

TEST_F(name_registry_cluster_test, a_seed_answers_garbage_with_serialization_failed) {
  auto before = a_->transport().stats().undecodable_payloads;
  request_stream<misshapen_registry_request> garbage{c_->transport(),
                                                     registry_endpoint(a_->address())};
  auto answer = garbage.get_reply({"lookup", {}}).get(test_timeout);
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error(), error::serialization_failed);
  EXPECT_EQ(a_->transport().stats().undecodable_payloads, before + 1);
}

TEST_F(name_registry_cluster_test, clients_look_up_while_the_service_re_registers) {
  start_c({a_->address()});
  auto served = spawn_server_on_b();
  register_on_b("adder", served.add.get_endpoint());
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::thread registrar{[&] {
    for (int i = 0; !done.load(); ++i) {
      if (!b_registry_->register_name(i % 2 == 0 ? "adder" : "other", served.add.get_endpoint())
               .get(test_timeout))
        ++failures;
      // Paced: a flood of announcements would only queue lookups behind it.
      std::this_thread::sleep_for(1ms);
    }
  }};
  std::vector<std::thread> clients;
  for (int t = 0; t < 3; ++t)
    clients.emplace_back([&] {
      for (int i = 0; i < 30; ++i)
        if (or_default(c_registry_->lookup("adder")) != served.add.get_endpoint())
          ++failures;
    });
  for (auto& client : clients)
    client.join();
  done = true;
  registrar.join();
  EXPECT_EQ(failures.load(), 0);
}

// -- wire format --------------------------------------------------------------

TEST(name_registry_wire_format, a_lookup_request_packet) {
  endpoint reply_to{network_address::loopback_v4(4000), uid{1, 2}};
  auto now = std::chrono::steady_clock::now();
  std::vector<std::byte> payload;
  // The body's promise is nil here, as in the protocol document's examples;
  // from get_reply it is written as the same endpoint as reply_to.
  detail::append_request(payload, registry_request{1, "calc", {}, {}}, reply_to, std::nullopt, now);
  EXPECT_EQ(hex(payload), "93 c0 92 93 04 c4 04 7f 00 00 01 cd 0f a0 92 01 02 "
                          "94 01 a4 63 61 6c 63 92 c0 92 00 00 c0");
  std::vector<std::byte> packet;
  append_packet(packet, well_known_token(well_known::name_registry), payload);
  EXPECT_EQ(hex(packet), "36 00 00 00 6d ea ed 80 ff ff ff ff ff ff ff ff "
                         "04 00 00 00 00 00 00 00 "
                         "93 c0 92 93 04 c4 04 7f 00 00 01 cd 0f a0 92 01 02 "
                         "94 01 a4 63 61 6c 63 92 c0 92 00 00 c0");
}

TEST(name_registry_wire_format, a_register_request_body) {
  registry_request request{
      0, "calc", endpoint{network_address::ipv4({10, 0, 0, 7}, 4500), uid{5, 6}}, {}};
  EXPECT_EQ(hex(to_bytes(request).value()),
            "94 00 a4 63 61 6c 63 92 93 04 c4 04 0a 00 00 07 cd 11 94 92 05 06 c0");
}

TEST(name_registry_wire_format, answers) {
  std::vector<std::byte> found;
  detail::append_reply(found,
                       result<registry_answer>{registry_answer{
                           true, endpoint{network_address::ipv4({10, 0, 0, 7}, 4500), uid{5, 6}}}});
  EXPECT_EQ(hex(found), "92 00 92 c3 92 93 04 c4 04 0a 00 00 07 cd 11 94 92 05 06");
  std::vector<std::byte> not_found;
  detail::append_reply(not_found, result<registry_answer>{registry_answer{}});
  EXPECT_EQ(hex(not_found), "92 00 92 c2 92 c0 92 00 00");
  std::vector<std::byte> refused;
  detail::append_reply(refused,
                       result<registry_answer>{std::make_error_code(std::errc::invalid_argument)});
  EXPECT_EQ(hex(refused), "92 01 92 a7 67 65 6e 65 72 69 63 16");
}

} // namespace
} // namespace grainflow::test
