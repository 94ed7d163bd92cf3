// calculator: three servers run the sample's calculator (calc::calculator_server,
// the very behaviour samples/calculator serves), two clients call them with
// get_reply and try_get_reply, with and without deadlines, while processes
// crash, lose power and restart. Every answer is checked against the
// arithmetic (including division_by_zero and overflow), and every request is
// counted at the server: at most once, and only by the life it was sent to.

#include "workloads.hpp"

#include "ledgered_workload.hpp"
#include "workload_support.hpp"

#include "calculator.hpp"

#include "grainflow/simulation/workload.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>

#include <array>
#include <limits>

namespace grainflow::sim::workloads {

namespace {

using namespace std::chrono_literals;

constexpr std::size_t servers = 3;
constexpr std::size_t clients = 2;
constexpr std::size_t calls_per_client = 90;
constexpr std::size_t window = 10;

enum class op : std::uint8_t { add, sub, mul, div };

/// The answer the calculator must give: a value, or its error (as tag).
struct expectation {
  std::string value;
  int error = 0;
};

expectation expect(op o, std::int32_t a, std::int32_t b) {
  std::int64_t r = 0;
  switch (o) {
  case op::add:
    r = std::int64_t{a} + b;
    break;
  case op::sub:
    r = std::int64_t{a} - b;
    break;
  case op::mul:
    r = std::int64_t{a} * b;
    break;
  case op::div:
    if (b == 0)
      return {{}, static_cast<int>(calc::calculator_error::division_by_zero)};
    r = std::int64_t{a} / b;
    break;
  }
  if (r < std::numeric_limits<std::int32_t>::min() || r > std::numeric_limits<std::int32_t>::max())
    return {{}, static_cast<int>(calc::calculator_error::overflow)};
  return {std::to_string(r), 0};
}

class calculator_workload final : public ledgered_workload {
public:
  calculator_workload()
      : ledgered_workload("calc", servers, clients, calls_per_client) {}

  std::vector<std::string> coverage_goals() const override {
    return {"calls.answered",          "calls.timed_out",
            "calls.maybe_delivered",   "calls.target_died",
            "calls.abandoned",         "calls.endpoint_not_found",
            "calls.connection_failed", "calc.division_by_zero",
            "calc.overflow",           "calc.call_to_a_dead_server"};
  }

private:
  void prepare() override { register_error_category(calc::calculator_category()); }

  std::string judge(const call_record& call) const override {
    if (call.ok)
      return call.tag == 0 ? std::string{} : "a value where the calculator must fail";
    if (call.error.category() != calc::calculator_category())
      return "the calculator never fails with " + call.error.message();
    if (call.error.value() != call.tag)
      return "failed with " + call.error.message() + ", expected calculator error " +
             std::to_string(call.tag);
    return {};
  }

  // -- servers ----------------------------------------------------------------

  std::unique_ptr<process_role> boot_server(sim_process& p) override {
    const auto index = p.id();
    auto role = std::make_unique<actors_role>([this, index] { directory_[index].up = false; });
    auto calculator = p.system().spawn(calc::calculator_server);
    // The front counts each request, then hands it — promise and all — to
    // the real calculator, which answers the caller directly.
    auto front = p.system().spawn(
        [this, &p, alive = p.alive(), calculator](caf::event_based_actor*) -> caf::behavior {
          auto pass = [this, &p, alive, calculator](auto& request) {
            if (!*alive)
              return;
            ledger_->handled(static_cast<std::uint64_t>(request.a), p);
            caf::anon_send(calculator, std::move(request));
          };
          return {
              [pass](calc::add_request& r) mutable { pass(r); },
              [pass](calc::sub_request& r) mutable { pass(r); },
              [pass](calc::mul_request& r) mutable { pass(r); },
              [pass](calc::div_request& r) mutable { pass(r); },
          };
        });
    auto served = serve<calc::calculator>(front, p.transport());
    sim_->check().always(served.has_value(), "calc.served");
    if (served)
      directory_[index] = service_entry{p.id(), p.life(), base_endpoint(served.value()), true};
    role->own(std::move(front));
    role->own(std::move(calculator));
    return role;
  }

  // -- clients ----------------------------------------------------------------

  std::unique_ptr<process_role> boot_client(sim_process& p) override {
    auto role = std::make_unique<actors_role>([this, id = p.id()] {
      ledger_->abandon_calls_of(id);
      in_flight_[id - servers] = 0;
    });
    role->own(
        spawn_ticking(p, 5ms, [this, &p](caf::event_based_actor* self) { return step(p, self); }));
    return role;
  }

  std::optional<duration> step(sim_process& p, caf::event_based_actor* self) {
    const auto me = p.id() - servers;
    if (issued_by_[me] == calls_per_client)
      return std::nullopt;
    if (in_flight_[me] < window)
      issue(p, self, me);
    return sim_->random().log_between(1ms, 150ms);
  }

  const service_entry* pick_server() {
    auto& random = sim_->random();
    const auto& picked = directory_[random.below(servers)];
    if (picked.where == no_process)
      return nullptr;
    // A server that is down is still called now and then: its old
    // endpoints must fail, promptly and rightly.
    if (!picked.up && !random.chance(0.2))
      return nullptr;
    sim_->check().sometimes(!picked.up, "calc.call_to_a_dead_server");
    return &picked;
  }

  void issue(sim_process& p, caf::event_based_actor* self, std::size_t me) {
    const auto* target = pick_server();
    if (target == nullptr)
      return;
    auto& random = sim_->random();
    const auto kind = random.chance(0.6) ? call_kind::get_reply : call_kind::try_get_reply;
    const auto deadline = random_deadline(*sim_, p);
    const auto o = static_cast<op>(random.below(4));
    std::int32_t b = static_cast<std::int32_t>(random.between(-1000, 1000));
    if (random.chance(0.1))
      b = static_cast<std::int32_t>(random.between(std::numeric_limits<std::int32_t>::min(),
                                                   std::numeric_limits<std::int32_t>::max()));
    if (o == op::div && random.chance(0.1))
      b = 0;
    constexpr const char* names[] = {"add", "sub", "mul", "div"};
    auto call = new_call(kind, p, *target, deadline, "");
    const auto id = ledger_->open(std::move(call));
    // The call's id is its first operand: the server's front counts by it.
    const auto a = static_cast<std::int32_t>(id);
    auto& record = ledger_->at(id);
    record.what = std::string{names[static_cast<int>(o)]} + "(" + std::to_string(a) + ", " +
                  std::to_string(b) + ")";
    const auto expected = expect(o, a, b);
    record.expected = expected.value;
    record.tag = expected.error;
    sim_->check().sometimes(expected.error ==
                                static_cast<int>(calc::calculator_error::division_by_zero),
                            "calc.division_by_zero");
    sim_->check().sometimes(expected.error == static_cast<int>(calc::calculator_error::overflow),
                            "calc.overflow");
    ++issued_by_[me];
    ++issued_;
    ++in_flight_[me];
    auto iface = interface_at<calc::calculator>(p.transport(), target->base);
    const auto options = options_for(deadline);
    auto call_with = [&](auto& stream, auto request) {
      return kind == call_kind::get_reply ? stream.get_reply(std::move(request), options)
                                          : stream.try_get_reply(std::move(request), options);
    };
    reply_future<std::int32_t> future;
    switch (o) {
    case op::add:
      future = call_with(iface.add, calc::add_request{a, b, {}});
      break;
    case op::sub:
      future = call_with(iface.sub, calc::sub_request{a, b, {}});
      break;
    case op::mul:
      future = call_with(iface.mul, calc::mul_request{a, b, {}});
      break;
    case op::div:
      future = call_with(iface.div, calc::div_request{a, b, {}});
      break;
    }
    auto* clock = &p.transport().clock();
    auto life = p.life();
    then(self, std::move(future), [this, id, clock, me, life, &p](result<std::int32_t> answer) {
      if (p.life() == life && in_flight_[me] > 0)
        --in_flight_[me];
      ledger_->resolve(id, answer, clock->now(), [](std::int32_t v) { return std::to_string(v); });
    });
  }

  std::array<service_entry, servers> directory_{};
  std::array<std::size_t, clients> issued_by_{};
  std::array<std::size_t, clients> in_flight_{};
};

} // namespace

std::unique_ptr<workload> make_calculator_workload() {
  return std::make_unique<calculator_workload>();
}

} // namespace grainflow::sim::workloads
