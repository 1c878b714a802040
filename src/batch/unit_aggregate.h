#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pipeline/commit_sink.h"
#include "pipeline/definition.h"

namespace lf::batch {

// The batch metrics of one unit (an hour or a day, `def.batch.every`) of a definition.
struct UnitResult {
  int64_t unit_s = 0;
  int64_t events = 0;
  std::vector<std::string> files;
  // One row per batch metric, window and group: the complete value of the unit (count_distinct:
  // `count` distinct members).
  std::vector<pipeline::MetricRow> rows;
};

// Reads every published file of the unit's hours under `root`/<def.lake.dataset> (hours without
// a directory hold nothing) and computes `def.batch.metrics` with the speed layer's aggregates
// (window::MetricAggregator). A corrupt file, a missing column or one of another type is an error
// naming the file; rows outside the unit are an error (a corrupt lake).
absl::StatusOr<UnitResult> AggregateUnit(const std::string& root, const pipeline::Definition& def,
                                         int64_t unit_s);

}  // namespace lf::batch
