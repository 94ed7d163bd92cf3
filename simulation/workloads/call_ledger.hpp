#pragma once

// The workloads' shared bookkeeping: every call a client makes, what its
// server did with it, and the invariants that tie the two together.

#include "grainflow/endpoints/result.hpp"
#include "grainflow/simulation/fwd.hpp"
#include "grainflow/transport/providers.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace grainflow::sim::workloads {

/// How a call was made.
enum class call_kind : std::uint8_t { send, get_reply, try_get_reply };

[[nodiscard]] const char* to_string(call_kind kind) noexcept;

/// One call: who made it to whom and how, and what became of it.
struct call_record {
  std::uint64_t id = 0;
  call_kind kind = call_kind::get_reply;
  process_id caller = no_process;
  std::uint64_t caller_life = 0;
  process_id target = no_process;
  /// The target's life whose endpoint the call went to.
  std::uint64_t target_life = 0;
  /// On the caller's clock.
  std::optional<time_point> deadline;
  time_point issued_local;
  /// What the call asks, for messages ("add(3, 4)").
  std::string what;
  /// The value a correct server answers, rendered; empty when the workload
  /// judges values itself.
  std::string expected;
  /// When it was made, its caller's last connection to the target's machine
  /// had reached an older life: its transport may still hold the session
  /// with that dead process, whose end (a new incarnation's handshake, a
  /// refused reconnect, the resume window) fails every call waiting on it.
  bool stale_session = false;
  /// Free for the workload (what it asked the server to do, ...).
  std::int64_t tag = 0;

  // -- outcome ----------------------------------------------------------------
  std::uint32_t resolutions = 0;
  bool ok = false;
  /// The value, rendered by the workload, when ok.
  std::string value;
  std::error_code error;
  time_point resolved_local;
  /// Its caller died before it resolved: the outcome no longer matters.
  bool abandoned = false;
  /// How often a handler ran it (any process, any life).
  std::uint32_t handled = 0;
};

/// A workload's verdict on an answer its server gave — a value, an
/// application error, broken_promise: empty when right, else what is wrong.
using answer_judge = std::function<std::string(const call_record&)>;

/// The calls of one run, and the invariants every workload shares:
///
/// - a call resolves at most once, and at rest exactly once unless its
///   caller died (INV-PROMISE-01, "every call resolved exactly once");
/// - a handler runs a request at most once, and only on the life of the
///   target it was sent to ("no reliable packet duplicated");
/// - a value comes from a handler that ran and is the right one ("no reply
///   without a request", "every reply correct");
/// - an error is one the faults make legitimate: timed_out only with a
///   deadline and not before it; request_maybe_delivered only for
///   try_get_reply or when the target died; connection_failed and
///   endpoint_not_found only when the target died and never for a request
///   that was handled ("no reliable packet lost while both processes
///   lived": a get_reply whose processes both lived gets its answer).
///
/// Violations go to sim.check().always() the moment they are seen.
class call_ledger {
public:
  explicit call_ledger(simulation& sim) noexcept
      : sim_(sim) {}

  /// How the workload judges its servers' answers.
  void set_judge(answer_judge judge) { judge_ = std::move(judge); }

  /// Records a call about to be made; returns its id (1, 2, ...).
  std::uint64_t open(call_record call);

  [[nodiscard]] call_record& at(std::uint64_t id) { return calls_.at(id - 1); }
  [[nodiscard]] const std::deque<call_record>& calls() const noexcept { return calls_; }

  /// The caller's continuation saw a value (rendered) at `caller_now`.
  void resolve_value(std::uint64_t id, std::string value, time_point caller_now);

  /// The caller's continuation saw an error at `caller_now`.
  void resolve_error(std::uint64_t id, std::error_code error, time_point caller_now);

  /// Records a result<T>, rendering a value with `render`.
  template <class T, class Render>
  void resolve(std::uint64_t id, const result<T>& outcome, time_point caller_now, Render render) {
    if (outcome)
      resolve_value(id, render(outcome.value()), caller_now);
    else
      resolve_error(id, outcome.error(), caller_now);
  }

  /// A handler on `where` runs request `id`.
  void handled(std::uint64_t id, sim_process& where);

  /// `caller` died: its unresolved calls are abandoned.
  void abandon_calls_of(process_id caller);

  /// Whether every call that expects an answer resolved (or was abandoned).
  [[nodiscard]] bool settled() const noexcept { return unresolved_ == 0; }

  /// What is unresolved, for a run that did not finish.
  [[nodiscard]] std::string progress() const;

  /// The checks at rest: every call resolved exactly once, or abandoned.
  void check_at_rest();

  /// The sometimes-assertions the ledger reports.
  [[nodiscard]] static std::vector<std::string> coverage_goals();

  /// "#12 get_reply p3->p1 add(3, 4)".
  [[nodiscard]] static std::string describe(const call_record& call);

private:
  void judge_outcome(call_record& call);
  [[nodiscard]] bool target_died(const call_record& call);

  simulation& sim_;
  std::deque<call_record> calls_;
  std::size_t unresolved_ = 0;
  answer_judge judge_;
};

} // namespace grainflow::sim::workloads
