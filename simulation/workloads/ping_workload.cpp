// ping: one client, one server, get_reply pings of random sizes, no deadline,
// under network faults (no kills). Every ping must come back, exactly once,
// with its own answer: the reliable session rides over every fault.

#include "workloads.hpp"

#include "workload_support.hpp"

#include "grainflow/actors/request_stream.hpp"
#include "grainflow/simulation/workload.hpp"

#include <caf/actor_system.hpp>

#include <msgpack.hpp>

namespace grainflow::sim::workloads {

namespace {

using namespace std::chrono_literals;

struct ping_request {
  std::uint64_t id = 0;
  std::string payload;
  reply_promise<std::uint64_t> reply;
  MSGPACK_DEFINE(id, payload, reply)
};

/// The answer a correct server gives.
std::uint64_t echo_of(std::uint64_t id, std::size_t payload) {
  return id * 1000003 + payload;
}

constexpr std::size_t pings = 120;
constexpr std::size_t window = 8;

class ping_workload final : public workload {
public:
  void setup(simulation& sim) override {
    sim_ = &sim;
    ledger_ = std::make_unique<call_ledger>(sim);
    ledger_->set_judge([](const call_record& call) -> std::string {
      if (!call.ok)
        return "the server never fails a ping, got " + call.error.message();
      return {}; // the ledger compares the value with `expected`
    });
    big_payloads_ = sim.bug().active("ping.big_payloads");
    process_spec server{"ping-server", sim_transport_config(sim),
                        [this](sim_process& p) { return serve_pings(p); }};
    process_spec client{"ping-client", sim_transport_config(sim),
                        [this](sim_process& p) { return run_client(p); }};
    sim.add_process(std::move(server));
    sim.add_process(std::move(client));
  }

  bool done() const override { return issued_ == pings && ledger_->settled(); }

  std::string progress() const override {
    return std::to_string(issued_) + " of " + std::to_string(pings) + " pings issued; " +
           ledger_->progress();
  }

  void check(simulation& sim) override {
    ledger_->check_at_rest();
    sim.check().always(issued_ == pings, "ping.all_issued");
  }

  std::vector<std::string> coverage_goals() const override { return {"calls.answered"}; }

private:
  std::unique_ptr<process_role> serve_pings(sim_process& p) {
    auto role = std::make_unique<actors_role>();
    auto* ledger = ledger_.get();
    auto alive = p.alive();
    auto server = p.system().spawn([ledger, alive, &p](caf::event_based_actor*) -> caf::behavior {
      return {
          [ledger, alive, &p](ping_request& r) {
            if (!*alive)
              return;
            ledger->handled(r.id, p);
            r.reply.send(echo_of(r.id, r.payload.size()));
          },
      };
    });
    auto served = serve<ping_request>(server, p.transport());
    sim_->check().always(served.has_value(), "ping.served");
    if (served)
      server_ = service_entry{p.id(), p.life(), served.value().get_endpoint(), true};
    role->own(std::move(server));
    return role;
  }

  std::unique_ptr<process_role> run_client(sim_process& p) {
    auto role =
        std::make_unique<actors_role>([this, id = p.id()] { ledger_->abandon_calls_of(id); });
    role->own(
        spawn_ticking(p, 10ms, [this, &p](caf::event_based_actor* self) { return step(p, self); }));
    return role;
  }

  std::optional<duration> step(sim_process& p, caf::event_based_actor* self) {
    if (issued_ == pings)
      return std::nullopt;
    if (in_flight_ < window && server_.up) {
      std::string payload(pick_size(), 'x');
      for (auto& c : payload)
        c = static_cast<char>('a' + sim_->random().below(26));
      auto call = new_call(call_kind::get_reply, p, server_, std::nullopt,
                           "ping(" + std::to_string(payload.size()) + " bytes)");
      const auto id = ledger_->open(std::move(call));
      ledger_->at(id).expected = std::to_string(echo_of(id, payload.size()));
      ++issued_;
      ++in_flight_;
      request_stream<ping_request> stream{p.transport(), server_.base};
      auto* clock = &p.transport().clock();
      then(self, stream.get_reply(ping_request{id, std::move(payload), {}}),
           [this, id, clock](result<std::uint64_t> answer) {
             --in_flight_;
             ledger_->resolve(id, answer, clock->now(),
                              [](std::uint64_t v) { return std::to_string(v); });
           });
    }
    return sim_->random().log_between(500us, 100ms);
  }

  std::size_t pick_size() {
    if (big_payloads_ && sim_->random().chance(0.2))
      return 16 * 1024 + sim_->random().below(128 * 1024);
    return sim_->random().below(2000);
  }

  simulation* sim_ = nullptr;
  std::unique_ptr<call_ledger> ledger_;
  service_entry server_;
  bool big_payloads_ = false;
  std::size_t issued_ = 0;
  std::size_t in_flight_ = 0;
};

} // namespace

std::unique_ptr<workload> make_ping_workload() {
  return std::make_unique<ping_workload>();
}

} // namespace grainflow::sim::workloads
