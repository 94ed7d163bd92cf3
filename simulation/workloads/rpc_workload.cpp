// rpc: three processes, each a server and a client, calling each other and
// themselves in every delivery mode (send, get_reply, try_get_reply), with
// and without deadlines, while the servers answer at once or later, fail,
// answer after the deadline, or drop the promise on purpose. Network faults,
// no kills: every outcome is checked against what the server was asked to do.

#include "workloads.hpp"

#include "workload_support.hpp"

#include "grainflow/actors/request_stream.hpp"
#include "grainflow/simulation/workload.hpp"

#include <caf/actor_system.hpp>

#include <msgpack.hpp>

#include <array>
#include <map>

namespace grainflow::sim::workloads {

namespace {

using namespace std::chrono_literals;

/// What the client asks the server to do with the call.
enum class server_act : std::uint8_t {
  answer,       // answer value * 2 + 1 at once
  fail,         // answer std::errc::invalid_argument
  drop,         // drop the promise: broken_promise
  answer_later, // answer after `delay`
  drop_later,   // drop after `delay`
  answer_late,  // answer after the caller's deadline has passed
};
constexpr std::size_t act_count = 6;

const char* to_string(server_act act) {
  constexpr const char* names[] = {"answer",       "fail",       "drop",
                                   "answer_later", "drop_later", "answer_late"};
  return names[static_cast<std::size_t>(act)];
}

struct work_request {
  std::uint64_t id = 0;
  std::uint8_t act = 0;
  std::int64_t delay_us = 0;
  std::int64_t value = 0;
  reply_promise<std::int64_t> reply;
  MSGPACK_DEFINE(id, act, delay_us, value, reply)
};

using later_atom = caf::atom_constant<caf::atom("later")>;

constexpr std::size_t nodes = 3;
constexpr std::size_t calls_per_client = 70;
constexpr std::size_t window = 12;

class rpc_workload final : public workload {
public:
  void setup(simulation& sim) override {
    sim_ = &sim;
    ledger_ = std::make_unique<call_ledger>(sim);
    ledger_->set_judge([this](const call_record& call) { return judge(call); });
    for (std::size_t i = 0; i < nodes; ++i) {
      process_spec spec{"rpc-" + std::to_string(i), sim_transport_config(sim),
                        [this](sim_process& p) { return boot(p); }};
      sim.add_process(std::move(spec));
    }
  }

  bool done() const override { return issued_ == nodes * calls_per_client && ledger_->settled(); }

  std::string progress() const override {
    return std::to_string(issued_) + " of " + std::to_string(nodes * calls_per_client) +
           " calls issued; " + ledger_->progress();
  }

  void check(simulation&) override { ledger_->check_at_rest(); }

  std::vector<std::string> coverage_goals() const override {
    return {"calls.answered",        "calls.timed_out",       "calls.maybe_delivered",
            "rpc.broken_promise",    "rpc.application_error", "rpc.local_call",
            "rpc.answered_too_late", "rpc.send_handled"};
  }

private:
  struct node_state {
    service_entry server;
    std::size_t issued = 0;
    std::size_t in_flight = 0;
  };

  std::unique_ptr<process_role> boot(sim_process& p) {
    auto role = std::make_unique<actors_role>([this, id = p.id()] {
      nodes_[id].server.up = false;
      ledger_->abandon_calls_of(id);
    });
    auto server = p.system().spawn([this, &p, alive = p.alive()](caf::event_based_actor* self) {
      return serve_behavior(self, p, alive);
    });
    auto served = serve<work_request>(server, p.transport());
    sim_->check().always(served.has_value(), "rpc.served");
    if (served)
      nodes_[p.id()].server = service_entry{p.id(), p.life(), served.value().get_endpoint(), true};
    role->own(std::move(server));
    role->own(
        spawn_ticking(p, 5ms, [this, &p](caf::event_based_actor* self) { return step(p, self); }));
    return role;
  }

  caf::behavior serve_behavior(caf::event_based_actor* self, sim_process& p,
                               std::shared_ptr<const bool> alive) {
    auto held = std::make_shared<std::map<std::uint64_t, work_request>>();
    return {
        [this, self, &p, alive, held](work_request& r) {
          if (!*alive)
            return;
          ledger_->handled(r.id, p);
          if (!r.reply.valid()) {
            sim_->check().sometimes(true, "rpc.send_handled");
            return; // send(): nobody waits
          }
          sim_->check().always(!r.reply.expired(), "rpc.no_work_after_deadline",
                               "request " + std::to_string(r.id) + " reached its handler expired");
          switch (static_cast<server_act>(r.act)) {
          case server_act::answer:
            r.reply.send(r.value * 2 + 1);
            return;
          case server_act::fail:
            r.reply.send_error(std::make_error_code(std::errc::invalid_argument));
            return;
          case server_act::drop:
            return; // the request, and its promise, go with this message
          case server_act::answer_late: {
            // Held until the caller's deadline has passed on this clock.
            auto wait = std::chrono::duration_cast<std::chrono::microseconds>(
                            *r.reply.deadline() - p.transport().clock().now()) +
                        std::chrono::microseconds{r.delay_us};
            auto id = r.id;
            held->emplace(id, std::move(r));
            self->delayed_send(self, std::max(wait, std::chrono::microseconds{1}),
                               later_atom::value, id);
            return;
          }
          default: {
            auto id = r.id;
            auto delay = std::chrono::microseconds{r.delay_us};
            held->emplace(id, std::move(r));
            self->delayed_send(self, delay, later_atom::value, id);
            return;
          }
          }
        },
        [this, alive, held](later_atom, std::uint64_t id) {
          auto found = held->find(id);
          if (found == held->end() || !*alive)
            return;
          auto r = std::move(found->second);
          held->erase(found);
          const auto act = static_cast<server_act>(r.act);
          if (act == server_act::answer_late)
            sim_->check().sometimes(r.reply.expired(), "rpc.answered_too_late");
          if (act != server_act::drop_later)
            r.reply.send(r.value * 2 + 1);
        },
    };
  }

  std::optional<duration> step(sim_process& p, caf::event_based_actor* self) {
    auto& me = nodes_[p.id()];
    if (me.issued == calls_per_client)
      return std::nullopt;
    if (me.in_flight < window) {
      const auto& target = nodes_[sim_->random().below(nodes)].server;
      if (target.up)
        issue(p, self, me, target);
    }
    return sim_->random().log_between(500us, 150ms);
  }

  void issue(sim_process& p, caf::event_based_actor* self, node_state& me,
             const service_entry& target) {
    auto& random = sim_->random();
    const auto mode_roll = random.below(100);
    const auto kind = mode_roll < 15   ? call_kind::send
                      : mode_roll < 60 ? call_kind::get_reply
                                       : call_kind::try_get_reply;
    auto deadline = random_deadline(*sim_, p);
    auto act = static_cast<server_act>(random.below(act_count));
    if (act == server_act::answer_late && !deadline)
      act = server_act::answer;
    work_request request;
    request.act = static_cast<std::uint8_t>(act);
    request.delay_us =
        std::chrono::duration_cast<std::chrono::microseconds>(random.log_between(100us, 2s))
            .count();
    request.value = random.between(-1'000'000, 1'000'000);
    auto call = new_call(kind, p, target, deadline,
                         std::string{to_string(act)} + "(" + std::to_string(request.value) + ")");
    call.tag = static_cast<std::int64_t>(act);
    call.expected = std::to_string(request.value * 2 + 1);
    request.id = ledger_->open(std::move(call));
    ++me.issued;
    ++issued_;
    sim_->check().sometimes(target.where == p.id(), "rpc.local_call");
    request_stream<work_request> stream{p.transport(), target.base};
    const auto options = options_for(deadline);
    if (kind == call_kind::send) {
      (void)stream.send(std::move(request), options);
      return;
    }
    ++me.in_flight;
    const auto id = request.id;
    auto future = kind == call_kind::get_reply ? stream.get_reply(std::move(request), options)
                                               : stream.try_get_reply(std::move(request), options);
    auto* clock = &p.transport().clock();
    then(self, std::move(future), [this, id, clock, &me](result<std::int64_t> answer) {
      --me.in_flight;
      ledger_->resolve(id, answer, clock->now(), [](std::int64_t v) { return std::to_string(v); });
    });
  }

  std::string judge(const call_record& call) {
    const auto act = static_cast<server_act>(call.tag);
    if (call.ok) {
      if (act != server_act::answer && act != server_act::answer_later &&
          act != server_act::answer_late)
        return std::string{"a value, but the server was told to "} + to_string(act);
      return {}; // the ledger compares the value with `expected`
    }
    if (call.error == error::broken_promise) {
      sim_->check().sometimes(true, "rpc.broken_promise");
      if (act != server_act::drop && act != server_act::drop_later)
        return std::string{"broken_promise, but the server was told to "} + to_string(act);
      return {};
    }
    if (call.error == std::errc::invalid_argument) {
      sim_->check().sometimes(true, "rpc.application_error");
      if (act != server_act::fail)
        return std::string{"invalid_argument, but the server was told to "} + to_string(act);
      return {};
    }
    return "unexpected error " + call.error.message();
  }

  simulation* sim_ = nullptr;
  std::unique_ptr<call_ledger> ledger_;
  std::array<node_state, nodes> nodes_{};
  std::size_t issued_ = 0;
};

} // namespace

std::unique_ptr<workload> make_rpc_workload() {
  return std::make_unique<rpc_workload>();
}

} // namespace grainflow::sim::workloads
