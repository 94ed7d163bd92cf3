// Scenarios for child_process, with /bin/sh and coreutils as the children.

#include "support/child_process.hpp"

#include <algorithm>
#include <array>
#include <csignal>
#include <fstream>
#include <functional>
#include <thread>

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using grainflow::test::child_process;
using grainflow::test::exit_status;

std::unique_ptr<child_process> shell(const std::string& script, std::vector<std::string> env = {}) {
  std::string error;
  auto child = child_process::spawn("/bin/sh", {"-c", script}, std::move(env), &error);
  EXPECT_NE(child, nullptr) << error;
  return child;
}

/// Gone, or a zombie that only its (new) parent can still reap.
bool process_gone(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!stat || !std::getline(stat, line))
    return true;
  const auto name_end = line.rfind(')');
  return name_end != std::string::npos && name_end + 2 < line.size() && line[name_end + 2] == 'Z';
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

/// `fd` as a line of `ls` output. Built with append: g++ 12 -O2 reports a
/// bogus -Wrestrict on `"\n" + std::to_string(fd) + "\n"` (GCC bug 105329).
std::string fd_line(int fd) {
  std::string line = "\n";
  line.append(std::to_string(fd)).append("\n");
  return line;
}

/// The pid the child printed after `label ` (by `echo "label $!"`).
pid_t printed_pid(const child_process& child, const std::string& label) {
  const auto out = child.output();
  const auto at = out.find(label + " ");
  if (at == std::string::npos)
    return -1;
  return static_cast<pid_t>(std::stol(out.substr(at + label.size() + 1)));
}

// -- ending a child -----------------------------------------------------------

TEST(child_process, kill_9_is_reported_as_death_by_signal_9) {
  auto child = shell("echo ready; sleep 30");
  ASSERT_NE(child, nullptr);
  ASSERT_TRUE(child->wait_for_output("ready", 5s)) << child->output();
  EXPECT_FALSE(child->status().has_value());
  std::string error;
  ASSERT_TRUE(child->kill(SIGKILL, &error)) << error;
  const auto status = child->wait(5s, &error);
  ASSERT_TRUE(status.has_value()) << error;
  EXPECT_EQ(*status, exit_status::killed_by(SIGKILL)) << to_string(*status);
  EXPECT_EQ(child->status(), status);
  EXPECT_EQ(child->wait(0ms), status); // reaped: answered from memory
  // A reaped pid may be someone else's: no more signals.
  EXPECT_FALSE(child->kill(SIGKILL, &error));
  EXPECT_NE(error.find("reaped"), std::string::npos) << error;
}

TEST(child_process, sigterm_is_reported_as_death_by_signal_15) {
  auto child = shell("echo ready; exec sleep 30");
  ASSERT_NE(child, nullptr);
  ASSERT_TRUE(child->wait_for_output("ready", 5s));
  ASSERT_TRUE(child->kill(SIGTERM));
  EXPECT_EQ(child->wait(5s), exit_status::killed_by(SIGTERM));
}

TEST(child_process, reports_the_exit_code_of_a_normal_exit) {
  auto child = shell("echo bye; exit 7");
  ASSERT_NE(child, nullptr);
  const auto status = child->wait(5s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, exit_status::exit_code(7)) << to_string(*status);
  EXPECT_EQ(child->output(), "bye\n"); // complete once wait() returns
}

TEST(child_process, wait_times_out_on_a_running_child) {
  auto child = shell("sleep 30");
  ASSERT_NE(child, nullptr);
  const auto start = std::chrono::steady_clock::now();
  std::string error = "stale";
  EXPECT_FALSE(child->wait(50ms, &error).has_value());
  EXPECT_TRUE(error.empty()) << error; // a timeout is not an error
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(child_process, a_kill_from_another_thread_ends_a_wait) {
  auto child = shell("echo ready; sleep 30");
  ASSERT_NE(child, nullptr);
  ASSERT_TRUE(child->wait_for_output("ready", 5s));
  std::optional<exit_status> status;
  std::thread waiter([&] { status = child->wait(5s); });
  std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(child->kill(SIGKILL));
  waiter.join();
  EXPECT_EQ(status, exit_status::killed_by(SIGKILL));
}

// -- output, arguments, environment -------------------------------------------

TEST(child_process, captures_megabytes_of_output_without_deadlock) {
  constexpr std::size_t size = 4 * 1024 * 1024;
  auto child =
      shell("head -c " + std::to_string(size) + " /dev/zero | tr '\\000' x; echo done >&2");
  ASSERT_NE(child, nullptr);
  ASSERT_EQ(child->wait(10s), exit_status::exit_code(0));
  const auto out = child->output();
  ASSERT_EQ(out.size(), size + 5);
  EXPECT_EQ(static_cast<std::size_t>(std::count(out.begin(), out.end(), 'x')), size);
  EXPECT_EQ(out.substr(size), "done\n");
}

TEST(child_process, passes_arguments_and_extra_environment) {
  std::string error;
  auto child = child_process::spawn(
      "/bin/sh",
      {"-c", R"(printf '%s|%s|%s|%s\n' "$0" "$1" "$GF_CHILD_TEST" "$HOME")", "zero", "one two"},
      {"GF_CHILD_TEST=hello world", "HOME=/replaced"}, &error);
  ASSERT_NE(child, nullptr) << error;
  ASSERT_EQ(child->wait(5s), exit_status::exit_code(0));
  EXPECT_EQ(child->output(), "zero|one two|hello world|/replaced\n");
}

TEST(child_process, stdin_is_empty_and_descriptors_are_not_inherited) {
  std::array<int, 2> leaked{-1, -1};
  ASSERT_EQ(::pipe(leaked.data()), 0); // deliberately without O_CLOEXEC
  auto child = shell("cat; echo end; ls /proc/$$/fd");
  ::close(leaked[0]);
  ::close(leaked[1]);
  ASSERT_NE(child, nullptr);
  ASSERT_EQ(child->wait(5s), exit_status::exit_code(0));
  const auto out = child->output();
  EXPECT_EQ(out.rfind("end\n", 0), 0U) << out;
  for (const int fd : leaked)
    EXPECT_EQ(out.find(fd_line(fd)), std::string::npos) << out;
}

TEST(child_process, wait_for_output_gives_up_at_timeout_or_eof) {
  auto quiet = shell("sleep 30");
  ASSERT_NE(quiet, nullptr);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(quiet->wait_for_output("never", 50ms));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);

  auto brief = shell("echo something");
  ASSERT_NE(brief, nullptr);
  EXPECT_FALSE(brief->wait_for_output("never", 30s)); // returns at EOF
  EXPECT_TRUE(brief->wait_for_output("thing", 0ms));
}

TEST(child_process, spawn_reports_a_missing_program) {
  std::string error;
  EXPECT_EQ(child_process::spawn("/nonexistent/grainflow-node", {}, {}, &error), nullptr);
  EXPECT_NE(error.find("No such file"), std::string::npos) << error;
  EXPECT_EQ(child_process::spawn("/bin/sh", {}, {"NO_EQUALS_SIGN"}, &error), nullptr);
  EXPECT_NE(error.find("NAME=value"), std::string::npos) << error;
}

// -- no processes left behind -------------------------------------------------

TEST(child_process, destructor_kills_and_reaps_the_whole_group) {
  auto child = shell("sleep 30 & echo \"grandchild $!\"; wait");
  ASSERT_NE(child, nullptr);
  ASSERT_TRUE(child->wait_for_output("\n", 5s));
  const pid_t leader = child->pid();
  const pid_t grandchild = printed_pid(*child, "grandchild");
  ASSERT_GT(grandchild, 0) << child->output();
  EXPECT_FALSE(process_gone(grandchild));
  const auto start = std::chrono::steady_clock::now();
  child.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_TRUE(process_gone(leader));
  EXPECT_TRUE(eventually([&] { return process_gone(grandchild); }));
}

TEST(child_process, wait_kills_what_is_left_of_the_group_when_the_child_exits) {
  // The shell exits at once; its background sleep still holds the pipe.
  auto child = shell("sleep 30 & echo \"grandchild $!\"");
  ASSERT_NE(child, nullptr);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(child->wait(5s), exit_status::exit_code(0));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  const pid_t grandchild = printed_pid(*child, "grandchild");
  ASSERT_GT(grandchild, 0) << child->output();
  EXPECT_TRUE(eventually([&] { return process_gone(grandchild); }));
}

TEST(child_process, to_string_names_the_signal) {
  EXPECT_EQ(to_string(exit_status::exit_code(3)), "exit code 3");
  EXPECT_EQ(to_string(exit_status::killed_by(SIGKILL)), "killed by signal 9 (SIGKILL)");
}

} // namespace
