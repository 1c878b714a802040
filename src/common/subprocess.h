#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace lf {

// Starts `argv` (argv[0] is looked up in PATH) with stdout and stderr appended to `log_path`
// (or inherited when empty), in its own process group, with stdin from /dev/null.
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
