// A child process for integration tests: spawned in a process group of its
// own, its stdout and stderr captured, killed and reaped by the destructor so
// that no test leaves processes behind, even when an assertion fails.

#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <sys/types.h>

namespace grainflow::test {

/// How a child ended.
struct exit_status {
  /// True if the child called exit() (or returned from main); false if a
  /// signal ended it.
  bool exited = false;
  /// The exit code, if `exited`.
  int code = 0;
  /// The terminating signal, if not `exited`.
  int signal = 0;

  /// A normal exit with `code`.
  [[nodiscard]] static exit_status exit_code(int code) noexcept { return {true, code, 0}; }
  /// Death by `signal`.
  [[nodiscard]] static exit_status killed_by(int signal) noexcept { return {false, 0, signal}; }

  bool operator==(const exit_status&) const = default;
};

/// Renders "exit code N" or "killed by signal N (NAME)", for test messages.
[[nodiscard]] std::string to_string(const exit_status& status);

/// A running (or finished, not yet destroyed) child process.
///
/// The child is the leader of a new process group; kill() signals the whole
/// group, so a node and anything it starts go together. Its stdin is
/// /dev/null, its stdout and stderr share one pipe that a reader thread
/// drains into memory (the child never blocks on a full pipe; the whole
/// output is kept). Descriptors of the test process other than 0-2 are not
/// inherited.
///
/// Every member function is thread-safe. Reaping is by pid only, never
/// waitpid(-1), so other children of the test process are left alone; the
/// test process must not set SIGCHLD to SIG_IGN, which would reap for us.
class child_process {
public:
  // -- constructors -----------------------------------------------------------

  /// Starts `path` (a path; PATH is not searched) with argv
  /// `[path, args...]` and the environment of the test process plus `env`
  /// ("NAME=value" entries, which replace variables of the same name).
  /// Returns nullptr on failure (no such file, not executable, out of
  /// descriptors...), with the reason in `*error` if given. Never throws.
  [[nodiscard]] static std::unique_ptr<child_process> spawn(const std::string& path,
                                                            std::vector<std::string> args,
                                                            std::vector<std::string> env = {},
                                                            std::string* error = nullptr);

  /// If the child has not been reaped: SIGKILL to its process group (and to
  /// the child, should it have left the group), then reaps it. Then stops
  /// the reader thread. Blocks only as long as the kernel takes to deliver
  /// SIGKILL.
  ~child_process();

  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  // -- properties -------------------------------------------------------------

  /// The child's pid, which is also its process group id. Stays valid as a
  /// number after the child is reaped, when it may name another process.
  [[nodiscard]] pid_t pid() const noexcept { return pid_; }

  /// Everything the child has written to stdout and stderr so far.
  [[nodiscard]] std::string output() const;

  /// The exit status, once wait() has reaped the child.
  [[nodiscard]] std::optional<exit_status> status() const;

  // -- operations -------------------------------------------------------------

  /// Blocks until the output contains `needle` (true), or until `timeout`
  /// passes or the output pipe closes without it (false).
  [[nodiscard]] bool wait_for_output(std::string_view needle,
                                     std::chrono::milliseconds timeout) const;

  /// Sends `signal` to the child's process group (SIGKILL for kill -9 tests,
  /// SIGTERM for graceful shutdown). Fails, with the reason in `*error`, once
  /// the child has been reaped: its pid may belong to another process by then.
  bool kill(int signal, std::string* error = nullptr);

  /// Waits up to `timeout` for the child to end and reaps it; returns its
  /// status (at once if already reaped), or nullopt on timeout (`*error`
  /// left empty) or failure (`*error` set). When the child has ended, the rest
  /// of its process group gets SIGKILL before the reap, so no descendant
  /// outlives it, and the call then waits (at most `output_drain_timeout`)
  /// for the output pipe to close so that output() is complete.
  [[nodiscard]] std::optional<exit_status> wait(std::chrono::milliseconds timeout,
                                                std::string* error = nullptr);

  /// See wait().
  static constexpr std::chrono::milliseconds output_drain_timeout{1000};

private:
  child_process(pid_t pid, int output_fd, int wake_read, int wake_write) noexcept;

  void read_output() noexcept;
  void reap_locked(std::string* error);

  const pid_t pid_;
  const int output_fd_; // read end of the child's stdout/stderr pipe
  const int wake_read_; // a byte here stops the reader thread
  const int wake_write_;

  mutable std::mutex output_mutex_;
  mutable std::condition_variable output_changed_;
  std::string output_;         // guarded by output_mutex_
  bool output_closed_ = false; // guarded by output_mutex_

  mutable std::mutex state_mutex_;
  std::optional<exit_status> status_;  // guarded by state_mutex_; set once reaped
  bool reaped_without_status_ = false; // guarded by state_mutex_; reaped elsewhere

  std::thread reader_;
};

} // namespace grainflow::test
