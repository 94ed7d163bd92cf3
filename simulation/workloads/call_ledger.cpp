#include "call_ledger.hpp"

#include "grainflow/endpoints/error.hpp"
#include "grainflow/simulation/simulation.hpp"

#include <chrono>

namespace grainflow::sim::workloads {

namespace {

using namespace std::chrono_literals;

double seconds(time_point t) noexcept {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

/// How early a timed_out may come: the deadline crosses machines as time
/// remaining, so the server's clock drift (up to 1000 ppm) shifts it; the
/// actor binding rounds it to microseconds.
duration timeout_tolerance(const call_record& call) {
  const auto span = *call.deadline - call.issued_local;
  return span / 500 + 1ms;
}

} // namespace

const char* to_string(call_kind kind) noexcept {
  switch (kind) {
  case call_kind::send:
    return "send";
  case call_kind::get_reply:
    return "get_reply";
  case call_kind::try_get_reply:
    return "try_get_reply";
  }
  return "?";
}

std::string call_ledger::describe(const call_record& call) {
  // Appended piece by piece: GCC 12 reports a false -Wrestrict at -O2 for a
  // chain that starts with `"#" + std::string`.
  std::string out{"#"};
  out += std::to_string(call.id);
  out += ' ';
  out += to_string(call.kind);
  out += " p";
  out += std::to_string(call.caller);
  out += "->p";
  out += std::to_string(call.target);
  out += ' ';
  out += call.what;
  return out;
}

std::vector<std::string> call_ledger::coverage_goals() {
  return {"calls.answered",         "calls.timed_out", "calls.maybe_delivered",
          "calls.target_died",      "calls.abandoned", "calls.endpoint_not_found",
          "calls.connection_failed"};
}

std::uint64_t call_ledger::open(call_record call) {
  call.id = calls_.size() + 1;
  if (call.kind != call_kind::send)
    ++unresolved_;
  calls_.push_back(std::move(call));
  return calls_.back().id;
}

bool call_ledger::target_died(const call_record& call) {
  auto& target = sim_.process(call.target);
  return !target.up() || target.life() != call.target_life;
}

void call_ledger::resolve_value(std::uint64_t id, std::string value, time_point caller_now) {
  auto& call = at(id);
  if (!sim_.check().always(call.resolutions == 0, "calls.resolved_at_most_once",
                           describe(call) + " resolved again, with a value"))
    return;
  ++call.resolutions;
  call.ok = true;
  call.value = std::move(value);
  call.resolved_local = caller_now;
  if (!call.abandoned && call.kind != call_kind::send)
    --unresolved_;
  sim_.log().step(sim_.now(), "resolved " + describe(call) + " = " + call.value);
  if (!call.abandoned)
    judge_outcome(call);
}

void call_ledger::resolve_error(std::uint64_t id, std::error_code error, time_point caller_now) {
  auto& call = at(id);
  if (!sim_.check().always(call.resolutions == 0, "calls.resolved_at_most_once",
                           describe(call) + " resolved again, with " + error.message()))
    return;
  ++call.resolutions;
  call.ok = false;
  call.error = error;
  call.resolved_local = caller_now;
  if (!call.abandoned && call.kind != call_kind::send)
    --unresolved_;
  sim_.log().step(sim_.now(), "resolved " + describe(call) + " ! " + error.message());
  if (!call.abandoned)
    judge_outcome(call);
}

void call_ledger::judge_outcome(call_record& call) {
  auto& check = sim_.check();
  const auto who = describe(call);
  const bool died = target_died(call);
  check.sometimes(died, "calls.target_died");
  if (call.ok) {
    check.sometimes(true, "calls.answered");
    check.always(call.handled == 1, "calls.value_needs_one_handling",
                 who + " got a value, but its handler ran " + std::to_string(call.handled) +
                     " times");
    if (call.deadline)
      check.always(call.resolved_local <= *call.deadline, "calls.value_before_deadline",
                   who + " got a value after its deadline");
    if (!call.expected.empty())
      check.always(call.value == call.expected, "calls.correct_answer",
                   who + " answered " + call.value + ", expected " + call.expected);
    if (judge_)
      if (auto wrong = judge_(call); !wrong.empty())
        check.always(false, "calls.correct_answer", who + ": " + wrong);
    return;
  }
  const auto& e = call.error;
  if (e == error::timed_out) {
    check.sometimes(true, "calls.timed_out");
    check.always(
        call.deadline.has_value() &&
            call.resolved_local + timeout_tolerance(call) >= *call.deadline,
        "calls.timed_out_at_deadline",
        who + (call.deadline ? " timed out before its deadline" : " timed out without a deadline"));
    return;
  }
  if (e == error::request_maybe_delivered) {
    check.sometimes(true, "calls.maybe_delivered");
    const bool fail_fast = call.kind == call_kind::try_get_reply && call.caller != call.target;
    // The design: a changed incarnation ends the old session, and every call
    // waiting on it fails at once — also one meant for the new process that
    // was written to the old one's connection before the caller noticed.
    check.sometimes(!fail_fast && !died && call.stale_session, "calls.stale_session_lost");
    check.always(fail_fast || died || call.stale_session, "calls.no_loss_while_both_live",
                 who + " failed with request_maybe_delivered while both processes lived");
    return;
  }
  if (e == error::connection_failed || e == error::endpoint_not_found) {
    check.sometimes(e == error::connection_failed, "calls.connection_failed");
    check.sometimes(e == error::endpoint_not_found, "calls.endpoint_not_found");
    // A stale session ends with connection_failed for what never left; an
    // endpoint of the live target is never "not found".
    const bool stale = call.stale_session && e == error::connection_failed;
    check.sometimes(!died && stale, "calls.stale_session_lost");
    check.always(died || stale, "calls.no_loss_while_both_live",
                 who + " failed with " + e.message() + " while its target lived");
    check.always(call.handled == 0, "calls.never_sent_means_unhandled",
                 who + " failed with " + e.message() + " but its handler ran");
    return;
  }
  // Anything else is the server's own answer (broken_promise, an
  // application error), or a bug.
  if (e.category() == grainflow_category() && e != error::broken_promise) {
    check.always(false, "calls.unexpected_error", who + " failed with " + e.message());
    return;
  }
  if (judge_)
    if (auto wrong = judge_(call); !wrong.empty())
      check.always(false, "calls.correct_answer", who + ": " + wrong);
}

void call_ledger::handled(std::uint64_t id, sim_process& where) {
  auto& call = at(id);
  auto& check = sim_.check();
  const auto who = describe(call);
  sim_.log().step(sim_.now(), "handled " + who + " on p" + std::to_string(where.id()));
  check.always(call.handled == 0, "calls.handled_at_most_once", who + " handled twice");
  check.always(
      where.id() == call.target && where.life() == call.target_life, "calls.handled_by_its_target",
      who + " handled on p" + std::to_string(where.id()) + " life " + std::to_string(where.life()) +
          ", sent to life " + std::to_string(call.target_life));
  if (call.resolutions > 0 && !call.ok &&
      (call.error == error::connection_failed || call.error == error::endpoint_not_found))
    check.always(false, "calls.never_sent_means_unhandled",
                 who + " handled after it failed with " + call.error.message());
  ++call.handled;
}

void call_ledger::abandon_calls_of(process_id caller) {
  for (auto& call : calls_)
    if (call.caller == caller && call.resolutions == 0 && !call.abandoned) {
      call.abandoned = true;
      if (call.kind != call_kind::send)
        --unresolved_;
      sim_.check().sometimes(true, "calls.abandoned");
    }
}

std::string call_ledger::progress() const {
  std::string out =
      std::to_string(unresolved_) + " of " + std::to_string(calls_.size()) + " calls unresolved";
  std::size_t shown = 0;
  for (const auto& call : calls_)
    if (call.kind != call_kind::send && call.resolutions == 0 && !call.abandoned) {
      out += shown == 0 ? ", e.g. " : "; ";
      out += describe(call) + " (issued at " + std::to_string(seconds(call.issued_local)) +
             "s on its clock, handled " + std::to_string(call.handled) + "x)";
      if (++shown == 3)
        break;
    }
  return out;
}

void call_ledger::check_at_rest() {
  for (const auto& call : calls_) {
    if (call.kind == call_kind::send || call.abandoned)
      continue;
    if (!sim_.check().always(call.resolutions == 1, "calls.resolved_exactly_once",
                             describe(call) + " never resolved"))
      return;
  }
}

} // namespace grainflow::sim::workloads
