#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace lf {

struct SpawnOptions {
  // stdout and stderr are appended to this file (opened as `user`); inherited when empty.
  std::string log_path;
  std::vector<std::string> extra_env;  // NAME=value, added to this process's environment
  // Sent to the child when this process dies, however it dies (SIGKILL and the OOM killer
  // included): a supervisor's children never outlive it. 0: none. Linux ties it to the thread
  // that spawned the child, so spawn long-lived children from a thread that lives as long.
  int parent_death_signal = SIGTERM;
  // Run as this system user (its uid, gid and groups), e.g. "postgres" when we are root.
  std::string user;
};

// Starts `argv` (argv[0] is looked up in PATH) in its own process group, with stdin from
// /dev/null and default signal dispositions. Errors when it could not be executed.
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, const SpawnOptions& options);

// The same with stdout and stderr appended to `log_path` (or inherited when empty).
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& log_path,
                            const std::vector<std::string>& extra_env = {});

// Runs `argv` to completion (output to `log_path`); returns its exit status (128+signal when
// killed). Errors only when it could not be started.
absl::StatusOr<int> RunToCompletion(const std::vector<std::string>& argv,
                                    const std::string& log_path);

// Waits for `pid` up to `timeout`; returns its exit status, or -1 when it is still running.
int WaitFor(pid_t pid, std::chrono::milliseconds timeout);

// Non-blocking: the exit status of `pid` if it has exited, else -1.
int ExitedStatus(pid_t pid);

// SIGTERM, then SIGKILL after `grace`; reaps it. Returns the exit status.
int Stop(pid_t pid, std::chrono::milliseconds grace);

// This program's own executable (/proc/self/exe).
std::string SelfExecutable();

}  // namespace lf
