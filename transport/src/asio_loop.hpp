#pragma once

// Internal to transport/ (never installed): the event loop behind
// asio_network, and the helpers its .cpp files share. Asio appears only here
// and in the .cpp files, never in a public header, so FlowTransport, Peer and
// the simulator compile without it.

// Every Asio include of grainflow goes through this header, so these settings
// are the same in every translation unit (anything else would break the ODR).
// No deprecated API: the deprecated overloads are the ones without error_code
// alternatives we must avoid anyway.
#ifndef ASIO_NO_DEPRECATED
#define ASIO_NO_DEPRECATED
#endif
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include "grainflow/endpoints/adaptive_mutex.hpp"
#include <optional>
#include <system_error>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "grainflow/endpoints/network_address.hpp"
#include "grainflow/endpoints/result.hpp"
#include "grainflow/transport/asio_network.hpp"
#include "grainflow/transport/executor.hpp"

namespace grainflow::detail {

// Asio reports errors as std::error_code, but in categories of its own:
// "asio.system" for errno values (which neither compares equal to std::errc
// values nor is known to grainflow's category registry, so it could not cross
// the wire) and "asio.misc" for end of stream. to_error_code() is the one
// place every Asio error passes through on its way out.
static_assert(std::is_same_v<asio::error_code, std::error_code>,
              "standalone Asio must use std::error_code");

// -- conversions --------------------------------------------------------------

/// Returns the Asio endpoint for `address`.
asio::ip::tcp::endpoint to_endpoint(const network_address& address) noexcept;

/// Returns the address of an Asio endpoint (IPv4 stays IPv4).
network_address to_address(const asio::ip::tcp::endpoint& endpoint) noexcept;

/// Returns `ec` in a category the rest of grainflow understands: errno values
/// in std::system_category() (so they compare equal to std::errc values),
/// Asio's other "misc" codes as std::errc::io_error. The empty code stays
/// empty.
std::error_code to_error_code(const std::error_code& ec) noexcept;

/// Returns why a read ended, as `closed_handler` reports it: end of stream
/// (Asio's eof) becomes the empty code, everything else as to_error_code().
std::error_code closed_reason(const std::error_code& ec) noexcept;

// -- loop resources -------------------------------------------------------------

/// Something holding a socket or timer that the loop must close at stop():
/// connections, listeners, connect attempts. Registered with the loop for its
/// whole life; shut_down() runs on the loop (or controlling) thread.
class loop_resource {
public:
  /// Closes sockets and timers and destroys every user callback, without
  /// calling any. Afterwards the resource does nothing.
  virtual void shut_down() noexcept = 0;

protected:
  ~loop_resource() = default;
};

// -- sources the loop polls itself ----------------------------------------------

/// Something the network thread polls itself rather than waiting for a
/// handler: a shared-memory link's rings, which no socket announces. The loop
/// polls each source on every turn of its poll-before-sleep window, asks each
/// before it blocks, and polls it when its wake descriptor becomes readable.
/// Every member runs on the loop thread.
class loop_source {
public:
  /// What a poll found.
  enum class status : std::uint8_t { idle, worked, finished };

  virtual ~loop_source() = default;

  /// Takes what is ready. `finished`: the source is done and the loop drops
  /// it (closing its wake descriptor).
  virtual status poll() = 0;

  /// The loop is about to block: returns true if it may (the wake descriptor
  /// will become readable for anything new), false when the source has work
  /// now (the loop polls instead of sleeping).
  virtual bool before_sleep() = 0;
};

// -- the loop -----------------------------------------------------------------------

/// The io_context, the network thread, the executor (posted tasks and timers)
/// and the registry of resources. Shared by asio_network and by every
/// connection and listener handed out, so none of them outlives the
/// io_context its sockets belong to.
///
/// Thread safety: post/schedule_at/cancel/in_executor_thread/stats from any
/// thread; start/stop from the controlling thread; everything else on the
/// loop thread or while it is not running ("loop context").
class asio_loop final : public executor, public std::enable_shared_from_this<asio_loop> {
public:
  /// Throws what io_context's constructor throws (the factory catches it).
  explicit asio_loop(asio_network_config config);
  ~asio_loop() override;

  asio_loop(const asio_loop&) = delete;
  asio_loop& operator=(const asio_loop&) = delete;

  // -- properties -------------------------------------------------------------

  asio::io_context& io() noexcept { return io_; }
  const asio_network_config& config() const noexcept { return config_; }

  /// True after shutdown began; from then on nothing new may start. Loop context.
  bool stopped() const noexcept { return shut_down_; }

  /// True in loop context: on the loop thread, or while it is not running.
  /// For debug checks of the thread contract.
  bool in_loop_context() const noexcept;

  asio_network_stats stats() const noexcept;

  // -- executor -----------------------------------------------------------------

  bool in_executor_thread() const noexcept override;
  void post(unique_function<void()> task) override;
  timer_id schedule_at(time_point when, unique_function<void()> callback) override;
  bool cancel(timer_id id) override;

  // -- lifecycle ----------------------------------------------------------------

  result<void> start();
  void stop() noexcept;

  // -- resources ----------------------------------------------------------------

  /// Registers `resource` for shutdown. Loop context. When the loop already
  /// shut down, shuts the resource down at once.
  void add_resource(const std::shared_ptr<loop_resource>& resource);

  /// Unregisters `resource` (from its destructor). Loop context.
  void remove_resource(const loop_resource* resource) noexcept;

  // -- sources ------------------------------------------------------------------

  /// Adds `source`: polled on every turn of the poll-before-sleep window,
  /// asked before the loop blocks, and polled when `wake_fd` (an eventfd the
  /// loop duplicates and resets by reading it; -1 for none) becomes
  /// readable. Kept until its poll() says finished or the loop shuts down.
  /// Loop context.
  void add_source(std::shared_ptr<loop_source> source, int wake_fd);

  // -- counters (relaxed: each is a statistic on its own) ------------------------

  struct counters {
    std::atomic<std::uint64_t> connections_accepted{0};
    std::atomic<std::uint64_t> connections_connected{0};
    std::atomic<std::uint64_t> connect_failures{0};
    std::atomic<std::uint64_t> accept_errors{0};
    std::atomic<std::uint64_t> write_calls{0};
    std::atomic<std::uint64_t> bytes_written{0};
    std::atomic<std::uint64_t> read_calls{0};
    std::atomic<std::uint64_t> bytes_read{0};
  };

  /// Adds `n` to `counter`. Loop thread (the only writer).
  static void count(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) noexcept {
    // relaxed: a counter orders nothing; readers want a recent value only.
    counter.fetch_add(n, std::memory_order_relaxed);
  }

  counters& counts() noexcept { return counters_; }

private:
  enum class phase : std::uint8_t { idle, running, stopped };

  /// Body of the network thread.
  void run() noexcept;

  /// Runs the tasks posted so far. Loop thread.
  void drain_posted();

  /// Points the Asio timer at the earliest pending timer. Loop thread.
  void rearm_timer();

  /// Runs the timers that are due. Loop thread.
  void fire_due_timers();

  /// Stops everything: see asio_network::stop(). Loop context.
  void shut_down() noexcept;

  /// A source and the descriptor that wakes the loop for it.
  struct source_entry {
    std::shared_ptr<loop_source> source; // empty once finished
    std::optional<asio::posix::stream_descriptor> bell;
  };

  /// Polls every source; returns how many found work. Drops the finished.
  /// Loop thread.
  std::size_t poll_sources();

  /// Polls one source; true if it found work. Loop thread.
  bool poll_one(source_entry& entry);

  /// Asks every source whether the loop may block. Loop thread.
  bool sources_may_sleep();

  /// Waits (asynchronously) for `entry`'s descriptor. Loop thread.
  void wait_for_bell(const std::shared_ptr<source_entry>& entry);

  asio_network_config config_;
  counters counters_;

  // Declared before io_: resources unregister while io_'s destructor destroys
  // the handlers that kept them alive, so the registry must outlive io_.
  std::unordered_map<const loop_resource*, std::weak_ptr<loop_resource>> resources_;

  asio::io_context io_;
  // Keeps run() from returning while the loop idles; reset by shut_down() so
  // run() returns once the aborted operations have completed.
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  asio::steady_timer timer_;

  // Loop thread only: the deadline the Asio timer waits for, and the
  // generation that tells a current wait from a superseded one.
  std::optional<time_point> armed_at_;
  std::uint64_t timer_generation_ = 0;
  bool shut_down_ = false;

  // Loop thread only: the sources, and whether one finished since the last
  // sweep. Erased only by poll_sources(), after their descriptor closed; the
  // handlers of their descriptors hold them weakly.
  std::vector<std::shared_ptr<source_entry>> sources_;
  bool sources_finished_ = false;
  // The batch drain_posted() runs; empty between drains.
  std::vector<unique_function<void()>> draining_;

  // Shared with posting threads, guarded by mtx_.
  mutable adaptive_mutex mtx_;
  std::vector<unique_function<void()>> posted_;
  bool drain_scheduled_ = false;
  bool rearm_scheduled_ = false;
  bool closed_ = false; // no more posts or timers are accepted
  std::uint64_t next_timer_id_ = 1;
  /// Pending timers in firing order: (when, id) → callback.
  std::map<std::pair<time_point, std::uint64_t>, unique_function<void()>> timers_;
  /// id → when, to find a timer for cancel().
  std::unordered_map<std::uint64_t, time_point> timer_index_;

  // The controlling thread's view of the lifecycle; atomic because
  // in_loop_context() reads it from any thread (debug checks).
  std::atomic<phase> phase_{phase::idle};
  std::thread thread_;
  // The network thread's id while it runs. relaxed: a thread compares it with
  // its own id, and only the network thread ever stores its own id, so
  // no ordering with other data is needed.
  std::atomic<std::thread::id> loop_thread_{};
};

} // namespace grainflow::detail
