#include "postgres/speed_sink.h"

#include <cstdlib>

#include "common/status.h"
#include "postgres/identifier.h"
#include "postgres/schema.h"
#include "postgres/sql_array.h"
#include "spdlog/spdlog.h"

namespace lf::postgres {
namespace {

std::string PartitionArray(const std::vector<int32_t>& partitions) {
  SqlArray a;
  for (int32_t p : partitions) a.AddInt(p);
  return a.Finish();
}

}  // namespace

absl::StatusOr<std::unique_ptr<PgSpeedSink>> PgSpeedSink::Open(const SpeedSinkOptions& options) {
  LF_ASSIGN_OR_RETURN(std::string quoted, QuoteTableName(options.table, "--table"));
  LF_ASSIGN_OR_RETURN(PgConn conn, Connect(options.target));
  LF_RETURN_IF_ERROR(EnsureSpeedTables(conn.get(), options.table));
  return std::unique_ptr<PgSpeedSink>(new PgSpeedSink(options, std::move(quoted), std::move(conn)));
}

PgSpeedSink::PgSpeedSink(SpeedSinkOptions options, std::string quoted_table, PgConn conn)
    : options_(std::move(options)),
      quoted_table_(std::move(quoted_table)),
      sink_name_("pg:" + options_.table),
      conn_(std::move(conn)) {}

absl::Status PgSpeedSink::EnsureConnected() {
  if (conn_ && !ConnectionLost(conn_.get())) return absl::OkStatus();
  PQreset(conn_.get());
  if (ConnectionLost(conn_.get())) {
    return Unavailable("postgres: connection to {} lost and reconnect failed: {}",
                       options_.target.display, PQerrorMessage(conn_.get()));
  }
  spdlog::info("postgres: reconnected to {}", options_.target.display);
  return absl::OkStatus();
}

absl::StatusOr<std::map<int32_t, pipeline::CommittedPartition>> PgSpeedSink::Load(
    const std::vector<int32_t>& partitions) {
  LF_RETURN_IF_ERROR(EnsureConnected());
  std::string parts = PartitionArray(partitions);
  std::vector<const char*> params = {options_.pipeline.c_str(), sink_name_.c_str(),
                                     options_.topic.c_str(), parts.c_str()};
  LF_RETURN_IF_ERROR(Query(conn_.get(),
                           "INSERT INTO lf_offsets (pipeline, sink, topic, partition, next_offset) "
                           "SELECT $1, $2, $3, p, -1 FROM unnest($4::int[]) AS p "
                           "ON CONFLICT (pipeline, sink, topic, partition) DO NOTHING",
                           params, "load offsets: insert missing rows of lf_offsets")
                         .status());
  LF_ASSIGN_OR_RETURN(PgResult r,
                      Query(conn_.get(),
                            "SELECT partition, next_offset, max_event_time_s FROM lf_offsets "
                            "WHERE pipeline = $1 AND sink = $2 AND topic = $3 AND partition = ANY($4::int[])",
                            params, "load offsets: read lf_offsets"));
  std::map<int32_t, pipeline::CommittedPartition> out;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    pipeline::CommittedPartition c;
    int32_t p = std::atoi(PQgetvalue(r.get(), i, 0));
    c.next_offset = std::atoll(PQgetvalue(r.get(), i, 1));
    if (!PQgetisnull(r.get(), i, 2)) c.max_event_time_s = std::atoll(PQgetvalue(r.get(), i, 2));
    out[p] = c;
  }
  return out;
}

absl::Status PgSpeedSink::Commit(const pipeline::SpeedFlush& flush) {
  LF_RETURN_IF_ERROR(EnsureConnected());
  absl::Status st = CommitOnce(flush);
  if (!st.ok()) {
    // Leave the connection usable for the next try; ROLLBACK is a no-op outside a transaction.
    if (!ConnectionLost(conn_.get())) (void)Exec(conn_.get(), "ROLLBACK", "flush: rollback");
  }
  return st;
}

absl::Status PgSpeedSink::CommitOnce(const pipeline::SpeedFlush& flush) {
  PGconn* c = conn_.get();
  std::vector<int32_t> partitions;
  for (const auto& p : flush.progress) partitions.push_back(p.partition);
  std::string parts = PartitionArray(partitions);

  LF_RETURN_IF_ERROR(Exec(c, "BEGIN", "flush: begin"));
  // Compare-and-set: lock this flush's offset rows (in partition order, so two processes never
  // deadlock) and check nobody advanced them since we read them.
  LF_ASSIGN_OR_RETURN(
      PgResult locked,
      Query(c,
            "SELECT partition, next_offset FROM lf_offsets WHERE pipeline = $1 AND sink = $2 AND "
            "topic = $3 AND partition = ANY($4::int[]) ORDER BY partition FOR UPDATE",
            {options_.pipeline.c_str(), sink_name_.c_str(), options_.topic.c_str(), parts.c_str()},
            "flush: lock lf_offsets"));
  std::map<int32_t, int64_t> committed;
  for (int i = 0; i < PQntuples(locked.get()); ++i)
    committed[std::atoi(PQgetvalue(locked.get(), i, 0))] = std::atoll(PQgetvalue(locked.get(), i, 1));
  for (const auto& p : flush.progress) {
    auto it = committed.find(p.partition);
    int64_t have = it == committed.end() ? pipeline::kNoOffset : it->second;
    if (it == committed.end() || have != p.expected_offset) {
      (void)Exec(c, "ROLLBACK", "flush: rollback");
      return absl::AbortedError(fmt::format(
          "postgres: flush: partition {} of topic {} is at offset {} in lf_offsets, this process "
          "expected {}: another process owns it now",
          p.partition, options_.topic, have, p.expected_offset));
    }
  }

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
        "ON CONFLICT (\"timestamp\", id, type) DO UPDATE SET value = {0}.value + EXCLUDED.value",
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
        Query(c,
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
    LF_RETURN_IF_ERROR(Query(c,
                             "INSERT INTO lf_data_loss (pipeline, topic, partition, from_offset, "
                             "to_offset, lost) VALUES ($1, $2, $3, $4, $5, $5::bigint - $4::bigint)",
                             {options_.pipeline.c_str(), options_.topic.c_str(), p.c_str(),
                              from.c_str(), to.c_str()},
                             "flush: record data loss in lf_data_loss")
                           .status());
  }

  SqlArray next, max_ts, events, bad, late, lost;
  for (const auto& p : flush.progress) {
    next.AddInt(p.next_offset);
    if (p.max_event_time_s == pipeline::kNoEventTime) {
      max_ts.AddNull();
    } else {
      max_ts.AddInt(p.max_event_time_s);
    }
    events.AddInt(p.events);
    bad.AddInt(p.bad);
    late.AddInt(p.late);
    lost.AddInt(p.lost);
  }
  LF_RETURN_IF_ERROR(
      Query(c,
            "UPDATE lf_offsets AS o SET next_offset = u.n, "
            "max_event_time_s = GREATEST(o.max_event_time_s, u.m), events = o.events + u.e, "
            "bad = o.bad + u.b, late = o.late + u.l, lost = o.lost + u.x, updated_at = now() "
            "FROM unnest($4::int[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], "
            "$9::bigint[], $10::bigint[]) AS u(p, n, m, e, b, l, x) "
            "WHERE o.pipeline = $1 AND o.sink = $2 AND o.topic = $3 AND o.partition = u.p",
            {options_.pipeline.c_str(), sink_name_.c_str(), options_.topic.c_str(), parts.c_str(),
             next.Finish().c_str(), max_ts.Finish().c_str(), events.Finish().c_str(),
             bad.Finish().c_str(), late.Finish().c_str(), lost.Finish().c_str()},
            "flush: advance lf_offsets")
          .status());
  LF_RETURN_IF_ERROR(Exec(c, "COMMIT", "flush: commit"));
  rows_written_ += static_cast<int64_t>(flush.rows.size());
  return absl::OkStatus();
}

}  // namespace lf::postgres
