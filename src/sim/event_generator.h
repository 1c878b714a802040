#pragma once

// The simulator's event source: a pure, deterministic generator of SPEC §1.1 device events. It
// knows nothing of Kafka; the simulator sends what it generates.

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/time.h"
#include "fmt/format.h"

namespace lf::sim {

struct GeneratorOptions {
  // Device k (1-based) has id "00000000-0000-0000-0000-" + k as 12 zero-padded digits, so devices
  // 1..20 are the users of SPEC §1.2; antenna k has "00000000-0000-0000-0001-" + 12 digits.
  int64_t devices = 20;
  int64_t antennas = 5;
  // Same seed and options, same stream, byte for byte.
  uint64_t seed = 1;
  // Simulated event time (Next()): every device's first event is at `start`, and its consecutive
  // events are `interval` apart. Devices take turns round-robin, so event i belongs to device
  // i % devices + 1 at start + (i / devices) × interval, and N events span about
  // N / devices × interval of event time.
  Timestamp start = FromUnixSeconds(0);
  Micros interval = std::chrono::seconds(1);
};

// One event. The strings view buffers of the generator: valid until its next Next()/NextAt().
struct Event {
  int64_t bytes = 0;
  int64_t timestamp = 0;  // Unix seconds, UTC (the JSON field)
  std::string_view app;
  std::string_view id;
  std::string_view antenna_id;
};

// The seven apps events are drawn from.
inline constexpr std::array<std::string_view, 7> kApps = {
    "SKYPE", "FACEBOOK", "WHATSAPP", "FACETIME", "TELEGRAM", "INSTAGRAM", "YOUTUBE"};

// Usage is skewed on purpose: each device has its own mean bytes per event (log-normal across
// devices, median 100, so at one event per second some users exceed SPEC §1.2's hourly quotas and
// some do not), a favourite app, and a home antenna it reports through most of the time; an
// event's bytes are exponential around its device's mean. A device's profile depends only on the
// seed and its number, not on how many devices there are.
//
// Not thread-safe. No allocation per event.
class EventGenerator {
 public:
  // Errors: devices or antennas outside 1..999999999999, interval not positive.
  static absl::StatusOr<std::unique_ptr<EventGenerator>> Create(const GeneratorOptions& options);

  // The next event in simulated time (see GeneratorOptions::start).
  const Event& Next();
  // The next event, but stamped with `time` (wall-clock mode); the device sequence and the random
  // draws are the same as Next()'s.
  const Event& NextAt(Timestamp time);

  // The last event as its Kafka payload: one JSON object, fields in SPEC §1.1's order, no spaces,
  // no newline. Valid until the next Next()/NextAt().
  std::string_view payload() const { return {payload_.data(), payload_.size()}; }
  // The Kafka key of the last event: its device id.
  std::string_view key() const { return event_.id; }

  // Events generated so far.
  int64_t count() const { return count_; }

  // A device's mean bytes per event (exposed for tests and for reasoning about quotas).
  double MeanBytes(int64_t device) const;

  explicit EventGenerator(const GeneratorOptions& options);  // use Create(): checks the options

 private:
  uint64_t NextRandom();
  double NextUniform();  // in (0, 1]
  const Event& Generate(int64_t timestamp);

  GeneratorOptions options_;
  std::array<uint64_t, 4> state_{};  // xoshiro256**
  int64_t count_ = 0;
  Event event_;
  std::array<char, 36> id_{};
  std::array<char, 36> antenna_{};
  fmt::memory_buffer payload_;
};

// "00000000-0000-0000-0000-000000000007" for (prefix "00000000-0000-0000-0000-", 7).
std::string FormatId(std::string_view prefix, int64_t number);
inline constexpr std::string_view kDevicePrefix = "00000000-0000-0000-0000-";
inline constexpr std::string_view kAntennaPrefix = "00000000-0000-0000-0001-";

}  // namespace lf::sim
