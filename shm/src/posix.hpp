#pragma once

// Internal to shm/ (never installed): the one wrapper every system call of
// shm/ goes through, and an owning file descriptor.

#include <cerrno>
#include <cstdint>
#include <system_error>
#include <utility>

#include <sys/random.h>
#include <unistd.h>

namespace grainflow::shm::detail {

/// errno as an error code of the system category.
inline std::error_code last_system_error() noexcept {
  return {errno, std::system_category()};
}

/// Calls `call` until it returns something other than -1 with errno EINTR.
/// Returns its result; on -1 errno says why. Not for close(), which must not
/// be retried on Linux.
template <class Call>
auto posix_call(Call&& call) noexcept {
  for (;;) {
    auto result = call();
    if (result != -1 || errno != EINTR)
      return result;
  }
}

/// 64 random bits from the kernel (segment names, epochs: never simulated,
/// so not drawn from a passed-in source), or the error of getrandom.
inline std::error_code random_u64(std::uint64_t& value) noexcept {
  const auto n = posix_call([&] { return ::getrandom(&value, sizeof value, 0); });
  return n == static_cast<ssize_t>(sizeof value) ? std::error_code{} : last_system_error();
}

/// A file descriptor closed on scope exit unless released.
class unique_fd {
public:
  unique_fd() noexcept = default;
  explicit unique_fd(int fd) noexcept
      : fd_(fd) {}
  unique_fd(unique_fd&& other) noexcept
      : fd_(other.release()) {}
  unique_fd& operator=(unique_fd&& other) noexcept {
    if (this != &other)
      reset(other.release());
    return *this;
  }
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() { reset(); }

  [[nodiscard]] int get() const noexcept { return fd_; }
  [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
  int release() noexcept { return std::exchange(fd_, -1); }
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = fd;
  }

private:
  int fd_ = -1;
};

} // namespace grainflow::shm::detail
