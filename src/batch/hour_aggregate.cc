#include "batch/hour_aggregate.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "common/status.h"
#include "common/time.h"
#include "lake/inspect.h"
#include "parquet/reader.h"
#include "pipeline/interner.h"
#include "window/window_aggregator.h"

namespace lf::batch {
namespace {

using parquet::ColumnData;

// How many examples of devices without user_metadata a result keeps.
constexpr size_t kUnknownExamples = 5;

void SaturatingAdd(int64_t& total, int64_t v) {
  if (__builtin_add_overflow(total, v, &total)) total = v > 0 ? INT64_MAX : INT64_MIN;
}

// The sums of one metric by key. Column chunks come back from the reader as a table of values
// plus one index per row (most often the chunk's dictionary), so rows are summed per table entry
// first — one array add per row, no hashing — and only the entries rows used are then looked up
// by name and folded into the key's total.
class KeySums {
 public:
  void Add(const ColumnData& keys, const int64_t* bytes, size_t n) {
    const size_t entries = keys.EntryCount();
    entry_sums_.assign(entries, 0);
    entry_used_.assign(entries, 0);
    const uint32_t* idx = keys.indices.data();
    int64_t* sums = entry_sums_.data();
    uint8_t* used = entry_used_.data();
    for (size_t i = 0; i < n; ++i) {
      SaturatingAdd(sums[idx[i]], bytes[i]);
      used[idx[i]] = 1;
    }
    used_names_.clear();
    used_entries_.clear();
    for (size_t e = 0; e < entries; ++e) {
      if (!used[e]) continue;
      used_names_.push_back(keys.Entry(e));
      used_entries_.push_back(static_cast<uint32_t>(e));
    }
    ids_.resize(used_names_.size());
    names_.InternAll(used_names_, ids_.data());
    totals_.resize(names_.size(), 0);
    for (size_t u = 0; u < ids_.size(); ++u)
      SaturatingAdd(totals_[ids_[u]], sums[used_entries_[u]]);
  }
  // Keys in first-seen order: names_.Name(k) with total totals()[k].
  size_t size() const { return totals_.size(); }
  std::string_view name(uint32_t k) const { return names_.Name(k); }
  int64_t total(uint32_t k) const { return totals_[k]; }

 private:
  pipeline::StringInterner names_;
  std::vector<int64_t> totals_;
  std::vector<int64_t> entry_sums_;
  std::vector<uint8_t> entry_used_;
  std::vector<std::string_view> used_names_;
  std::vector<uint32_t> used_entries_, ids_;
};

// Timestamp units per second of a column (INT64 timestamps; micros when unannotated).
int64_t UnitsPerSecond(const parquet::ColumnDescriptor& d) {
  parquet::TimeUnit unit = parquet::TimeUnit::kMicros;
  if (d.logical.kind == parquet::LogicalType::Kind::kTimestamp) {
    unit = d.logical.unit;
  } else if (d.converted_type == static_cast<int32_t>(parquet::ConvertedType::kTimestampMillis)) {
    unit = parquet::TimeUnit::kMillis;
  }
  switch (unit) {
    case parquet::TimeUnit::kMillis:
      return 1'000;
    case parquet::TimeUnit::kNanos:
      return 1'000'000'000;
    default:
      return 1'000'000;
  }
}

}  // namespace

absl::StatusOr<HourResult> AggregateHour(const std::string& root, const std::string& dataset,
                                         int64_t hour_s,
                                         const std::map<std::string, UserInfo>& users) {
  LF_ASSIGN_OR_RETURN(auto hours, lake::ListHours(root, dataset, hour_s));
  HourResult result;
  result.hour_s = hour_s;
  const std::vector<window::MetricSpec> metrics = window::DeviceMetrics();
  std::vector<KeySums> sums(metrics.size());
  // Columns read: bytes, timestamp, then each metric's key column.
  std::vector<std::string> names = {"bytes", "timestamp"};
  for (const auto& m : metrics) names.emplace_back(pipeline::KeyColumnName(m.key));
  parquet::ReaderOptions options;
  options.byte_array_indices = true;
  std::vector<int64_t> widened;
  std::vector<ColumnData> cols;  // one row group's columns, buffers reused
  for (const auto& h : hours) {
    for (const auto& f : h.files) {
      result.files.push_back(f.path);
      LF_ASSIGN_OR_RETURN(auto reader, parquet::ParquetReader::Open(f.path, options));
      std::vector<int> idx(names.size());
      for (size_t c = 0; c < names.size(); ++c) {
        idx[c] = reader->FindColumn(names[c]);
        if (idx[c] < 0) return DataLoss("batch: {} has no column '{}'", f.path, names[c]);
      }
      const auto& bytes_col = reader->columns()[idx[0]];
      const auto& ts_col = reader->columns()[idx[1]];
      if ((bytes_col.physical != parquet::Type::kInt64 &&
           bytes_col.physical != parquet::Type::kInt32) ||
          ts_col.physical != parquet::Type::kInt64) {
        return DataLoss("batch: {}: bytes must be INT64 or INT32 and timestamp INT64", f.path);
      }
      for (size_t c = 2; c < names.size(); ++c) {
        if (reader->columns()[idx[c]].physical != parquet::Type::kByteArray) {
          return DataLoss("batch: {}: column '{}' must be a string (BYTE_ARRAY)", f.path, names[c]);
        }
      }
      const int64_t per_s = UnitsPerSecond(ts_col);
      const __int128 lo = static_cast<__int128>(hour_s) * per_s;
      const __int128 hi = static_cast<__int128>(hour_s + 3600) * per_s;  // exclusive
      for (int g = 0; g < reader->num_row_groups(); ++g) {
        LF_RETURN_IF_ERROR(reader->ReadRowGroup(g, idx, &cols));
        const size_t n = cols[0].num_rows;
        for (size_t c = 0; c < cols.size(); ++c) {
          if (cols[c].num_rows != n) {
            return DataLoss("batch: {} row group {}: columns of different lengths", f.path, g);
          }
          const auto& valid = cols[c].valid;
          if (auto it = std::find(valid.begin(), valid.end(), 0); it != valid.end()) {
            return DataLoss("batch: {} row group {} row {}: null '{}'", f.path, g,
                            it - valid.begin(), names[c]);
          }
        }
        if (n == 0) continue;
        const std::vector<int64_t>& ts = cols[1].int64s;
        auto [min_it, max_it] = std::minmax_element(ts.begin(), ts.end());
        if (*min_it < lo || *max_it >= hi) {
          int64_t bad = *min_it < lo ? *min_it : *max_it;
          return DataLoss("batch: {} holds an event at {} outside its hour {}", f.path,
                          FormatTime(FromUnixSeconds(FloorDiv(bad, per_s))),
                          FormatTime(FromUnixSeconds(hour_s)));
        }
        const int64_t* bytes = cols[0].int64s.data();
        if (cols[0].physical == parquet::Type::kInt32) {
          widened.assign(cols[0].int32s.begin(), cols[0].int32s.end());
          bytes = widened.data();
        }
        for (size_t m = 0; m < metrics.size(); ++m) sums[m].Add(cols[2 + m], bytes, n);
        result.events += static_cast<int64_t>(n);
      }
    }
  }

  absl::flat_hash_map<std::string_view, const UserInfo*> user_of;
  user_of.reserve(users.size());
  for (const auto& [id, u] : users) user_of.emplace(id, &u);
  std::map<std::string, int64_t> by_email;
  for (size_t m = 0; m < metrics.size(); ++m) {
    const KeySums& s = sums[m];
    const bool device = metrics[m].key == pipeline::KeyColumn::kDevice;
    for (uint32_t k = 0; k < s.size(); ++k) {
      result.rows.push_back(HourlyRow{std::string(s.name(k)), metrics[m].name, s.total(k)});
      if (!device) continue;
      auto u = user_of.find(s.name(k));
      if (u == user_of.end()) {
        if (result.unknown_examples.size() < kUnknownExamples) {
          result.unknown_examples.emplace_back(s.name(k));
        }
        ++result.unknown_devices;
      } else {
        SaturatingAdd(by_email[u->second->email], s.total(k));
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
  return result;
}

}  // namespace lf::batch
