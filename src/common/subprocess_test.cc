#include "common/subprocess.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace lf {
namespace {

namespace fs = std::filesystem;

// True while `pid` exists and is not a zombie.
bool Running(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto paren = text.rfind(')');
  return paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] != 'Z';
}

fs::path TempDir() {
  char tmpl[] = "/tmp/lf-subprocess-XXXXXX";
  return fs::path(mkdtemp(tmpl));
}

TEST(SpawnTest, RunsInItsOwnGroupWithOutputInTheLog) {
  fs::path dir = TempDir();
  std::string log = (dir / "out.log").string();
  auto pid = Spawn({"sh", "-c", "echo out; echo err >&2; ps -o pgid= -p $$ | tr -d ' '; exit 3"},
                   SpawnOptions{.log_path = log});
  ASSERT_TRUE(pid.ok()) << pid.status();
  EXPECT_EQ(WaitFor(*pid, std::chrono::seconds(10)), 3);
  std::ifstream in(log);
  std::string a, b, group;
  std::getline(in, a);
  std::getline(in, b);
  std::getline(in, group);
  EXPECT_EQ(a, "out");
  EXPECT_EQ(b, "err");
  EXPECT_EQ(group, std::to_string(*pid)) << "a process group of its own";
  fs::remove_all(dir);
}

TEST(SpawnTest, AMissingProgramIsAnError) {
  auto pid = Spawn({"lf-no-such-program-anywhere"}, SpawnOptions{});
  ASSERT_FALSE(pid.ok());
  EXPECT_NE(std::string(pid.status().message()).find("lf-no-such-program-anywhere"),
            std::string::npos);
  auto direct = Spawn({"/nonexistent/dir/prog"}, SpawnOptions{});
  ASSERT_FALSE(direct.ok());
  EXPECT_NE(std::string(direct.status().message()).find("execute /nonexistent/dir/prog"),
            std::string::npos)
      << direct.status();
}

TEST(SpawnTest, AnUnwritableLogIsAnErrorNamingIt) {
  auto pid = Spawn({"true"}, SpawnOptions{.log_path = "/nonexistent/dir/x.log"});
  ASSERT_FALSE(pid.ok());
  EXPECT_NE(std::string(pid.status().message()).find("/nonexistent/dir/x.log"), std::string::npos);
}

TEST(SpawnTest, ExtraEnvironmentReachesTheChild) {
  fs::path dir = TempDir();
  std::string log = (dir / "env.log").string();
  auto code = RunToCompletion({"sh", "-c", "echo \"$LF_SPAWN_TEST\""}, log);
  ASSERT_TRUE(code.ok());
  auto pid = Spawn({"sh", "-c", "echo \"$LF_SPAWN_TEST\""},
                   SpawnOptions{.log_path = log, .extra_env = {"LF_SPAWN_TEST=hello"}});
  ASSERT_TRUE(pid.ok());
  EXPECT_EQ(WaitFor(*pid, std::chrono::seconds(10)), 0);
  std::ifstream in(log);
  std::string first, second;
  std::getline(in, first);
  std::getline(in, second);
  EXPECT_EQ(first, "");
  EXPECT_EQ(second, "hello");
  fs::remove_all(dir);
}

// A forked "supervisor" that spawns `sleep 60` once per parent-death signal given and reports
// the children's pids; it then waits to be killed (`linger`) or exits at once.
struct Supervisor {
  pid_t pid = -1;
  std::vector<pid_t> children;
};

Supervisor StartSupervisor(const std::vector<int>& death_signals, bool linger) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  pid_t supervisor = fork();
  if (supervisor == 0) {
    close(fds[0]);
    for (int sig : death_signals) {
      auto child = Spawn({"sleep", "60"}, SpawnOptions{.parent_death_signal = sig});
      pid_t pid = child.ok() ? *child : -1;
      if (write(fds[1], &pid, sizeof pid) != sizeof pid) _exit(1);
    }
    if (linger) pause();  // until killed
    _exit(0);
  }
  close(fds[1]);
  Supervisor s{supervisor, {}};
  pid_t pid = 0;
  for (size_t i = 0; i < death_signals.size() && read(fds[0], &pid, sizeof pid) == sizeof pid; ++i)
    s.children.push_back(pid);
  close(fds[0]);
  return s;
}

// The supervisor dies by SIGKILL: its children get their parent-death signal at once.
TEST(SpawnTest, ChildrenDieWithTheirParent) {
  Supervisor s = StartSupervisor({SIGTERM, SIGKILL}, /*linger=*/true);
  ASSERT_GT(s.pid, 0);
  ASSERT_EQ(s.children.size(), 2u);
  for (pid_t c : s.children) {
    ASSERT_GT(c, 0);
    EXPECT_TRUE(Running(c));
  }
  kill(s.pid, SIGKILL);
  waitpid(s.pid, nullptr, 0);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((Running(s.children[0]) || Running(s.children[1])) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_FALSE(Running(s.children[0])) << "the SIGTERM child outlived its parent";
  EXPECT_FALSE(Running(s.children[1])) << "the SIGKILL child outlived its parent";
}

TEST(SpawnTest, NoParentDeathSignalWhenAskedForNone) {
  Supervisor s = StartSupervisor({0}, /*linger=*/false);
  ASSERT_EQ(s.children.size(), 1u);
  ASSERT_GT(s.children[0], 0);
  waitpid(s.pid, nullptr, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(Running(s.children[0]));
  kill(s.children[0], SIGKILL);
}

}  // namespace
}  // namespace lf
