// `lambdaflow ingest`: the ingestion engine (SPEC §6) — landing files into bronze, each exactly
// once.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "cli/pipeline_support.h"
#include "common/shutdown.h"
#include "common/status.h"
#include "common/time.h"
#include "ingest/confluent_avro_decoder.h"
#include "ingest/ingest_job.h"
#include "ingest/registry_client.h"
#include "kafka/kafka_source.h"
#include "lake/lake_writer.h"
#include "postgres/connection.h"
#include "postgres/ingest_store.h"
#include "postgres/lake_sink.h"
#include "postgres/metric_sink.h"
#include "spdlog/spdlog.h"
#include "speed/engine.h"
#include "speed/speed_job.h"

namespace lf::cli {
namespace {

struct IngestFlags {
  std::vector<std::string> pipelines;
  std::string landing = "landing";
  std::string storage, pg, pg_user, pg_password;
  bool once = false, watch = false, keep_files = false;
  std::string settle = "2s";
  std::string poll = "1s";
  int64_t batch_rows = 1'000'000;
  std::string brokers, registry;
};

// A Kafka source into bronze: the speed layer's exactly-once lake protocol (offsets committed
// with the Parquet files) with a decoder and no metrics; its progress is the group
// lambdaflow-<name>'s rows in lf_offsets. --once stops when nothing arrived for a few seconds.
absl::StatusOr<speed::SpeedSummary> IngestKafka(const pipeline::Definition& def,
                                                const IngestFlags& f,
                                                const postgres::ConnTarget& target) {
  const std::string group = "lambdaflow-" + def.name;
  const std::string storage = std::filesystem::absolute(f.storage).string();
  speed::SpeedOptions options;
  options.topic = def.source.topic;
  options.flush_interval = std::chrono::milliseconds(1000);
  options.windows.lateness = std::chrono::duration_cast<std::chrono::seconds>(def.lateness);
  if (f.once) options.exit_when_idle = std::chrono::milliseconds(3000);
  // Bronze files roll every 10 s (or 256 MB): rows are visible soon, in few files.
  options.lake_roll_interval = std::chrono::milliseconds(10000);
  postgres::MetricSinkOptions metric_options;
  metric_options.target = target;
  metric_options.definition = &def;
  metric_options.pipeline = group;
  metric_options.topic = def.source.topic;
  LF_ASSIGN_OR_RETURN(auto sink, postgres::PgMetricSink::Open(metric_options));
  lake::LakeWriterOptions lake_options;
  lake_options.root = storage;
  lake_options.writer_id = lake::MakeWriterId();
  lake_options.dataset = def.lake.dataset;
  lake_options.metadata = def.lake.metadata;
  lake_options.schema = lake::LakeSchema(pipeline::Schema(def.fields), def.lake.metadata);
  lake_options.partitioning =
      def.lake.partition == pipeline::LakePartition::kEventHour   ? lake::Partitioning::kEventHour
      : def.lake.partition == pipeline::LakePartition::kEventDate ? lake::Partitioning::kEventDate
                                                                  : lake::Partitioning::kIngestDate;
  LF_ASSIGN_OR_RETURN(auto writer, lake::LakeWriter::Open(lake_options));
  postgres::LakeSinkOptions lake_sink_options;
  lake_sink_options.target = target;
  lake_sink_options.pipeline = group;
  lake_sink_options.topic = def.source.topic;
  lake_sink_options.dataset = def.lake.dataset;
  lake_sink_options.speed_sink = "pg:" + def.name;
  LF_ASSIGN_OR_RETURN(auto lake_sink, postgres::PgLakeSink::Open(lake_sink_options));
  // Avro: the Confluent wire format with writer schemas from the registry; JSON otherwise.
  pipeline::Schema fields(def.fields);
  speed::BronzeFields bronze;
  std::unique_ptr<ingest::RegistryClient> registry;
  std::unique_ptr<pipeline::Decoder> decoder;
  if (def.source.format == pipeline::Format::kAvro) {
    LF_ASSIGN_OR_RETURN(registry, ingest::RegistryClient::Open(f.registry));
    decoder = std::make_unique<ingest::ConfluentAvroDecoder>(&fields, registry.get(),
                                                             &bronze.rescued, &bronze.schema_id);
  }
  auto engine = std::make_unique<speed::MetricEngine>(&def, std::move(decoder), &bronze);
  speed::SpeedJob job(options, sink.get(), writer.get(), lake_sink.get(), std::move(engine));
  kafka::SourceOptions source_options;
  source_options.brokers = f.brokers;
  source_options.topic = def.source.topic;
  source_options.group = group;
  LF_ASSIGN_OR_RETURN(auto source, kafka::KafkaSource::Open(source_options, &job));
  spdlog::info("ingest {}: {} topic {} group {} -> {}/{}", def.name, f.brokers, def.source.topic,
               group, storage, def.lake.dataset);
  return job.Run(source.get());
}

int RunIngest(const IngestFlags& f) {
  if (f.once && f.watch)
    return Fail(InvalidArgument("ingest: --once and --watch exclude each other"), 2);
  if (f.storage.empty()) return Fail(InvalidArgument("ingest: --storage is required"), 2);
  if (f.pg.empty()) return Fail(InvalidArgument("ingest: --pg is required"), 2);
  if (f.batch_rows < 1) return Fail(InvalidArgument("ingest: --batch-rows must be positive"), 2);
  auto settle = ParseDuration(f.settle);
  if (!settle.ok()) return Fail(Annotate(settle.status(), "--settle"), 2);
  auto poll = ParseDuration(f.poll);
  if (!poll.ok() || *poll <= Micros(0)) {
    return Fail(
        poll.ok() ? InvalidArgument("--poll must be positive") : Annotate(poll.status(), "--poll"),
        2);
  }
  std::vector<std::unique_ptr<pipeline::Definition>> defs;
  for (const std::string& file : f.pipelines) {
    auto def = LoadDefinition(file);
    if (!def.ok()) return Fail(def.status(), 2);
    if (def->source.kind == pipeline::SourceKind::kKafka) {
      if (def->source.format == pipeline::Format::kAvro && f.registry.empty()) {
        return Fail(InvalidArgument("ingest: pipeline {} ({}) reads Avro from Kafka: give "
                                    "--schema-registry URL",
                                    def->name, file),
                    2);
      }
      if (f.brokers.empty()) {
        return Fail(InvalidArgument("ingest: pipeline {} ({}) reads Kafka topic {}: give --brokers",
                                    def->name, file, def->source.topic),
                    2);
      }
    } else if (def->source.format == pipeline::Format::kAvro) {
      return Fail(
          InvalidArgument("ingest: pipeline {} ({}): Avro is for Kafka sources", def->name, file),
          2);
    }
    if (def->lake.dataset.empty()) {
      return Fail(InvalidArgument("ingest: pipeline {} ({}) has no lake sink to land into",
                                  def->name, file),
                  2);
    }
    defs.push_back(std::make_unique<pipeline::Definition>(std::move(*def)));
  }
  auto target = postgres::ParseConnTarget(f.pg, f.pg_user, f.pg_password);
  if (!target.ok()) return Fail(target.status(), 2);
  HideSecretsFromProcessList(*target);

  ingest::IngestOptions options;
  options.storage = std::filesystem::absolute(f.storage).string();
  options.landing = std::filesystem::absolute(f.landing).string();
  options.settle = std::chrono::duration_cast<std::chrono::milliseconds>(*settle);
  options.keep_files = f.keep_files;
  options.batch_rows = f.batch_rows;
  // Kafka pipelines each on a thread of their own (the speed layer's loop); landing pipelines
  // below on this one.
  std::vector<std::thread> kafka_threads;
  std::atomic<int> kafka_failures{0};
  std::atomic<int64_t> kafka_rows{0}, kafka_bad{0};
  for (const auto& def : defs) {
    if (def->source.kind != pipeline::SourceKind::kKafka) continue;
    const pipeline::Definition* d = def.get();
    kafka_threads.emplace_back([d, &f, &target, &kafka_failures, &kafka_rows, &kafka_bad] {
      auto s = IngestKafka(*d, f, *target);
      if (!s.ok()) {
        spdlog::error("ingest {}: stopped: {} (uncommitted messages are read again on restart)",
                      d->name, Message(s.status()));
        ++kafka_failures;
        if (!f.once) RequestShutdown();
        return;
      }
      spdlog::info("ingest {}: {} messages to bronze, {} bad (dead_letters), {} lake files",
                   d->name, s->lake_rows, s->bad, s->lake_files);
      kafka_rows += s->lake_rows;
      kafka_bad += s->bad;
    });
  }
  std::vector<std::unique_ptr<ingest::IngestJob>> jobs;
  for (const auto& def : defs) {
    if (def->source.kind == pipeline::SourceKind::kKafka) continue;
    auto store = postgres::PgIngestStore::Open(*target, def->name, def->lake.dataset);
    if (!store.ok()) return Fail(store.status());
    auto job = std::make_unique<ingest::IngestJob>(def.get(), options, std::move(*store));
    if (auto st = job->Recover(); !st.ok()) return Fail(st);
    job->RememberInitial(f.once);
    jobs.push_back(std::move(job));
  }
  spdlog::info("ingest: {} pipeline(s) from {} into {} ({}; settle {})", jobs.size(), f.landing,
               f.storage, f.once ? "--once" : "--watch until Ctrl-C", f.settle);
  const auto started = std::chrono::steady_clock::now();
  int failures = 0;
  int exit_code = 0;
  while (!ShutdownRequested() && !jobs.empty()) {
    bool failed = false;
    for (auto& job : jobs) {
      auto handled = job->Poll();
      if (!handled.ok()) {
        spdlog::error("ingest {}: {} (the batch was dropped; its files stay in the landing)",
                      job->name(), Message(handled.status()));
        failed = true;
      }
    }
    failures = failed ? failures + 1 : 0;
    if (f.once) {
      bool done = true;
      for (auto& job : jobs) done = done && job->InitialDone();
      if (done && !failed) break;
      if (failures >= 5) {
        exit_code = 1;
        break;
      }
    }
    SleepUnlessShutdown(failed ? std::chrono::milliseconds(2000)
                               : std::chrono::duration_cast<std::chrono::milliseconds>(*poll));
  }
  if (jobs.empty() && !f.once) {
    while (!ShutdownRequested()) SleepUnlessShutdown(std::chrono::seconds(1));
  }
  for (std::thread& t : kafka_threads) t.join();
  if (kafka_failures > 0) exit_code = 1;
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ingest::IngestTotals all;
  all.rows = kafka_rows;
  all.bad_rows = kafka_bad;
  for (auto& job : jobs) {
    const auto& t = job->totals();
    spdlog::info(
        "ingest {}: {} file(s) taken, {} unreadable, {} skipped as taken before; {} rows, {} bad "
        "rows, {} bytes",
        job->name(), t.files, t.error_files, t.skipped, t.rows, t.bad_rows, t.bytes);
    all.files += t.files;
    all.error_files += t.error_files;
    all.skipped += t.skipped;
    all.rows += t.rows;
    all.bad_rows += t.bad_rows;
    all.bytes += t.bytes;
    all.batches += t.batches;
  }
  std::printf(
      "{\"files\":%lld,\"error_files\":%lld,\"skipped\":%lld,\"rows\":%lld,\"bad_rows\":%lld,"
      "\"bytes\":%lld,\"batches\":%lld,\"seconds\":%.3f,\"rows_per_second\":%.0f}\n",
      static_cast<long long>(all.files), static_cast<long long>(all.error_files),
      static_cast<long long>(all.skipped), static_cast<long long>(all.rows),
      static_cast<long long>(all.bad_rows), static_cast<long long>(all.bytes),
      static_cast<long long>(all.batches), secs, secs > 0 ? all.rows / secs : 0.0);
  std::fflush(stdout);
  return exit_code;
}

}  // namespace

void AddIngestCommand(CLI::App& app, Runner* run) {
  auto f = std::make_shared<IngestFlags>();
  auto* cmd = app.add_subcommand(
      "ingest",
      "The ingestion engine (SPEC §6): takes the landing files of each --pipeline once their size\n"
      "and mtime held still for --settle, and lands their rows in the pipeline's bronze dataset\n"
      "(Parquet under --storage, with ingestion metadata), each file exactly once: its rows, its\n"
      "manifest row (lf_ingested_files) and its bad rows (dead_letters) are committed together,\n"
      "then the file moves to LANDING/_processed/<dataset>/ (or _error/ when it is unreadable as "
      "a\n"
      "whole). --once takes what is there and exits; --watch (the default) keeps going until\n"
      "Ctrl-C. Prints a JSON summary at the end.");
  cmd->add_option("--pipeline", f->pipelines,
                  "pipeline definition with a landing source (repeatable)")
      ->required();
  cmd->add_option("--landing", f->landing, "the landing root")->capture_default_str();
  cmd->add_option("--storage", f->storage, "the lake root (bronze goes under it)")->required();
  AddPgOptions(cmd, &f->pg, &f->pg_user, &f->pg_password)->required();
  cmd->add_flag("--once", f->once, "take the files present now, then exit");
  cmd->add_flag("--watch", f->watch, "keep taking new files until Ctrl-C (the default)");
  cmd->add_flag("--keep-files", f->keep_files,
                "leave taken files in the landing (the manifest still takes each once)");
  cmd->add_option("--settle", f->settle, "how long a file's size and mtime must hold still")
      ->capture_default_str();
  cmd->add_option("--poll", f->poll, "how often to look at the landing")->capture_default_str();
  cmd->add_option("--batch-rows", f->batch_rows,
                  "rows per commit (small files are batched into sizeable Parquet files)")
      ->capture_default_str();
  cmd->add_option("--brokers", f->brokers, "Kafka brokers (for Kafka sources)");
  cmd->add_option("--schema-registry", f->registry, "schema registry URL (for Avro sources)");
  cmd->callback([run, f] { *run = [f] { return RunIngest(*f); }; });
}

}  // namespace lf::cli
