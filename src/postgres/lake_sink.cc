#include "postgres/lake_sink.h"

#include <cstdlib>

#include "common/status.h"
#include "postgres/schema.h"
#include "postgres/sql_array.h"
#include "spdlog/spdlog.h"

namespace lf::postgres {

absl::Status RecordLakeFiles(PGconn* c, const std::string& dataset, const std::string& pipeline,
                             const std::vector<pipeline::LakeFile>& files) {
  if (files.empty()) return absl::OkStatus();
  SqlArray paths, temps, hours, rows, bytes;
  for (const auto& f : files) {
    paths.AddText(f.path);
    temps.AddText(f.temp_path);
    hours.AddInt(f.hour_s);
    rows.AddInt(f.rows);
    bytes.AddInt(f.bytes);
  }
  std::string p = paths.Finish(), t = temps.Finish(), h = hours.Finish(), r = rows.Finish(),
              b = bytes.Finish();
  return Query(c,
               "INSERT INTO lf_lake_files (path, dataset, hour, temp_path, rows, bytes, pipeline) "
               "SELECT u.p, $6, to_timestamp(u.h) AT TIME ZONE 'UTC', u.t, u.r, u.b, $7 "
               "FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[]) AS "
               "u(p, t, h, r, b)",
               {p.c_str(), t.c_str(), h.c_str(), r.c_str(), b.c_str(), dataset.c_str(),
                pipeline.c_str()},
               "lake commit: record files in lf_lake_files")
      .status();
}

absl::Status MarkLakeFilesPublished(PGconn* c, const std::vector<pipeline::LakeFile>& files) {
  if (files.empty()) return absl::OkStatus();
  SqlArray paths;
  for (const auto& f : files) paths.AddText(f.path);
  return Query(c, "UPDATE lf_lake_files SET published = true WHERE path = ANY($1::text[])",
               {paths.Finish().c_str()}, "lake: mark files published in lf_lake_files")
      .status();
}

absl::StatusOr<std::vector<pipeline::LakeFile>> UnpublishedLakeFiles(PGconn* c,
                                                                     const std::string& dataset) {
  LF_ASSIGN_OR_RETURN(PgResult r,
                      Query(c,
                            "SELECT extract(epoch from hour)::bigint, path, temp_path, rows, bytes "
                            "FROM lf_lake_files WHERE dataset = $1 AND NOT published",
                            {dataset.c_str()}, "lake: read unpublished files"));
  std::vector<pipeline::LakeFile> out;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    out.push_back(pipeline::LakeFile{
        std::atoll(PQgetvalue(r.get(), i, 0)), PQgetvalue(r.get(), i, 1), PQgetvalue(r.get(), i, 2),
        std::atoll(PQgetvalue(r.get(), i, 3)), std::atoll(PQgetvalue(r.get(), i, 4))});
  }
  return out;
}

absl::StatusOr<std::unique_ptr<PgLakeSink>> PgLakeSink::Open(const LakeSinkOptions& options) {
  LF_ASSIGN_OR_RETURN(PgConn conn, Connect(options.target));
  LF_RETURN_IF_ERROR(EnsureLakeTables(conn.get()));
  return std::unique_ptr<PgLakeSink>(new PgLakeSink(options, std::move(conn)));
}

PgLakeSink::PgLakeSink(LakeSinkOptions options, PgConn conn)
    : options_(std::move(options)),
      key_{options_.pipeline, "lake", options_.topic},
      conn_(std::move(conn)) {}

absl::StatusOr<std::map<int32_t, pipeline::CommittedPartition>> PgLakeSink::Load(
    const std::vector<int32_t>& partitions) {
  LF_RETURN_IF_ERROR(EnsureConnected(conn_.get(), options_.target));
  return LoadOffsets(conn_.get(), key_, partitions);
}

absl::Status PgLakeSink::Commit(const pipeline::LakeFlush& flush) {
  LF_RETURN_IF_ERROR(EnsureConnected(conn_.get(), options_.target));
  return InTransaction(conn_.get(), "lake commit", [&] { return CommitBody(flush); });
}

absl::Status PgLakeSink::CommitBody(const pipeline::LakeFlush& flush) {
  PGconn* c = conn_.get();
  LF_RETURN_IF_ERROR(LockAndCheckOffsets(c, key_, flush.progress));
  if (!flush.files.empty()) {
    LF_RETURN_IF_ERROR(RecordLakeFiles(c, options_.dataset, options_.pipeline, flush.files));
    SqlArray hours, rows;
    for (const auto& f : flush.files) {
      hours.AddInt(f.hour_s);
      rows.AddInt(f.rows);
    }
    std::string h = hours.Finish(), r = rows.Finish();
    // Rows for an hour already complete are late data: the hour needs its batch run again.
    LF_RETURN_IF_ERROR(
        Query(c,
              "INSERT INTO lf_lake_hours AS x (dataset, hour, files, rows) "
              "SELECT $1, to_timestamp(u.h) AT TIME ZONE 'UTC', count(*), sum(u.r) "
              "FROM unnest($2::bigint[], $3::bigint[]) AS u(h, r) GROUP BY u.h "
              "ON CONFLICT (dataset, hour) DO UPDATE SET files = x.files + EXCLUDED.files, "
              "rows = x.rows + EXCLUDED.rows, "
              "needs_rerun = x.needs_rerun OR x.success_at IS NOT NULL, "
              "late_rows = x.late_rows + CASE WHEN x.success_at IS NOT NULL THEN EXCLUDED.rows "
              "ELSE 0 END, "
              "updated_at = now()",
              {options_.dataset.c_str(), h.c_str(), r.c_str()}, "lake commit: update lf_lake_hours")
            .status());
  }
  LF_RETURN_IF_ERROR(AdvanceOffsets(c, key_, flush.progress));
  LF_RETURN_IF_ERROR(Query(c, "SELECT pg_notify('lf_lake', $1)", {options_.pipeline.c_str()},
                           "lake commit: notify lf_lake")
                         .status());
  return absl::OkStatus();
}

absl::Status PgLakeSink::MarkPublished(const std::vector<pipeline::LakeFile>& files) {
  if (files.empty()) return absl::OkStatus();
  LF_RETURN_IF_ERROR(EnsureConnected(conn_.get(), options_.target));
  return MarkLakeFilesPublished(conn_.get(), files);
}

absl::StatusOr<std::vector<pipeline::LakeFile>> PgLakeSink::Unpublished() {
  LF_RETURN_IF_ERROR(EnsureConnected(conn_.get(), options_.target));
  return UnpublishedLakeFiles(conn_.get(), options_.dataset);
}

absl::StatusOr<std::vector<int64_t>> PgLakeSink::CompleteHours(int64_t lateness_s, int64_t idle_s) {
  LF_RETURN_IF_ERROR(EnsureConnected(conn_.get(), options_.target));
  std::string lateness = std::to_string(lateness_s), idle = std::to_string(idle_s);
  // Lake-wide watermark: the slowest partition among those still active (input in the last
  // idle_s seconds, or data the lake has not committed yet), else the newest of all.
  LF_ASSIGN_OR_RETURN(
      PgResult r,
      Query(conn_.get(),
            "WITH wm AS (SELECT COALESCE(min(l.max_event_time_s) FILTER (WHERE "
            "  p.updated_at >= now() - make_interval(secs => $5::bigint) OR l.next_offset < "
            "p.next_offset), "
            "  max(l.max_event_time_s)) - $4::bigint AS w "
            "  FROM lf_offsets l LEFT JOIN lf_offsets p ON p.pipeline = l.pipeline AND "
            "  p.topic = l.topic AND p.partition = l.partition AND p.sink = $3 "
            "  WHERE l.pipeline = $1 AND l.topic = $2 AND l.sink = 'lake' AND l.max_event_time_s "
            "IS NOT NULL) "
            "UPDATE lf_lake_hours h SET success_at = now(), updated_at = now() FROM wm "
            "WHERE h.dataset = $6 AND h.success_at IS NULL AND wm.w IS NOT NULL AND "
            "extract(epoch from h.hour)::bigint + 3600 <= wm.w "
            "RETURNING extract(epoch from h.hour)::bigint",
            {options_.pipeline.c_str(), options_.topic.c_str(), options_.speed_sink.c_str(),
             lateness.c_str(), idle.c_str(), options_.dataset.c_str()},
            "lake: mark complete hours in lf_lake_hours"));
  std::vector<int64_t> hours;
  for (int i = 0; i < PQntuples(r.get()); ++i)
    hours.push_back(std::atoll(PQgetvalue(r.get(), i, 0)));
  return hours;
}

absl::StatusOr<std::vector<int64_t>> PgLakeSink::CompletedHours() {
  LF_RETURN_IF_ERROR(EnsureConnected(conn_.get(), options_.target));
  LF_ASSIGN_OR_RETURN(PgResult r,
                      Query(conn_.get(),
                            "SELECT extract(epoch from hour)::bigint FROM lf_lake_hours "
                            "WHERE dataset = $1 AND success_at IS NOT NULL",
                            {options_.dataset.c_str()}, "lake: read complete hours"));
  std::vector<int64_t> hours;
  for (int i = 0; i < PQntuples(r.get()); ++i)
    hours.push_back(std::atoll(PQgetvalue(r.get(), i, 0)));
  return hours;
}

}  // namespace lf::postgres
