#pragma once

// The frame of the workloads whose calls a call ledger judges, with servers
// and clients as separate processes (calculator, kv).

#include "call_ledger.hpp"

#include "grainflow/simulation/workload.hpp"

#include <cstddef>
#include <memory>
#include <string>

namespace grainflow::sim::workloads {

/// Adds `servers` processes ("<server_name>-<i>", booted by boot_server),
/// then `clients` ("client-<i>", booted by boot_client); every process may be
/// killed; done once the clients issued `calls_per_client` calls each
/// (counted in issued_) and the ledger settled; at rest the ledger checks.
class ledgered_workload : public workload {
public:
  ledgered_workload(std::string server_name, std::size_t servers, std::size_t clients,
                    std::size_t calls_per_client);

  void setup(simulation& sim) final;
  chaos_options chaos(simulation& sim) const final;
  bool done() const final;
  std::string progress() const final;
  void check(simulation& sim) final;

protected:
  /// Runs once before any process boots (error categories to register).
  virtual void prepare() {}
  /// Why `call`'s outcome is wrong for this workload, or "".
  virtual std::string judge(const call_record& call) const = 0;
  virtual std::unique_ptr<process_role> boot_server(sim_process& p) = 0;
  virtual std::unique_ptr<process_role> boot_client(sim_process& p) = 0;

  simulation* sim_ = nullptr;
  std::unique_ptr<call_ledger> ledger_;
  std::size_t issued_ = 0;

private:
  std::string server_name_;
  std::size_t servers_;
  std::size_t clients_;
  std::size_t calls_per_client_;
};

} // namespace grainflow::sim::workloads
