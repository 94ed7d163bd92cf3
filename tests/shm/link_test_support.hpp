// Helpers for the link tests: a handler that records what it receives, and a
// pair of links in one process joined by a socketpair.

#pragma once

#include "grainflow/shm/link.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace grainflow::shm::test {

/// Records every message and the failure a link reports; waits for them.
class recorder {
public:
  link_handlers handlers() {
    return {[this](std::span<const std::byte> message) {
              std::lock_guard lock{mutex_};
              messages_.emplace_back(message.begin(), message.end());
              changed_.notify_all();
            },
            [this](std::error_code reason) {
              std::lock_guard lock{mutex_};
              failure_ = reason;
              changed_.notify_all();
            }};
  }

  /// Waits until `n` messages arrived; false on timeout.
  bool wait_for_messages(std::size_t n,
                         std::chrono::milliseconds timeout = std::chrono::seconds{10}) {
    std::unique_lock lock{mutex_};
    return changed_.wait_for(lock, timeout, [&] { return messages_.size() >= n; });
  }

  /// Waits for the failure report; nullopt on timeout.
  std::optional<std::error_code>
  wait_for_failure(std::chrono::milliseconds timeout = std::chrono::seconds{10}) {
    std::unique_lock lock{mutex_};
    changed_.wait_for(lock, timeout, [&] { return failure_.has_value(); });
    return failure_;
  }

  std::vector<std::vector<std::byte>> messages() const {
    std::lock_guard lock{mutex_};
    return messages_;
  }

  std::optional<std::error_code> failure() const {
    std::lock_guard lock{mutex_};
    return failure_;
  }

private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::vector<std::byte>> messages_;
  std::optional<std::error_code> failure_;
};

/// A connected Unix socket pair, closed on destruction: the liveness
/// sockets of two links in one process.
struct socket_pair {
  socket_pair() {
    int fds[2] = {-1, -1};
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    a = fds[0];
    b = fds[1];
  }
  ~socket_pair() {
    ::close(a);
    ::close(b);
  }
  socket_pair(const socket_pair&) = delete;
  socket_pair& operator=(const socket_pair&) = delete;

  int a = -1;
  int b = -1;
};

/// Two ends of one link in this process, both made with `config`.
struct link_pair {
  explicit link_pair(const link_config& config) {
    auto c = shm::link::create(config, creator_side.handlers(), sockets.a);
    EXPECT_TRUE(c) << c.error().message();
    creator = std::move(c.value());
    auto o = shm::link::open(creator->name(), config, opener_side.handlers(), sockets.b);
    EXPECT_TRUE(o) << o.error().message();
    opener = std::move(o.value());
  }

  socket_pair sockets;
  recorder creator_side;
  recorder opener_side;
  std::unique_ptr<shm::link> creator;
  std::unique_ptr<shm::link> opener;
};

/// True while /dev/shm holds `name` (with its leading '/').
inline bool in_dev_shm(const std::string& name) {
  struct stat info {};
  return ::stat(("/dev/shm" + name).c_str(), &info) == 0;
}

/// `n` bytes of a pattern that differs for every `seed`.
inline std::vector<std::byte> pattern(std::size_t n, std::uint64_t seed) {
  std::vector<std::byte> bytes(n);
  for (std::size_t i = 0; i < n; ++i)
    bytes[i] = static_cast<std::byte>((seed * 131 + i * 7 + (i >> 8)) & 0xFF);
  return bytes;
}

} // namespace grainflow::shm::test
