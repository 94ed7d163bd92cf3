#pragma once

/// @file
/// A server child for benchmarks between two processes: the benchmark starts
/// its own executable again in a hidden server mode, learns where to reach the
/// server from a line the child writes into a pipe, and stops the child when
/// done. Linux only (PR_SET_PDEATHSIG, /proc/self/exe).

#include "grainflow/endpoints/result.hpp"

#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace grainflow::bench {

/// A child process running this executable (/proc/self/exe) with other
/// arguments, and the parent's end of a pipe the child reports on. Owning and
/// move-only: destroying it terminates and reaps the child, so a child never
/// outlives the scope that started it, whichever way that scope is left.
/// Should the parent die without unwinding (abort, SIGKILL), the kernel kills
/// the child (PR_SET_PDEATHSIG). Not thread-safe; use it from one thread.
class child_process {
public:
  // -- constructors -----------------------------------------------------------

  /// Starts `<this executable> args... <fd>`: the last argument is the number
  /// of the child's end of the report pipe, which the child writes lines into
  /// (report_to_parent) and the parent reads with read_line. Nothing else of
  /// the parent's is inherited beyond stdin, stdout and stderr, provided the
  /// parent opens its descriptors close-on-exec. The child receives SIGKILL
  /// when the *thread* that called spawn_self exits (that is what
  /// PR_SET_PDEATHSIG watches): call it from the thread that outlives the
  /// child, normally main.
  [[nodiscard]] static result<child_process> spawn_self(const std::vector<std::string>& args);

  child_process(child_process&& other) noexcept;
  child_process& operator=(child_process&& other) noexcept;
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  /// Terminates (as terminate() with a short grace) and reaps a child that is
  /// still running.
  ~child_process();

  // -- properties -------------------------------------------------------------

  /// The child's process id; -1 once it was reaped or moved from.
  pid_t pid() const noexcept { return pid_; }

  // -- operations -------------------------------------------------------------

  /// Reads the next line the child reported, without its '\n'. Fails with
  /// `std::errc::timed_out` when no full line arrived within `timeout`, and
  /// with `std::errc::broken_pipe` when the child closed its end first (it
  /// exited or failed before reporting).
  [[nodiscard]] result<std::string> read_line(std::chrono::milliseconds timeout);

  /// Sends SIGTERM, waits up to `grace` for the child to exit, then sends
  /// SIGKILL, and reaps it. Returns the status as waitpid reports it (see
  /// describe_status). A second call returns the first call's status.
  [[nodiscard]] result<int> terminate(std::chrono::milliseconds grace = std::chrono::seconds{2});

private:
  child_process(pid_t pid, int report_fd) noexcept
      : pid_{pid}
      , report_fd_{report_fd} {}

  /// Closes the pipe and forgets the child (after it was reaped).
  void release() noexcept;

  pid_t pid_ = -1;
  /// The parent's (read) end of the report pipe, close-on-exec.
  int report_fd_ = -1;
  /// Bytes read past the last line returned by read_line.
  std::string pending_;
  /// What terminate() returned, for later calls.
  int status_ = 0;
};

/// "exited with 0", "killed by signal 15 (Terminated)", ...: a waitpid status
/// for humans.
std::string describe_status(int status);

/// True when a status means the child exited with 0 or was ended by SIGTERM
/// without handling it: what terminate() leaves of a healthy child.
bool ended_cleanly(int status) noexcept;

// -- the child's side ---------------------------------------------------------

/// Parses the report-pipe descriptor that spawn_self passed as the child's
/// last argument; fails with `std::errc::invalid_argument` if `arg` is not a
/// descriptor number.
[[nodiscard]] result<int> parse_report_fd(std::string_view arg);

/// Writes `line` and a '\n' to the report pipe `fd`, all of it.
[[nodiscard]] result<void> report_to_parent(int fd, std::string_view line);

/// The server side's entry: when argv is `--serve <kind> <report fd>`, runs
/// `serve(report fd)` and returns true (exiting with 1 and a message if it
/// fails); otherwise returns false at once.
bool serve_if_asked(int argc, char** argv, std::string_view kind,
                    result<void> (*serve)(int report_fd));

} // namespace grainflow::bench
