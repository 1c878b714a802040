// `lambdaflow speed`: the speed layer (Kafka -> 5-minute windows in PostgreSQL, exactly once).

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/pipeline_support.h"
#include "common/status.h"
#include "common/time.h"
#include "kafka/kafka_source.h"
#include "lake/lake_writer.h"
#include "postgres/identifier.h"
#include "postgres/lake_sink.h"
#include "postgres/metric_sink.h"
#include "postgres/speed_sink.h"
#include "spdlog/spdlog.h"
#include "speed/speed_job.h"

namespace lf::cli {
namespace {

struct SpeedFlags {
  std::string brokers = "127.0.0.1:9092";
  std::string topic = "devices";
  std::string pg, pg_user, pg_password;
  std::string storage;
  std::string group = "lambdaflow-speed";
  std::string table = "bytes";
  std::string exit_when_idle;
  std::string flush_interval = "2s";
  std::string lateness = "1m";
  std::string window = "5m";
  std::string lake_roll_interval = "5m";
  std::vector<std::string> kafka_properties;
  // The seeds' positional form: kafkaServer topicName jdbcUri jdbcTable jdbcUser jdbcPassword
  // StorageRootPath.
  std::vector<std::string> positional;
  std::string pipeline;
  // Which flags were given on the command line (a definition fills the others).
  bool topic_given = false, group_given = false, table_given = false, window_given = false,
       lateness_given = false;
};

// What --pipeline asks for: the telecom path with the definition's names (`generic` false), or
// the general engine for any other wide-layout Kafka JSON definition.
struct SpeedPipeline {
  std::unique_ptr<pipeline::Definition> def;
  bool generic = false;
  std::string dataset;  // telecom path: the lake dataset ("" for none)
};

// --pipeline: the definition's topic, table, window, lateness, group and lake dataset, where the
// command line does not say otherwise.
absl::StatusOr<SpeedPipeline> ApplyPipeline(SpeedFlags* f) {
  SpeedPipeline out;
  LF_ASSIGN_OR_RETURN(pipeline::Definition def, LoadDefinition(f->pipeline));
  out.def = std::make_unique<pipeline::Definition>(std::move(def));
  const pipeline::Definition& d = *out.def;
  if (!f->topic_given) f->topic = d.source.topic;
  if (!f->group_given) f->group = d.DefaultGroup();
  if (absl::Status telecom = CheckTelecomShape(d, "speed"); !telecom.ok()) {
    if (d.source.kind != pipeline::SourceKind::kKafka ||
        d.source.format != pipeline::Format::kJson ||
        d.postgres.layout != pipeline::Layout::kWide || d.metrics.empty()) {
      return FailedPrecondition(
          "speed: pipeline {} ({}): the speed layer runs telecom-shaped definitions and "
          "wide-layout ones with Kafka JSON sources and metrics so far",
          d.name, d.file);
    }
    out.generic = true;
    if (f->table_given || f->window_given || f->lateness_given) {
      return InvalidArgument(
          "speed: --table, --window and --lateness come from pipeline {}'s "
          "definition; set them there",
          d.name);
    }
    return out;
  }
  if (!f->table_given) f->table = d.postgres.table;
  if (!f->window_given) f->window = FormatDuration(d.metrics[0].window);
  if (!f->lateness_given) f->lateness = FormatDuration(d.lateness);
  out.dataset = d.lake.dataset;
  return out;
}

int RunSpeed(SpeedFlags f) {
  if (!f.positional.empty()) {
    std::string* slots[] = {&f.brokers, &f.topic,       &f.pg,     &f.table,
                            &f.pg_user, &f.pg_password, &f.storage};
    if (f.positional.size() > 7) {
      return Fail(
          InvalidArgument("speed: at most 7 positional arguments (kafkaServer topicName "
                          "jdbcUri jdbcTable jdbcUser jdbcPassword StorageRootPath), got {}",
                          f.positional.size()),
          2);
    }
    for (size_t i = 0; i < f.positional.size(); ++i) *slots[i] = f.positional[i];
    f.topic_given = f.topic_given || f.positional.size() >= 2;
    f.table_given = f.table_given || f.positional.size() >= 4;
  }
  std::string dataset = lake::LakeWriterOptions().dataset;
  SpeedPipeline def;
  if (!f.pipeline.empty()) {
    auto applied = ApplyPipeline(&f);
    if (!applied.ok()) return Fail(applied.status(), 2);
    def = std::move(*applied);
    dataset = def.dataset;
    if (def.generic) dataset = def.def->lake.dataset;
    if (def.generic && !dataset.empty() && !f.storage.empty() &&
        (def.def->lake.partition != pipeline::LakePartition::kEventHour ||
         def.def->lake.metadata)) {
      spdlog::warn(
          "speed: pipeline {}'s lake ({} partitions{}) is not written by the speed "
          "layer yet; --storage is not used",
          def.def->name, pipeline::LakePartitionName(def.def->lake.partition),
          def.def->lake.metadata ? ", metadata columns" : "");
      f.storage.clear();
    } else if (dataset.empty() && !f.storage.empty()) {
      spdlog::warn("speed: pipeline {} has no lake sink; --storage is not used", f.pipeline);
      f.storage.clear();
    }
  }
  if (f.pg.empty()) {
    return Fail(InvalidArgument("speed: --pg is required (or the positional jdbcUri)"), 2);
  }
  if (auto t = postgres::QuoteTableName(f.table, "--table"); !t.ok()) return Fail(t.status(), 2);

  speed::SpeedOptions options;
  options.topic = f.topic;
  auto parse_duration = [](const std::string& text, const char* flag) -> absl::StatusOr<Micros> {
    auto d = ParseDuration(text);
    if (!d.ok()) return Annotate(d.status(), flag);
    return d;
  };
  auto flush = parse_duration(f.flush_interval, "--flush-interval");
  if (!flush.ok()) return Fail(flush.status(), 2);
  options.flush_interval = std::chrono::duration_cast<std::chrono::milliseconds>(*flush);
  auto lateness = parse_duration(f.lateness, "--lateness");
  if (!lateness.ok()) return Fail(lateness.status(), 2);
  options.windows.lateness = std::chrono::duration_cast<std::chrono::seconds>(*lateness);
  auto window = parse_duration(f.window, "--window");
  if (!window.ok()) return Fail(window.status(), 2);
  if (*window < std::chrono::seconds(1))
    return Fail(InvalidArgument("--window: must be at least 1s"), 2);
  options.windows.size = std::chrono::duration_cast<std::chrono::seconds>(*window);
  if (!f.exit_when_idle.empty()) {
    auto idle = parse_duration(f.exit_when_idle, "--exit-when-idle");
    if (!idle.ok()) return Fail(idle.status(), 2);
    options.exit_when_idle = std::chrono::duration_cast<std::chrono::milliseconds>(*idle);
  }
  auto roll = parse_duration(f.lake_roll_interval, "--lake-roll-interval");
  if (!roll.ok()) return Fail(roll.status(), 2);
  options.lake_roll_interval = std::chrono::duration_cast<std::chrono::milliseconds>(*roll);
  kafka::ConfigPairs overrides;
  for (const std::string& kv : f.kafka_properties) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Fail(InvalidArgument("--kafka-property: expected key=value, got '{}'", kv), 2);
    }
    overrides.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }

  auto target = postgres::ParseConnTarget(f.pg, f.pg_user, f.pg_password);
  if (!target.ok()) return Fail(target.status(), 2);
  HideSecretsFromProcessList(*target);

  if (!f.storage.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(f.storage, ec);
    if (ec) {
      return Fail(
          InvalidArgument("--storage: cannot create directory {}: {}", f.storage, ec.message()), 2);
    }
  }

  std::unique_ptr<pipeline::SpeedCommitSink> sink;
  std::unique_ptr<speed::SpeedEngine> engine;
  if (def.generic) {
    postgres::MetricSinkOptions metric_options;
    metric_options.target = *target;
    metric_options.definition = def.def.get();
    metric_options.pipeline = f.group;
    metric_options.topic = f.topic;
    auto opened = postgres::PgMetricSink::Open(metric_options);
    if (!opened.ok()) return Fail(opened.status());
    sink = std::move(*opened);
    engine = std::make_unique<speed::MetricEngine>(def.def.get());
    options.windows.lateness = std::chrono::duration_cast<std::chrono::seconds>(def.def->lateness);
  } else {
    postgres::SpeedSinkOptions sink_options;
    sink_options.target = *target;
    sink_options.table = f.table;
    sink_options.pipeline = f.group;
    sink_options.topic = f.topic;
    auto opened = postgres::PgSpeedSink::Open(sink_options);
    if (!opened.ok()) return Fail(opened.status());
    sink = std::move(*opened);
  }

  std::unique_ptr<lake::LakeWriter> lake_writer;
  std::unique_ptr<postgres::PgLakeSink> lake_sink;
  if (!f.storage.empty()) {
    lake::LakeWriterOptions lake_options;
    lake_options.root = f.storage;
    lake_options.writer_id = lake::MakeWriterId();
    lake_options.dataset = dataset;
    if (def.generic) lake_options.schema = lake::LakeSchema(pipeline::Schema(def.def->fields));
    auto writer = lake::LakeWriter::Open(lake_options);
    if (!writer.ok()) return Fail(writer.status());
    lake_writer = std::move(*writer);
    postgres::LakeSinkOptions lake_sink_options;
    lake_sink_options.target = *target;
    lake_sink_options.pipeline = f.group;
    lake_sink_options.topic = f.topic;
    lake_sink_options.dataset = lake_options.dataset;
    lake_sink_options.speed_sink = def.generic ? "pg:" + def.def->name : "pg:" + f.table;
    auto lsink = postgres::PgLakeSink::Open(lake_sink_options);
    if (!lsink.ok()) return Fail(lsink.status());
    lake_sink = std::move(*lsink);
  } else {
    spdlog::warn("speed: no --storage given: events are not archived to the Parquet lake");
  }

  speed::SpeedJob job(options, sink.get(), lake_writer.get(), lake_sink.get(), std::move(engine));
  kafka::SourceOptions source_options;
  source_options.brokers = f.brokers;
  source_options.topic = f.topic;
  source_options.group = f.group;
  source_options.overrides = overrides;
  auto source = kafka::KafkaSource::Open(source_options, &job);
  if (!source.ok()) return Fail(source.status());

  if (def.generic) {
    spdlog::info(
        "speed: {} topic {} group {} -> {} pipeline {} ({} metrics, lateness {}, flush "
        "every {})",
        f.brokers, f.topic, f.group, target->display, def.def->name, def.def->metrics.size(),
        FormatDuration(options.windows.lateness), FormatDuration(options.flush_interval));
  } else {
    spdlog::info(
        "speed: {} topic {} group {} -> {} table {} (windows {}, lateness {}, flush every {})",
        f.brokers, f.topic, f.group, target->display, f.table, FormatDuration(options.windows.size),
        FormatDuration(options.windows.lateness), FormatDuration(options.flush_interval));
  }
  auto summary = job.Run(source->get());
  if (!summary.ok()) {
    spdlog::error("speed: stopped: {} (uncommitted input will be read again on restart)",
                  Message(summary.status()));
    return 1;
  }
  const auto& s = *summary;
  spdlog::info(
      "speed: done: {} events, {} bad, {} late, {} lost, {} rows written in {} flushes; "
      "lake: {} events in {} files",
      s.events, s.bad, s.late, s.lost, s.rows_written, s.flushes, s.lake_rows, s.lake_files);
  std::printf(
      "{\"events\":%lld,\"bad\":%lld,\"late\":%lld,\"lost\":%lld,\"rows_written\":%lld,"
      "\"flushes\":%lld,\"lake_events\":%lld,\"lake_files\":%lld,\"watermark\":%s}\n",
      static_cast<long long>(s.events), static_cast<long long>(s.bad),
      static_cast<long long>(s.late), static_cast<long long>(s.lost),
      static_cast<long long>(s.rows_written), static_cast<long long>(s.flushes),
      static_cast<long long>(s.lake_rows), static_cast<long long>(s.lake_files),
      s.watermark_s == pipeline::kNoEventTime
          ? "null"
          : ("\"" + FormatTime(FromUnixSeconds(s.watermark_s)) + "\"").c_str());
  std::fflush(stdout);
  return 0;
}

}  // namespace

void AddSpeedCommand(CLI::App& app, Runner* run) {
  auto f = std::make_shared<SpeedFlags>();
  auto* cmd = app.add_subcommand(
      "speed",
      "The speed layer: consumes device events from Kafka and keeps 5-minute event-time window\n"
      "totals per antenna, user and app in PostgreSQL (table bytes), exactly once: offsets are\n"
      "committed in the same transaction as the results. Bad messages go to dead_letters.\n"
      "Also accepts the seeds' positional form:\n"
      "  lambdaflow speed kafkaServer topicName jdbcUri jdbcTable jdbcUser jdbcPassword "
      "StorageRootPath\n"
      "Prints a JSON summary on stdout when it exits.");
  cmd->add_option("--pipeline", f->pipeline,
                  "pipeline definition (YAML); its topic, table, window, lateness, lake dataset "
                  "and group lambdaflow-<name> apply unless given as flags");
  cmd->add_option("--brokers", f->brokers, "Kafka bootstrap servers")->capture_default_str();
  auto* topic = cmd->add_option("--topic", f->topic, "topic to consume")->capture_default_str();
  AddPgOptions(cmd, &f->pg, &f->pg_user, &f->pg_password);
  cmd->add_option("--storage", f->storage,
                  "lake root: every valid event is archived exactly once under "
                  "DIR/devices/year=/month=/day=/hour=/*.parquet");
  auto* group = cmd->add_option("--group", f->group,
                                "Kafka consumer group; also names the progress in lf_offsets")
                    ->capture_default_str();
  auto* table =
      cmd->add_option("--table", f->table, "window table ([schema.]name)")->capture_default_str();
  cmd->add_option("--exit-when-idle", f->exit_when_idle,
                  "after this long without input (e.g. 5s): commit, print a summary, exit 0");
  cmd->add_option("--flush-interval", f->flush_interval, "how often results are committed")
      ->capture_default_str();
  auto* lateness = cmd->add_option("--lateness", f->lateness,
                                   "allowed lateness: watermark = max event time - this")
                       ->capture_default_str();
  auto* window =
      cmd->add_option("--window", f->window, "tumbling window size")->capture_default_str();
  cmd->add_option("--lake-roll-interval", f->lake_roll_interval,
                  "lake files are committed at least this often (also when an hour completes)")
      ->capture_default_str();
  cmd->add_option("-X,--kafka-property", f->kafka_properties,
                  "extra librdkafka consumer property key=value (repeatable)");
  cmd->add_option("positional", f->positional,
                  "kafkaServer topicName jdbcUri jdbcTable jdbcUser jdbcPassword StorageRootPath");
  cmd->callback([=] {
    f->topic_given = topic->count() > 0;
    f->group_given = group->count() > 0;
    f->table_given = table->count() > 0;
    f->window_given = window->count() > 0;
    f->lateness_given = lateness->count() > 0;
    *run = [f] { return RunSpeed(*f); };
  });
}

}  // namespace lf::cli
