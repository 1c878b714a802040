#pragma once

#include <chrono>

namespace lf {

// Installs SIGINT/SIGTERM/SIGHUP handlers that set a process-wide flag (a second signal at least
// a second later exits at once with status 130). Long-running loops poll ShutdownRequested().
// Call once from main.
void InstallShutdownHandlers();

// True once SIGINT/SIGTERM/SIGHUP arrived or RequestShutdown() was called. Thread-safe.
bool ShutdownRequested();
void RequestShutdown();

// Sleeps up to `d`, returning early (true) when shutdown is requested.
bool SleepUnlessShutdown(std::chrono::milliseconds d);

}  // namespace lf
