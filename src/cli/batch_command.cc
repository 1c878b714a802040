// `lambdaflow batch`: recomputes exact hourly metrics from the Parquet lake.

#include <chrono>
#include <cstdio>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "batch/hour_aggregate.h"
#include "batch/unit_aggregate.h"
#include "cli/commands.h"
#include "cli/pipeline_support.h"
#include "common/shutdown.h"
#include "common/status.h"
#include "common/time.h"
#include "fmt/format.h"
#include "lake/layout.h"
#include "postgres/batch_store.h"
#include "postgres/metric_batch_store.h"
#include "spdlog/spdlog.h"

namespace lf::cli {
namespace {

struct BatchFlags {
  std::string storage, hour, from, to, day;
  bool pending = false;
  std::string pg, pg_user, pg_password;
  postgres::SchemaOptions tables;
  // StoragePath OffsetDateTime jdbcUri userMetadataTable bytesHourlyTable userQuotaLimitTable
  // jdbcUser jdbcPassword
  std::vector<std::string> positional;
  std::string pipeline;
  std::string dataset = lake::kDataset;
  bool tables_given = false;
};

// --pipeline: the definition's tables (unless table flags are given) and lake dataset.
absl::Status ApplyPipeline(BatchFlags* f) {
  LF_ASSIGN_OR_RETURN(pipeline::Definition def, LoadDefinition(f->pipeline));
  LF_RETURN_IF_ERROR(CheckTelecomShape(def, "batch"));
  if (def.lake.dataset.empty() || !def.batch.enabled) {
    return FailedPrecondition("batch: pipeline {} ({}) has no lake or no batch section", def.name,
                              def.file);
  }
  if (!f->tables_given) f->tables = TelecomTables(def);
  f->dataset = def.lake.dataset;
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ParseHour(const std::string& text, const char* flag) {
  auto t = ParseTime(text);
  if (!t.ok()) return Annotate(t.status(), flag);
  return lake::HourOf(ToUnixSeconds(*t));
}

// Runs one hour; returns false when it failed (already reported and recorded).
bool RunHour(postgres::PgBatchStore& store, const std::map<std::string, pipeline::UserInfo>& users,
             const std::string& storage, const std::string& dataset, int64_t hour) {
  auto started = std::chrono::steady_clock::now();
  auto elapsed_ms = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 started)
        .count();
  };
  std::string label = FormatTime(FromUnixSeconds(hour));
  auto manifest = store.ManifestRows(hour);
  // PostgreSQL locks the hour and sends its current rows while the lake is read and aggregated
  // here: the two overlap instead of adding up (the store is used by one thread at a time).
  std::future<absl::Status> prepared;
  if (manifest.ok()) prepared = std::async(std::launch::async, [&] { return store.Prepare(hour); });
  auto result = manifest.ok() ? batch::AggregateHour(storage, dataset, hour, users)
                              : absl::StatusOr<pipeline::HourResult>(manifest.status());
  if (prepared.valid()) {
    if (absl::Status prep = prepared.get(); !prep.ok()) {
      spdlog::warn("batch {}: {} (trying again)", label, Message(prep));  // Replace prepares
    }
  }
  absl::Status st = result.ok() ? store.Replace(*result, *manifest, elapsed_ms()) : result.status();
  if (!st.ok()) {
    store.Abandon();  // an hour that failed before Replace leaves its transaction open
    spdlog::error("batch {}: {} (the hour's previous results are unchanged)", label, Message(st));
    (void)store.RecordFailure(hour, Message(st), elapsed_ms());
    return false;
  }
  if (*manifest >= 0 && *manifest != result->events) {
    spdlog::warn(
        "batch {}: the lake's manifest counts {} events, its files hold {} (files still being "
        "published?); the hour stays marked for a re-run",
        label, *manifest, result->events);
  }
  if (result->unknown_devices > 0) {
    spdlog::warn(
        "batch {}: {} device(s) without user_metadata (counted in antenna, user and app "
        "totals, not in email totals or quotas), e.g. {}",
        label, result->unknown_devices, fmt::join(result->unknown_examples, ", "));
  }
  spdlog::info(
      "batch {}: {} events from {} file(s) -> {} bytes_hourly rows, {} user(s) over quota, {} ms",
      label, result->events, result->files.size(), result->rows.size(), result->over_quota.size(),
      elapsed_ms());
  std::printf(
      "{\"hour\":\"%s\",\"events\":%lld,\"files\":%zu,\"rows\":%zu,\"over_quota\":%zu,\"unknown_"
      "devices\":%lld}\n",
      label.c_str(), static_cast<long long>(result->events), result->files.size(),
      result->rows.size(), result->over_quota.size(),
      static_cast<long long>(result->unknown_devices));
  std::fflush(stdout);
  return true;
}

// The batch layer of a wide-layout definition: units of batch.every (an hour or a day), each
// recomputed from the lake into the `<metric>_batch` tables in one transaction.
int RunDefinitionBatch(const BatchFlags& f, const pipeline::Definition& def) {
  if (def.lake.dataset.empty() || !def.batch.enabled) {
    return Fail(FailedPrecondition("batch: pipeline {} ({}) has no lake or no batch section",
                                   def.name, def.file),
                2);
  }
  if (f.storage.empty()) return Fail(InvalidArgument("batch: --storage is required"), 2);
  if (f.pg.empty()) return Fail(InvalidArgument("batch: --pg is required"), 2);
  const int64_t every = def.batch.every.count();
  const char* unit_flag = every == 3600 ? "--hour" : "--day";
  const std::string& unit_text = every == 3600 ? f.hour : f.day;
  const std::string& other_text = every == 3600 ? f.day : f.hour;
  const int modes = !unit_text.empty() + (!f.from.empty() || !f.to.empty()) + f.pending;
  if (!other_text.empty()) {
    return Fail(InvalidArgument("batch: pipeline {} runs every {}: use {}", def.name,
                                pipeline::WindowText(def.batch.every), unit_flag),
                2);
  }
  if (modes != 1) {
    return Fail(InvalidArgument("batch: give exactly one of {} TIME, --from TIME --to TIME, or "
                                "--pending",
                                unit_flag),
                2);
  }
  auto unit_of = [&](const std::string& text, const char* flag) -> absl::StatusOr<int64_t> {
    auto t = ParseTime(text);
    if (!t.ok()) return Annotate(t.status(), flag);
    return FloorDiv(ToUnixSeconds(*t), every) * every;
  };
  std::vector<int64_t> units;
  if (!unit_text.empty()) {
    auto u = unit_of(unit_text, unit_flag);
    if (!u.ok()) return Fail(u.status(), 2);
    units.push_back(*u);
  } else if (!f.pending) {
    auto from = unit_of(f.from, "--from");
    auto to = unit_of(f.to, "--to");
    if (!from.ok() || !to.ok()) return Fail(!from.ok() ? from.status() : to.status(), 2);
    if (*to < *from) return Fail(InvalidArgument("batch: --to is before --from"), 2);
    if ((*to - *from) / every > 366 * 24) {
      return Fail(InvalidArgument("batch: --from..--to spans too many units"), 2);
    }
    for (int64_t u = *from; u <= *to; u += every) units.push_back(u);
  }
  auto target = postgres::ParseConnTarget(f.pg, f.pg_user, f.pg_password);
  if (!target.ok()) return Fail(target.status(), 2);
  HideSecretsFromProcessList(*target);
  auto store = postgres::PgMetricBatchStore::Open(*target, &def);
  if (!store.ok()) return Fail(store.status(), absl::IsInvalidArgument(store.status()) ? 2 : 1);
  if (f.pending) {
    auto pending = (*store)->PendingUnits();
    if (!pending.ok()) return Fail(pending.status());
    units = *pending;
    spdlog::info("batch: pipeline {}: {} pending unit(s)", def.name, units.size());
  }
  int failed = 0;
  for (int64_t unit : units) {
    if (ShutdownRequested()) {
      spdlog::warn("batch: interrupted");
      return 1;
    }
    const auto started = std::chrono::steady_clock::now();
    const std::string label = FormatTime(FromUnixSeconds(unit));
    auto result = batch::AggregateUnit(f.storage, def, unit);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
    absl::Status st =
        result.ok() ? (*store)->Replace(unit, result->rows, result->events, ms) : result.status();
    if (!st.ok()) {
      spdlog::error("batch {} {}: {} (the unit's previous results are unchanged)", def.name, label,
                    Message(st));
      if (auto rec = (*store)->RecordFailure(unit, Message(st)); !rec.ok()) {
        spdlog::warn("{}", Message(rec));
      }
      ++failed;
      continue;
    }
    spdlog::info("batch {} {}: {} events from {} file(s) -> {} rows, {} ms", def.name, label,
                 result->events, result->files.size(), result->rows.size(), ms);
    std::printf(
        "{\"pipeline\":\"%s\",\"unit\":\"%s\",\"events\":%lld,\"files\":%zu,\"rows\":%zu}\n",
        def.name.c_str(), label.c_str(), static_cast<long long>(result->events),
        result->files.size(), result->rows.size());
    std::fflush(stdout);
  }
  if (failed > 0) {
    spdlog::error("batch: {} of {} unit(s) failed", failed, units.size());
    return 1;
  }
  return 0;
}

int RunBatch(BatchFlags f) {
  if (!f.positional.empty()) {
    std::string* slots[] = {&f.storage,
                            &f.hour,
                            &f.pg,
                            &f.tables.user_metadata_table,
                            &f.tables.bytes_hourly_table,
                            &f.tables.user_quota_limit_table,
                            &f.pg_user,
                            &f.pg_password};
    if (f.positional.size() > 8) {
      return Fail(InvalidArgument(
                      "batch: at most 8 positional arguments (StoragePath OffsetDateTime jdbcUri "
                      "userMetadataTable bytesHourlyTable userQuotaLimitTable jdbcUser "
                      "jdbcPassword), got {}",
                      f.positional.size()),
                  2);
    }
    for (size_t i = 0; i < f.positional.size(); ++i) *slots[i] = f.positional[i];
    f.tables_given = f.tables_given || f.positional.size() >= 4;
  }
  if (!f.pipeline.empty()) {
    auto def = LoadDefinition(f.pipeline);
    if (!def.ok()) return Fail(def.status(), 2);
    if (!CheckTelecomShape(*def, "batch").ok() && def->postgres.layout == pipeline::Layout::kWide) {
      return RunDefinitionBatch(f, *def);
    }
    if (auto st = ApplyPipeline(&f); !st.ok()) return Fail(st, 2);
  }
  if (!f.day.empty()) {
    return Fail(InvalidArgument("batch: --day is for pipelines whose batch runs every 1d"), 2);
  }
  if (f.storage.empty()) return Fail(InvalidArgument("batch: --storage is required"), 2);
  if (f.pg.empty())
    return Fail(InvalidArgument("batch: --pg is required (or the positional jdbcUri)"), 2);
  int modes = !f.hour.empty() + (!f.from.empty() || !f.to.empty()) + f.pending;
  if (modes != 1) {
    return Fail(InvalidArgument(
                    "batch: give exactly one of --hour TIME, --from TIME --to TIME, or --pending"),
                2);
  }
  std::vector<int64_t> hours;
  if (!f.hour.empty()) {
    auto h = ParseHour(f.hour, "--hour");
    if (!h.ok()) return Fail(h.status(), 2);
    hours.push_back(*h);
  } else if (!f.pending) {
    if (f.from.empty() || f.to.empty())
      return Fail(InvalidArgument("batch: --from and --to go together"), 2);
    auto from = ParseHour(f.from, "--from");
    if (!from.ok()) return Fail(from.status(), 2);
    auto to = ParseHour(f.to, "--to");
    if (!to.ok()) return Fail(to.status(), 2);
    if (*to < *from) return Fail(InvalidArgument("batch: --to is before --from"), 2);
    if ((*to - *from) / 3600 > 24 * 366)
      return Fail(InvalidArgument("batch: --from..--to spans more than a year"), 2);
    for (int64_t h = *from; h <= *to; h += 3600) hours.push_back(h);
  }

  auto target = postgres::ParseConnTarget(f.pg, f.pg_user, f.pg_password);
  if (!target.ok()) return Fail(target.status(), 2);
  HideSecretsFromProcessList(*target);
  postgres::BatchStoreOptions options;
  options.target = *target;
  options.tables = f.tables;
  options.dataset = f.dataset;
  auto store = postgres::PgBatchStore::Open(options);
  if (!store.ok()) return Fail(store.status(), absl::IsInvalidArgument(store.status()) ? 2 : 1);
  if (f.pending) {
    auto pending = (*store)->PendingHours();
    if (!pending.ok()) return Fail(pending.status());
    hours = *pending;
    spdlog::info("batch: {} pending hour(s)", hours.size());
  }
  auto users = (*store)->LoadUsers();
  if (!users.ok()) return Fail(users.status());
  int failed = 0;
  for (int64_t h : hours) {
    if (ShutdownRequested()) {
      spdlog::warn("batch: interrupted; {} hour(s) not run", hours.size());
      return 1;
    }
    if (!RunHour(**store, *users, f.storage, f.dataset, h)) ++failed;
  }
  if (failed > 0) {
    spdlog::error("batch: {} of {} hour(s) failed", failed, hours.size());
    return 1;
  }
  return 0;
}

}  // namespace

void AddBatchCommand(CLI::App& app, Runner* run) {
  auto f = std::make_shared<BatchFlags>();
  auto* cmd = app.add_subcommand(
      "batch",
      "The batch layer: recomputes one event-time hour (or a range, or every pending hour) from\n"
      "the Parquet lake: bytes_hourly (antenna, user, user email and app totals) and\n"
      "user_quota_limit (users over their hourly quota), replacing the hour's rows in one\n"
      "transaction. Also accepts the seeds' positional form:\n"
      "  lambdaflow batch StoragePath OffsetDateTime jdbcUri userMetadataTable bytesHourlyTable\n"
      "                   userQuotaLimitTable jdbcUser jdbcPassword\n"
      "Prints one JSON line per hour.");
  cmd->add_option("--pipeline", f->pipeline,
                  "pipeline definition (YAML): its lake dataset and tables (table flags win)");
  cmd->add_option("--storage", f->storage, "lake root directory");
  cmd->add_option("--hour", f->hour, "the hour to run (ISO-8601; any time inside the hour)");
  cmd->add_option("--day", f->day,
                  "the day to run, for a --pipeline whose batch runs every 1d (any time inside "
                  "the UTC day)");
  cmd->add_option("--from", f->from, "first hour of a range");
  cmd->add_option("--to", f->to, "last hour of a range (inclusive)");
  cmd->add_flag(
      "--pending", f->pending,
      "run every hour that is complete (_SUCCESS) without a batch result, or that late data "
      "marked for a re-run");
  AddPgOptions(cmd, &f->pg, &f->pg_user, &f->pg_password);
  CLI::Option* table_flags[] = {
      cmd->add_option("--user-metadata-table", f->tables.user_metadata_table)
          ->capture_default_str(),
      cmd->add_option("--bytes-hourly-table", f->tables.bytes_hourly_table)->capture_default_str(),
      cmd->add_option("--user-quota-limit-table", f->tables.user_quota_limit_table)
          ->capture_default_str()};
  cmd->add_option("positional", f->positional,
                  "StoragePath OffsetDateTime jdbcUri userMetadataTable bytesHourlyTable "
                  "userQuotaLimitTable jdbcUser jdbcPassword");
  cmd->callback([=] {
    for (CLI::Option* o : table_flags) f->tables_given = f->tables_given || o->count() > 0;
    *run = [f] { return RunBatch(*f); };
  });
}

}  // namespace lf::cli
