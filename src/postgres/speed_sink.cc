#include "postgres/speed_sink.h"

#include <algorithm>
#include <cstdlib>
#include <vector>

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
    // In the unique key's order: the index fills page by page instead of at random, and two
    // processes of one group lock shared rows (antennas, apps) in the same order. With 100 000
    // devices that made the upsert a quarter faster (bench/README.md).
    std::vector<uint32_t> order(flush.rows.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      const pipeline::WindowRow& x = flush.rows[a];
      const pipeline::WindowRow& y = flush.rows[b];
      if (x.window_start_s != y.window_start_s) return x.window_start_s < y.window_start_s;
      if (int c = x.key.compare(y.key); c != 0) return c < 0;
      return x.metric < y.metric;
    });
    BinaryArray starts(BinaryArray::Type::kTimestamp), keys(BinaryArray::Type::kText),
        values(BinaryArray::Type::kInt8), types(BinaryArray::Type::kText);
    for (uint32_t i : order) {
      const pipeline::WindowRow& r = flush.rows[i];
      starts.AddTimestamp(r.window_start_s);
      keys.AddText(r.key);
      values.AddInt(r.value);
      types.AddText(r.metric);
    }
    std::string sql = fmt::format(
        "INSERT INTO {0} (\"timestamp\", id, value, type) "
        "SELECT w, k, v, t "
        "FROM unnest($1::timestamp[], $2::text[], $3::bigint[], $4::text[]) AS u(w, k, v, t) "
        "ON CONFLICT (\"timestamp\", id, type) DO UPDATE SET value = CASE "
        "WHEN {0}.value > 9223372036854775807 - EXCLUDED.value THEN 9223372036854775807 "
        "ELSE {0}.value + EXCLUDED.value END",
        quoted_table_);
    LF_RETURN_IF_ERROR(
        QueryBinary(c, sql, {starts.Finish(), keys.Finish(), values.Finish(), types.Finish()},
                    fmt::format("flush: upsert window totals into {}", options_.table))
            .status());
  }

  LF_RETURN_IF_ERROR(InsertDeadLetters(c, options_.topic, flush.dead_letters));
  LF_RETURN_IF_ERROR(RecordLosses(c, options_.pipeline, options_.topic, flush.losses));
  LF_RETURN_IF_ERROR(AdvanceOffsets(c, key_, flush.progress));
  return NotifySpeed(c, options_.pipeline);
}

}  // namespace lf::postgres
