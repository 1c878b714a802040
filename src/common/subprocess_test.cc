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

// The supervisor dies by SIGKILL: its children get their parent-death signal at once.
TEST(SpawnTest, ChildrenDieWithTheirParent) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t supervisor = fork();
  ASSERT_GE(supervisor, 0);
  if (supervisor == 0) {
    close(fds[0]);
    auto a = Spawn({"sleep", "60"}, SpawnOptions{});  // SIGTERM by default
    auto b = Spawn({"sleep", "60"}, SpawnOptions{.parent_death_signal = SIGKILL});
    pid_t pids[2] = {a.ok() ? *a : -1, b.ok() ? *b : -1};
    if (write(fds[1], pids, sizeof pids) != sizeof pids) _exit(1);
    pause();  // until killed
    _exit(0);
  }
  close(fds[1]);
  pid_t pids[2] = {0, 0};
  ASSERT_EQ(read(fds[0], pids, sizeof pids), static_cast<ssize_t>(sizeof pids));
  close(fds[0]);
  ASSERT_GT(pids[0], 0);
  ASSERT_GT(pids[1], 0);
  EXPECT_TRUE(Running(pids[0]));
  EXPECT_TRUE(Running(pids[1]));
  kill(supervisor, SIGKILL);
  int status = 0;
  waitpid(supervisor, &status, 0);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((Running(pids[0]) || Running(pids[1])) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_FALSE(Running(pids[0])) << "the SIGTERM child outlived its parent";
  EXPECT_FALSE(Running(pids[1])) << "the SIGKILL child outlived its parent";
}

TEST(SpawnTest, NoParentDeathSignalWhenAskedForNone) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t supervisor = fork();
  ASSERT_GE(supervisor, 0);
  if (supervisor == 0) {
    close(fds[0]);
    auto a = Spawn({"sleep", "30"}, SpawnOptions{.parent_death_signal = 0});
    pid_t pid = a.ok() ? *a : -1;
    if (write(fds[1], &pid, sizeof pid) != sizeof pid) _exit(1);
    _exit(0);
  }
  close(fds[1]);
  pid_t pid = 0;
  ASSERT_EQ(read(fds[0], &pid, sizeof pid), static_cast<ssize_t>(sizeof pid));
  close(fds[0]);
  waitpid(supervisor, nullptr, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(Running(pid));
  kill(pid, SIGKILL);
}

}  // namespace
}  // namespace lf
