#pragma once

// The production line of seed 003 (SPEC §5) as a deterministic message source: zones Z1…Z5 in
// order, two collection points each (CP01…CP10). Units enter at a steady pace and pass every
// point in order, with station times around `station_time`; a unit is produced when it passes
// CP10. At a point a defect (a concern) may be recorded with the zone's probability, charged to
// that zone or an earlier one. Messages come out in event-time order, keyed by their kind
// (`unit_collection_point` or `concern`) as the seed's line does, with the payload shapes of
// SPEC §5; record() is the payload with the key as field "kind" (the NDJSON of --out).

#include <chrono>
#include <cstdint>
#include <optional>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include "common/time.h"
#include "sim/simulator.h"

namespace lf::sim {

struct LineOptions {
  uint64_t seed = 1;
  Timestamp start = FromUnixSeconds(0);             // the first unit enters at `start`
  Micros unit_interval = std::chrono::seconds(12);  // between units entering CP01
  Micros station_time = std::chrono::seconds(45);   // mean time between consecutive points
  std::optional<int64_t> units;                     // stop once this many units were produced
};

class ProductionLine : public MessageSource {
 public:
  static constexpr int kZones = 5;
  static constexpr int kPoints = 10;

  explicit ProductionLine(LineOptions options);

  void Next(std::optional<Timestamp> now) override;
  std::string_view key() const override { return key_; }
  std::string_view payload() const override { return payload_; }
  std::string_view record() const override { return record_; }
  std::optional<Timestamp> event_time() const override { return time_; }
  bool done() const override;
  int64_t produced() const { return produced_; }

 private:
  struct Step {
    int64_t time_us;
    int64_t unit;
    int point;     // 0-based collection point
    bool concern;  // a defect recorded at `point`
    int charged_zone;
    bool operator>(const Step& o) const {
      return time_us != o.time_us ? time_us > o.time_us : unit > o.unit;
    }
  };
  void AddUnit();

  LineOptions options_;
  std::mt19937_64 rng_;
  std::priority_queue<Step, std::vector<Step>, std::greater<Step>> pending_;
  int64_t entered_ = 0, produced_ = 0, next_concern_ = 1;
  int64_t next_entry_us_;
  std::string key_, payload_, record_;
  Timestamp time_;
};

}  // namespace lf::sim
