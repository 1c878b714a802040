#include "lake/layout.h"

#include <chrono>
#include <cstdio>

#include "common/time.h"
#include "fmt/format.h"

namespace lf::lake {
namespace {

using std::chrono::days;
using std::chrono::duration_cast;
using std::chrono::seconds;
using std::chrono::sys_days;
using std::chrono::sys_seconds;
using std::chrono::year_month_day;

}  // namespace

int64_t HourOf(int64_t unix_s) { return FloorDiv(unix_s, 3600) * 3600; }

std::string HourDir(std::string_view dataset, int64_t hour_s) {
  sys_days day = std::chrono::floor<days>(sys_seconds(seconds(hour_s)));
  year_month_day ymd(day);
  int64_t hour = (hour_s - duration_cast<seconds>(day.time_since_epoch()).count()) / 3600;
  return fmt::format("{}/year={}/month={}/day={}/hour={}", dataset, static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), hour);
}

std::optional<int64_t> ParseHourDir(std::string_view path) {
  int values[4];
  const char* keys[4] = {"year=", "month=", "day=", "hour="};
  size_t pos = 0;
  for (int k = 0; k < 4; ++k) {
    size_t at = path.find(keys[k], pos);
    if (at == std::string_view::npos || (at > 0 && path[at - 1] != '/')) return std::nullopt;
    at += std::string_view(keys[k]).size();
    size_t end = at;
    int v = 0;
    while (end < path.size() && path[end] >= '0' && path[end] <= '9' && end - at < 6) {
      v = v * 10 + (path[end] - '0');
      ++end;
    }
    if (end == at || (end < path.size() && path[end] != '/')) return std::nullopt;
    values[k] = v;
    pos = end;
  }
  year_month_day ymd{std::chrono::year(values[0]),
                     std::chrono::month(static_cast<unsigned>(values[1])),
                     std::chrono::day(static_cast<unsigned>(values[2]))};
  if (!ymd.ok() || values[3] > 23) return std::nullopt;
  return duration_cast<seconds>(sys_days(ymd).time_since_epoch()).count() + values[3] * 3600;
}

int64_t PartitionSeconds(Partitioning p) { return p == Partitioning::kEventHour ? 3600 : 86400; }

int64_t PartitionStart(Partitioning p, int64_t unix_s) {
  const int64_t unit = PartitionSeconds(p);
  return FloorDiv(unix_s, unit) * unit;
}

std::string PartitionDir(std::string_view dataset, Partitioning p, int64_t start_s) {
  if (p == Partitioning::kEventHour) return HourDir(dataset, start_s);
  year_month_day ymd(std::chrono::floor<days>(sys_seconds(seconds(start_s))));
  return fmt::format("{}/{}={:04d}-{:02d}-{:02d}", dataset,
                     p == Partitioning::kEventDate ? "event_date" : "ingest_date",
                     static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                     static_cast<unsigned>(ymd.day()));
}

std::string FinalFileName(std::string_view writer_id, int64_t seq) {
  return fmt::format("part-{}-{:05d}.parquet", writer_id, seq);
}

std::string TempFileName(std::string_view final_name) {
  return fmt::format(".{}{}", final_name, kTempSuffix);
}

}  // namespace lf::lake
