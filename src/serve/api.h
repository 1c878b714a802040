#pragma once

// The JSON API over the tables of the speed and batch layers. Every method validates its
// parameters (InvalidArgument naming the parameter: HTTP 400), runs read-only SQL and returns one
// JSON document. PostgreSQL builds the JSON (json_build_object/json_agg), so values and escaping
// come from one place.

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "serve/db_pool.h"
#include "serve/metrics.h"
#include "serve/params.h"

namespace lf::serve {

struct ApiOptions {
  // The speed layer's allowed lateness: watermark = min over partitions of the max event time
  // minus this; a window is open while its end is after the watermark.
  std::chrono::seconds lateness{60};
  std::chrono::seconds window{300};
};

// Thread-safe (the pool and the rate are). `pool` and `rate` must outlive the Api.
class Api {
 public:
  Api(ApiOptions options, DbPool* pool, const EventRate* rate)
      : options_(options), pool_(pool), rate_(rate) {}

  // /api/windows?type=T[&from&to][&id]: the 5-minute windows with their open/final mark.
  absl::StatusOr<std::string> Windows(const Params& p);
  // /api/hourly?type=T[&from&to][&id]: hourly totals, batch where it ran, else the speed roll-up.
  absl::StatusOr<std::string> Hourly(const Params& p);
  // /api/top?kind=users|apps|antennas[&from&to][&limit=N]
  absl::StatusOr<std::string> Top(const Params& p);
  // /api/quota[?from&to]: users over their quota per hour.
  absl::StatusOr<std::string> Quota(const Params& p);
  // /api/reconciliation[?from&to][&limit=N]: speed versus batch per hour, metric and key.
  absl::StatusOr<std::string> Reconciliation(const Params& p);
  // /api/health: progress, lag, watermark, counts, data loss.
  absl::StatusOr<std::string> Health(const Params& p);
  // /api/pipelines: the provisioned pipelines and their metrics (the lf_pipelines / lf_metrics
  // catalog); an empty list before any `provision --pipeline`.
  absl::StatusOr<std::string> Pipelines(const Params& p);
  // /api/metric?pipeline=P&metric=M[&limit=N][&layer=speed|lambda]: the newest N (default 500)
  // rows of a wide-layout metric or derived view from the catalog, with its group values and an
  // open mark per window; layer=lambda reads a batch metric's <metric>_lambda view instead, each
  // row saying which layer it came from.
  absl::StatusOr<std::string> Metric(const Params& p);
  // /api/ingest[?limit=N]: the ingestion engine per pipeline (files taken and refused, rows, bad
  // rows, bytes, the last file) and the newest N (default 50) files of the manifest.
  absl::StatusOr<std::string> Ingest(const Params& p);
  // /metrics in Prometheus text format.
  absl::StatusOr<std::string> Metrics();
  // OK when PostgreSQL answers.
  absl::Status Ping();

 private:
  // Runs `sql` (returning one row, one column of JSON text) with `params`.
  absl::StatusOr<std::string> JsonQuery(const std::string& sql,
                                        const std::vector<std::optional<std::string>>& params,
                                        std::string_view what);
  // The default range: the last 6 hours of data (ending after the newest window), or of the
  // wall clock when the tables are empty.
  absl::StatusOr<TimeRange> Range(const Params& p, std::chrono::seconds max_span, bool whole_hours);

  // Whether the batch layer's run log (lf_batch_runs) exists; remembered once it does.
  absl::StatusOr<bool> HasRunLog();

  ApiOptions options_;
  std::atomic<bool> run_log_{false};
  DbPool* pool_;
  const EventRate* rate_;
};

// `s` as a JSON string literal, quotes included.
std::string JsonString(std::string_view s);

}  // namespace lf::serve
