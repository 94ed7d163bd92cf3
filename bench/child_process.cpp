#include "child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <system_error>
#include <thread>
#include <utility>

namespace grainflow::bench {

namespace {

/// The error of the system call that just failed.
std::error_code last_error() noexcept {
  return {errno, std::system_category()};
}

/// The path that names this executable even if the file was replaced or
/// deleted since it started (a rebuild during a run).
constexpr const char* self_exe = "/proc/self/exe";

/// Runs in the forked child, where a multi-threaded parent's copy may only
/// make async-signal-safe calls: no allocation, no locks, no stdio.
[[noreturn]] void exec_child(pid_t parent, int report_fd, char* const* argv) noexcept {
  // Die with the parent, and close the race where it died before prctl.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent)
    ::_exit(127);
  // The child's end was opened close-on-exec so that no other child inherits
  // it; this one must.
  if (::fcntl(report_fd, F_SETFD, 0) != 0)
    ::_exit(127);
  // The mask and an ignored SIGTERM would survive exec and make terminate()
  // wait out its grace period: start the child with the defaults.
  sigset_t none;
  sigemptyset(&none);
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  if (::sigprocmask(SIG_SETMASK, &none, nullptr) != 0 ||
      ::sigaction(SIGTERM, &default_action, nullptr) != 0)
    ::_exit(127);
  ::execv(self_exe, argv);
  ::_exit(127);
}

} // namespace

// -- constructors -------------------------------------------------------------

result<child_process> child_process::spawn_self(const std::vector<std::string>& args) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    return failure(last_error());
  // Everything the child needs is built before fork (see exec_child).
  // argv[0] names the executable itself so that ps shows what runs.
  char path[4096];
  auto length = ::readlink(self_exe, path, sizeof path - 1);
  if (length < 0) {
    auto error = last_error();
    ::close(fds[0]);
    ::close(fds[1]);
    return failure(error);
  }
  std::vector<std::string> strings;
  strings.reserve(args.size() + 2);
  strings.emplace_back(path, static_cast<std::size_t>(length));
  strings.insert(strings.end(), args.begin(), args.end());
  strings.push_back(std::to_string(fds[1]));
  std::vector<char*> argv;
  for (auto& s : strings)
    argv.push_back(s.data());
  argv.push_back(nullptr);
  auto parent = ::getpid();
  auto pid = ::fork();
  if (pid == 0)
    exec_child(parent, fds[1], argv.data());
  auto fork_error = last_error();
  ::close(fds[1]); // Only the child writes; EOF then means it is gone.
  if (pid < 0) {
    ::close(fds[0]);
    return failure(fork_error);
  }
  return child_process{pid, fds[0]};
}

child_process::child_process(child_process&& other) noexcept
    : pid_{std::exchange(other.pid_, -1)}
    , report_fd_{std::exchange(other.report_fd_, -1)}
    , pending_{std::move(other.pending_)}
    , status_{other.status_} {}

child_process& child_process::operator=(child_process&& other) noexcept {
  if (this != &other) {
    if (pid_ >= 0)
      (void)terminate(std::chrono::milliseconds{200});
    release();
    pid_ = std::exchange(other.pid_, -1);
    report_fd_ = std::exchange(other.report_fd_, -1);
    pending_ = std::move(other.pending_);
    status_ = other.status_;
  }
  return *this;
}

child_process::~child_process() {
  // A short grace: this path runs when a benchmark failed, and the child's
  // orderly shutdown no longer matters.
  if (pid_ >= 0)
    (void)terminate(std::chrono::milliseconds{200});
  release();
}

// -- operations ---------------------------------------------------------------

result<std::string> child_process::read_line(std::chrono::milliseconds timeout) {
  using clock = std::chrono::steady_clock;
  if (report_fd_ < 0)
    return failure(std::make_error_code(std::errc::bad_file_descriptor));
  auto deadline = clock::now() + timeout;
  for (;;) {
    if (auto end = pending_.find('\n'); end != std::string::npos) {
      auto line = pending_.substr(0, end);
      pending_.erase(0, end + 1);
      return line;
    }
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now());
    if (left.count() <= 0)
      return failure(std::make_error_code(std::errc::timed_out));
    pollfd readable{report_fd_, POLLIN, 0};
    auto ready = ::poll(&readable, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR)
      return failure(last_error());
    if (ready <= 0)
      continue;
    char buffer[256];
    auto got = ::read(report_fd_, buffer, sizeof buffer);
    if (got < 0 && errno != EINTR)
      return failure(last_error());
    if (got == 0)
      return failure(std::make_error_code(std::errc::broken_pipe));
    if (got > 0)
      pending_.append(buffer, static_cast<std::size_t>(got));
  }
}

result<int> child_process::terminate(std::chrono::milliseconds grace) {
  if (pid_ < 0)
    return status_;
  // A child that exited already is a zombie until reaped, so kill cannot hit
  // a recycled pid here.
  if (::kill(pid_, SIGTERM) != 0)
    return failure(last_error());
  auto reaped = [this](int options) -> result<bool> {
    int status = 0;
    for (;;) {
      auto rc = ::waitpid(pid_, &status, options);
      if (rc == pid_) {
        status_ = status;
        release();
        return true;
      }
      if (rc == 0)
        return false;
      if (errno != EINTR) {
        // ECHILD: someone else reaped it; it is gone either way, and
        // forgetting the pid keeps us from signalling a recycled one.
        auto error = last_error();
        release();
        return failure(error);
      }
    }
  };
  auto deadline = std::chrono::steady_clock::now() + grace;
  for (;;) {
    auto done = reaped(WNOHANG);
    if (!done)
      return failure(done.error());
    if (done.value())
      return status_;
    if (std::chrono::steady_clock::now() >= deadline)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
  if (::kill(pid_, SIGKILL) != 0)
    return failure(last_error());
  auto done = reaped(0);
  if (!done)
    return failure(done.error());
  return status_;
}

void child_process::release() noexcept {
  // A read end has nothing to flush; Linux frees it even if close fails.
  if (report_fd_ >= 0)
    ::close(report_fd_);
  report_fd_ = -1;
  pid_ = -1;
  pending_.clear();
}

// -- free functions -----------------------------------------------------------

std::string describe_status(int status) {
  if (WIFEXITED(status))
    return "exited with " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    auto signal = WTERMSIG(status);
    return "killed by signal " + std::to_string(signal) + " (" + ::strsignal(signal) + ")";
  }
  return "wait status " + std::to_string(status);
}

bool ended_cleanly(int status) noexcept {
  return (WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
         (WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
}

result<int> parse_report_fd(std::string_view arg) {
  int fd = -1;
  auto [end, error] = std::from_chars(arg.data(), arg.data() + arg.size(), fd);
  if (error != std::errc{} || end != arg.data() + arg.size() || fd < 0)
    return failure(std::make_error_code(std::errc::invalid_argument));
  return fd;
}

result<void> report_to_parent(int fd, std::string_view line) {
  std::string text{line};
  text += '\n';
  std::size_t written = 0;
  while (written < text.size()) {
    auto rc = ::write(fd, text.data() + written, text.size() - written);
    if (rc < 0 && errno != EINTR)
      return failure(last_error());
    if (rc > 0)
      written += static_cast<std::size_t>(rc);
  }
  return success();
}

bool serve_if_asked(int argc, char** argv, std::string_view kind,
                    result<void> (*serve)(int report_fd)) {
  if (argc != 4 || std::string_view{argv[1]} != "--serve" || argv[2] != kind)
    return false;
  auto fd = parse_report_fd(argv[3]);
  auto served = fd ? serve(fd.value()) : result<void>{fd.error()};
  if (!served) {
    std::fprintf(stderr, "%s --serve %s: %s\n", argv[0], argv[2], served.error().message().c_str());
    std::exit(1);
  }
  return true;
}

} // namespace grainflow::bench
