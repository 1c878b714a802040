#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace lf {

// Event time and wall-clock instants, UTC, microsecond resolution (the lake's TIMESTAMP unit).
using Micros = std::chrono::microseconds;
using Timestamp = std::chrono::sys_time<Micros>;

// Parses "500ms", "5s", "5m", "1h", "2d", "250us" and sums like "1h30m". A bare number is
// rejected so the unit is never guessed.
absl::StatusOr<Micros> ParseDuration(std::string_view text);

// Parses ISO-8601 date-times: "2026-11-22T09:00:00Z", "2026-11-22T09:00:00.5+01:00",
// "2026-11-22 09:00:00" (taken as UTC), "2026-11-22" (midnight UTC), or an integer of Unix
// seconds prefixed with '@' ("@1600545287").
absl::StatusOr<Timestamp> ParseTime(std::string_view text);

// "2026-11-22T09:00:00Z" (fraction only when non-zero).
std::string FormatTime(Timestamp t);

// "1h2m3s", "500ms": the inverse of ParseDuration for display.
std::string FormatDuration(Micros d);

// Floor of `t` to a multiple of `size` since the epoch (works for negative times too).
Timestamp FloorTo(Timestamp t, Micros size);

// a / b rounded toward negative infinity (b != 0).
inline int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// The wall clock as this process sees it: the system clock, plus LF_CLOCK_SKEW when that is set
// ("+2h", "-90m"; read once, a malformed value is reported and ignored). The skew stands in for a
// machine whose clock is off, in the torture tests: every wall-clock reading of Lambdaflow's own
// code goes through here (libfaketime cannot skew a process that uses librdkafka, whose timed
// waits then mix the faked clock with the kernel's).
Timestamp WallNow();

inline Timestamp FromUnixSeconds(int64_t s) { return Timestamp(Micros(s * 1'000'000)); }
inline int64_t ToUnixSeconds(Timestamp t) {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace lf
