#include "common/shutdown.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <thread>

namespace lf {
namespace {

std::atomic<int> g_signals{0};

void OnSignal(int) {
  // A second signal means the user does not want to wait for a clean stop.
  if (g_signals.fetch_add(1) >= 1) _exit(130);
}

}  // namespace

void InstallShutdownHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
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
