#include "registry_announcer.hpp"

#include "grainflow/actors/request_stream.hpp"
#include "grainflow/endpoints/well_known.hpp"
#include "grainflow/transport/detail/log_warning.hpp"

#include <algorithm>
#include <utility>

namespace grainflow::detail {

namespace {

/// Whether a failed announcement is worth sending again: the network lost
/// it or the seed's registry was not there, as opposed to a seed that
/// refused it or a transport that closed.
bool worth_retrying(const std::error_code& code) noexcept {
  return code == error::connection_failed || code == error::request_maybe_delivered ||
         code == error::broken_promise || code == error::timed_out ||
         code == error::endpoint_not_found;
}

std::string_view op_name(std::uint8_t op) noexcept {
  return static_cast<registry_op>(op) == registry_op::unregister_name ? "unregistering"
                                                                      : "registering";
}

} // namespace

reply_future<registry_answer>
ask_registry(flow_transport& transport, const network_address& address, registry_request request) {
  return request_stream<registry_request>{transport, registry_endpoint(address)}.get_reply(
      std::move(request));
}

registry_announcer::registry_announcer(flow_transport& transport,
                                       std::vector<network_address> seeds, binding_check binds_here,
                                       duration refresh_interval)
    : transport_(transport)
    , seeds_(std::move(seeds))
    , binds_here_(std::move(binds_here))
    , refresh_interval_(refresh_interval) {}

void registry_announcer::start() {
  std::lock_guard<std::mutex> guard{mtx_};
  arm_refresh();
}

void registry_announcer::announce(registry_op op, const std::string& name, const endpoint& target) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (op == registry_op::register_name)
      registered_[name] = target;
    else if (auto entry = registered_.find(name);
             entry != registered_.end() && entry->second == target)
      registered_.erase(entry);
  }
  for (const auto& seed : seeds_)
    send(std::make_shared<attempt>(
        attempt{seed, registry_request{static_cast<std::uint8_t>(op), name, target, {}}}));
}

void registry_announcer::stop() noexcept {
  std::vector<timer_id> timers;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopped_ = true;
    timers.swap(retry_timers_);
    timers.push_back(std::exchange(refresh_timer_, timer_id::invalid));
  }
  // Outside the lock: a timer's callback is destroyed by cancel(), and what
  // it holds may be the last reference to this announcer.
  if (auto* loop = transport_.network_loop())
    for (auto id : timers)
      if (id != timer_id::invalid)
        loop->cancel(id);
}

bool registry_announcer::still_wanted(const registry_request& request) const {
  return binds_here_(request.name, request.target) ==
         (static_cast<registry_op>(request.op) == registry_op::register_name);
}

void registry_announcer::send(std::shared_ptr<attempt> pending) {
  auto answer = ask_registry(transport_, pending->seed, registry_request{pending->request});
  // Weak: a seed that never answers must not keep the announcer (and what
  // its attempts hold) alive after its registry is gone.
  answer.take()->on_resolved(
      [weak = weak_from_this(), pending = std::move(pending)](result<registry_answer>&& got) {
        if (auto self = weak.lock())
          self->on_answer(pending, got);
      });
}

void registry_announcer::on_answer(const std::shared_ptr<attempt>& pending,
                                   const result<registry_answer>& answer) {
  const auto& name = pending->request.name;
  const auto seed = pending->seed.to_string();
  if (answer || !worth_retrying(answer.error())) {
    if (pending->failed_before && note_seed(pending->seed, false) && answer)
      log_warning("name registry: seed %s answers again", seed.c_str());
    if (!answer && answer.error() != error::transport_closed)
      log_warning("name registry: seed %s refused %s '%s': %s", seed.c_str(),
                  op_name(pending->request.op).data(), name.c_str(),
                  answer.error().message().c_str());
    return;
  }
  if (!pending->failed_before) {
    pending->failed_before = true;
    if (note_seed(pending->seed, true))
      log_warning("name registry: %s '%s' with seed %s failed (%s); retrying until it answers",
                  op_name(pending->request.op).data(), name.c_str(), seed.c_str(),
                  answer.error().message().c_str());
  }
  retry_later(pending);
}

void registry_announcer::retry_later(std::shared_ptr<attempt> pending) {
  auto* loop = transport_.network_loop();
  if (!loop)
    return; // no network: no seed can be reached, now or later
  const auto wait = pending->next_backoff;
  pending->next_backoff = std::min(pending->next_backoff * 2, max_retry);
  std::lock_guard<std::mutex> guard{mtx_};
  if (stopped_)
    return;
  // The callback finds its own timer id in the attempt: it takes mtx_ before
  // it reads it, and the id is written below under mtx_.
  auto scheduled = pending; // kept: a stopped loop drops the callback at once
  auto id = loop->schedule_at(transport_.clock().now() + wait,
                              [weak = weak_from_this(), pending = std::move(pending)]() {
                                auto self = weak.lock();
                                if (!self)
                                  return;
                                {
                                  std::lock_guard<std::mutex> guard{self->mtx_};
                                  if (self->stopped_)
                                    return;
                                  std::erase(self->retry_timers_, pending->timer);
                                }
                                if (!self->still_wanted(pending->request)) {
                                  self->note_seed(pending->seed, false);
                                  return; // superseded here: a newer announcement carries the news
                                }
                                self->send(pending);
                              });
  scheduled->timer = id;
  retry_timers_.push_back(id);
}

bool registry_announcer::note_seed(const network_address& seed, bool failing) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (failing)
    return ++failing_[seed] == 1;
  auto entry = failing_.find(seed);
  if (entry == failing_.end())
    return false;
  if (--entry->second > 0)
    return false;
  failing_.erase(entry);
  return true;
}

void registry_announcer::refresh() {
  std::vector<std::pair<std::string, endpoint>> bindings;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    bindings.assign(registered_.begin(), registered_.end());
  }
  for (const auto& [name, target] : bindings) {
    if (!binds_here_(name, target))
      continue; // removed or replaced here; its own announcement says so
    // Once per refresh, not retried: the next refresh is the retry.
    for (const auto& seed : seeds_)
      (void)ask_registry(
          transport_, seed,
          registry_request{
              static_cast<std::uint8_t>(registry_op::register_name), name, target, {}});
  }
}

void registry_announcer::arm_refresh() {
  auto* loop = transport_.network_loop();
  if (!loop || seeds_.empty() || stopped_)
    return;
  refresh_timer_ =
      loop->schedule_at(transport_.clock().now() + refresh_interval_, [weak = weak_from_this()] {
        auto self = weak.lock();
        if (!self)
          return;
        self->refresh();
        std::lock_guard<std::mutex> guard{self->mtx_};
        self->arm_refresh();
      });
}

} // namespace grainflow::detail
