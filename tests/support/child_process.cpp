// child_process: posix_spawn into a new process group, a reader thread per
// child that drains its output pipe, and reaping by pid with WNOWAIT so that
// the process group can still be killed before the pid is given up.

#include "support/child_process.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <exception>
#include <utility>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ; // NOLINT(readability-redundant-declaration): POSIX declares it nowhere

namespace grainflow::test {

namespace {

bool fail(std::string* error, std::string message) {
  if (error != nullptr)
    *error = std::move(message);
  return false;
}

bool fail_errno(std::string* error, const std::string& what, int error_number) {
  return fail(error, "child_process: " + what + ": " + std::strerror(error_number));
}

/// The one wrapper for system calls that report failure as -1 and errno:
/// retries EINTR and turns any other failure into "<what>: <strerror>".
/// Not for close(), which must not be retried on Linux.
template <class Call>
auto posix_call(std::string* error, const std::string& what, Call call) {
  for (;;) {
    const auto result = call();
    if (result != -1)
      return result;
    if (errno != EINTR) {
      fail_errno(error, what, errno);
      return result;
    }
  }
}

/// A descriptor closed on scope exit unless released.
class unique_fd {
public:
  unique_fd() = default;
  explicit unique_fd(int fd) noexcept
      : fd_(fd) {}
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() { reset(); }

  /// Takes ownership of `fd`, closing the one held before.
  void reset(int fd) noexcept {
    reset();
    fd_ = fd;
  }

  [[nodiscard]] int get() const noexcept { return fd_; }
  int release() noexcept { return std::exchange(fd_, -1); }
  void reset() noexcept {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = -1;
  }

private:
  int fd_ = -1;
};

bool make_pipe(unique_fd& read_end, unique_fd& write_end, std::string* error) {
  // O_CLOEXEC: a child spawned meanwhile by another thread must not inherit
  // the pipe, or this child's output would never see EOF.
  std::array<int, 2> fds{-1, -1};
  if (posix_call(error, "pipe2", [&] { return ::pipe2(fds.data(), O_CLOEXEC); }) != 0)
    return false;
  read_end.reset(fds[0]);
  write_end.reset(fds[1]);
  return true;
}

/// The test process's environment with `extra` added, replacing variables of
/// the same name.
std::vector<std::string> merged_environment(const std::vector<std::string>& extra) {
  const auto name_of = [](std::string_view entry) { return entry.substr(0, entry.find('=')); };
  std::vector<std::string> merged;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view name = name_of(*entry);
    const bool replaced = std::any_of(extra.begin(), extra.end(),
                                      [&](const std::string& e) { return name_of(e) == name; });
    if (!replaced)
      merged.emplace_back(*entry);
  }
  merged.insert(merged.end(), extra.begin(), extra.end());
  return merged;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> result;
  result.reserve(strings.size() + 1);
  for (auto& s : strings)
    result.push_back(s.data());
  result.push_back(nullptr);
  return result;
}

/// posix_spawn's attributes and file actions, destroyed on scope exit.
/// Each setter reports an error number instead of errno.
class spawn_setup {
public:
  spawn_setup() = default;
  spawn_setup(const spawn_setup&) = delete;
  spawn_setup& operator=(const spawn_setup&) = delete;
  ~spawn_setup() {
    if (attr_ready_)
      posix_spawnattr_destroy(&attr_);
    if (actions_ready_)
      posix_spawn_file_actions_destroy(&actions_);
  }

  bool init(int output_fd, std::string* error) {
    if (int rc = posix_spawnattr_init(&attr_); rc != 0)
      return fail_errno(error, "posix_spawnattr_init", rc);
    attr_ready_ = true;
    if (int rc = posix_spawn_file_actions_init(&actions_); rc != 0)
      return fail_errno(error, "posix_spawn_file_actions_init", rc);
    actions_ready_ = true;
    // A group of its own (pgid 0 = its pid), so that kill() reaches its
    // descendants; signals unblocked and at their defaults, whatever the
    // test process (gtest, sanitizers) did to its own.
    sigset_t none;
    sigset_t all;
    sigemptyset(&none);
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    const short flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    int rc = posix_spawnattr_setflags(&attr_, flags);
    rc = rc != 0 ? rc : posix_spawnattr_setpgroup(&attr_, 0);
    rc = rc != 0 ? rc : posix_spawnattr_setsigmask(&attr_, &none);
    rc = rc != 0 ? rc : posix_spawnattr_setsigdefault(&attr_, &all);
    if (rc != 0)
      return fail_errno(error, "posix_spawnattr_set*", rc);
    rc = posix_spawn_file_actions_addopen(&actions_, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    rc = rc != 0 ? rc : posix_spawn_file_actions_adddup2(&actions_, output_fd, STDOUT_FILENO);
    rc = rc != 0 ? rc : posix_spawn_file_actions_adddup2(&actions_, output_fd, STDERR_FILENO);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    // Sockets of the test process (a proxy's, a listener's) must not live on
    // in the child: the test would wait for a FIN the child holds back.
    rc = rc != 0 ? rc : posix_spawn_file_actions_addclosefrom_np(&actions_, STDERR_FILENO + 1);
#endif
    if (rc != 0)
      return fail_errno(error, "posix_spawn_file_actions_add*", rc);
    return true;
  }

  const posix_spawnattr_t* attr() const noexcept {
    return &attr_;
  }
  const posix_spawn_file_actions_t* actions() const noexcept {
    return &actions_;
  }

private:
  posix_spawnattr_t attr_{};
  posix_spawn_file_actions_t actions_{};
  bool attr_ready_ = false;
  bool actions_ready_ = false;
};

/// Kills the group of a child that will not be handed out, and reaps it.
void discard_child(pid_t pid) noexcept {
  ::kill(-pid, SIGKILL);
  int raw = 0;
  while (::waitpid(pid, &raw, 0) < 0 && errno == EINTR) {
  }
}

} // namespace

std::string to_string(const exit_status& status) {
  if (status.exited)
    return "exit code " + std::to_string(status.code);
  std::string result = "killed by signal " + std::to_string(status.signal);
  if (const char* name = sigabbrev_np(status.signal); name != nullptr)
    result += std::string(" (SIG") + name + ")";
  return result;
}

// -- construction -------------------------------------------------------------

child_process::child_process(pid_t pid, int output_fd, int wake_read, int wake_write) noexcept
    : pid_(pid)
    , output_fd_(output_fd)
    , wake_read_(wake_read)
    , wake_write_(wake_write) {}

std::unique_ptr<child_process> child_process::spawn(const std::string& path,
                                                    std::vector<std::string> args,
                                                    std::vector<std::string> env,
                                                    std::string* error) {
  try {
    for (const auto& entry : env) {
      if (entry.find('=') == std::string::npos || entry.front() == '=') {
        fail(error, "child_process: env entry '" + entry + "' is not NAME=value");
        return nullptr;
      }
    }
    args.insert(args.begin(), path);
    auto argv = pointers(args);
    auto environment = merged_environment(env);
    auto envp = pointers(environment);

    unique_fd output_read;
    unique_fd output_write;
    unique_fd wake_read;
    unique_fd wake_write;
    spawn_setup setup;
    if (!make_pipe(output_read, output_write, error) || !make_pipe(wake_read, wake_write, error) ||
        !setup.init(output_write.get(), error))
      return nullptr;

    pid_t pid = -1;
    const int rc =
        posix_spawn(&pid, path.c_str(), setup.actions(), setup.attr(), argv.data(), envp.data());
    // The parent's copy of the write end goes at once: the reader sees EOF
    // when the last process holding the other copies is gone.
    output_write.reset();
    if (rc != 0) {
      fail_errno(error, "posix_spawn " + path, rc);
      return nullptr;
    }

    std::unique_ptr<child_process> child;
    try {
      child.reset(new child_process(pid, output_read.get(), wake_read.get(), wake_write.get()));
    } catch (...) {
      discard_child(pid);
      throw;
    }
    output_read.release();
    wake_read.release();
    wake_write.release();
    // If this throws, the destructor kills and reaps the child.
    child->reader_ = std::thread([c = child.get()] { c->read_output(); });
    return child;
  } catch (const std::exception& e) {
    fail(error, std::string("child_process: ") + e.what());
    return nullptr;
  }
}

child_process::~child_process() {
  {
    std::lock_guard lock(state_mutex_);
    if (status_.has_value() || reaped_without_status_) {
      // Reaped: the pid may be another process's by now.
    } else {
      ::kill(-pid_, SIGKILL);
      ::kill(pid_, SIGKILL); // in case it left its group
      reap_locked(nullptr);
    }
  }
  if (reader_.joinable()) {
    // Descendants that escaped the group may hold the pipe open: do not wait
    // for its EOF.
    const char byte = 1;
    posix_call(nullptr, "write", [&] { return ::write(wake_write_, &byte, 1); });
    reader_.join();
  }
  ::close(output_fd_);
  ::close(wake_read_);
  ::close(wake_write_);
}

// -- properties ---------------------------------------------------------------

std::string child_process::output() const {
  std::lock_guard lock(output_mutex_);
  return output_;
}

std::optional<exit_status> child_process::status() const {
  std::lock_guard lock(state_mutex_);
  return status_;
}

// -- operations ---------------------------------------------------------------

bool child_process::wait_for_output(std::string_view needle,
                                    std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(output_mutex_);
  std::size_t from = 0; // matches starting before this were ruled out
  for (;;) {
    if (output_.find(needle, from) != std::string::npos)
      return true;
    if (output_closed_)
      return false;
    if (output_.size() >= needle.size())
      from = output_.size() - needle.size() + 1;
    if (output_changed_.wait_until(lock, deadline) == std::cv_status::timeout)
      return output_.find(needle, from) != std::string::npos;
  }
}

bool child_process::kill(int signal, std::string* error) {
  std::lock_guard lock(state_mutex_);
  if (status_.has_value() || reaped_without_status_)
    return fail(error, "child_process: " + std::to_string(pid_) + " was already reaped");
  if (::kill(-pid_, signal) == 0)
    return true;
  // ESRCH: the child left its group (setsid) and took no one along; it is
  // still ours until reaped.
  const int group_errno = errno;
  if (group_errno == ESRCH && ::kill(pid_, signal) == 0)
    return true;
  return fail_errno(error, "kill " + std::to_string(pid_), errno);
}

std::optional<exit_status> child_process::wait(std::chrono::milliseconds timeout,
                                               std::string* error) {
  using namespace std::chrono_literals;
  if (error != nullptr)
    error->clear();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto backoff = std::chrono::milliseconds{1};
  std::optional<exit_status> result;
  {
    std::unique_lock lock(state_mutex_);
    // No waitpid with a timeout: poll with WNOHANG, backing off to 10 ms.
    while (!status_.has_value()) {
      if (reaped_without_status_) {
        fail(error, "child_process: " + std::to_string(pid_) + " was reaped elsewhere");
        return std::nullopt;
      }
      siginfo_t info{};
      info.si_pid = 0; // stays 0 if the child has not ended
      // WNOWAIT: the child stays a zombie, so its pid (and group id) cannot
      // be reused while reap_locked() kills what is left of the group.
      if (posix_call(error, "waitid", [&] {
            return ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT);
          }) != 0)
        return std::nullopt;
      if (info.si_pid == pid_) {
        reap_locked(error);
        if (!status_.has_value())
          return std::nullopt; // `*error` says why
        break;
      }
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline)
        return std::nullopt;
      lock.unlock();
      std::this_thread::sleep_for(
          std::min<std::chrono::steady_clock::duration>(backoff, deadline - now));
      backoff = std::min(backoff * 2, std::chrono::milliseconds{10});
      lock.lock();
    }
    result = status_;
  }
  std::unique_lock lock(output_mutex_);
  output_changed_.wait_for(lock, output_drain_timeout, [this] { return output_closed_; });
  return result;
}

// -- internals ----------------------------------------------------------------

// Precondition: state_mutex_ held, the child not reaped. Kills what is left
// of the group first: the child is alive or a zombie, so the group id is
// still its own.
void child_process::reap_locked(std::string* error) {
  ::kill(-pid_, SIGKILL);
  int raw = 0;
  if (posix_call(error, "waitpid " + std::to_string(pid_),
                 [&] { return ::waitpid(pid_, &raw, 0); }) < 0) {
    // ECHILD: someone reaped it behind our back. Either way it is not ours
    // to signal any more.
    reaped_without_status_ = true;
    return;
  }
  if (WIFEXITED(raw))
    status_ = exit_status::exit_code(WEXITSTATUS(raw));
  else if (WIFSIGNALED(raw))
    status_ = exit_status::killed_by(WTERMSIG(raw));
  else
    reaped_without_status_ = true; // cannot happen without WUNTRACED
}

void child_process::read_output() noexcept {
  std::array<char, 64 * 1024> buffer; // NOLINT: filled by read() before use
  std::array<pollfd, 2> fds{pollfd{output_fd_, POLLIN, 0}, pollfd{wake_read_, POLLIN, 0}};
  for (;;) {
    if (posix_call(nullptr, "poll", [&] { return ::poll(fds.data(), fds.size(), -1); }) < 0)
      break;
    if (fds[1].revents != 0)
      break; // the destructor is waiting
    if (fds[0].revents == 0)
      continue;
    const ssize_t n = posix_call(nullptr, "read",
                                 [&] { return ::read(output_fd_, buffer.data(), buffer.size()); });
    if (n <= 0)
      break; // EOF: every writer is gone
    std::lock_guard lock(output_mutex_);
    try {
      output_.append(buffer.data(), static_cast<std::size_t>(n));
    } catch (...) {
      // Out of memory: drop the chunk rather than the test process.
    }
    output_changed_.notify_all();
  }
  std::lock_guard lock(output_mutex_);
  output_closed_ = true;
  output_changed_.notify_all();
}

} // namespace grainflow::test
