#include "postgres/offsets.h"

#include <cstdlib>

#include "common/status.h"
#include "postgres/sql_array.h"

namespace lf::postgres {
namespace {

std::string PartitionArray(const std::vector<int32_t>& partitions) {
  SqlArray a;
  for (int32_t p : partitions) a.AddInt(p);
  return a.Finish();
}

}  // namespace

absl::StatusOr<std::map<int32_t, pipeline::CommittedPartition>> LoadOffsets(
    PGconn* conn, const OffsetsKey& key, const std::vector<int32_t>& partitions) {
  std::string parts = PartitionArray(partitions);
  std::vector<const char*> params = {key.pipeline.c_str(), key.sink.c_str(), key.topic.c_str(),
                                     parts.c_str()};
  LF_RETURN_IF_ERROR(Query(conn,
                           "INSERT INTO lf_offsets (pipeline, sink, topic, partition, next_offset) "
                           "SELECT $1, $2, $3, p, -1 FROM unnest($4::int[]) AS p "
                           "ON CONFLICT (pipeline, sink, topic, partition) DO NOTHING",
                           params, "load offsets: insert missing rows of lf_offsets")
                         .status());
  LF_ASSIGN_OR_RETURN(
      PgResult r,
      Query(conn,
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

absl::Status LockAndCheckOffsets(PGconn* conn, const OffsetsKey& key,
                                 const std::vector<pipeline::PartitionProgress>& progress) {
  std::vector<int32_t> partitions;
  for (const auto& p : progress) partitions.push_back(p.partition);
  std::string parts = PartitionArray(partitions);
  // Partition order: two processes locking overlapping sets never deadlock.
  LF_ASSIGN_OR_RETURN(
      PgResult locked,
      Query(conn,
            "SELECT partition, next_offset FROM lf_offsets WHERE pipeline = $1 AND sink = $2 AND "
            "topic = $3 AND partition = ANY($4::int[]) ORDER BY partition FOR UPDATE",
            {key.pipeline.c_str(), key.sink.c_str(), key.topic.c_str(), parts.c_str()},
            "commit: lock lf_offsets"));
  std::map<int32_t, int64_t> committed;
  for (int i = 0; i < PQntuples(locked.get()); ++i)
    committed[std::atoi(PQgetvalue(locked.get(), i, 0))] =
        std::atoll(PQgetvalue(locked.get(), i, 1));
  for (const auto& p : progress) {
    auto it = committed.find(p.partition);
    if (it == committed.end()) {
      // Load() makes the row; without it there is nothing to lock (an operator deleted it, say).
      return absl::AbortedError(fmt::format(
          "postgres: commit to {}: partition {} of topic {} has no row in lf_offsets; its offsets "
          "must be loaded again",
          key.sink, p.partition, key.topic));
    }
    if (const int64_t have = it->second; have != p.expected_offset) {
      return absl::AbortedError(fmt::format(
          "postgres: commit to {}: partition {} of topic {} is at offset {} in lf_offsets, this "
          "process expected {}: another process owns it now",
          key.sink, p.partition, key.topic, have, p.expected_offset));
    }
  }
  return absl::OkStatus();
}

absl::Status AdvanceOffsets(PGconn* conn, const OffsetsKey& key,
                            const std::vector<pipeline::PartitionProgress>& progress) {
  std::vector<int32_t> partitions;
  SqlArray next, max_ts, events, bad, late, lost, lag;
  for (const auto& p : progress) {
    partitions.push_back(p.partition);
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
    if (p.lag < 0) {
      lag.AddNull();
    } else {
      lag.AddInt(p.lag);
    }
  }
  std::string parts = PartitionArray(partitions);
  return Query(conn,
               "UPDATE lf_offsets AS o SET next_offset = u.n, "
               "max_event_time_s = GREATEST(o.max_event_time_s, u.m), events = o.events + u.e, "
               "bad = o.bad + u.b, late = o.late + u.l, lost = o.lost + u.x, "
               "lag = COALESCE(u.g, o.lag), updated_at = now() "
               "FROM unnest($4::int[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], "
               "$9::bigint[], $10::bigint[], $11::bigint[]) AS u(p, n, m, e, b, l, x, g) "
               "WHERE o.pipeline = $1 AND o.sink = $2 AND o.topic = $3 AND o.partition = u.p",
               {key.pipeline.c_str(), key.sink.c_str(), key.topic.c_str(), parts.c_str(),
                next.Finish().c_str(), max_ts.Finish().c_str(), events.Finish().c_str(),
                bad.Finish().c_str(), late.Finish().c_str(), lost.Finish().c_str(),
                lag.Finish().c_str()},
               fmt::format("commit: advance lf_offsets of {}", key.sink))
      .status();
}

absl::Status InsertDeadLetters(PGconn* c, const std::string& topic,
                               const std::vector<pipeline::DeadLetter>& letters) {
  if (letters.empty()) return absl::OkStatus();
  SqlArray parts, offsets, payloads, errors;
  for (const auto& d : letters) {
    parts.AddInt(d.partition);
    offsets.AddInt(d.offset);
    payloads.AddBytea(d.payload);
    errors.AddText(d.error);
  }
  return Query(
             c,
             "INSERT INTO dead_letters (received_at, topic, partition, \"offset\", payload, error) "
             "SELECT now(), $1, p, o, pl, e "
             "FROM unnest($2::int[], $3::bigint[], $4::bytea[], $5::text[]) AS u(p, o, pl, e) "
             "ON CONFLICT (topic, partition, \"offset\") DO NOTHING",
             {topic.c_str(), parts.Finish().c_str(), offsets.Finish().c_str(),
              payloads.Finish().c_str(), errors.Finish().c_str()},
             "flush: insert into dead_letters")
      .status();
}

absl::Status RecordLosses(PGconn* c, const std::string& pipeline_name, const std::string& topic,
                          const std::vector<pipeline::DataLoss>& losses) {
  for (const auto& loss : losses) {
    std::string p = std::to_string(loss.partition), from = std::to_string(loss.from_offset),
                to = std::to_string(loss.to_offset);
    LF_RETURN_IF_ERROR(
        Query(c,
              "INSERT INTO lf_data_loss (pipeline, topic, partition, from_offset, "
              "to_offset, lost) VALUES ($1, $2, $3, $4, $5, $5::bigint - $4::bigint)",
              {pipeline_name.c_str(), topic.c_str(), p.c_str(), from.c_str(), to.c_str()},
              "flush: record data loss in lf_data_loss")
            .status());
  }
  return absl::OkStatus();
}

absl::Status NotifySpeed(PGconn* c, const std::string& pipeline_name) {
  return Query(c, "SELECT pg_notify('lf_speed', $1)", {pipeline_name.c_str()},
               "flush: notify lf_speed")
      .status();
}

}  // namespace lf::postgres
