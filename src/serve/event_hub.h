#pragma once

// Push updates for Server-Sent Events: the hub fans events out to every waiting stream; the
// watcher feeds it from PostgreSQL (LISTEN lf_speed / lf_batch, with polling as a fallback) and
// samples the events total for the events-per-second estimate.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "postgres/conninfo.h"
#include "serve/metrics.h"

namespace lf::serve {

struct HubEvent {
  uint64_t seq = 0;
  std::string name;  // SSE event name: "speed" or "batch"
  std::string data;  // one line of JSON
};

// Thread-safe.
class EventHub {
 public:
  // Adds an event; wakes every waiter.
  void Publish(std::string name, std::string data);

  // The first event with seq > `after`, waiting up to `timeout`; nullopt on timeout or Stop().
  std::optional<HubEvent> WaitNext(uint64_t after, std::chrono::milliseconds timeout);

  // Sequence number of the newest event (0 when none): a new stream starts after it.
  uint64_t LastSeq() const;

  // Wakes every waiter for good (server shutdown).
  void Stop();
  bool stopped() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<HubEvent> recent_;  // the last few events, oldest first
  uint64_t seq_ = 0;
  bool stopped_ = false;
};

struct WatcherOptions {
  postgres::ConnTarget target;
  // How often the tables are polled when no notification arrives, and the events total sampled.
  std::chrono::milliseconds poll_interval{2000};
};

// Owns one PostgreSQL connection and a thread. Start() returns at once; the destructor (or
// Stop()) joins the thread. Connection failures are retried quietly.
class Watcher {
 public:
  Watcher(WatcherOptions options, EventHub* hub, EventRate* rate)
      : options_(std::move(options)), hub_(hub), rate_(rate) {}
  ~Watcher() { Stop(); }

  void Start();
  void Stop();

 private:
  void Loop();

  WatcherOptions options_;
  EventHub* hub_;
  EventRate* rate_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace lf::serve
