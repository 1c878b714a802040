#pragma once

// Prometheus text exposition (format 0.0.4) and the events-per-second estimate of /api/health.

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lf::serve {

using Labels = std::vector<std::pair<std::string, std::string>>;

// Builds an exposition: one family (HELP, TYPE, samples) at a time. Not thread-safe.
class MetricsWriter {
 public:
  // Starts family `name` of `type` ("counter" or "gauge"). A family must not be started twice.
  void Family(std::string_view name, std::string_view type, std::string_view help);
  // One sample of the current family. Non-finite values are written as NaN/+Inf/-Inf.
  void Sample(std::string_view name, const Labels& labels, double value);
  void Sample(std::string_view name, double value) { Sample(name, {}, value); }

  const std::string& text() const { return text_; }

  // Label values escaped as the format requires (backslash, double quote, newline).
  static std::string EscapeLabel(std::string_view value);

 private:
  std::string text_;
};

// A ring of (time, running events total) samples taken by the server; Rate() is the slope over
// the last `window`. Thread-safe.
class EventRate {
 public:
  explicit EventRate(std::chrono::seconds window = std::chrono::seconds(60)) : window_(window) {}

  // Records the total seen at `now` (monotonic). A total lower than the previous one (a table
  // truncated) restarts the ring.
  void Add(std::chrono::steady_clock::time_point now, int64_t total);

  // Events per second between the oldest sample within the window and the newest one; nullopt
  // until two samples at least one second apart exist.
  std::optional<double> Rate() const;

 private:
  std::chrono::seconds window_;
  mutable std::mutex mu_;
  std::deque<std::pair<std::chrono::steady_clock::time_point, int64_t>> samples_;
};

}  // namespace lf::serve
