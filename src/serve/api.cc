#include "serve/api.h"

#include <map>

#include "common/status.h"
#include "common/time.h"
#include "fmt/format.h"
#include "postgres/connection.h"
#include "postgres/identifier.h"

namespace lf::serve {

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20)
          out += fmt::format("\\u{:04x}", c);
        else
          out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

namespace {

using std::chrono::hours;
using std::chrono::seconds;

// SQL fragments. Tables hold TIMESTAMP (no zone) in UTC; bounds arrive as Unix seconds.
std::string TimeParam(int n) {
  return fmt::format("(to_timestamp(${}::bigint) AT TIME ZONE 'UTC')", n);
}
std::string Iso(std::string_view expr) {
  return fmt::format("to_char({}, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')", expr);
}
// The speed layer's watermark in Unix seconds (NULL before its first commit). `lateness` is a
// parameter placeholder.
std::string WatermarkSql(std::string_view lateness) {
  return fmt::format(
      "(SELECT min(max_event_time_s) - {}::bigint FROM lf_offsets "
      "WHERE sink LIKE 'pg:%' AND max_event_time_s IS NOT NULL)",
      lateness);
}

// Hours in [from, to) with a successful run in the batch layer's log, as a UNION branch ("" when
// the log does not exist yet).
std::string RunHours(bool run_log, std::string_view from, std::string_view to) {
  if (!run_log) return "";
  return fmt::format(
      " UNION SELECT hour FROM lf_batch_runs WHERE status = 'ok' AND hour >= {} AND hour + "
      "interval '1 hour' <= {}",
      from, to);
}

// CTEs `served` (hours the batch layer served for `type`) and `merged` (h, id, value, layer):
// for each hour inside [from, to), bytes_hourly where the batch layer ran for that hour (an 'ok'
// run in lf_batch_runs, or rows of that metric in bytes_hourly), otherwise the speed layer's
// 5-minute windows; the lambda architecture's serving view (bytes_hourly_lambda). Hours only
// partly inside the range always come from the speed layer.
std::string MergedCtes(std::string_view type, std::string_view from, std::string_view to,
                       std::string_view id_filter, bool run_log) {
  return fmt::format(
      "served AS (SELECT DISTINCT \"timestamp\" AS h FROM bytes_hourly WHERE type = {0} "
      "  AND \"timestamp\" >= {1} AND \"timestamp\" + interval '1 hour' <= {2}{4}), "
      "merged AS ("
      "  SELECT date_trunc('hour', \"timestamp\") AS h, id, value, 'speed'::text AS layer FROM "
      "bytes "
      "  WHERE type = {0} AND \"timestamp\" >= {1} AND \"timestamp\" < {2}{3} "
      "    AND date_trunc('hour', \"timestamp\") NOT IN (SELECT h FROM served) "
      "  UNION ALL "
      "  SELECT \"timestamp\", id, value, 'batch'::text FROM bytes_hourly "
      "  WHERE type = {0} AND \"timestamp\" IN (SELECT h FROM served){3})",
      type, from, to, id_filter, RunHours(run_log, from, to));
}

std::string Secs(Timestamp t) { return std::to_string(ToUnixSeconds(t)); }

Timestamp CeilHour(Timestamp t) {
  Timestamp f = FloorTo(t, hours(1));
  return f == t ? t : f + hours(1);
}

}  // namespace

absl::StatusOr<std::string> Api::JsonQuery(const std::string& sql,
                                           const std::vector<std::optional<std::string>>& params,
                                           std::string_view what) {
  std::string json;
  auto st = pool_->With([&](PGconn* conn) -> absl::Status {
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    LF_ASSIGN_OR_RETURN(postgres::PgResult r, postgres::Query(conn, sql, values, what));
    if (PQntuples(r.get()) != 1 || PQgetisnull(r.get(), 0, 0))
      return Internal("{}: no result", what);
    json = PQgetvalue(r.get(), 0, 0);
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  return json;
}

absl::StatusOr<TimeRange> Api::Range(const Params& p, seconds max_span, bool whole_hours) {
  Timestamp to;
  if (!Get(p, "to") || !Get(p, "from")) {
    std::optional<int64_t> newest;
    auto st = pool_->With([&](PGconn* conn) -> absl::Status {
      LF_ASSIGN_OR_RETURN(
          postgres::PgResult r,
          postgres::Query(conn, "SELECT extract(epoch FROM max(\"timestamp\"))::bigint FROM bytes",
                          {}, "serve: newest window"));
      if (!PQgetisnull(r.get(), 0, 0)) newest = std::stoll(PQgetvalue(r.get(), 0, 0));
      return absl::OkStatus();
    });
    if (!st.ok()) return st;
    to = newest ? FromUnixSeconds(*newest) + options_.window
                : std::chrono::floor<seconds>(WallNow());
  }
  Timestamp default_to = whole_hours ? CeilHour(to) : to;
  LF_ASSIGN_OR_RETURN(TimeRange r, ParseRange(p, default_to - hours(6), default_to, max_span));
  if (whole_hours) {
    r.from = FloorTo(r.from, hours(1));
    r.to = CeilHour(r.to);
  }
  return r;
}

absl::StatusOr<std::string> Api::Windows(const Params& p) {
  LF_RETURN_IF_ERROR(CheckAllowed(p, {"type", "from", "to", "id"}));
  LF_ASSIGN_OR_RETURN(std::string type, ParseType(p));
  LF_ASSIGN_OR_RETURN(std::optional<std::string> id, ParseId(p));
  LF_ASSIGN_OR_RETURN(TimeRange r, Range(p, hours(24 * 7), false));
  const int64_t w = options_.window.count();
  std::string sql = fmt::format(
      "WITH wm AS (SELECT {wm} AS s) "
      "SELECT json_build_object('type', $4::text, 'from', {from_iso}, 'to', {to_iso}, "
      "  'window_seconds', {w}, 'lateness_seconds', $3::bigint, "
      "  'watermark', (SELECT {wm_iso} FROM wm), "
      "  'rows', coalesce((SELECT json_agg(json_build_object('t', {t_iso}, 'id', b.id, 'name', "
      "u.name, "
      "      'value', b.value, 'open', coalesce(extract(epoch FROM b.\"timestamp\")::bigint + {w} "
      "> "
      "      (SELECT s FROM wm), true)) ORDER BY b.id, b.\"timestamp\") "
      "    FROM bytes b LEFT JOIN user_metadata u ON b.type = 'user_bytes_total' AND u.id = b.id "
      "    WHERE b.type = $4::text AND b.\"timestamp\" >= {from} AND b.\"timestamp\" < {to} "
      "      AND ($5::text IS NULL OR b.id = $5::text)), '[]'::json))::text",
      fmt::arg("wm", WatermarkSql("$3")), fmt::arg("from", TimeParam(1)),
      fmt::arg("to", TimeParam(2)), fmt::arg("from_iso", Iso(TimeParam(1))),
      fmt::arg("to_iso", Iso(TimeParam(2))),
      fmt::arg("wm_iso", Iso("to_timestamp(s) AT TIME ZONE 'UTC'")),
      fmt::arg("t_iso", Iso("b.\"timestamp\"")), fmt::arg("w", w));
  return JsonQuery(sql,
                   {Secs(r.from), Secs(r.to), std::to_string(options_.lateness.count()), type, id},
                   "serve: windows");
}

absl::StatusOr<std::string> Api::Hourly(const Params& p) {
  LF_RETURN_IF_ERROR(CheckAllowed(p, {"type", "from", "to", "id"}));
  LF_ASSIGN_OR_RETURN(std::string type, ParseType(p));
  LF_ASSIGN_OR_RETURN(std::optional<std::string> id, ParseId(p));
  LF_ASSIGN_OR_RETURN(TimeRange r, Range(p, hours(24 * 93), true));
  LF_ASSIGN_OR_RETURN(bool run_log, HasRunLog());
  std::string sql = fmt::format(
      "WITH wm AS (SELECT {wm} AS s), {merged} "
      "SELECT json_build_object('type', $4::text, 'from', {from_iso}, 'to', {to_iso}, "
      "  'lateness_seconds', $3::bigint, 'watermark', (SELECT {wm_iso} FROM wm), "
      "  'rows', coalesce((SELECT json_agg(json_build_object('t', {t_iso}, 'id', x.id, 'name', "
      "x.name, "
      "      'value', x.v, 'layer', x.layer, 'open', x.layer = 'speed' AND "
      "      coalesce(extract(epoch FROM x.h)::bigint + 3600 > (SELECT s FROM wm), true)) ORDER BY "
      "x.id, x.h) "
      "    FROM (SELECT m.h, m.id, u.name, sum(m.value)::bigint AS v, m.layer FROM merged m "
      "          LEFT JOIN user_metadata u ON $4::text = 'user_bytes_total' AND u.id = m.id "
      "          GROUP BY m.h, m.id, u.name, m.layer) x), '[]'::json))::text",
      fmt::arg("wm", WatermarkSql("$3")),
      fmt::arg("merged", MergedCtes("$4::text", TimeParam(1), TimeParam(2),
                                    " AND ($5::text IS NULL OR id = $5::text)", run_log)),
      fmt::arg("from_iso", Iso(TimeParam(1))), fmt::arg("to_iso", Iso(TimeParam(2))),
      fmt::arg("wm_iso", Iso("to_timestamp(s) AT TIME ZONE 'UTC'")), fmt::arg("t_iso", Iso("x.h")));
  return JsonQuery(sql,
                   {Secs(r.from), Secs(r.to), std::to_string(options_.lateness.count()), type, id},
                   "serve: hourly");
}

absl::StatusOr<std::string> Api::Top(const Params& p) {
  LF_RETURN_IF_ERROR(CheckAllowed(p, {"kind", "from", "to", "limit"}));
  LF_ASSIGN_OR_RETURN(std::string kind, ParseChoice(p, "kind", {"users", "apps", "antennas"}, ""));
  LF_ASSIGN_OR_RETURN(int limit, ParseInt(p, "limit", 1, 1000, 10));
  LF_ASSIGN_OR_RETURN(TimeRange r, Range(p, hours(24 * 93), false));
  LF_ASSIGN_OR_RETURN(bool run_log, HasRunLog());
  std::string type = kind == "users"  ? "user_bytes_total"
                     : kind == "apps" ? "app_bytes_total"
                                      : "antenna_bytes_total";
  std::string sql = fmt::format(
      "WITH {merged} "
      "SELECT json_build_object('kind', $5::text, 'type', $3::text, 'from', {from_iso}, 'to', "
      "{to_iso}, "
      "  'rows', coalesce((SELECT json_agg(x ORDER BY x.total DESC, x.id) FROM ("
      "    SELECT m.id, u.name, u.email, sum(m.value)::bigint AS total, "
      "           array_agg(DISTINCT m.layer ORDER BY m.layer) AS layers "
      "    FROM merged m LEFT JOIN user_metadata u ON $3::text = 'user_bytes_total' AND u.id = "
      "m.id "
      "    GROUP BY m.id, u.name, u.email ORDER BY total DESC, m.id LIMIT $4::int) x), "
      "'[]'::json))::text",
      fmt::arg("merged", MergedCtes("$3::text", TimeParam(1), TimeParam(2), "", run_log)),
      fmt::arg("from_iso", Iso(TimeParam(1))), fmt::arg("to_iso", Iso(TimeParam(2))));
  return JsonQuery(sql, {Secs(r.from), Secs(r.to), type, std::to_string(limit), kind},
                   "serve: top");
}

absl::StatusOr<std::string> Api::Quota(const Params& p) {
  LF_RETURN_IF_ERROR(CheckAllowed(p, {"from", "to"}));
  LF_ASSIGN_OR_RETURN(TimeRange r, Range(p, hours(24 * 93), true));
  // Hours the batch layer judged (an 'ok' run, or rows in user_quota_limit) come from it, even
  // with nobody over quota; the others are computed from the merged hourly usage per user joined
  // with user_metadata's quota.
  LF_ASSIGN_OR_RETURN(bool run_log, HasRunLog());
  std::string sql = fmt::format(
      "WITH wm AS (SELECT {wm} AS s), {merged}, "
      "qhours AS (SELECT DISTINCT date_trunc('hour', \"timestamp\") AS h FROM user_quota_limit "
      "  WHERE \"timestamp\" >= {from} AND \"timestamp\" < {to}{runs}), "
      "names AS (SELECT DISTINCT ON (email) email, name FROM user_metadata ORDER BY email, id), "
      "over AS ("
      "  SELECT date_trunc('hour', q.\"timestamp\") AS h, q.email, n.name, q.usage, q.quota, "
      "'batch'::text AS layer "
      "  FROM user_quota_limit q LEFT JOIN names n ON n.email = q.email "
      "  WHERE q.\"timestamp\" >= {from} AND q.\"timestamp\" < {to} AND q.usage > q.quota "
      "  UNION ALL "
      "  SELECT s.h, u.email, max(u.name), sum(s.usage)::bigint, max(u.quota), "
      "         CASE WHEN bool_or(s.batch) THEN 'batch' ELSE 'speed' END "
      "  FROM (SELECT h, id, sum(value) AS usage, bool_or(layer = 'batch') AS batch FROM merged "
      "GROUP BY h, id) s "
      "  JOIN user_metadata u ON u.id = s.id WHERE s.h NOT IN (SELECT h FROM qhours) "
      "  GROUP BY s.h, u.email HAVING sum(s.usage) > max(u.quota)) "
      "SELECT json_build_object('from', {from_iso}, 'to', {to_iso}, 'watermark', (SELECT {wm_iso} "
      "FROM wm), "
      "  'rows', coalesce((SELECT json_agg(json_build_object('t', {t_iso}, 'email', o.email, "
      "'name', o.name, "
      "      'usage', o.usage, 'quota', o.quota, 'layer', o.layer, 'open', o.layer = 'speed' AND "
      "      coalesce(extract(epoch FROM o.h)::bigint + 3600 > (SELECT s FROM wm), true)) "
      "    ORDER BY o.h, o.usage - o.quota DESC, o.email) FROM over o), '[]'::json))::text",
      fmt::arg("wm", WatermarkSql("$3")),
      fmt::arg("merged",
               MergedCtes("'user_bytes_total'::text", TimeParam(1), TimeParam(2), "", run_log)),
      fmt::arg("from", TimeParam(1)), fmt::arg("to", TimeParam(2)),
      fmt::arg("runs", RunHours(run_log, TimeParam(1), TimeParam(2))),
      fmt::arg("from_iso", Iso(TimeParam(1))), fmt::arg("to_iso", Iso(TimeParam(2))),
      fmt::arg("wm_iso", Iso("to_timestamp(s) AT TIME ZONE 'UTC'")), fmt::arg("t_iso", Iso("o.h")));
  return JsonQuery(sql, {Secs(r.from), Secs(r.to), std::to_string(options_.lateness.count())},
                   "serve: quota");
}

absl::StatusOr<std::string> Api::Reconciliation(const Params& p) {
  LF_RETURN_IF_ERROR(CheckAllowed(p, {"from", "to", "limit"}));
  LF_ASSIGN_OR_RETURN(int limit, ParseInt(p, "limit", 1, 10000, 1000));
  LF_ASSIGN_OR_RETURN(TimeRange r, Range(p, hours(24 * 93), true));
  // The speed side of user_email_bytes_total is derived through user_metadata, as the batch
  // layer does it.
  std::string sql = fmt::format(
      "WITH speed AS ("
      "  SELECT date_trunc('hour', \"timestamp\") AS h, type, id, sum(value)::bigint AS v FROM "
      "bytes "
      "  WHERE \"timestamp\" >= {from} AND \"timestamp\" < {to} GROUP BY 1, 2, 3 "
      "  UNION ALL "
      "  SELECT date_trunc('hour', b.\"timestamp\"), 'user_email_bytes_total', u.email, "
      "sum(b.value)::bigint "
      "  FROM bytes b JOIN user_metadata u ON u.id = b.id "
      "  WHERE b.type = 'user_bytes_total' AND b.\"timestamp\" >= {from} AND b.\"timestamp\" < "
      "{to} GROUP BY 1, 3), "
      "batch AS (SELECT date_trunc('hour', \"timestamp\") AS h, type, id, sum(value)::bigint AS v "
      "FROM bytes_hourly "
      "  WHERE \"timestamp\" >= {from} AND \"timestamp\" < {to} GROUP BY 1, 2, 3), "
      "bh AS (SELECT DISTINCT h, type FROM batch), "
      "j AS (SELECT coalesce(s.h, b.h) AS h, coalesce(s.type, b.type) AS type, coalesce(s.id, "
      "b.id) AS id, "
      "  s.v AS speed, b.v AS batch FROM speed s FULL JOIN batch b ON s.h = b.h AND s.type = "
      "b.type AND s.id = b.id) "
      "SELECT json_build_object('from', {from_iso}, 'to', {to_iso}, "
      "  'hours', coalesce((SELECT json_agg(x ORDER BY x.t, x.type) FROM ("
      "    SELECT {t_iso} AS t, j.type, sum(j.speed)::bigint AS speed, sum(j.batch)::bigint AS "
      "batch, "
      "      EXISTS (SELECT 1 FROM bh WHERE bh.h = j.h AND bh.type = j.type) AS batch_ran, "
      "      count(*) FILTER (WHERE j.speed IS DISTINCT FROM j.batch) AS keys_differing "
      "    FROM j GROUP BY j.h, j.type) x), '[]'::json), "
      "  'rows', coalesce((SELECT json_agg(x ORDER BY x.t, x.type, x.id) FROM ("
      "    SELECT {t_iso} AS t, j.type, j.id, j.speed, j.batch, "
      "      coalesce(j.batch, 0) - coalesce(j.speed, 0) AS diff FROM j "
      "    WHERE EXISTS (SELECT 1 FROM bh WHERE bh.h = j.h AND bh.type = j.type) "
      "    ORDER BY j.h, j.type, j.id LIMIT $3::int) x), '[]'::json))::text",
      fmt::arg("from", TimeParam(1)), fmt::arg("to", TimeParam(2)),
      fmt::arg("from_iso", Iso(TimeParam(1))), fmt::arg("to_iso", Iso(TimeParam(2))),
      fmt::arg("t_iso", Iso("j.h")));
  return JsonQuery(sql, {Secs(r.from), Secs(r.to), std::to_string(limit)}, "serve: reconciliation");
}

absl::StatusOr<std::string> Api::Health(const Params& p) {
  LF_RETURN_IF_ERROR(CheckAllowed(p, {}));
  std::string sql = fmt::format(
      "WITH o AS (SELECT * FROM lf_offsets WHERE sink LIKE 'pg:%'), wm AS (SELECT {wm} AS s) "
      "SELECT json_build_object("
      "  'now', {now_iso}, 'lateness_seconds', $1::bigint, "
      "  'watermark', (SELECT {wm_iso} FROM wm), "
      "  'max_event_time', (SELECT {max_iso} FROM o), "
      "  'last_commit', (SELECT {commit_iso} FROM o), "
      "  'last_commit_age_seconds', (SELECT extract(epoch FROM now() - max(updated_at))::float8 "
      "FROM o), "
      "  'totals', (SELECT json_build_object('events', coalesce(sum(events), 0)::bigint, "
      "      'bad', coalesce(sum(bad), 0)::bigint, 'late', coalesce(sum(late), 0)::bigint, "
      "      'lost', coalesce(sum(lost), 0)::bigint, 'lag', coalesce(sum(lag), 0)::bigint) FROM "
      "o), "
      "  'partitions', coalesce((SELECT json_agg(json_build_object('pipeline', pipeline, 'sink', "
      "sink, "
      "      'topic', topic, 'partition', partition, 'next_offset', next_offset, 'lag', lag, "
      "'events', events, "
      "      'bad', bad, 'late', late, 'lost', lost, 'max_event_time', {pmax_iso}, 'updated_at', "
      "{pup_iso}) "
      "    ORDER BY pipeline, topic, partition) FROM o), '[]'::json), "
      "  'data_loss', coalesce((SELECT json_agg(x) FROM (SELECT {dl_iso} AS detected_at, pipeline, "
      "topic, "
      "      partition, from_offset, to_offset, lost FROM lf_data_loss ORDER BY detected_at DESC "
      "LIMIT 20) x), "
      "    '[]'::json), "
      "  'data_loss_records', (SELECT count(*) FROM lf_data_loss), "
      "  'dead_letters', (SELECT count(*) FROM dead_letters), "
      "  'tables', json_build_object('bytes', (SELECT count(*) FROM bytes), "
      "      'bytes_hourly', (SELECT count(*) FROM bytes_hourly), "
      "      'user_quota_limit', (SELECT count(*) FROM user_quota_limit)), "
      "  'first_window', (SELECT {first_iso} FROM bytes), 'last_window', (SELECT {last_iso} FROM "
      "bytes), "
      "  'batch', json_build_object('hours', (SELECT count(DISTINCT \"timestamp\") FROM "
      "bytes_hourly), "
      "      'last_hour', (SELECT {bh_iso} FROM bytes_hourly)))::text",
      fmt::arg("wm", WatermarkSql("$1")), fmt::arg("now_iso", Iso("now() AT TIME ZONE 'UTC'")),
      fmt::arg("wm_iso", Iso("to_timestamp(s) AT TIME ZONE 'UTC'")),
      fmt::arg("max_iso", Iso("to_timestamp(max(max_event_time_s)) AT TIME ZONE 'UTC'")),
      fmt::arg("commit_iso", Iso("max(updated_at) AT TIME ZONE 'UTC'")),
      fmt::arg("pmax_iso", Iso("to_timestamp(max_event_time_s) AT TIME ZONE 'UTC'")),
      fmt::arg("pup_iso", Iso("updated_at AT TIME ZONE 'UTC'")),
      fmt::arg("dl_iso", Iso("detected_at AT TIME ZONE 'UTC'")),
      fmt::arg("first_iso", Iso("min(\"timestamp\")")),
      fmt::arg("last_iso", Iso("max(\"timestamp\")")),
      fmt::arg("bh_iso", Iso("max(\"timestamp\")")));
  LF_ASSIGN_OR_RETURN(std::string json,
                      JsonQuery(sql, {std::to_string(options_.lateness.count())}, "serve: health"));
  // The rate is the server's own measurement, spliced into PostgreSQL's object.
  std::optional<double> rate = rate_->Rate();
  json.pop_back();  // '}'
  json += fmt::format(", \"events_per_second\" : {}, \"events_per_second_window_seconds\" : 60}}",
                      rate ? fmt::format("{:.3f}", *rate) : "null");
  return json;
}

absl::StatusOr<std::string> Api::Pipelines(const Params& p) {
  LF_RETURN_IF_ERROR(CheckAllowed(p, {}));
  // A query naming a missing table fails when planned, whatever its CASE says: ask first.
  bool catalog = false;
  LF_RETURN_IF_ERROR(pool_->With([&](PGconn* conn) -> absl::Status {
    LF_ASSIGN_OR_RETURN(postgres::PgResult r,
                        postgres::Query(conn,
                                        "SELECT to_regclass('lf_pipelines') IS NOT NULL AND "
                                        "to_regclass('lf_metrics') IS NOT NULL",
                                        {}, "serve: find the catalog"));
    catalog = std::string_view(PQgetvalue(r.get(), 0, 0)) == "t";
    return absl::OkStatus();
  }));
  if (!catalog) return std::string("[]");
  return JsonQuery(
      "SELECT coalesce(json_agg(json_build_object('name', p.name, 'source', p.source, 'topic', "
      "p.topic, 'layout', p.layout, 'event_time', p.event_time, 'lateness_ms', p.lateness_ms, "
      "'lake_dataset', p.lake_dataset, 'batch_every_s', p.batch_every_s, 'metrics', "
      "coalesce((SELECT json_agg(json_build_object('name', m.name, 'kind', m.kind, 'window_s', "
      "m.window_s, 'group_by', m.group_by, 'aggregate', m.aggregate, 'expr', m.expr, 'table', "
      "m.table_name, 'value_type', m.value_type) ORDER BY m.position) FROM lf_metrics m WHERE "
      "m.pipeline = p.name), '[]'::json)) ORDER BY p.name), '[]'::json)::text FROM lf_pipelines p",
      {}, "serve: pipelines");
}

absl::StatusOr<std::string> Api::Metric(const Params& p) {
  LF_RETURN_IF_ERROR(CheckAllowed(p, {"pipeline", "metric", "limit", "layer"}));
  auto pipeline = Get(p, "pipeline");
  auto metric = Get(p, "metric");
  if (!pipeline || !metric) return InvalidArgument("serve: pipeline and metric are required");
  LF_ASSIGN_OR_RETURN(int limit, ParseInt(p, "limit", 1, 5000, 500));
  // layer=speed (the default): the speed table or derived view; layer=lambda: the metric's
  // <metric>_lambda view, batch rows where the batch ran and speed rows elsewhere.
  const std::string layer = Get(p, "layer").value_or("speed");
  if (layer != "speed" && layer != "lambda") {
    return InvalidArgument("serve: layer must be speed or lambda, not '{}'", layer);
  }
  const bool lambda = layer == "lambda";
  // The catalog names the table and its columns; they are checked as identifiers again here, as
  // anything read from the database is.
  std::string table, layout;
  std::vector<std::string> groups;
  int64_t window_s = 0, lateness_ms = 0;
  LF_RETURN_IF_ERROR(pool_->With([&](PGconn* conn) -> absl::Status {
    LF_ASSIGN_OR_RETURN(
        postgres::PgResult r,
        postgres::Query(
            conn,
            "SELECT m.table_name, m.layout, m.window_s, array_to_json(m.group_by)::text, "
            "p.lateness_ms FROM lf_metrics m JOIN lf_pipelines p ON p.name = "
            "m.pipeline WHERE m.pipeline = $1 AND m.name = $2 AND (CASE WHEN $3 THEN m.kind = "
            "'batch' ELSE m.kind IN ('metric', 'derived') END)",
            {pipeline->c_str(), metric->c_str(), lambda ? "t" : "f"}, "serve: metric catalog"));
    if (PQntuples(r.get()) == 0) {
      return NotFound("serve: no {} '{}' in pipeline '{}' (see /api/pipelines)",
                      lambda ? "batch metric" : "metric", *metric, *pipeline);
    }
    table = lambda ? *metric + "_lambda" : std::string(PQgetvalue(r.get(), 0, 0));
    layout = PQgetvalue(r.get(), 0, 1);
    window_s = std::stoll(PQgetvalue(r.get(), 0, 2));
    std::string g = PQgetvalue(r.get(), 0, 3);  // ["a","b"]
    for (size_t i = 0; i < g.size(); ++i) {
      if (g[i] != '"') continue;
      size_t end = g.find('"', i + 1);
      groups.push_back(g.substr(i + 1, end - i - 1));
      i = end;
    }
    lateness_ms = std::stoll(PQgetvalue(r.get(), 0, 4));
    return absl::OkStatus();
  }));
  if (layout != "wide") {
    return InvalidArgument("serve: metric '{}' of '{}' is in the long layout: use /api/windows",
                           *metric, *pipeline);
  }
  LF_ASSIGN_OR_RETURN(std::string quoted, postgres::QuoteTableName(table, "catalog table"));
  std::string group_json;
  for (const std::string& g : groups) {
    LF_ASSIGN_OR_RETURN(std::string col, postgres::QuoteTableName(g, "catalog group column"));
    group_json += (group_json.empty() ? "" : ", ") + fmt::format("t.{}::text", col);
  }
  const std::string sql = fmt::format(
      "WITH wm AS (SELECT min(max_event_time_s) - $2::bigint AS s FROM lf_offsets WHERE sink = "
      "'pg:' || $1 AND max_event_time_s IS NOT NULL), "
      "r AS (SELECT t.window_start, json_build_array({groups}) AS g, t.value, {layer} AS layer "
      "FROM {table} t ORDER BY t.window_start DESC LIMIT $4::int) "
      "SELECT json_build_object('pipeline', $1::text, 'metric', $5::text, 'window_seconds', "
      "$3::bigint, 'group_by', $6::json, 'watermark', (SELECT {wm_iso} FROM wm), 'rows', "
      "coalesce((SELECT json_agg(json_build_object('t', {t_iso}, 'group', r.g, 'value', r.value, "
      "'layer', r.layer, 'open', coalesce(extract(epoch FROM r.window_start)::bigint + $3::bigint "
      "> (SELECT s FROM "
      "wm), true)) ORDER BY r.window_start, r.g::text) FROM r), '[]'::json))::text",
      fmt::arg("groups", group_json), fmt::arg("table", quoted),
      fmt::arg("layer", lambda ? "t.layer" : "'speed'::text"),
      fmt::arg("wm_iso", Iso("to_timestamp(s) AT TIME ZONE 'UTC'")),
      fmt::arg("t_iso", Iso("r.window_start")));
  std::string groups_json = "[";
  for (size_t i = 0; i < groups.size(); ++i) {
    groups_json += (i ? ",\"" : "\"") + groups[i] + "\"";
  }
  groups_json += "]";
  return JsonQuery(sql,
                   {*pipeline, std::to_string(lateness_ms / 1000), std::to_string(window_s),
                    std::to_string(limit), *metric, groups_json},
                   "serve: metric");
}

absl::StatusOr<std::string> Api::Ingest(const Params& p) {
  LF_RETURN_IF_ERROR(CheckAllowed(p, {"limit"}));
  LF_ASSIGN_OR_RETURN(int limit, ParseInt(p, "limit", 1, 1000, 50));
  bool manifest = false, catalog = false;
  LF_RETURN_IF_ERROR(pool_->With([&](PGconn* conn) -> absl::Status {
    LF_ASSIGN_OR_RETURN(postgres::PgResult r,
                        postgres::Query(conn,
                                        "SELECT to_regclass('lf_ingested_files') IS NOT NULL, "
                                        "to_regclass('lf_pipelines') IS NOT NULL",
                                        {}, "serve: find the ingest manifest"));
    manifest = std::string_view(PQgetvalue(r.get(), 0, 0)) == "t";
    catalog = std::string_view(PQgetvalue(r.get(), 0, 1)) == "t";
    return absl::OkStatus();
  }));
  if (!manifest) return std::string(R"({"pipelines":[],"recent":[],"topics":[]})");
  // Every landing pipeline of the catalog, with or without files yet, and any pipeline the
  // manifest names.
  const std::string names =
      catalog ? "SELECT pipeline AS name FROM agg UNION SELECT name FROM lf_pipelines WHERE "
                "source = 'landing'"
              : "SELECT pipeline AS name FROM agg";
  const std::string dataset =
      catalog ? "(SELECT lake_dataset FROM lf_pipelines p WHERE p.name = n.name)" : "NULL";
  // Kafka topics into bronze: catalog pipelines with a Kafka source, a lake and no metrics; their
  // progress is group lambdaflow-<name>'s in lf_offsets.
  const std::string topics =
      catalog
          ? fmt::format(
                "coalesce((SELECT json_agg(json_build_object('pipeline', p.name, 'topic', "
                "p.topic, 'dataset', p.lake_dataset, 'rows', coalesce(o.events, 0), 'bad_rows', "
                "coalesce(o.bad, 0), 'lag', o.lag, 'last_at', {}) ORDER BY p.name) FROM "
                "lf_pipelines p LEFT JOIN (SELECT pipeline, sink, sum(events) AS events, sum(bad) "
                "AS bad, sum(lag) AS lag, max(updated_at) AS at FROM lf_offsets GROUP BY "
                "pipeline, sink) o ON o.pipeline = 'lambdaflow-' || p.name AND o.sink = 'pg:' || "
                "p.name WHERE p.source = 'kafka' AND p.lake_dataset IS NOT NULL AND NOT EXISTS "
                "(SELECT 1 FROM lf_metrics m WHERE m.pipeline = p.name)), '[]'::json)",
                Iso("o.at AT TIME ZONE 'UTC'"))
          : std::string("'[]'::json");
  return JsonQuery(
      fmt::format(
          "WITH agg AS (SELECT pipeline, count(*) FILTER (WHERE status = 'ok') AS files, "
          "count(*) FILTER (WHERE status <> 'ok') AS error_files, sum(rows) AS rows, "
          "sum(bad_rows) AS bad_rows, sum(size) AS bytes, max(ingested_at) AS last_at "
          "FROM lf_ingested_files GROUP BY pipeline), names AS ({names}) "
          "SELECT json_build_object('pipelines', coalesce((SELECT json_agg(json_build_object("
          "'pipeline', n.name, 'dataset', {dataset}, 'files', coalesce(a.files, 0), "
          "'error_files', coalesce(a.error_files, 0), 'rows', coalesce(a.rows, 0), 'bad_rows', "
          "coalesce(a.bad_rows, 0), 'bytes', coalesce(a.bytes, 0), 'last_at', {last_iso}, "
          "'last_file', (SELECT l.path FROM lf_ingested_files l WHERE l.pipeline = n.name ORDER "
          "BY l.ingested_at DESC, l.path DESC LIMIT 1)) ORDER BY n.name) FROM names n LEFT JOIN "
          "agg a ON a.pipeline = n.name), '[]'::json), 'recent', coalesce((SELECT json_agg(r) "
          "FROM (SELECT pipeline, path, status, error, rows, bad_rows, size AS bytes, {at_iso} "
          "AS at FROM lf_ingested_files ORDER BY ingested_at DESC, path DESC LIMIT $1::int) r), "
          "'[]'::json), 'topics', {topics})::text",
          fmt::arg("names", names), fmt::arg("dataset", dataset), fmt::arg("topics", topics),
          fmt::arg("last_iso", Iso("a.last_at AT TIME ZONE 'UTC'")),
          fmt::arg("at_iso", Iso("ingested_at AT TIME ZONE 'UTC'"))),
      {std::to_string(limit)}, "serve: ingest");
}

absl::StatusOr<bool> Api::HasRunLog() {
  if (run_log_) return true;  // tables are not dropped while serving
  bool exists = false;
  auto st = pool_->With([&](PGconn* conn) -> absl::Status {
    LF_ASSIGN_OR_RETURN(postgres::PgResult r,
                        postgres::Query(conn, "SELECT to_regclass('lf_batch_runs') IS NOT NULL", {},
                                        "serve: look for lf_batch_runs"));
    exists = std::string(PQgetvalue(r.get(), 0, 0)) == "t";
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  if (exists) run_log_ = true;
  return exists;
}

absl::Status Api::Ping() {
  return pool_->With(
      [](PGconn* conn) { return postgres::Query(conn, "SELECT 1", {}, "serve: ping").status(); });
}

absl::StatusOr<std::string> Api::Metrics() {
  MetricsWriter m;
  auto st = pool_->With([&](PGconn* conn) -> absl::Status {
    LF_ASSIGN_OR_RETURN(
        postgres::PgResult offsets,
        postgres::Query(
            conn,
            "SELECT pipeline, topic, partition::text, events::text, bad::text, late::text, "
            "lost::text, "
            "lag::text, max_event_time_s::text, extract(epoch FROM now() - "
            "updated_at)::float8::text "
            "FROM lf_offsets WHERE sink LIKE 'pg:%' ORDER BY pipeline, topic, partition",
            {}, "serve: metrics: lf_offsets"));
    LF_ASSIGN_OR_RETURN(
        postgres::PgResult counts,
        postgres::Query(
            conn,
            "SELECT (SELECT count(*) FROM bytes)::text, (SELECT count(*) FROM bytes_hourly)::text, "
            "(SELECT count(*) FROM user_quota_limit)::text, (SELECT count(*) FROM "
            "dead_letters)::text, "
            "(SELECT count(*) FROM lf_data_loss)::text, "
            "(SELECT count(DISTINCT \"timestamp\") FROM bytes_hourly)::text, "
            "to_regclass('lf_batch_runs') IS NOT NULL",
            {}, "serve: metrics: table sizes"));
    struct Totals {
      double events = 0, bad = 0, late = 0, lost = 0;
      std::optional<int64_t> min_max_event;
      double commit_age = -1;
    };
    std::map<std::string, Totals> per_pipeline;
    auto num = [&](int row, int col) { return std::stod(PQgetvalue(offsets.get(), row, col)); };
    const int n = PQntuples(offsets.get());
    for (int i = 0; i < n; ++i) {
      Totals& t = per_pipeline[PQgetvalue(offsets.get(), i, 0)];
      t.events += num(i, 3);
      t.bad += num(i, 4);
      t.late += num(i, 5);
      t.lost += num(i, 6);
      if (!PQgetisnull(offsets.get(), i, 8)) {
        int64_t v = std::stoll(PQgetvalue(offsets.get(), i, 8));
        t.min_max_event = t.min_max_event ? std::min(*t.min_max_event, v) : v;
      }
      double age = num(i, 9);
      t.commit_age = t.commit_age < 0 ? age : std::min(t.commit_age, age);
    }
    struct Counter {
      const char* name;
      const char* help;
      double Totals::*field;
    };
    const Counter counters[] = {
        {"lambdaflow_events_total", "Events the speed layer consumed (committed).",
         &Totals::events},
        {"lambdaflow_bad_total", "Messages that could not be decoded (sent to dead_letters).",
         &Totals::bad},
        {"lambdaflow_late_total",
         "Events that arrived after their window's watermark (still counted).", &Totals::late},
        {"lambdaflow_lost_total", "Messages lost to retention before the speed layer read them.",
         &Totals::lost},
    };
    for (const Counter& c : counters) {
      m.Family(c.name, "counter", c.help);
      for (const auto& [pipeline, t] : per_pipeline)
        m.Sample(c.name, {{"pipeline", pipeline}}, t.*c.field);
    }
    m.Family("lambdaflow_consumer_lag", "gauge",
             "Messages behind the end of the partition at the last commit.");
    for (int i = 0; i < n; ++i) {
      if (PQgetisnull(offsets.get(), i, 7)) continue;
      m.Sample("lambdaflow_consumer_lag",
               {{"pipeline", PQgetvalue(offsets.get(), i, 0)},
                {"topic", PQgetvalue(offsets.get(), i, 1)},
                {"partition", PQgetvalue(offsets.get(), i, 2)}},
               num(i, 7));
    }
    m.Family("lambdaflow_watermark_seconds", "gauge",
             "Event-time watermark (Unix seconds): min over partitions of the max event time minus "
             "the lateness.");
    for (const auto& [pipeline, t] : per_pipeline) {
      if (t.min_max_event)
        m.Sample("lambdaflow_watermark_seconds", {{"pipeline", pipeline}},
                 static_cast<double>(*t.min_max_event - options_.lateness.count()));
    }
    m.Family("lambdaflow_last_commit_age_seconds", "gauge",
             "Seconds since the speed layer last committed.");
    for (const auto& [pipeline, t] : per_pipeline) {
      m.Sample("lambdaflow_last_commit_age_seconds", {{"pipeline", pipeline}}, t.commit_age);
    }
    auto count = [&](int col) { return std::stod(PQgetvalue(counts.get(), 0, col)); };
    m.Family("lambdaflow_table_rows", "gauge", "Rows in the serving tables.");
    m.Sample("lambdaflow_table_rows", {{"table", "bytes"}}, count(0));
    m.Sample("lambdaflow_table_rows", {{"table", "bytes_hourly"}}, count(1));
    m.Sample("lambdaflow_table_rows", {{"table", "user_quota_limit"}}, count(2));
    m.Family("lambdaflow_dead_letters", "gauge", "Rows in dead_letters.");
    m.Sample("lambdaflow_dead_letters", count(3));
    m.Family("lambdaflow_data_loss_records", "gauge",
             "Rows in lf_data_loss (ranges of offsets lost).");
    m.Sample("lambdaflow_data_loss_records", count(4));
    m.Family("lambdaflow_batch_hours", "gauge",
             "Hours the batch layer has results for (bytes_hourly).");
    m.Sample("lambdaflow_batch_hours", count(5));
    if (std::string(PQgetvalue(counts.get(), 0, 6)) == "t") {
      // The batch layer's run log: its status and duration columns are used when present.
      LF_ASSIGN_OR_RETURN(
          postgres::PgResult cols,
          postgres::Query(
              conn,
              "SELECT string_agg(column_name, ',') FROM information_schema.columns "
              "WHERE table_name = 'lf_batch_runs' AND table_schema = ANY (current_schemas(false))",
              {}, "serve: metrics: lf_batch_runs columns"));
      std::string names = std::string(",") + PQgetvalue(cols.get(), 0, 0) + ",";
      auto has = [&](const char* c) {
        return names.find(fmt::format(",{},", c)) != std::string::npos;
      };
      std::string status = has("status") ? "status::text" : "'done'";
      std::string duration = has("duration_ms")        ? "duration_ms::float8 / 1000"
                             : has("duration_seconds") ? "duration_seconds::float8"
                             : has("duration_s")       ? "duration_s::float8"
                                                       : "NULL::float8";
      LF_ASSIGN_OR_RETURN(
          postgres::PgResult runs,
          postgres::Query(
              conn,
              fmt::format("SELECT coalesce({0}, ''), count(*)::text, coalesce(sum({1}), 0)::text, "
                          "count({1}) > 0 FROM lf_batch_runs GROUP BY 1 ORDER BY 1",
                          status, duration),
              {}, "serve: metrics: lf_batch_runs"));
      m.Family("lambdaflow_batch_runs_total", "counter",
               "Batch runs recorded in lf_batch_runs, by status.");
      for (int i = 0; i < PQntuples(runs.get()); ++i) {
        m.Sample("lambdaflow_batch_runs_total", {{"status", PQgetvalue(runs.get(), i, 0)}},
                 std::stod(PQgetvalue(runs.get(), i, 1)));
      }
      m.Family("lambdaflow_batch_run_duration_seconds_total", "counter",
               "Total duration of the batch runs recorded in lf_batch_runs, by status.");
      for (int i = 0; i < PQntuples(runs.get()); ++i) {
        if (std::string(PQgetvalue(runs.get(), i, 3)) != "t") continue;
        m.Sample("lambdaflow_batch_run_duration_seconds_total",
                 {{"status", PQgetvalue(runs.get(), i, 0)}},
                 std::stod(PQgetvalue(runs.get(), i, 2)));
      }
    }
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  if (auto rate = rate_->Rate()) {
    m.Family("lambdaflow_events_per_second", "gauge",
             "Events per second over the last minute, sampled by serve.");
    m.Sample("lambdaflow_events_per_second", *rate);
  }
  m.Family("lambdaflow_serve_up", "gauge", "1 when serve reached PostgreSQL for this scrape.");
  m.Sample("lambdaflow_serve_up", 1);
  return m.text();
}

}  // namespace lf::serve
