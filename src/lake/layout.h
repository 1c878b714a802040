#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lf::lake {

inline constexpr char kDataset[] = "devices";
inline constexpr char kSuccessMarker[] = "_SUCCESS";
inline constexpr char kTempSuffix[] = ".inprogress";

// Start of the UTC hour holding `unix_s`.
int64_t HourOf(int64_t unix_s);

// "devices/year=2026/month=11/day=22/hour=9": the partition directory of the hour starting at
// `hour_s`, relative to the lake root, exactly as Spark's partitionBy("year","month","day","hour")
// names it (no zero padding).
std::string HourDir(std::string_view dataset, int64_t hour_s);

// The inverse of HourDir for a relative path of a file or directory inside an hour directory;
// nullopt when the path is not in that layout.
std::optional<int64_t> ParseHourDir(std::string_view relative_path);

// How a dataset is split into directories (SPEC §4 `lake.partition`): by the event-time hour
// (Spark's year=/month=/day=/hour=), the event-time day or the ingestion day
// (event_date=YYYY-MM-DD, ingest_date=YYYY-MM-DD, as Hive names them).
enum class Partitioning { kEventHour, kEventDate, kIngestDate };

// The length of one partition: an hour or a day.
int64_t PartitionSeconds(Partitioning p);
// The start of the partition holding `unix_s`.
int64_t PartitionStart(Partitioning p, int64_t unix_s);
// The directory of the partition starting at `start_s`, relative to the lake root.
std::string PartitionDir(std::string_view dataset, Partitioning p, int64_t start_s);

// Final and temporary file names of file number `seq` of writer `writer_id` (the temporary name
// is hidden from readers).
std::string FinalFileName(std::string_view writer_id, int64_t seq);
std::string TempFileName(std::string_view final_name);

}  // namespace lf::lake
