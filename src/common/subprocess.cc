#include "common/subprocess.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "common/status.h"

extern char** environ;

namespace lf {
namespace {

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// argv[0] as execvp would find it: as given when it holds a '/', else the first executable file
// of that name on PATH.
absl::StatusOr<std::string> ResolveExecutable(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* env_path = std::getenv("PATH");
  std::string dirs = env_path && *env_path ? env_path : "/usr/local/bin:/usr/bin:/bin";
  size_t begin = 0;
  while (begin <= dirs.size()) {
    size_t end = dirs.find(':', begin);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(begin, end - begin);
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
    struct stat st {};
    if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    begin = end + 1;
  }
  return NotFound("spawn: {} not found on PATH", name);
}

}  // namespace

absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, const SpawnOptions& options) {
  if (argv.empty()) return InvalidArgument("spawn: empty command");
  // Everything the child needs is prepared here: between fork and exec it may only make
  // async-signal-safe calls (other threads may hold the allocator's locks).
  LF_ASSIGN_OR_RETURN(std::string path, ResolveExecutable(argv[0]));
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_store;
  for (char** e = environ; *e; ++e) env_store.emplace_back(*e);
  for (const auto& e : options.extra_env) env_store.push_back(e);
  std::vector<char*> env;
  for (auto& e : env_store) env.push_back(e.data());
  env.push_back(nullptr);
  bool switch_user = !options.user.empty();
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  if (switch_user) {
    passwd* pw = getpwnam(options.user.c_str());
    if (!pw) return NotFound("spawn: no system user '{}'", options.user);
    uid = pw->pw_uid;
    gid = pw->pw_gid;
    int n = 64;
    groups.resize(n);
    if (getgrouplist(options.user.c_str(), gid, groups.data(), &n) < 0) {
      groups.resize(n);
      getgrouplist(options.user.c_str(), gid, groups.data(), &n);
    }
    groups.resize(n);
  }
  const char* log = options.log_path.empty() ? nullptr : options.log_path.c_str();
  int death_signal = options.parent_death_signal;
  pid_t parent = getpid();

  // The child reports a failure before exec as (step, errno) through a close-on-exec pipe; a
  // successful exec closes it empty.
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) return Internal("spawn: pipe: {}", std::strerror(errno));
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(report[0]);
    close(report[1]);
    return Internal("spawn: fork for {}: {}", argv[0], std::strerror(e));
  }
  if (pid == 0) {
    auto fail = [&](int step) {
      int msg[2] = {step, errno};
      ssize_t ignored = write(report[1], msg, sizeof msg);
      (void)ignored;
      _exit(127);
    };
    setpgid(0, 0);
    if (switch_user) {
      if (setgroups(groups.size(), groups.data()) != 0) fail(1);
      if (setgid(gid) != 0) fail(1);
      if (setuid(uid) != 0) fail(1);
    }
    // After the user switch, which would clear it. If the parent died before this point the
    // signal will never come: exit instead.
    if (death_signal != 0) {
      if (prctl(PR_SET_PDEATHSIG, death_signal) != 0) fail(2);
      if (getppid() != parent) _exit(128 + death_signal);
    }
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD})
      sigaction(sig, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    int in = open("/dev/null", O_RDONLY);
    if (in < 0 || dup2(in, 0) < 0) fail(3);
    if (log) {
      int out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (out < 0) fail(4);
      if (dup2(out, 1) < 0 || dup2(out, 2) < 0) fail(4);
    }
    execve(path.c_str(), args.data(), env.data());
    fail(5);
  }
  close(report[1]);
  int msg[2] = {0, 0};
  ssize_t n;
  do {
    n = read(report[0], msg, sizeof msg);
  } while (n < 0 && errno == EINTR);
  close(report[0]);
  if (n <= 0) return pid;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  static constexpr const char* kSteps[] = {"",
                                           "switch to the user",
                                           "set the parent-death signal",
                                           "open /dev/null",
                                           "open the log file",
                                           "execute"};
  const char* step = msg[0] >= 1 && msg[0] <= 5 ? kSteps[msg[0]] : "start";
  return Internal("spawn: {} {}{}: {}", step, argv[0],
                  msg[0] == 4 ? fmt::format(" ({})", options.log_path) : std::string(),
                  std::strerror(msg[1]));
}

absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& log_path,
                            const std::vector<std::string>& extra_env) {
  return Spawn(argv, SpawnOptions{.log_path = log_path, .extra_env = extra_env});
}

absl::StatusOr<int> RunToCompletion(const std::vector<std::string>& argv,
                                    const std::string& log_path) {
  LF_ASSIGN_OR_RETURN(pid_t pid, Spawn(argv, log_path));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Internal("spawn: wait for {}: {}", argv[0], std::strerror(errno));
  }
  return DecodeStatus(status);
}

int ExitedStatus(pid_t pid) {
  int status = 0;
  pid_t r = waitpid(pid, &status, WNOHANG);
  if (r == pid) return DecodeStatus(status);
  if (r < 0 && errno == ECHILD) return 0;  // already reaped
  return -1;
}

int WaitFor(pid_t pid, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int s = ExitedStatus(pid);
    if (s >= 0) return s;
    if (std::chrono::steady_clock::now() >= end) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

int Stop(pid_t pid, std::chrono::milliseconds grace) {
  if (int s = ExitedStatus(pid); s >= 0) return s;
  kill(pid, SIGTERM);
  int s = WaitFor(pid, grace);
  if (s >= 0) return s;
  kill(-pid, SIGKILL);
  kill(pid, SIGKILL);
  return WaitFor(pid, std::chrono::seconds(10));
}

std::string SelfExecutable() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "lambdaflow";
  buf[n] = 0;
  return buf;
}

}  // namespace lf
