#include "ledgered_workload.hpp"

#include "workload_support.hpp"

namespace grainflow::sim::workloads {

ledgered_workload::ledgered_workload(std::string server_name, std::size_t servers,
                                     std::size_t clients, std::size_t calls_per_client)
    : server_name_(std::move(server_name))
    , servers_(servers)
    , clients_(clients)
    , calls_per_client_(calls_per_client) {}

void ledgered_workload::setup(simulation& sim) {
  sim_ = &sim;
  prepare();
  ledger_ = std::make_unique<call_ledger>(sim);
  ledger_->set_judge([this](const call_record& call) { return judge(call); });
  for (std::size_t i = 0; i < servers_; ++i)
    sim.add_process({server_name_ + "-" + std::to_string(i), sim_transport_config(sim),
                     [this](sim_process& p) { return boot_server(p); }});
  for (std::size_t i = 0; i < clients_; ++i)
    sim.add_process({"client-" + std::to_string(i), sim_transport_config(sim),
                     [this](sim_process& p) { return boot_client(p); }});
}

chaos_options ledgered_workload::chaos(simulation& sim) const {
  chaos_options options;
  options.kills = true;
  for (process_id id = 0; id < sim.process_count(); ++id)
    options.killable.push_back(id);
  return options;
}

bool ledgered_workload::done() const {
  return issued_ == clients_ * calls_per_client_ && ledger_->settled();
}

std::string ledgered_workload::progress() const {
  return std::to_string(issued_) + " of " + std::to_string(clients_ * calls_per_client_) +
         " calls issued; " + ledger_->progress();
}

void ledgered_workload::check(simulation&) {
  ledger_->check_at_rest();
}

} // namespace grainflow::sim::workloads
