// `lambdaflow simulate`: produces SPEC §1.1 device events to Kafka.

#include <cstdio>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/pipeline_support.h"
#include "common/status.h"
#include "common/time.h"
#include "kafka/producer.h"
#include "sim/production_line.h"
#include "sim/simulator.h"
#include "spdlog/spdlog.h"

namespace lf::cli {
namespace {

struct SimulateFlags {
  std::string brokers = "127.0.0.1:9092";
  std::string topic = "devices";
  int64_t antennas = 5;
  int64_t devices = 20;
  std::optional<int64_t> events;
  std::optional<double> rate;
  std::string start;
  std::string interval = "1s";
  std::optional<uint64_t> seed;
  std::string out;
  double speedup = 1.0;
  std::string progress = "5s";
  std::vector<std::string> properties;
  std::string pipeline;
  bool topic_given = false;
  std::optional<int64_t> units;  // production line: stop after N units are produced
  // The seeds' positional form: brokers topic (seed 003: `kafka:9092 TFI`).
  std::vector<std::string> positional;
};

absl::StatusOr<sim::SimulatorOptions> ToOptions(const SimulateFlags& f) {
  sim::SimulatorOptions o;
  o.topic = f.topic;
  o.generator.devices = f.devices;
  o.generator.antennas = f.antennas;
  if (f.seed) {
    o.generator.seed = *f.seed;
  } else {
    o.generator.seed = std::random_device{}() | (uint64_t{std::random_device{}()} << 32);
  }
  LF_ASSIGN_OR_RETURN(o.generator.interval, ParseDuration(f.interval));
  if (!f.start.empty()) {
    LF_ASSIGN_OR_RETURN(o.generator.start, ParseTime(f.start));
    o.simulated_time = true;
  }
  LF_ASSIGN_OR_RETURN(o.progress_every, ParseDuration(f.progress));
  o.events = f.events;
  o.rate = f.rate;
  o.speedup = f.speedup;
  o.out_path = f.out;
  return o;
}

absl::StatusOr<kafka::ProducerOptions> ToProducerOptions(const SimulateFlags& f) {
  kafka::ProducerOptions p;
  p.brokers = f.brokers;
  for (const std::string& kv : f.properties) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      return InvalidArgument("simulate: -X {}: want key=value", kv);
    p.overrides.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return p;
}

int RunSimulate(SimulateFlags flags) {
  if (flags.positional.size() > 2) {
    spdlog::error("simulate: at most 2 positional arguments (brokers topic), got {}",
                  flags.positional.size());
    return 2;
  }
  if (!flags.positional.empty()) flags.brokers = flags.positional[0];
  if (flags.positional.size() == 2) {
    flags.topic = flags.positional[1];
    flags.topic_given = true;
  }
  // The production line (SPEC §5) has its own simulator; telecom-shaped definitions the devices'.
  std::unique_ptr<sim::ProductionLine> line;
  if (!flags.pipeline.empty()) {
    auto def = LoadDefinition(flags.pipeline);
    if (!def.ok()) {
      spdlog::error("{}", Message(def.status()));
      return 2;
    }
    if (!flags.topic_given) flags.topic = def->source.topic;
    if (def->name == "production_line") {
      sim::LineOptions lo;
      if (flags.seed) lo.seed = *flags.seed;
      lo.units = flags.units;
      if (!flags.start.empty()) {
        auto start = ParseTime(flags.start);
        if (!start.ok()) {
          spdlog::error("simulate: --start: {}", Message(start.status()));
          return 2;
        }
        lo.start = *start;
      } else {
        lo.start = WallNow();
      }
      line = std::make_unique<sim::ProductionLine>(lo);
    } else if (absl::Status st = CheckTelecomShape(*def, "simulate"); !st.ok()) {
      spdlog::error("{} (simulators exist for the telecom and production_line pipelines)",
                    Message(st));
      return 2;
    }
  } else if (flags.units) {
    spdlog::error("simulate: --units is for --pipeline pipelines/production_line.yaml");
    return 2;
  }
  auto options = ToOptions(flags);
  if (!options.ok()) {
    spdlog::error("simulate: {}", Message(options.status()));
    return 2;
  }
  auto producer_options = ToProducerOptions(flags);
  if (!producer_options.ok()) {
    spdlog::error("{}", Message(producer_options.status()));
    return 2;
  }
  auto producer = kafka::Producer::Open(*producer_options);
  if (!producer.ok()) {
    spdlog::error("{}", Message(producer.status()));
    return 2;
  }
  if (line && flags.units && !flags.events) options->simulated_time = true;  // as fast as possible
  auto stats = sim::RunSimulator(*options, **producer, line.get());
  if (!stats.ok()) {
    spdlog::error("{}", Message(stats.status()));
    return 1;
  }
  std::printf("simulate: %lld events in %.3f s, %.0f events/s\n",
              static_cast<long long>(stats->events), stats->seconds, stats->events_per_second());
  if (line)
    std::printf("simulate: %lld units produced\n", static_cast<long long>(line->produced()));
  std::fflush(stdout);
  return 0;
}

}  // namespace

void AddSimulateCommand(CLI::App& app, Runner* run) {
  auto f = std::make_shared<SimulateFlags>();
  auto* cmd = app.add_subcommand(
      "simulate",
      "Produces device events (JSON, SPEC 1.1) to Kafka, keyed by device id.\n"
      "Device k has id 00000000-0000-0000-0000-<k as 12 digits>, so devices 1..20 are the users\n"
      "provisioned in user_metadata; antenna k has 00000000-0000-0000-0001-<12 digits>.\n"
      "Without --events it runs in real time (about one event per device per --interval) until\n"
      "SIGINT/SIGTERM, then flushes and exits 0. With --events N it sends N events as fast as it\n"
      "can (or at --rate) and prints one summary line on stdout.");
  cmd->add_option("--brokers", f->brokers, "Kafka bootstrap servers")->capture_default_str();
  cmd->add_option("--pipeline", f->pipeline,
                  "pipeline definition (YAML): produce to its topic unless --topic is given");
  auto* topic = cmd->add_option("--topic", f->topic, "topic to produce to")->capture_default_str();
  cmd->add_option("--antennas", f->antennas, "number of antennas")
      ->check(CLI::Range(int64_t{1}, int64_t{999'999'999'999}))
      ->capture_default_str();
  cmd->add_option("--devices", f->devices, "number of devices (users)")
      ->check(CLI::Range(int64_t{1}, int64_t{999'999'999'999}))
      ->capture_default_str();
  cmd->add_option("--events", f->events, "stop after N events, sent as fast as possible")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--rate", f->rate,
                  "events per second (default: real time, or unpaced with --events)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--start", f->start,
                  "simulate event time from this ISO-8601 time (e.g. 2026-11-22T09:00:00Z); "
                  "default: the wall clock");
  cmd->add_option("--interval", f->interval, "event time between a device's consecutive events")
      ->capture_default_str();
  cmd->add_option("--seed", f->seed,
                  "random seed; same seed and flags give the same stream "
                  "(default: random, logged)");
  cmd->add_option("--out", f->out, "also write every payload sent to FILE as NDJSON");
  cmd->add_option("--speedup", f->speedup,
                  "event time runs K times faster than real time (and so does the default rate)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--progress", f->progress, "how often to log progress")->capture_default_str();
  cmd->add_option("-X,--kafka-property", f->properties,
                  "librdkafka producer property key=value (repeatable), applied last");
  cmd->add_option("--units", f->units,
                  "production line: stop once N units are produced (as fast as possible, event "
                  "time from --start)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("positional", f->positional, "brokers topic (the seeds' form)");
  cmd->callback([=] {
    f->topic_given = topic->count() > 0;
    *run = [f] { return RunSimulate(*f); };
  });
}

}  // namespace lf::cli
