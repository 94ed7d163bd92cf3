// Scenarios of the simulated network against the network_provider contract
// (network_provider.hpp): listen, connect, bytes in order, FIN and RST,
// refusals, partitions, clogs, drained writes, and what a dead process
// leaves behind. Buggify is off: only what a test asks for happens.

#include "grainflow/endpoints/error.hpp"
#include "grainflow/simulation/buggify.hpp"
#include "grainflow/simulation/sim_clock.hpp"
#include "grainflow/simulation/sim_executor.hpp"
#include "grainflow/simulation/sim_network.hpp"
#include "grainflow/simulation/sim_random.hpp"
#include "grainflow/simulation/sim_scheduler.hpp"
#include "grainflow/simulation/trace.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <vector>

namespace grainflow::sim {
namespace {

using namespace std::chrono_literals;

/// What one end of a connection saw.
struct seen {
  std::vector<std::byte> bytes;
  std::optional<std::error_code> closed;
};

class sim_network_test : public ::testing::Test {
protected:
  static constexpr process_id client = 0;
  static constexpr process_id server = 1;

  void SetUp() override {
    for (process_id id : {client, server}) {
      clocks_.push_back(
          std::make_unique<sim_clock>(scheduler_, time_point{}, time_point{} + (id + 1) * 1h, 0));
      loops_.push_back(std::make_unique<sim_executor>(scheduler_, *clocks_.back(), id));
      loops_.back()->start();
      providers_.push_back(net_.attach(id, *loops_.back(), *clocks_.back()));
    }
  }

  void TearDown() override {
    accepted_.clear();
    dialed_.reset();
    listener_.reset();
    providers_.clear();
    scheduler_.clear();
  }

  void run_for(duration span) {
    const auto until = scheduler_.now() + span;
    while (scheduler_.next_time() && *scheduler_.next_time() <= until)
      scheduler_.run_next();
    scheduler_.advance_to(until);
  }

  network_address server_address() const { return sim_network::address_of(server, 4500); }

  void listen() {
    auto made = providers_[server]->listen(server_address(), [this](auto conn) {
      conn->start([this](auto bytes) { append(at_server_, bytes); },
                  [this](std::error_code e) { at_server_.closed = e; });
      accepted_.push_back(std::move(conn));
    });
    ASSERT_TRUE(made) << made.error().message();
    listener_ = std::move(made).value();
  }

  /// Dials the server; the outcome lands in `dialed_` or `dial_error_`.
  void dial(duration timeout = 2s) {
    const auto deadline = clocks_[client]->now() + timeout;
    providers_[client]->connect(server_address(), deadline, [this](auto made) {
      if (!made) {
        dial_error_ = made.error();
        return;
      }
      dialed_ = std::move(made).value();
      dialed_->start([this](auto bytes) { append(at_client_, bytes); },
                     [this](std::error_code e) { at_client_.closed = e; });
    });
  }

  static void append(seen& into, std::span<const std::byte> bytes) {
    into.bytes.insert(into.bytes.end(), bytes.begin(), bytes.end());
  }

  static std::vector<std::byte> pattern(std::size_t size, int salt) {
    std::vector<std::byte> out(size);
    for (std::size_t i = 0; i < size; ++i)
      out[i] = static_cast<std::byte>((i * 31 + static_cast<std::size_t>(salt)) & 0xff);
    return out;
  }

  trace log_;
  sim_scheduler scheduler_{log_, time_point{}};
  sim_random random_{11};
  buggify bug_{11, random_, false};
  sim_network net_{scheduler_, random_, bug_, log_};
  std::vector<std::unique_ptr<sim_clock>> clocks_;
  std::vector<std::unique_ptr<sim_executor>> loops_;
  std::vector<std::shared_ptr<network_provider>> providers_;
  std::unique_ptr<listener> listener_;
  std::vector<std::unique_ptr<connection>> accepted_;
  std::unique_ptr<connection> dialed_;
  std::optional<std::error_code> dial_error_;
  seen at_server_;
  seen at_client_;
};

TEST_F(sim_network_test, bytes_arrive_whole_and_in_order_and_writes_drain) {
  listen();
  dial();
  run_for(100ms);
  ASSERT_TRUE(dialed_);
  ASSERT_EQ(accepted_.size(), 1u);
  std::vector<std::byte> sent;
  bool drained = false;
  dialed_->on_drained([&] { drained = true; });
  for (int i = 0; i < 50; ++i) {
    auto chunk = pattern(1000 + static_cast<std::size_t>(i) * 97, i);
    sent.insert(sent.end(), chunk.begin(), chunk.end());
    EXPECT_GT(dialed_->write(chunk), 0u) << "bytes wait to leave at the link's bandwidth";
  }
  run_for(1s);
  EXPECT_EQ(at_server_.bytes, sent);
  EXPECT_EQ(dialed_->pending_write_bytes(), 0u);
  EXPECT_TRUE(drained);
  EXPECT_EQ(dialed_->remote_address(), server_address());
  EXPECT_EQ(accepted_[0]->remote_address(), dialed_->local_address());
}

TEST_F(sim_network_test, close_ends_the_stream_after_its_bytes_and_abort_resets_it) {
  listen();
  dial();
  run_for(100ms);
  ASSERT_TRUE(dialed_);
  auto last = pattern(500, 1);
  dialed_->write(last);
  dialed_->close();
  EXPECT_EQ(dialed_->write(last), 0u) << "nothing is written after close";
  run_for(1s);
  EXPECT_EQ(at_server_.bytes, last);
  ASSERT_TRUE(at_server_.closed);
  EXPECT_FALSE(*at_server_.closed) << "an orderly end: FIN";
  EXPECT_FALSE(at_client_.closed) << "no callback after the owner closed";

  dialed_.reset();
  at_server_ = {};
  dial();
  run_for(100ms);
  ASSERT_TRUE(dialed_);
  accepted_.back()->abort();
  run_for(1s);
  ASSERT_TRUE(at_client_.closed);
  EXPECT_EQ(*at_client_.closed, std::errc::connection_reset);
}

TEST_F(sim_network_test, nothing_listening_refuses_and_a_partition_times_the_dial_out) {
  dial();
  run_for(1s);
  ASSERT_TRUE(dial_error_);
  EXPECT_EQ(*dial_error_, std::errc::connection_refused);

  listen();
  dial_error_.reset();
  net_.partition(client, server, 10s);
  const auto started = scheduler_.now();
  dial(300ms);
  run_for(1s);
  ASSERT_TRUE(dial_error_);
  EXPECT_EQ(*dial_error_, error::timed_out);
  EXPECT_FALSE(dialed_);
  EXPECT_GE(scheduler_.now() - started, 300ms);
}

TEST_F(sim_network_test, a_clog_holds_bytes_until_it_ends) {
  listen();
  dial();
  run_for(100ms);
  ASSERT_TRUE(dialed_);
  net_.clog_pair(client, server, 500ms);
  dialed_->write(pattern(100, 2));
  run_for(400ms);
  EXPECT_TRUE(at_server_.bytes.empty());
  run_for(200ms);
  EXPECT_EQ(at_server_.bytes.size(), 100u);
}

TEST_F(sim_network_test, a_crashed_process_ends_its_connections_and_refuses_dials) {
  listen();
  dial();
  run_for(100ms);
  ASSERT_TRUE(dialed_);
  net_.detach(server, kill_mode::crash);
  run_for(1s);
  ASSERT_TRUE(at_client_.closed) << "FIN or RST from the machine's kernel";
  dialed_.reset();
  dial();
  run_for(1s);
  ASSERT_TRUE(dial_error_);
  EXPECT_EQ(*dial_error_, std::errc::connection_refused);
}

TEST_F(sim_network_test, a_machine_that_lost_power_goes_silent) {
  listen();
  dial();
  run_for(100ms);
  ASSERT_TRUE(dialed_);
  net_.detach(server, kill_mode::power_off);
  dialed_->write(pattern(100, 3));
  run_for(5s);
  EXPECT_FALSE(at_client_.closed) << "only an idle timeout can tell";
  EXPECT_TRUE(at_server_.bytes.empty());
  dialed_.reset();
  dial(500ms);
  run_for(1s);
  ASSERT_TRUE(dial_error_);
  EXPECT_EQ(*dial_error_, error::timed_out) << "a dial to a dark machine hangs";
}

TEST_F(sim_network_test, an_address_can_be_listened_on_once) {
  listen();
  auto again = providers_[server]->listen(server_address(), [](auto) {});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), std::errc::address_in_use);
  auto elsewhere = providers_[server]->listen(sim_network::address_of(client, 4500), [](auto) {});
  ASSERT_FALSE(elsewhere);
  EXPECT_EQ(elsewhere.error(), std::errc::address_not_available);
}

} // namespace
} // namespace grainflow::sim
