#include "common/shutdown.h"

#include <signal.h>
#include <unistd.h>

#include <time.h>

#include <atomic>
#include <cstdint>
#include <thread>

namespace lf {
namespace {

std::atomic<int> g_signals{0};
std::atomic<int64_t> g_first_signal_ms{0};

int64_t MonotonicMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);  // async-signal-safe
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

void OnSignal(int) {
  // A second signal means the user does not want to wait for a clean stop. One that arrives
  // within a second of the first is the same request delivered twice (e.g. GNU timeout signals
  // both the child and its process group), not impatience.
  int64_t now = MonotonicMs();
  if (g_signals.fetch_add(1) == 0) {
    g_first_signal_ms.store(now);
    return;
  }
  if (now - g_first_signal_ms.load() >= 1000) _exit(130);
}

}  // namespace

void InstallShutdownHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  // A closed terminal: stop as cleanly as on Ctrl-C rather than die with work uncommitted.
  sigaction(SIGHUP, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

bool ShutdownRequested() { return g_signals.load(std::memory_order_relaxed) > 0; }

void RequestShutdown() { g_signals.fetch_add(1); }

bool SleepUnlessShutdown(std::chrono::milliseconds d) {
  auto end = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < end) {
    if (ShutdownRequested()) return true;
    std::this_thread::sleep_for(std::min(d, std::chrono::milliseconds(50)));
  }
  return ShutdownRequested();
}

}  // namespace lf
