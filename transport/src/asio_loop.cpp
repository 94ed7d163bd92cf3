// The event loop behind asio_network: the network thread, posted tasks,
// timers, and shutdown.

#include "asio_loop.hpp"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

#include "grainflow/endpoints/error.hpp"
#include "grainflow/transport/providers.hpp"

namespace grainflow::detail {

static_assert(std::is_same_v<grainflow::time_point, asio::steady_timer::time_point>,
              "the executor's time_point must be the Asio timer's, or deadlines would convert");

namespace {

// Timers fired per turn before the loop lets other handlers run: a callback
// that keeps scheduling itself in the past must not starve the sockets.
constexpr int max_timers_per_turn = 1024;

} // namespace

// -- conversions --------------------------------------------------------------

asio::ip::tcp::endpoint to_endpoint(const network_address& address) noexcept {
  if (address.is_v4())
    return {asio::ip::make_address_v4(address.v4_bytes()), address.port()};
  return {asio::ip::make_address_v6(address.bytes()), address.port()};
}

network_address to_address(const asio::ip::tcp::endpoint& endpoint) noexcept {
  const auto address = endpoint.address();
  if (address.is_v4())
    return network_address::ipv4(address.to_v4().to_bytes(), endpoint.port());
  return network_address::ipv6(address.to_v6().to_bytes(), endpoint.port());
}

std::error_code to_error_code(const std::error_code& ec) noexcept {
  if (!ec)
    return {};
  const auto& category = ec.category();
  // netdb and addrinfo are the system category on POSIX; listed for clarity.
  if (category == asio::error::get_system_category() ||
      category == asio::error::get_netdb_category() ||
      category == asio::error::get_addrinfo_category())
    return {ec.value(), std::system_category()};
  if (category == asio::error::get_misc_category())
    return std::make_error_code(std::errc::io_error);
  return ec;
}

std::error_code closed_reason(const std::error_code& ec) noexcept {
  if (ec == asio::error::eof)
    return {};
  return to_error_code(ec);
}

// -- construction -------------------------------------------------------------

// One thread runs the context: the concurrency hint lets Asio skip the locks
// it would need for several.
asio_loop::asio_loop(asio_network_config config)
    : config_(config)
    , io_(1)
    , work_(std::in_place, io_.get_executor())
    , timer_(io_) {}

asio_loop::~asio_loop() {
  // asio_network stops the loop before it lets go; this is the backstop for
  // a loop that was never handed to one.
  stop();
}

bool asio_loop::in_loop_context() const noexcept {
  // acquire pairs with the release stores in start()/stop(): a thread that
  // sees "not running" also sees the effects of the join.
  return in_executor_thread() || phase_.load(std::memory_order_acquire) != phase::running;
}

asio_network_stats asio_loop::stats() const noexcept {
  // relaxed: see count().
  constexpr auto r = std::memory_order_relaxed;
  return {counters_.connections_accepted.load(r), counters_.connections_connected.load(r),
          counters_.connect_failures.load(r),     counters_.accept_errors.load(r),
          counters_.write_calls.load(r),          counters_.bytes_written.load(r),
          counters_.read_calls.load(r),           counters_.bytes_read.load(r)};
}

// -- executor -----------------------------------------------------------------

bool asio_loop::in_executor_thread() const noexcept {
  return loop_thread_.load(std::memory_order_relaxed) == std::this_thread::get_id();
}

void asio_loop::post(unique_function<void()> task) {
  bool wake = false;
  {
    std::lock_guard<adaptive_mutex> guard{mtx_};
    if (closed_)
      return; // `task` is destroyed on return, outside the lock
    posted_.push_back(std::move(task));
    // One Asio handler drains everything posted until it runs: a burst of
    // posts costs one wake-up of the loop, not one per task.
    wake = !std::exchange(drain_scheduled_, true);
  }
  if (wake)
    asio::post(io_, [this] { drain_posted(); });
}

void asio_loop::drain_posted() {
  // The two vectors trade places, so each keeps its capacity: posting does
  // not allocate once the loop has seen its largest burst.
  {
    std::lock_guard<adaptive_mutex> guard{mtx_};
    draining_.swap(posted_);
    drain_scheduled_ = false;
  }
  // No check for shutdown between tasks: shut_down() is a handler of its own
  // and cannot run in the middle of this one.
  for (auto& task : draining_)
    task();
  draining_.clear();
}

timer_id asio_loop::schedule_at(time_point when, unique_function<void()> callback) {
  bool rearm = false;
  std::uint64_t id = 0;
  {
    std::lock_guard<adaptive_mutex> guard{mtx_};
    id = next_timer_id_++;
    if (closed_)
      return timer_id{id}; // names nothing; `callback` dies outside the lock
    const std::pair key{when, id};
    const bool earliest = timers_.empty() || key < timers_.begin()->first;
    timers_.emplace(key, std::move(callback));
    timer_index_.emplace(id, when);
    // Only a new earliest timer moves the Asio timer; later ones are found
    // when it fires.
    rearm = earliest && !std::exchange(rearm_scheduled_, true);
  }
  // The Asio timer belongs to the loop thread: re-arm it there, also when
  // called on the loop thread (then this is just one more handler).
  if (rearm)
    asio::post(io_, [this] {
      {
        std::lock_guard<adaptive_mutex> guard{mtx_};
        rearm_scheduled_ = false;
      }
      rearm_timer();
    });
  return timer_id{id};
}

bool asio_loop::cancel(timer_id id) {
  unique_function<void()> victim; // destroyed after the lock is released
  std::lock_guard<adaptive_mutex> guard{mtx_};
  const auto it = timer_index_.find(static_cast<std::uint64_t>(id));
  if (it == timer_index_.end())
    return false;
  const auto timer = timers_.find({it->second, it->first});
  assert(timer != timers_.end());
  victim = std::move(timer->second);
  timers_.erase(timer);
  timer_index_.erase(it);
  // The Asio timer may now wake early for nothing; fire_due_timers() copes.
  return true;
}

void asio_loop::rearm_timer() {
  if (shut_down_)
    return;
  std::optional<time_point> earliest;
  {
    std::lock_guard<adaptive_mutex> guard{mtx_};
    if (!timers_.empty())
      earliest = timers_.begin()->first.first;
  }
  // A wait for an earlier time is still good: when it fires, it re-arms.
  if (!earliest || (armed_at_ && *armed_at_ <= *earliest))
    return;
  armed_at_ = *earliest;
  const std::uint64_t generation = ++timer_generation_;
  // expires_at cancels the previous wait (its handler sees operation_aborted,
  // or, if it had already completed, a stale generation). It cannot fail:
  // cancelling a timer is bookkeeping in Asio's timer queue.
  timer_.expires_at(*earliest);
  timer_.async_wait([this, generation](const std::error_code& ec) {
    if (ec || generation != timer_generation_ || shut_down_)
      return;
    armed_at_.reset();
    fire_due_timers();
    rearm_timer();
  });
}

void asio_loop::fire_due_timers() {
  const time_point now = std::chrono::steady_clock::now();
  for (int fired = 0; fired < max_timers_per_turn && !shut_down_; ++fired) {
    unique_function<void()> callback;
    {
      std::lock_guard<adaptive_mutex> guard{mtx_};
      const auto first = timers_.begin();
      if (first == timers_.end() || first->first.first > now)
        return;
      callback = std::move(first->second);
      timer_index_.erase(first->first.second);
      timers_.erase(first);
    }
    // Taken out under the lock, run outside it: the callback may schedule or
    // cancel timers, and a concurrent cancel() of this one now returns false.
    callback();
  }
}

// -- lifecycle ----------------------------------------------------------------

result<void> asio_loop::start() {
  switch (phase_.load(std::memory_order_acquire)) {
  case phase::running:
    return success();
  case phase::stopped:
    return failure(make_error_code(error::transport_closed));
  case phase::idle:
    break;
  }
  // Set before the thread exists, so that the thread's first handler already
  // finds the loop "running" (release: see in_loop_context()).
  phase_.store(phase::running, std::memory_order_release);
  try {
    thread_ = std::thread([this] { run(); });
  } catch (const std::system_error& e) {
    phase_.store(phase::idle, std::memory_order_release);
    return failure(e.code());
  }
  return success();
}

void asio_loop::run() noexcept {
  loop_thread_.store(std::this_thread::get_id(), std::memory_order_relaxed);
  // Returns once shut_down() released the work guard and every aborted
  // operation has completed. A callback that throws ends the process here
  // (noexcept): callbacks must not throw.
  //
  // Polls (non-blocking) for a short while after the last handler before it
  // blocks: on a request/response exchange the next event usually comes
  // within microseconds, and catching it awake saves a wake-up through the
  // kernel, the dominant cost of a round trip on loopback. Only while events
  // come that fast, though: when the last sleep lasted much longer than the
  // spin, the line is quiet (pings, timers) and spinning would only burn a
  // core that other processes need.
  //
  // The sources (shared-memory links) are polled on the same turns: their
  // messages are caught while the loop is awake, with no system call and no
  // other thread, and before it blocks each source is asked whether it may.
  const auto spin = config_.spin_before_sleep;
  using clock = std::chrono::steady_clock;
  bool busy = false;
  auto last_work = clock::now();
  // Until when spinning is off because the cores are wanted (see below).
  auto no_spin_until = last_work;
  while (!io_.stopped()) {
    if (busy) {
      const std::size_t handled = io_.poll();
      if (handled + poll_sources() > 0) {
        last_work = clock::now();
        continue;
      }
      auto now = clock::now();
      if (now - last_work < spin && now >= no_spin_until) {
        // Spinning must not keep a runnable thread (the actor that will
        // produce the next packet, another process) off a core. A yield
        // that comes back late gave the core away: something else wants it,
        // and spinning on would take turns with it, a context switch per
        // turn, instead of sleeping until there is work. Under load that
        // took a depth-64 run from ~70-100k requests/s to under 15k. A
        // thread that handles a packet gives the core back within the limit.
        std::this_thread::yield();
        if (clock::now() - now > config_.spin_yield_limit)
          no_spin_until = clock::now() + config_.spin_pause_when_contended;
        // A source costs a load to look at, io_.poll() system calls: look
        // at the sources once more, so their messages wait less.
        if (poll_sources() > 0)
          last_work = clock::now();
        continue;
      }
    }
    if (!sources_may_sleep()) {
      poll_sources();
      last_work = clock::now();
      busy = spin.count() > 0;
      continue;
    }
    const auto asleep = clock::now();
    if (io_.run_one() == 0)
      break; // out of work: shut down
    last_work = clock::now();
    busy = spin.count() > 0 && last_work - asleep < 4 * spin;
  }
  loop_thread_.store(std::thread::id{}, std::memory_order_relaxed);
}

void asio_loop::stop() noexcept {
  const phase was = phase_.load(std::memory_order_acquire);
  if (was == phase::stopped)
    return;
  if (was == phase::running) {
    assert(!in_executor_thread() && "stop() on the network thread would wait for itself");
    asio::post(io_, [this] { shut_down(); });
    thread_.join();
  } else {
    // Never started: shut down here, then let the aborted operations of
    // listeners and connects made before start() complete on this thread, so
    // that their handlers (and what they keep alive) are released now.
    shut_down();
    io_.restart();
    io_.run();
  }
  phase_.store(phase::stopped, std::memory_order_release);
}

void asio_loop::shut_down() noexcept {
  if (shut_down_)
    return;
  shut_down_ = true;
  std::vector<unique_function<void()>> posted;
  std::map<std::pair<time_point, std::uint64_t>, unique_function<void()>> timers;
  {
    std::lock_guard<adaptive_mutex> guard{mtx_};
    closed_ = true;
    posted.swap(posted_);
    timers.swap(timers_);
    timer_index_.clear();
  }
  timer_.cancel();
  // The sources' descriptors close with them; their aborted waits complete
  // without touching the entries.
  for (auto& entry : sources_) {
    entry->source.reset();
    if (entry->bell) {
      std::error_code ignored;
      entry->bell->close(ignored);
    }
  }
  // Resources may unregister (or new ones die) while callbacks are destroyed:
  // work on a snapshot that keeps each alive until all are shut down.
  std::vector<std::shared_ptr<loop_resource>> alive;
  alive.reserve(resources_.size());
  for (auto& [raw, weak] : resources_)
    if (auto strong = weak.lock())
      alive.push_back(std::move(strong));
  for (auto& resource : alive)
    resource->shut_down();
  alive.clear();
  // Destroyed outside the lock: their destructors may post (and be dropped).
  posted.clear();
  timers.clear();
  work_.reset();
}

// -- resources ----------------------------------------------------------------

void asio_loop::add_resource(const std::shared_ptr<loop_resource>& resource) {
  assert(in_loop_context());
  if (shut_down_) {
    resource->shut_down();
    return;
  }
  resources_.emplace(resource.get(), resource);
}

void asio_loop::remove_resource(const loop_resource* resource) noexcept {
  resources_.erase(resource);
}

// -- sources ------------------------------------------------------------------

void asio_loop::add_source(std::shared_ptr<loop_source> source, int wake_fd) {
  assert(in_loop_context());
  if (shut_down_)
    return;
  auto entry = std::make_shared<source_entry>();
  entry->source = std::move(source);
  if (wake_fd >= 0) {
    // A duplicate: the descriptor closes with the entry, the source's own
    // stays with its owner.
    const int copy = ::fcntl(wake_fd, F_DUPFD_CLOEXEC, 0);
    if (copy >= 0) {
      std::error_code ec;
      entry->bell.emplace(io_);
      entry->bell->assign(copy, ec);
      if (ec) {
        ::close(copy);
        entry->bell.reset();
      }
    }
  }
  sources_.push_back(entry);
  wait_for_bell(entry);
}

void asio_loop::wait_for_bell(const std::shared_ptr<source_entry>& entry) {
  if (!entry->bell)
    return;
  // Weak: a wait that completed before its source finished may still be
  // queued when the entry is reaped.
  entry->bell->async_wait(asio::posix::stream_descriptor::wait_read,
                          [this, weak = std::weak_ptr{entry}](const std::error_code& ec) {
                            auto self = weak.lock();
                            if (ec || shut_down_ || !self || !self->source)
                              return;
                            std::uint64_t count = 0;
                            // Resets the eventfd; nonblocking, so nothing to
                            // wait for when a read took it already.
                            [[maybe_unused]] auto n =
                                ::read(self->bell->native_handle(), &count, sizeof count);
                            poll_one(*self);
                            if (self->source)
                              wait_for_bell(self);
                          });
}

bool asio_loop::poll_one(source_entry& entry) {
  if (!entry.source)
    return false;
  switch (entry.source->poll()) {
  case loop_source::status::worked:
    return true;
  case loop_source::status::idle:
    return false;
  case loop_source::status::finished:
    break;
  }
  // Reaped by poll_sources(), not here: a caller may hold the entry.
  entry.source.reset();
  if (entry.bell) {
    std::error_code ignored;
    entry.bell->close(ignored);
  }
  sources_finished_ = true;
  return false;
}

std::size_t asio_loop::poll_sources() {
  std::size_t worked = 0;
  // By index: a source may add another one while it runs.
  for (std::size_t i = 0; i < sources_.size(); ++i)
    worked += poll_one(*sources_[i]) ? 1 : 0;
  if (std::exchange(sources_finished_, false))
    std::erase_if(sources_, [](const auto& e) { return !e->source; });
  return worked;
}

bool asio_loop::sources_may_sleep() {
  bool may = true;
  for (std::size_t i = 0; i < sources_.size(); ++i)
    if (sources_[i]->source && !sources_[i]->source->before_sleep())
      may = false;
  return may;
}

} // namespace grainflow::detail
