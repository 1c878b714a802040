// `lambdaflow up`: the whole pipeline on one machine, on embedded defaults.

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "cli/pipeline_support.h"
#include "common/shutdown.h"
#include "common/status.h"
#include "common/subprocess.h"
#include "common/time.h"
#include "postgres/connection.h"
#include "postgres/local_server.h"
#include "postgres/schema.h"
#include "spdlog/spdlog.h"

namespace lf::cli {
namespace {

namespace fs = std::filesystem;

struct UpFlags {
  std::string brokers, pg;
  std::string storage = "lambdaflow-data";
  std::string listen = "127.0.0.1:8080";
  double speedup = 1.0;
  double rate = 0;
  int antennas = 5, devices = 20;
  std::string batch_every = "30s";
  std::vector<std::string> pipelines;
};

// One pipeline `up` runs: the built-in telecom pipeline (no --pipeline), a telecom-shaped
// definition, or a wide-layout Kafka JSON definition on the general engine.
struct UpPipeline {
  std::optional<pipeline::Definition> def;  // none: the built-in telecom pipeline
  bool telecom = true;
  bool landing = false;  // landing files into bronze: `ingest`, no broker or speed layer
  bool avro = false;     // an Avro topic into bronze: `ingest` with the registry
  bool bronze = false;   // a Kafka topic into bronze (no metrics, lake with metadata): `ingest`
  bool batch = true;     // has a batch layer to run for pending units
  std::string name = "telecom", topic = "devices", dataset = "devices";
  std::string suffix;  // for child names, logs and groups when several pipelines run

  // The --pipeline flag passed to every child of this pipeline, so they run the same definition.
  std::vector<std::string> With(std::vector<std::string> args) const {
    if (def) {
      args.push_back("--pipeline");
      args.push_back(def->file);
    }
    return args;
  }
};

// The --pipeline definitions `up` runs (repeatable): at most one telecom-shaped, any number of
// wide-layout Kafka JSON ones, names unique. Without --pipeline, the built-in telecom pipeline.
absl::StatusOr<std::vector<UpPipeline>> UpPipelines(const UpFlags& f) {
  std::vector<UpPipeline> out;
  if (f.pipelines.empty()) {
    out.emplace_back();
    return out;
  }
  bool have_telecom = false;
  for (const std::string& file : f.pipelines) {
    LF_ASSIGN_OR_RETURN(pipeline::Definition def, LoadDefinition(file));
    UpPipeline p;
    absl::Status telecom = CheckTelecomShape(def, "up");
    p.telecom = telecom.ok();
    p.landing = def.source.kind == pipeline::SourceKind::kLanding;
    p.avro = def.source.kind == pipeline::SourceKind::kKafka &&
             def.source.format == pipeline::Format::kAvro;
    p.bronze = p.avro || (def.source.kind == pipeline::SourceKind::kKafka && def.metrics.empty() &&
                          def.lake.metadata);
    if (!p.telecom && !p.landing && !p.bronze &&
        (def.source.kind != pipeline::SourceKind::kKafka ||
         def.source.format != pipeline::Format::kJson ||
         def.postgres.layout != pipeline::Layout::kWide)) {
      return telecom;
    }
    if ((p.landing || p.bronze) && def.lake.dataset.empty()) {
      return InvalidArgument("up: --pipeline {}: an ingestion pipeline needs a lake sink", file);
    }
    p.batch =
        p.telecom || (!p.landing && !p.bronze && def.batch.enabled && !def.lake.dataset.empty());
    if (p.telecom && have_telecom) {
      return InvalidArgument("up: --pipeline {}: only one telecom-shaped pipeline at a time", file);
    }
    have_telecom = have_telecom || p.telecom;
    for (const UpPipeline& other : out) {
      if (other.def->name == def.name) {
        return InvalidArgument("up: --pipeline {}: a pipeline named '{}' is given twice", file,
                               def.name);
      }
    }
    def.file = fs::absolute(def.file).string();
    p.name = def.name;
    p.topic = def.source.topic;
    if (!def.lake.dataset.empty()) p.dataset = def.lake.dataset;
    p.def = std::move(def);
    out.push_back(std::move(p));
  }
  if (out.size() > 1) {
    for (UpPipeline& p : out) p.suffix = "-" + p.name;
  }
  return out;
}

struct Child {
  std::string name;
  pid_t pid = 0;
};

// Waits until `file` holds a line starting with `prefix`; returns the rest of that line.
absl::StatusOr<std::string> WaitForLine(const std::string& file, const std::string& prefix,
                                        pid_t pid, std::chrono::seconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end && !ShutdownRequested()) {
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
    }
    if (ExitedStatus(pid) >= 0)
      return Unavailable("up: {} exited before it was ready; see {}", prefix, file);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Unavailable("up: gave up waiting for '{}' in {}", prefix, file);
}

// One status line from PostgreSQL: events, rate, lag, watermark, last batch hour.
std::string StatusLine(PGconn* conn, const std::string& groups, int64_t* last_events,
                       std::chrono::steady_clock::time_point* last_at) {
  auto r = postgres::Query(
      conn,
      "SELECT COALESCE(sum(events), 0), COALESCE(sum(bad), 0), COALESCE(sum(late), 0), "
      "COALESCE(sum(lag), 0), min(max_event_time_s), "
      "(SELECT max(hour) FROM lf_batch_runs WHERE status = 'ok') "
      "FROM lf_offsets WHERE pipeline = ANY($1::text[]) AND sink LIKE 'pg:%'",
      {groups.c_str()}, "up: status");
  if (!r.ok()) return "status unavailable: " + Message(r.status());
  PGresult* res = r->get();
  int64_t events = std::atoll(PQgetvalue(res, 0, 0));
  auto now = std::chrono::steady_clock::now();
  double secs = std::chrono::duration<double>(now - *last_at).count();
  double rate = secs > 0 ? (events - *last_events) / secs : 0;
  *last_events = events;
  *last_at = now;
  std::string wm = PQgetisnull(res, 0, 4)
                       ? "none"
                       : FormatTime(FromUnixSeconds(std::atoll(PQgetvalue(res, 0, 4)) - 60));
  std::string batch = PQgetisnull(res, 0, 5) ? "none" : PQgetvalue(res, 0, 5);
  return fmt::format(
      "{} events ({:.0f}/s), {} bad, {} late, lag {}, watermark {}, last batch hour {}", events,
      rate, PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3), wm, batch);
}

// One `up` per storage directory: an exclusive lock on STORAGE/up.lock for the life of this
// process. The kernel releases it however the process dies, so a dead run never blocks the next.
// Returns the lock's descriptor, or -1 after saying who holds it.
int LockStorage(const std::string& root) {
  std::string path = root + "/up.lock";
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    spdlog::error("up: cannot open {}: {}", path, std::strerror(errno));
    return -1;
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {};
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    std::string holder = n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string("?");
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    spdlog::error(
        "up: another `lambdaflow up` (pid {}) is running on {}; stop it first (Ctrl-C there, or "
        "kill {}) or use another --storage",
        holder, root, holder);
    close(fd);
    return -1;
  }
  std::string me = std::to_string(getpid()) + "\n";
  if (ftruncate(fd, 0) != 0 || pwrite(fd, me.data(), me.size(), 0) < 0) {
    spdlog::warn("up: cannot write the pid into {}: {}", path, std::strerror(errno));
  }
  return fd;
}

int RunUp(const UpFlags& f) {
  auto listed = UpPipelines(f);
  if (!listed.ok()) {
    spdlog::error("{}", Message(listed.status()));
    return 2;
  }
  const std::vector<UpPipeline>& pipelines = *listed;
  std::error_code ec;
  fs::create_directories(f.storage + "/logs", ec);
  if (ec) {
    spdlog::error("up: --storage: cannot create {}: {}", f.storage, ec.message());
    return 2;
  }
  const std::string root = fs::absolute(f.storage).string();
  const int lock_fd = LockStorage(root);
  if (lock_fd < 0) return 1;
  const std::string logs = root + "/logs";
  auto speed_every = ParseDuration(f.batch_every);
  if (!speed_every.ok()) {
    spdlog::error("{}", Message(Annotate(speed_every.status(), "--batch-every")));
    return 2;
  }
  const std::string self = SelfExecutable();
  std::vector<Child> children;
  std::unique_ptr<postgres::LocalServer> local_pg;
  int exit_code = 0;

  auto shutdown = [&](int code) {
    // Producers first, so the speed layer can drain and commit what arrived.
    for (auto it = children.rbegin(); it != children.rend(); ++it) {
      int s = Stop(it->pid, std::chrono::seconds(30));
      spdlog::info("up: stopped {} (exit {})", it->name, s);
    }
    if (local_pg) {
      if (auto st = local_pg->Stop(); !st.ok()) spdlog::warn("{}", Message(st));
      spdlog::info("up: stopped PostgreSQL");
    }
    close(lock_fd);
    return code;
  };
  auto start = [&](const std::string& name,
                   std::vector<std::string> args) -> absl::StatusOr<pid_t> {
    args.insert(args.begin(), self);
    LF_ASSIGN_OR_RETURN(pid_t pid, Spawn(args, logs + "/" + name + ".log"));
    children.push_back({name, pid});
    return pid;
  };

  std::string pg = f.pg;
  if (f.pg.empty()) {
    auto server = postgres::LocalServer::Start(root + "/postgres");
    if (!server.ok()) {
      spdlog::error("{}", Message(server.status()));
      return shutdown(1);
    }
    local_pg = std::move(*server);
    pg = local_pg->uri();
  }
  auto target = postgres::ParseConnTarget(pg);
  if (!target.ok()) {
    spdlog::error("{}", Message(target.status()));
    return shutdown(2);
  }
  HideSecretsFromProcessList(*target);
  auto conn = postgres::Connect(*target);
  if (!conn.ok()) {
    spdlog::error("{}", Message(conn.status()));
    return shutdown(1);
  }
  // The telecom tables always (the dashboard's health panel reads them), named by a telecom
  // definition when one is given; then each definition's own objects and catalog rows.
  postgres::SchemaOptions telecom_tables;
  for (const UpPipeline& p : pipelines) {
    if (p.telecom && p.def) telecom_tables = TelecomTables(*p.def);
  }
  if (auto st = postgres::Provision(conn->get(), telecom_tables); !st.ok()) {
    spdlog::error("{}", Message(st));
    return shutdown(1);
  }
  for (const UpPipeline& p : pipelines) {
    if (!p.def) continue;
    if (auto st = postgres::ProvisionPipeline(conn->get(), *p.def); !st.ok()) {
      spdlog::error("{}", Message(st));
      return shutdown(1);
    }
  }
  std::vector<std::string> topics;
  std::vector<std::string> landing_args;  // --pipeline F for each pipeline `ingest` runs
  bool farmia = false, avro = false, kafka_bronze = false;
  for (const UpPipeline& p : pipelines) {
    if (p.landing || p.bronze) {
      landing_args = p.With(landing_args);
      farmia = farmia || (p.landing && p.name.rfind("farmia_", 0) == 0);
      avro = avro || p.avro;
      kafka_bronze = kafka_bronze || p.bronze;
      if (p.landing) continue;
    }
    if (std::find(topics.begin(), topics.end(), p.topic) == topics.end()) topics.push_back(p.topic);
  }

  std::string brokers = f.brokers;
  std::string group = "lambdaflow-speed";
  if (brokers.empty() && !topics.empty()) {
    std::string out = logs + "/broker.log";
    fs::remove(out, ec);
    std::vector<std::string> args = {"broker", "--listen", "127.0.0.1:0"};
    for (const std::string& t : topics) {
      args.push_back("--topic");
      args.push_back(t);
    }
    auto pid = start("broker", args);
    if (!pid.ok()) return shutdown(1);
    auto addr = WaitForLine(out, "broker: listening on ", *pid, std::chrono::seconds(60));
    if (!addr.ok()) {
      spdlog::error("{}", Message(addr.status()));
      return shutdown(1);
    }
    brokers = *addr;
    // The embedded broker starts empty each time: progress of an earlier run's topic does not
    // apply, so each broker instance gets its own consumer group (results accumulate in the
    // same tables and lake).
    group = fmt::format("lambdaflow-up-{}", ToUnixSeconds(WallNow()));
  }

  // Per pipeline: its speed layer, in its own consumer group when several run, and its simulator
  // (the telecom devices, the production line's; none for other definitions). One simulator
  // per topic.
  // Hours close every 3600/speedup seconds; roll lake files at least that often.
  auto roll = std::chrono::seconds(
      std::max<int64_t>(10, static_cast<int64_t>(300 / std::max(1.0, f.speedup))));
  std::string groups;  // PostgreSQL text[] literal of every group, for the status line
  std::vector<std::string> simulated_topics;
  bool ok = true;
  for (const UpPipeline& p : pipelines) {
    if (p.landing || p.bronze) continue;
    const std::string p_group = group + p.suffix;
    groups += (groups.empty() ? "" : ",") + p_group;
    ok = ok && start("speed" + p.suffix,
                     p.With({"speed", "--brokers", brokers, "--pg", pg, "--storage", root,
                             "--group", p_group, "--lake-roll-interval", FormatDuration(roll)}))
                   .ok();
    const bool simulated = p.telecom || p.name == "production_line";
    if (!simulated) {
      spdlog::info("up: no simulator for pipeline {}: produce to topic {} yourself", p.name,
                   p.topic);
      continue;
    }
    if (std::find(simulated_topics.begin(), simulated_topics.end(), p.topic) !=
        simulated_topics.end()) {
      continue;
    }
    simulated_topics.push_back(p.topic);
    std::vector<std::string> sim =
        p.telecom
            ? p.With({"simulate", "--brokers", brokers, "--antennas", std::to_string(f.antennas),
                      "--devices", std::to_string(f.devices), "--speedup",
                      fmt::format("{}", f.speedup)})
            : p.With({"simulate", "--brokers", brokers, "--speedup", fmt::format("{}", f.speedup)});
    if (f.rate > 0) {
      sim.push_back("--rate");
      sim.push_back(fmt::format("{}", f.rate));
    }
    if (f.brokers.empty()) {
      // The embedded broker (librdkafka's mock) walks a partition's message sets one by one on
      // every fetch, so its CPU grows with the sets it holds: at demo rates 10 ms batches are a
      // message or two each and after ~15 minutes it used 85 % of a core and fell behind.
      // Batches of 250 ms keep it small; the latency they add is far below the speed layer's
      // flush.
      sim.push_back("-X");
      sim.push_back("linger.ms=250");
    }
    ok = ok && start("simulate" + p.suffix, sim).ok();
  }
  groups = "{" + groups + "}";
  // Landing pipelines: one `ingest --watch` for all of them, over STORAGE/landing, with FarmIA's
  // sample files written first (new ones on every start) when a FarmIA pipeline is among them.
  const std::string landing = root + "/landing";
  std::string registry_url;
  if (ok && (avro || farmia)) {
    // FarmIA or Avro topics: a schema registry beside the broker (for the user's own producers
    // too), and with Avro topics sample orders through it.
    std::string out = logs + "/registry.log";
    fs::remove(out, ec);
    auto pid = start("registry", {"registry", "--pg", pg, "--listen", "127.0.0.1:0"});
    auto url = pid.ok()
                   ? WaitForLine(out, "registry: listening on ", *pid, std::chrono::seconds(30))
                   : absl::StatusOr<std::string>(pid.status());
    if (!url.ok()) {
      spdlog::error("{}", Message(url.status()));
      ok = false;
    } else {
      registry_url = *url;
      while (!registry_url.empty() && registry_url.back() == '/') registry_url.pop_back();
    }
    if (ok && avro) {
      auto gen = RunToCompletion({self, "generate", "farmia", "--brokers", brokers,
                                  "--schema-registry", registry_url, "--orders", "500", "--faults"},
                                 logs + "/generate-orders.log");
      if (!gen.ok() || *gen != 0) {
        spdlog::warn("up: generate farmia --orders failed; see {}/generate-orders.log", logs);
      }
    }
  }
  if (ok && !landing_args.empty()) {
    if (farmia) {
      const auto seed = ToUnixSeconds(WallNow());
      auto gen = RunToCompletion({self, "generate", "farmia", "--landing", landing, "--faults",
                                  "--seed", std::to_string(seed)},
                                 logs + "/generate.log");
      if (!gen.ok() || *gen != 0) {
        spdlog::warn("up: generate farmia failed; see {}/generate.log", logs);
      }
    }
    std::vector<std::string> args = {"ingest",    "--watch", "--landing", landing,
                                     "--storage", root,      "--pg",      pg};
    if (kafka_bronze) args.insert(args.end(), {"--brokers", brokers});
    if (avro) args.insert(args.end(), {"--schema-registry", registry_url});
    args.insert(args.end(), landing_args.begin(), landing_args.end());
    ok = start("ingest", args).ok();
  }
  std::string dashboard = "(no dashboard in this build)";
  if (ok) {
    std::string out = logs + "/serve.log";
    fs::remove(out, ec);
    std::vector<std::string> args = {"serve", "--pg", pg, "--listen", f.listen};
    for (const UpPipeline& p : pipelines) args = p.With(args);
    auto pid = start("serve", args);
    if (pid.ok()) {
      auto url = WaitForLine(out, "serve: listening on ", *pid, std::chrono::seconds(30));
      if (url.ok()) {
        dashboard = *url;
      } else {
        spdlog::error("{}", Message(url.status()));
        ok = false;
      }
    }
  }
  if (!ok) return shutdown(1);

  std::string names, datasets;
  for (const UpPipeline& p : pipelines) {
    names += (names.empty() ? "" : ", ") + p.name;
    datasets += (datasets.empty() ? "" : ", ") + root + "/" + p.dataset;
  }
  std::printf(
      "Lambdaflow is up.\n"
      "  dashboard:   %s\n"
      "  pipelines:   %s\n"
      "  PostgreSQL:  %s\n"
      "  broker:      %s\n"
      "%s"
      "%s"
      "  lake:        %s\n"
      "  logs:        %s\n"
      "Ctrl-C stops everything.\n",
      dashboard.c_str(), names.c_str(),
      target->secrets.empty() ? pg.c_str() : target->display.c_str(),
      topics.empty() ? "none (no Kafka pipeline)"
                     : fmt::format("{} (topic{} {})", brokers, topics.size() > 1 ? "s" : "",
                                   fmt::join(topics, ", "))
                           .c_str(),
      registry_url.empty() ? "" : fmt::format("  registry:    {}\n", registry_url).c_str(),
      landing_args.empty() ? ""
                           : fmt::format("  landing:     {} (drop files here)\n", landing).c_str(),
      datasets.c_str(), logs.c_str());
  std::fflush(stdout);

  const bool tty = isatty(STDOUT_FILENO);
  int64_t last_events = 0;
  auto last_at = std::chrono::steady_clock::now();
  auto next_batch = std::chrono::steady_clock::now() + *speed_every;
  // One batch process at a time, the pipelines in turn.
  pid_t batch_pid = 0;
  size_t batch_next = 0;
  while (!ShutdownRequested()) {
    SleepUnlessShutdown(std::chrono::seconds(tty ? 2 : 10));
    if (ShutdownRequested()) break;
    for (const Child& c : children) {
      int s = ExitedStatus(c.pid);
      if (s >= 0) {
        spdlog::error("up: {} exited with status {}; see {}/{}.log", c.name, s, logs, c.name);
        exit_code = 1;
        RequestShutdown();
      }
    }
    if (local_pg && !exit_code) {
      if (int s = ExitedStatus(local_pg->pid()); s >= 0) {
        spdlog::error("up: PostgreSQL exited with status {}; stopping. See {}", s,
                      local_pg->log_path());
        exit_code = 1;
        RequestShutdown();
      }
    }
    if (exit_code) break;
    if (batch_pid != 0 && ExitedStatus(batch_pid) >= 0) batch_pid = 0;
    if (batch_pid == 0 && std::chrono::steady_clock::now() >= next_batch) {
      // Every unit (hour, day) that closed, or that late data reopened, gets its batch run.
      const UpPipeline& p = pipelines[batch_next];
      if (p.batch) {
        auto pid = Spawn(p.With({self, "batch", "--storage", root, "--pg", pg, "--pending"}),
                         logs + "/batch" + p.suffix + ".log");
        if (pid.ok()) batch_pid = *pid;
      }
      batch_next = (batch_next + 1) % pipelines.size();
      if (batch_next == 0) next_batch = std::chrono::steady_clock::now() + *speed_every;
    }
    std::string line = StatusLine(conn->get(), groups, &last_events, &last_at);
    if (!landing_args.empty()) {
      auto r = postgres::Query(conn->get(),
                               "SELECT count(*) FILTER (WHERE status = 'ok'), count(*) FILTER "
                               "(WHERE status <> 'ok'), coalesce(sum(rows), 0), "
                               "coalesce(sum(bad_rows), 0) FROM lf_ingested_files",
                               {}, "up: ingest status");
      if (r.ok()) {
        line += fmt::format("; ingest: {} files ({} unreadable), {} rows, {} bad rows",
                            PQgetvalue(r->get(), 0, 0), PQgetvalue(r->get(), 0, 1),
                            PQgetvalue(r->get(), 0, 2), PQgetvalue(r->get(), 0, 3));
      }
    }
    if (tty) {
      std::printf("\r\033[K%s", line.c_str());
    } else {
      std::printf("status: %s\n", line.c_str());
    }
    std::fflush(stdout);
  }
  if (tty) std::printf("\n");
  spdlog::info("up: stopping");
  if (batch_pid != 0) Stop(batch_pid, std::chrono::seconds(30));
  return shutdown(exit_code);
}

}  // namespace

void AddUpCommand(CLI::App& app, Runner* run) {
  auto f = std::make_shared<UpFlags>();
  auto* cmd = app.add_subcommand(
      "up",
      "Everything on one machine: the embedded broker (unless --brokers) and a private PostgreSQL\n"
      "under STORAGE/postgres (unless --pg), provisioning, the simulator, the speed layer, a "
      "batch\n"
      "run for every hour that closes (or that late data reopens), and the dashboard. Prints "
      "where\n"
      "to look, then a live status line. Ctrl-C/SIGTERM stops everything; running it again "
      "resumes\n"
      "with the same database and lake.");
  cmd->add_option("--brokers", f->brokers, "use this Kafka cluster instead of the embedded broker");
  cmd->add_option("--pg", f->pg, "use this PostgreSQL instead of a private one");
  cmd->add_option("--storage", f->storage, "lake root, also holds postgres/ and logs/")
      ->capture_default_str();
  cmd->add_option("--listen", f->listen, "dashboard address")->capture_default_str();
  cmd->add_option("--speedup", f->speedup, "simulated time runs K times faster than real time")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--rate", f->rate, "simulator events per second (default: devices x speedup)");
  cmd->add_option("--antennas", f->antennas)->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--devices", f->devices)->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--batch-every", f->batch_every,
                  "how often to run the batch layer for pending hours")
      ->capture_default_str();
  cmd->add_option("--pipeline", f->pipelines,
                  "pipeline definition (YAML) to run, repeatable (e.g. pipelines/telecom.yaml "
                  "and pipelines/production_line.yaml side by side); default: the telecom "
                  "pipeline");
  cmd->callback([run, f] { *run = [f] { return RunUp(*f); }; });
}

}  // namespace lf::cli
