#pragma once

// Helpers shared by the executor and network scenarios: running code on the
// executor from the test thread, waiting for a condition with a bound, and a
// listener that never accepts (to make connects hang).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <thread>
#include <type_traits>

#include "grainflow/endpoints/network_address.hpp"
#include "grainflow/transport/executor.hpp"

namespace grainflow::test {

using namespace std::chrono_literals;

/// How long any single wait of a scenario may take before it counts as a hang.
inline constexpr auto wait_limit = 5s;

inline time_point now() {
  return std::chrono::steady_clock::now();
}

/// Runs `f` on the executor and returns its result. Gives up the process on a
/// hang: the posted lambda refers to this frame, so returning would be worse.
template <class F>
auto on_loop(executor& ex, F f) -> decltype(f()) {
  using value = decltype(f());
  std::promise<value> done;
  auto future = done.get_future();
  ex.post([&] {
    if constexpr (std::is_void_v<value>) {
      f();
      done.set_value();
    } else {
      done.set_value(f());
    }
  });
  if (future.wait_for(wait_limit) != std::future_status::ready) {
    std::fprintf(stderr, "on_loop: the executor did not run a task within the limit\n");
    std::abort();
  }
  return future.get();
}

/// Polls `condition` on the executor until it holds or `limit` passed.
template <class F>
bool eventually(executor& ex, F condition, std::chrono::milliseconds limit = 5000ms) {
  const auto give_up = now() + limit;
  while (now() < give_up) {
    if (on_loop(ex, condition))
      return true;
    std::this_thread::sleep_for(1ms);
  }
  return false;
}

/// A listening socket on 127.0.0.1 with a backlog of 0 that never accepts,
/// made with plain POSIX calls rather than the provider under test. Once its
/// queue is full the kernel drops further SYNs, so a connect to it hangs until
/// its deadline.
class unaccepting_listener {
public:
  unaccepting_listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 0) != 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      ADD_FAILURE() << "test listener: " << std::strerror(errno);
    port_ = ntohs(addr.sin_port);
  }
  ~unaccepting_listener() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  unaccepting_listener(const unaccepting_listener&) = delete;
  unaccepting_listener& operator=(const unaccepting_listener&) = delete;

  network_address address() const { return network_address::loopback_v4(port_); }

private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

} // namespace grainflow::test
