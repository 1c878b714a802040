#include "sim/production_line.h"

#include <algorithm>

#include "fmt/format.h"

namespace lf::sim {
namespace {

// Chance that a unit gets a defect recorded at a point of each zone (assembly zones are worse).
constexpr double kDefectChance[ProductionLine::kZones] = {0.02, 0.05, 0.03, 0.06, 0.04};
// Chance that a defect found in a zone is charged to an earlier zone.
constexpr double kChargedEarlier = 0.3;

// "2026-11-22T09:00:01.250Z": always with exactly three digits of milliseconds, as the seed's
// line reports them (event times here are after 1970, so plain division floors).
std::string IsoMillis(int64_t us) {
  const int64_t ms = us / 1000;
  std::string t = FormatTime(Timestamp(Micros((ms / 1000) * 1000000)));
  t.insert(t.size() - 1, fmt::format(".{:03d}", ms % 1000));
  return t;
}

}  // namespace

ProductionLine::ProductionLine(LineOptions options)
    : options_(options),
      rng_(options.seed),
      next_entry_us_(options.start.time_since_epoch().count()) {}

void ProductionLine::AddUnit() {
  pending_.push(Step{next_entry_us_, ++entered_, 0, false, 0});
  next_entry_us_ += options_.unit_interval.count();
}

bool ProductionLine::done() const {
  return options_.units && produced_ >= *options_.units && pending_.empty();
}

void ProductionLine::Next(std::optional<Timestamp>) {
  // Units keep entering while the line is to produce more.
  const bool more = !options_.units || entered_ < *options_.units;
  while (more && (pending_.empty() || pending_.top().time_us >= next_entry_us_)) {
    AddUnit();
    if (options_.units && entered_ >= *options_.units) break;
  }
  if (pending_.empty()) {
    key_.clear();
    payload_.clear();
    record_.clear();
    return;
  }
  Step s = pending_.top();
  pending_.pop();
  const int zone = s.point / 2;  // 0-based
  const std::string unit = fmt::format("U{:08d}", s.unit);
  const std::string point = fmt::format("CP{:02d}", s.point + 1);
  const std::string ts = IsoMillis(s.time_us);
  time_ = Timestamp(Micros(s.time_us));
  if (s.concern) {
    key_ = "concern";
    payload_ = fmt::format(
        R"({{"qls_unit_id":"{}","concern_id":"C{:03d}","collection_point_id":"{}","zone_charged_id":"Z{}","unit_collection_pt_timestamp":"{}"}})",
        unit, 1 + (next_concern_++ % 200), point, s.charged_zone + 1, ts);
  } else {
    key_ = "unit_collection_point";
    payload_ = fmt::format(
        R"({{"qls_unit_id":"{}","collection_point_id":"{}","zone_id":"Z{}","unit_collection_pt_timestamp":"{}"}})",
        unit, point, zone + 1, ts);
    std::uniform_real_distribution<double> u(0, 1);
    if (u(rng_) < kDefectChance[zone]) {
      const int charged = u(rng_) < kChargedEarlier && zone > 0
                              ? static_cast<int>(rng_() % static_cast<uint64_t>(zone))
                              : zone;
      const int64_t delay = 250'000 + static_cast<int64_t>(rng_() % 5'000'000);
      pending_.push(Step{s.time_us + delay, s.unit, s.point, true, charged});
    }
    if (s.point + 1 < kPoints) {
      // Station times vary ±50 % around the mean, in whole milliseconds.
      const int64_t mean = options_.station_time.count();
      const int64_t us =
          (mean / 2 + static_cast<int64_t>(rng_() % static_cast<uint64_t>(mean))) / 1000 * 1000;
      pending_.push(Step{s.time_us + us, s.unit, s.point + 1, false, 0});
    } else {
      ++produced_;
    }
  }
  record_ = payload_;
  record_.insert(1, fmt::format(R"("kind":"{}",)", key_));
}

}  // namespace lf::sim
