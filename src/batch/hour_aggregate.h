#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pipeline/hour_result.h"

namespace lf::batch {

using pipeline::HourlyRow;
using pipeline::HourResult;
using pipeline::QuotaRow;
using pipeline::UserInfo;

// Reads every published Parquet file of the hour starting at `hour_s` under `root`/`dataset` and
// computes its metrics. `users` maps device id to email and quota. An hour directory that does
// not exist is NotFound; a corrupt file is an error naming it; rows outside the hour are an error
// (they would mean a corrupt lake).
absl::StatusOr<HourResult> AggregateHour(const std::string& root, const std::string& dataset,
                                         int64_t hour_s,
                                         const std::map<std::string, UserInfo>& users);

}  // namespace lf::batch
