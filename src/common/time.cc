#include "common/time.h"

#include <cctype>
#include <cstdint>
#include <cstdlib>

#include "common/status.h"
#include "spdlog/spdlog.h"

namespace lf {
namespace {

// Reads exactly `digits` decimal digits at text[*pos].
bool ReadFixed(std::string_view text, size_t* pos, int digits, int* out) {
  if (*pos + digits > text.size()) return false;
  int v = 0;
  for (int i = 0; i < digits; ++i) {
    char c = text[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += digits;
  *out = v;
  return true;
}

absl::Status BadTime(std::string_view text, std::string_view why) {
  return InvalidArgument(
      "time: cannot parse '{}' ({}); expected ISO-8601 like 2026-11-22T09:00:00Z", text, why);
}

}  // namespace

absl::StatusOr<Micros> ParseDuration(std::string_view text) {
  if (text.empty()) return InvalidArgument("duration: empty; expected e.g. 500ms, 5s, 5m, 1h");
  int64_t total = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t start = pos;
    int64_t value = 0;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      if (value > (INT64_MAX / 10) - 10) {
        return InvalidArgument("duration: too large: '{}'", text);
      }
      value = value * 10 + (text[pos] - '0');
      ++pos;
    }
    if (pos == start) {
      return InvalidArgument("duration: expected a number at '{}' in '{}'", text.substr(start),
                             text);
    }
    size_t unit_start = pos;
    while (pos < text.size() && std::isalpha(static_cast<unsigned char>(text[pos]))) ++pos;
    std::string_view unit = text.substr(unit_start, pos - unit_start);
    int64_t scale;
    if (unit == "us") {
      scale = 1;
    } else if (unit == "ms") {
      scale = 1000;
    } else if (unit == "s") {
      scale = 1'000'000;
    } else if (unit == "m") {
      scale = 60'000'000;
    } else if (unit == "h") {
      scale = 3'600'000'000LL;
    } else if (unit == "d") {
      scale = 86'400'000'000LL;
    } else {
      return InvalidArgument(
          "duration: unknown or missing unit '{}' in '{}' (use us, ms, s, m, h, d)", unit, text);
    }
    if (value > INT64_MAX / scale || total > INT64_MAX - value * scale) {
      return InvalidArgument("duration: too large: '{}'", text);
    }
    total += value * scale;
  }
  return Micros(total);
}

absl::StatusOr<Timestamp> ParseTime(std::string_view text) {
  if (text.empty()) return BadTime(text, "empty");
  if (text[0] == '@') {
    int64_t v = 0;
    bool neg = false;
    size_t i = 1;
    if (i < text.size() && text[i] == '-') {
      neg = true;
      ++i;
    }
    if (i == text.size()) return BadTime(text, "no digits after @");
    for (; i < text.size(); ++i) {
      if (!std::isdigit(static_cast<unsigned char>(text[i])) || v > INT64_MAX / 100)
        return BadTime(text, "bad Unix seconds");
      v = v * 10 + (text[i] - '0');
    }
    // Years 0001-9999, as everywhere else; beyond that the microseconds would overflow.
    if (v > (neg ? 62135596800 : 253402300799)) return BadTime(text, "Unix seconds out of range");
    return FromUnixSeconds(neg ? -v : v);
  }
  size_t pos = 0;
  int year, month, day, hour = 0, minute = 0, second = 0;
  if (!ReadFixed(text, &pos, 4, &year)) return BadTime(text, "year");
  if (pos >= text.size() || text[pos++] != '-') return BadTime(text, "expected '-' after year");
  if (!ReadFixed(text, &pos, 2, &month)) return BadTime(text, "month");
  if (pos >= text.size() || text[pos++] != '-') return BadTime(text, "expected '-' after month");
  if (!ReadFixed(text, &pos, 2, &day)) return BadTime(text, "day");
  int64_t micros = 0;
  int64_t offset_seconds = 0;
  if (pos < text.size()) {
    if (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ')
      return BadTime(text, "expected 'T' between date and time");
    ++pos;
    if (!ReadFixed(text, &pos, 2, &hour)) return BadTime(text, "hour");
    if (pos < text.size() && text[pos] == ':') {
      ++pos;
      if (!ReadFixed(text, &pos, 2, &minute)) return BadTime(text, "minute");
      if (pos < text.size() && text[pos] == ':') {
        ++pos;
        if (!ReadFixed(text, &pos, 2, &second)) return BadTime(text, "second");
        if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
          ++pos;
          int64_t scale = 100000;
          size_t start = pos;
          while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
            if (scale > 0) micros += (text[pos] - '0') * scale;
            scale /= 10;
            ++pos;
          }
          if (pos == start) return BadTime(text, "fraction");
        }
      }
    }
    if (pos < text.size()) {
      char c = text[pos];
      if (c == 'Z' || c == 'z') {
        ++pos;
      } else if (c == '+' || c == '-') {
        ++pos;
        int oh, om = 0;
        if (!ReadFixed(text, &pos, 2, &oh)) return BadTime(text, "offset hours");
        if (pos < text.size() && text[pos] == ':') ++pos;
        if (pos < text.size() && !ReadFixed(text, &pos, 2, &om))
          return BadTime(text, "offset minutes");
        if (oh > 23 || om > 59) return BadTime(text, "offset out of range");
        offset_seconds = (oh * 3600 + om * 60) * (c == '+' ? 1 : -1);
      }
    }
    if (pos != text.size()) return BadTime(text, "trailing characters");
  }
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 60)
    return BadTime(text, "field out of range");
  std::chrono::year_month_day ymd{std::chrono::year(year), std::chrono::month(month),
                                  std::chrono::day(day)};
  if (!ymd.ok()) return BadTime(text, "no such date");
  auto days = std::chrono::sys_days(ymd);
  Timestamp t = std::chrono::time_point_cast<Micros>(days) + std::chrono::hours(hour) +
                std::chrono::minutes(minute) + std::chrono::seconds(second) + Micros(micros) -
                std::chrono::seconds(offset_seconds);
  return t;
}

std::string FormatTime(Timestamp t) {
  auto days = std::chrono::floor<std::chrono::days>(t);
  std::chrono::year_month_day ymd(days);
  auto rest = t - days;
  int64_t us = rest.count();
  int hh = static_cast<int>(us / 3'600'000'000LL);
  int mm = static_cast<int>(us / 60'000'000 % 60);
  int ss = static_cast<int>(us / 1'000'000 % 60);
  int64_t frac = us % 1'000'000;
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d",
                        static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                        static_cast<unsigned>(ymd.day()), hh, mm, ss);
  if (frac != 0)
    n += std::snprintf(buf + n, sizeof buf - n, ".%06lld", static_cast<long long>(frac));
  std::snprintf(buf + n, sizeof buf - n, "Z");
  return buf;
}

std::string FormatDuration(Micros d) {
  int64_t us = d.count();
  if (us == 0) return "0s";
  std::string out;
  if (us < 0) {
    out = "-";
    us = -us;
  }
  if (us % 1000 != 0) return fmt::format("{}{}us", out, us);
  if (us % 1'000'000 != 0) return fmt::format("{}{}ms", out, us / 1000);
  int64_t s = us / 1'000'000;
  if (s >= 3600) out += fmt::format("{}h", s / 3600);
  if (s % 3600 >= 60) out += fmt::format("{}m", s % 3600 / 60);
  if (s % 60 != 0) out += fmt::format("{}s", s % 60);
  return out;
}

Timestamp FloorTo(Timestamp t, Micros size) {
  int64_t v = t.time_since_epoch().count();
  int64_t s = size.count();
  int64_t q = v / s;
  if (v % s != 0 && v < 0) --q;
  return Timestamp(Micros(q * s));
}

Timestamp WallNow() {
  static const Micros skew = [] {
    const char* env = std::getenv("LF_CLOCK_SKEW");
    if (env == nullptr || *env == '\0') return Micros(0);
    std::string_view text(env);
    const bool negative = text.front() == '-';
    if (text.front() == '+' || text.front() == '-') text.remove_prefix(1);
    auto d = ParseDuration(text);
    if (!d.ok()) {
      spdlog::warn("LF_CLOCK_SKEW={} ignored: {}", env, std::string(d.status().message()));
      return Micros(0);
    }
    spdlog::warn("this process's wall clock is skewed by LF_CLOCK_SKEW={}", env);
    return negative ? -*d : *d;
  }();
  return std::chrono::time_point_cast<Micros>(std::chrono::system_clock::now()) + skew;
}

}  // namespace lf
