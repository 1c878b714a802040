#pragma once

// Sample landing files for the FarmIA ingestion engine (SPEC §6.5): IoT sensor readings and
// suppliers as CSV with a header row, inventory snapshots as NDJSON and JSON arrays, weather
// observations as JSON arrays, in the layout the pipelines/farmia definitions read
// (<landing>/<dataset>/…). Deterministic for a seed. With faults it mixes in what real landings
// hold: bad rows (a missing value, a word where a number goes, a short row), an extra column or
// member, quoted fields with commas and newlines, a byte order mark, CRLF line ends, an empty
// file and a file that is not UTF-8.

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/time.h"

namespace lf::sim {

struct FarmiaOptions {
  std::string landing;  // the landing root
  uint64_t seed = 1;
  int files = 3;   // per dataset
  int rows = 200;  // per file
  bool faults = false;
  Timestamp start = FromUnixSeconds(1795305600);  // 2026-11-22T00:00:00Z: the readings' times
  std::vector<std::string> datasets;              // empty: all four

  bool Wants(const std::string& d) const {
    return datasets.empty() || std::find(datasets.begin(), datasets.end(), d) != datasets.end();
  }
};

struct FarmiaSummary {
  int64_t files = 0, rows = 0, bad_rows = 0;
};

// Writes the files (each under a hidden name, then renamed, so an ingest watching the landing
// never takes half a file).
absl::StatusOr<FarmiaSummary> GenerateFarmia(const FarmiaOptions& options);

}  // namespace lf::sim
