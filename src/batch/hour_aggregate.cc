#include "batch/hour_aggregate.h"

#include <algorithm>
#include <array>

#include "common/status.h"
#include "common/time.h"
#include "lake/inspect.h"
#include "parquet/reader.h"
#include "pipeline/event_batch.h"
#include "window/window_aggregator.h"

namespace lf::batch {

absl::StatusOr<HourResult> AggregateHour(const std::string& root, const std::string& dataset,
                                         int64_t hour_s,
                                         const std::map<std::string, UserInfo>& users) {
  LF_ASSIGN_OR_RETURN(auto hours, lake::ListHours(root, dataset, hour_s));
  HourResult result;
  result.hour_s = hour_s;
  pipeline::KeyDictionaries keys;
  // The hour is one window; no lateness applies to data at rest.
  window::WindowAggregator agg({.size = std::chrono::hours(1), .lateness = std::chrono::seconds(0)},
                               window::DeviceMetrics());
  pipeline::EventBatch batch;
  static constexpr std::array<const char*, 5> kColumns = {"bytes", "timestamp", "app", "id",
                                                          "antenna_id"};
  for (const auto& h : hours) {
    for (const auto& f : h.files) {
      result.files.push_back(f.path);
      LF_ASSIGN_OR_RETURN(auto reader, parquet::ParquetReader::Open(f.path));
      std::array<int, 5> idx;
      for (size_t c = 0; c < kColumns.size(); ++c) {
        idx[c] = reader->FindColumn(kColumns[c]);
        if (idx[c] < 0) return DataLoss("batch: {} has no column '{}'", f.path, kColumns[c]);
      }
      for (int g = 0; g < reader->num_row_groups(); ++g) {
        LF_ASSIGN_OR_RETURN(auto cols, reader->ReadRowGroup(g, idx));
        const size_t n = cols[0].num_rows;
        for (size_t c = 0; c < cols.size(); ++c) {
          if (cols[c].num_rows != n) {
            return DataLoss("batch: {} row group {}: columns of different lengths", f.path, g);
          }
        }
        if (cols[0].physical != parquet::Type::kInt64 ||
            cols[1].physical != parquet::Type::kInt64) {
          return DataLoss("batch: {}: bytes and timestamp must be INT64", f.path);
        }
        batch.clear();
        for (size_t i = 0; i < n; ++i) {
          if (cols[0].IsNull(i) || cols[1].IsNull(i) || cols[2].IsNull(i) || cols[3].IsNull(i) ||
              cols[4].IsNull(i)) {
            return DataLoss("batch: {} row group {} row {}: null value", f.path, g, i);
          }
          int64_t ts_s = cols[1].int64s[i] / 1'000'000;
          if (cols[1].int64s[i] < 0 && cols[1].int64s[i] % 1'000'000 != 0) --ts_s;
          if (ts_s < hour_s || ts_s >= hour_s + 3600) {
            return DataLoss("batch: {} holds an event at {} outside its hour {}", f.path,
                            FormatTime(FromUnixSeconds(ts_s)), FormatTime(FromUnixSeconds(hour_s)));
          }
          batch.bytes.push_back(cols[0].int64s[i]);
          batch.timestamp_s.push_back(ts_s);
          batch.keys[static_cast<int>(pipeline::KeyColumn::kApp)].push_back(
              keys[pipeline::KeyColumn::kApp].Intern(cols[2].StringAt(i)));
          batch.keys[static_cast<int>(pipeline::KeyColumn::kDevice)].push_back(
              keys[pipeline::KeyColumn::kDevice].Intern(cols[3].StringAt(i)));
          batch.keys[static_cast<int>(pipeline::KeyColumn::kAntenna)].push_back(
              keys[pipeline::KeyColumn::kAntenna].Intern(cols[4].StringAt(i)));
          batch.partition.push_back(0);
          batch.offset.push_back(0);
        }
        agg.Add(batch);
        result.events += static_cast<int64_t>(n);
      }
    }
  }
  const auto& metrics = agg.metrics();
  std::map<std::string, int64_t> by_email;
  for (const window::Delta& d : agg.TakeDeltas()) {
    std::string id(keys[metrics[d.metric].key].Name(d.key));
    result.rows.push_back(HourlyRow{id, metrics[d.metric].name, d.value});
    if (metrics[d.metric].key == pipeline::KeyColumn::kDevice) {
      auto u = users.find(id);
      if (u == users.end()) {
        result.unknown_devices.push_back(id);
      } else {
        int64_t& total = by_email[u->second.email];
        if (__builtin_add_overflow(total, d.value, &total)) total = INT64_MAX;
      }
    }
  }
  std::map<std::string, int64_t> quota_by_email;
  for (const auto& [id, u] : users)
    quota_by_email[u.email] = std::max(quota_by_email[u.email], u.quota);
  for (const auto& [email, total] : by_email) {
    result.rows.push_back(HourlyRow{email, "user_email_bytes_total", total});
    int64_t quota = quota_by_email[email];
    if (total > quota) result.over_quota.push_back(QuotaRow{email, total, quota});
  }
  std::sort(result.unknown_devices.begin(), result.unknown_devices.end());
  std::sort(result.rows.begin(), result.rows.end(), [](const HourlyRow& a, const HourlyRow& b) {
    return std::tie(a.type, a.id) < std::tie(b.type, b.id);
  });
  return result;
}

}  // namespace lf::batch
