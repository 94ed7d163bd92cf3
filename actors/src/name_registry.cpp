#include "grainflow/actors/name_registry.hpp"

#include "registry_announcer.hpp"

#include "grainflow/actors/registry_messages.hpp"
#include "grainflow/actors/request_stream.hpp"
#include "grainflow/endpoints/well_known.hpp"
#include "grainflow/transport/typed_receiver.hpp"

#include <algorithm>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

namespace grainflow {

namespace {

using registry_stream = request_stream<registry_request>;

constexpr auto registry_index = static_cast<std::uint64_t>(well_known::name_registry);

std::error_code errc(std::errc code) {
  return std::make_error_code(code);
}

/// One node's registry: a map from names to endpoints, served at the
/// well-known token. Not an actor: a request is handled inline on the thread
/// that delivers it (the network thread, or the caller's for same-process
/// calls), under a mutex held only for the map operation — never while an
/// answer is sent, since answering may run a caller's continuation that calls
/// back into this registry.
///
/// Thread safety: every member may be called from any thread.
class registry_receiver final : public typed_receiver<registry_request> {
public:
  explicit registry_receiver(flow_transport& transport)
      : transport_(transport) {}

  // -- message_receiver -------------------------------------------------------

  void receive_local(registry_request&& request,
                     std::optional<time_point> deadline) noexcept override {
    // As any request stream: work whose deadline passed is not started.
    if (deadline && *deadline <= transport_.clock().now()) {
      request.reply.send_error(error::timed_out);
      return;
    }
    auto outcome = apply(request);
    if (outcome)
      request.reply.send(outcome.value());
    else
      request.reply.send_error(outcome.error());
  }

  void receive_serialized(const incoming_packet& packet) noexcept override {
    auto decoded = detail::decode_request<registry_request>(transport_, packet.payload);
    if (!decoded.request) {
      transport_.note_undecodable_payload();
      if (decoded.reply_to) {
        result<registry_answer> failed{make_error_code(error::serialization_failed)};
        (void)transport_.send_packet(*decoded.reply_to, [&](std::vector<std::byte>& out) {
          detail::append_reply(out, failed);
        });
      }
      return;
    }
    receive_local(std::move(decoded.request).value(), decoded.deadline);
  }

  // -- properties -------------------------------------------------------------

  /// The names bound right now, sorted; bindings into this process whose
  /// endpoint is gone are dropped first. Empty once the transport closed:
  /// its endpoints, the ones named here among them, are gone.
  std::vector<std::string> names() {
    std::vector<std::string> out;
    if (transport_.closed())
      return out;
    std::vector<std::pair<std::string, endpoint>> bindings;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      bindings.assign(names_.begin(), names_.end());
    }
    for (auto& [name, target] : bindings) {
      if (still_here(target))
        out.push_back(std::move(name));
      else
        forget(name, target);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  /// Whether this registry binds `name` to `target` right now, and the
  /// target, when it is an endpoint of this process, still exists.
  bool binds(const std::string& name, const endpoint& target) {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      auto binding = names_.find(name);
      if (binding == names_.end() || binding->second != target)
        return false;
    }
    return still_here(target); // without mtx_ (see still_here)
  }

private:
  // -- operations (registry_op) -----------------------------------------------

  result<registry_answer> apply(const registry_request& request) noexcept {
    try {
      auto op = static_cast<registry_op>(request.op);
      if (op == registry_op::probe)
        return registry_answer{exists_here(request.target), request.target};
      if (!valid_registry_name(request.name))
        return errc(std::errc::invalid_argument);
      switch (op) {
      case registry_op::register_name:
        return bind(request.name, request.target);
      case registry_op::lookup:
        return find(request.name);
      case registry_op::unregister_name:
        return unbind(request.name, request.target);
      case registry_op::probe:
        break; // answered above: a probe carries no name
      }
      // A newer peer's operation: refused, not misread.
      return errc(std::errc::operation_not_supported);
    } catch (...) {
      // Only the map and its strings allocate.
      return errc(std::errc::not_enough_memory);
    }
  }

  result<registry_answer> bind(const std::string& name, const endpoint& target) {
    if (!target.valid())
      return errc(std::errc::invalid_argument);
    if (transport_.is_local(target.address) && !transport_.find_local(target))
      return error::endpoint_not_found;
    registry_answer answer;
    std::lock_guard<std::mutex> guard{mtx_};
    auto [binding, inserted] = names_.try_emplace(name, target);
    if (!inserted) {
      answer.found = true;
      answer.target = std::exchange(binding->second, target);
    }
    return answer;
  }

  result<registry_answer> find(const std::string& name) {
    std::optional<endpoint> bound;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (auto binding = names_.find(name); binding != names_.end())
        bound = binding->second;
    }
    if (!bound)
      return registry_answer{};
    // A binding into this process is checked here, so an answer about this
    // node's own endpoints is authoritative and needs no second opinion.
    if (!still_here(*bound)) {
      forget(name, *bound);
      return registry_answer{};
    }
    return registry_answer{true, *bound};
  }

  /// Drops `name` if it is still bound to `target`.
  void forget(const std::string& name, const endpoint& target) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (auto binding = names_.find(name); binding != names_.end() && binding->second == target)
      names_.erase(binding);
  }

  result<registry_answer> unbind(const std::string& name, const endpoint& only_if_bound_to) {
    std::lock_guard<std::mutex> guard{mtx_};
    auto binding = names_.find(name);
    if (binding == names_.end() ||
        (only_if_bound_to.valid() && binding->second != only_if_bound_to))
      return registry_answer{};
    registry_answer answer{true, binding->second};
    names_.erase(binding);
    return answer;
  }

  bool exists_here(const endpoint& target) const noexcept {
    return transport_.is_local(target.address) && transport_.find_local(target);
  }

  /// False only for an endpoint of this process that is gone; endpoints of
  /// other nodes cannot be checked from here. Called without mtx_ held: the
  /// receiver reference find_local returns may be the last one, and a
  /// receiver's destructor may resolve a call whose continuation calls back
  /// into this registry.
  bool still_here(const endpoint& target) const noexcept {
    return !transport_.is_local(target.address) || transport_.find_local(target);
  }

  flow_transport& transport_;
  std::mutex mtx_;
  std::unordered_map<std::string, endpoint> names_;
};

/// A future that has failed already.
reply_future<bool> failed_future(std::error_code code) {
  auto state = make_intrusive<detail::reply_state<bool>>(nullptr, std::nullopt);
  state->resolve(code);
  return reply_future<bool>{std::move(state)};
}

} // namespace

// -- impl ---------------------------------------------------------------------

/// The client's side: where the registries are, and the calls to them.
class name_registry::impl {
public:
  impl(flow_transport& transport, std::vector<network_address> seeds, duration refresh_interval)
      : transport_(transport)
      , receiver_(make_intrusive<registry_receiver>(transport)) {
    for (auto& seed : seeds)
      if (!transport.is_local(seed) &&
          std::find(seeds_.begin(), seeds_.end(), seed) == seeds_.end())
        seeds_.push_back(seed);
    announcer_ = std::make_shared<detail::registry_announcer>(
        transport, seeds_,
        [receiver = receiver_](const std::string& name, const endpoint& target) {
          return receiver->binds(name, target);
        },
        refresh_interval);
  }

  registry_stream stream_at(const network_address& address) const {
    return registry_stream{transport_, detail::registry_endpoint(address)};
  }

  /// Tells one registry, once and without waiting for its answer: the
  /// clean-up of a stale binding found by a lookup.
  static void tell_once(flow_transport& transport, const network_address& registry, registry_op op,
                        const std::string& name, const endpoint& target) {
    (void)detail::ask_registry(transport, registry,
                               registry_request{static_cast<std::uint8_t>(op), name, target, {}});
  }

  /// Maps this node's registry's answer to the bool the caller sees, and
  /// runs `on_answer` (the announcement) when it came: on the answering
  /// thread, which for this node's own registry is the caller's, before
  /// get_reply returns.
  template <class F>
  reply_future<bool> when_answered(reply_future<registry_answer> answer, F on_answer) {
    auto out = make_intrusive<detail::reply_state<bool>>(&transport_, std::nullopt);
    answer.take()->on_resolved(
        [out, on_answer = std::move(on_answer)](result<registry_answer>&& got) mutable {
          if (got)
            out->resolve(on_answer(got.value()));
          else
            out->resolve(got.error());
        });
    return reply_future<bool>{out};
  }

  /// The registry at `address` answers `request`, or the call fails.
  result<registry_answer> ask(const network_address& address, registry_request request,
                              time_point deadline) const {
    // try_get_reply: lookups are idempotent, so a dropped connection should
    // move on to the next registry at once rather than wait for a resume.
    return stream_at(address)
        .try_get_reply(std::move(request), call_options::until(deadline))
        .get();
  }

  /// Whether `target` still exists, asked of its own node; an error when
  /// that node could not be asked.
  result<bool> exists(const endpoint& target, time_point deadline) const {
    if (transport_.is_local(target.address))
      return static_cast<bool>(transport_.find_local(target));
    auto answer = ask(
        target.address,
        registry_request{static_cast<std::uint8_t>(registry_op::probe), {}, target, {}}, deadline);
    if (!answer)
      return answer.error();
    return answer.value().found;
  }

  flow_transport& transport_;
  intrusive_ptr<registry_receiver> receiver_;
  std::shared_ptr<detail::registry_announcer> announcer_;
  std::vector<network_address> seeds_;
  bool serving_ = false;
};

// -- name_registry ------------------------------------------------------------

name_registry::name_registry(flow_transport& transport, std::vector<network_address> seeds,
                             duration refresh_interval)
    : transport_(transport)
    , impl_(std::make_unique<impl>(transport, std::move(seeds), refresh_interval)) {}

result<std::unique_ptr<name_registry>> name_registry::start(flow_transport& transport,
                                                            std::vector<network_address> seeds,
                                                            duration refresh_interval) {
  if (transport.closed())
    return error::transport_closed;
  if (refresh_interval <= duration::zero())
    return errc(std::errc::invalid_argument);
  std::unique_ptr<name_registry> out{
      new name_registry{transport, std::move(seeds), refresh_interval}};
  if (auto added = transport.add_well_known(registry_index, out->impl_->receiver_); !added)
    return added.error();
  out->impl_->serving_ = true;
  out->impl_->announcer_->start();
  return out;
}

name_registry::~name_registry() {
  // Only our own registration: a failed start() must not remove the registry
  // that held the token first.
  if (impl_->serving_)
    transport_.remove_endpoint(detail::registry_endpoint(transport_.local_address()));
  impl_->announcer_->stop();
}

bool name_registry::valid_name(std::string_view name) noexcept {
  return valid_registry_name(name);
}

std::vector<std::string> name_registry::names() const {
  return impl_->receiver_->names();
}

reply_future<bool> name_registry::register_name(const std::string& name, const endpoint& target) {
  if (!valid_name(name) || !target.valid())
    return failed_future(errc(std::errc::invalid_argument));
  // Answered here, not by a call: a call needs a reply endpoint, which a
  // closed transport no longer gives out.
  if (transport_.closed())
    return failed_future(make_error_code(error::transport_closed));
  auto local = impl_->stream_at(transport_.local_address())
                   .get_reply(registry_request{
                       static_cast<std::uint8_t>(registry_op::register_name), name, target, {}});
  return impl_->when_answered(std::move(local), [announcer = impl_->announcer_, name,
                                                 target](const registry_answer& answer) {
    announcer->announce(registry_op::register_name, name, target);
    return !answer.found;
  });
}

reply_future<bool> name_registry::unregister_name(const std::string& name) {
  if (!valid_name(name))
    return failed_future(errc(std::errc::invalid_argument));
  if (transport_.closed())
    return failed_future(make_error_code(error::transport_closed));
  auto local = impl_->stream_at(transport_.local_address())
                   .get_reply(registry_request{
                       static_cast<std::uint8_t>(registry_op::unregister_name), name, {}, {}});
  return impl_->when_answered(
      std::move(local), [announcer = impl_->announcer_, name](const registry_answer& answer) {
        // Conditional on the endpoint removed here: a seed whose binding is
        // newer (the service re-registered elsewhere) keeps it.
        if (answer.found)
          announcer->announce(registry_op::unregister_name, name, answer.target);
        return answer.found;
      });
}

result<endpoint> name_registry::lookup(const std::string& name, call_options options) {
  if (!valid_name(name))
    return errc(std::errc::invalid_argument);
  if (transport_.closed())
    return error::transport_closed;
  auto& clock = transport_.clock();
  auto call_deadline = [&] {
    return options.deadline ? *options.deadline : clock.now() + default_call_timeout;
  };
  auto out_of_time = [&] { return options.deadline && clock.now() >= *options.deadline; };
  // Endpoints found gone, and endpoints whose node could not be asked: each
  // is judged once per lookup, however many registries name it.
  std::vector<endpoint> gone;
  std::vector<endpoint> unknown;
  auto contains = [](const std::vector<endpoint>& xs, const endpoint& x) {
    return std::find(xs.begin(), xs.end(), x) != xs.end();
  };
  std::vector<network_address> registries{transport_.local_address()};
  registries.insert(registries.end(), impl_->seeds_.begin(), impl_->seeds_.end());
  for (const auto& registry : registries) {
    if (out_of_time())
      return error::timed_out;
    auto answer = impl_->ask(
        registry, registry_request{static_cast<std::uint8_t>(registry_op::lookup), name, {}, {}},
        call_deadline());
    // A registry that fails (down, slow, no registry there) is skipped.
    if (!answer || !answer.value().found)
      continue;
    const auto& target = answer.value().target;
    if (!target.valid())
      continue; // a registry that answers nonsense is as good as none
    // The registry checked endpoints of its own node before answering.
    if (target.address == registry)
      return target;
    if (contains(unknown, target))
      continue;
    if (!contains(gone, target)) {
      auto alive = impl_->exists(target, call_deadline());
      if (!alive) {
        unknown.push_back(target); // not evidence that it is gone: keep it
        continue;
      }
      if (alive.value())
        return target;
      gone.push_back(target);
    }
    // Stale: that registry drops it (only if still bound to this endpoint).
    impl::tell_once(transport_, registry, registry_op::unregister_name, name, target);
  }
  if (out_of_time())
    return error::timed_out;
  return error::endpoint_not_found;
}

} // namespace grainflow
