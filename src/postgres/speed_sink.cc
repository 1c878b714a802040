#include "postgres/speed_sink.h"

#include <cstdlib>

#include "common/status.h"
#include "postgres/identifier.h"
#include "postgres/offsets.h"
#include "postgres/schema.h"
#include "postgres/sql_array.h"
#include "spdlog/spdlog.h"

namespace lf::postgres {
absl::StatusOr<std::unique_ptr<PgSpeedSink>> PgSpeedSink::Open(const SpeedSinkOptions& options) {
  LF_ASSIGN_OR_RETURN(std::string quoted, QuoteTableName(options.table, "--table"));
  LF_ASSIGN_OR_RETURN(PgConn conn, Connect(options.target));
  LF_RETURN_IF_ERROR(EnsureSpeedTables(conn.get(), options.table));
  return std::unique_ptr<PgSpeedSink>(new PgSpeedSink(options, std::move(quoted), std::move(conn)));
}

PgSpeedSink::PgSpeedSink(SpeedSinkOptions options, std::string quoted_table, PgConn conn)
    : options_(std::move(options)),
      quoted_table_(std::move(quoted_table)),
      key_{options_.pipeline, "pg:" + options_.table, options_.topic},
      conn_(std::move(conn)) {}

absl::StatusOr<std::map<int32_t, pipeline::CommittedPartition>> PgSpeedSink::Load(
    const std::vector<int32_t>& partitions) {
  LF_RETURN_IF_ERROR(EnsureConnected(conn_.get(), options_.target));
  return LoadOffsets(conn_.get(), key_, partitions);
}

absl::Status PgSpeedSink::Commit(const pipeline::SpeedFlush& flush) {
  LF_RETURN_IF_ERROR(EnsureConnected(conn_.get(), options_.target));
  return InTransaction(conn_.get(), "flush", [&] { return CommitBody(flush); });
}

absl::Status PgSpeedSink::CommitBody(const pipeline::SpeedFlush& flush) {
  PGconn* c = conn_.get();
  LF_RETURN_IF_ERROR(LockAndCheckOffsets(c, key_, flush.progress));

  if (!flush.rows.empty()) {
    SqlArray starts, keys, values, types;
    for (const auto& r : flush.rows) {
      starts.AddInt(r.window_start_s);
      keys.AddText(r.key);
      values.AddInt(r.value);
      types.AddText(r.metric);
    }
    std::string sql = fmt::format(
        "INSERT INTO {0} (\"timestamp\", id, value, type) "
        "SELECT to_timestamp(w) AT TIME ZONE 'UTC', k, v, t "
        "FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[]) AS u(w, k, v, t) "
        "ON CONFLICT (\"timestamp\", id, type) DO UPDATE SET value = CASE "
        "WHEN {0}.value > 9223372036854775807 - EXCLUDED.value THEN 9223372036854775807 "
        "ELSE {0}.value + EXCLUDED.value END",
        quoted_table_);
    LF_RETURN_IF_ERROR(Query(c, sql,
                             {starts.Finish().c_str(), keys.Finish().c_str(),
                              values.Finish().c_str(), types.Finish().c_str()},
                             fmt::format("flush: upsert window totals into {}", options_.table))
                           .status());
  }

  if (!flush.dead_letters.empty()) {
    SqlArray dl_parts, offsets, payloads, errors;
    for (const auto& d : flush.dead_letters) {
      dl_parts.AddInt(d.partition);
      offsets.AddInt(d.offset);
      payloads.AddBytea(d.payload);
      errors.AddText(d.error);
    }
    LF_RETURN_IF_ERROR(
        Query(
            c,
            "INSERT INTO dead_letters (received_at, topic, partition, \"offset\", payload, error) "
            "SELECT now(), $1, p, o, pl, e "
            "FROM unnest($2::int[], $3::bigint[], $4::bytea[], $5::text[]) AS u(p, o, pl, e) "
            "ON CONFLICT (topic, partition, \"offset\") DO NOTHING",
            {options_.topic.c_str(), dl_parts.Finish().c_str(), offsets.Finish().c_str(),
             payloads.Finish().c_str(), errors.Finish().c_str()},
            "flush: insert into dead_letters")
            .status());
  }

  for (const auto& loss : flush.losses) {
    std::string p = std::to_string(loss.partition), from = std::to_string(loss.from_offset),
                to = std::to_string(loss.to_offset);
    LF_RETURN_IF_ERROR(
        Query(c,
              "INSERT INTO lf_data_loss (pipeline, topic, partition, from_offset, "
              "to_offset, lost) VALUES ($1, $2, $3, $4, $5, $5::bigint - $4::bigint)",
              {options_.pipeline.c_str(), options_.topic.c_str(), p.c_str(), from.c_str(),
               to.c_str()},
              "flush: record data loss in lf_data_loss")
            .status());
  }

  LF_RETURN_IF_ERROR(AdvanceOffsets(c, key_, flush.progress));
  // Wakes dashboards listening on channel lf_speed; delivered only if the transaction commits.
  LF_RETURN_IF_ERROR(Query(c, "SELECT pg_notify('lf_speed', $1)", {options_.pipeline.c_str()},
                           "flush: notify lf_speed")
                         .status());
  return absl::OkStatus();
}

}  // namespace lf::postgres
