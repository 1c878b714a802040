// `lambdaflow generate farmia`: sample landing files for the ingestion engine (SPEC §6.5).

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/status.h"
#include "common/time.h"
#include "ingest/orders.h"
#include "sim/farmia.h"
#include "spdlog/spdlog.h"

namespace lf::cli {
namespace {

struct GenerateFlags {
  std::string landing;
  uint64_t seed = 1;
  int files = 3, rows = 200;
  bool faults = false;
  std::string start = "2026-11-22T00:00:00Z";
  std::string brokers, registry;
  int64_t orders = 0;
  std::vector<std::string> datasets;
};

int RunGenerateFarmia(const GenerateFlags& f) {
  const bool orders = !f.brokers.empty() || !f.registry.empty() || f.orders > 0;
  if (orders && (f.brokers.empty() || f.registry.empty())) {
    return Fail(InvalidArgument("generate farmia: Avro sales orders need --brokers and "
                                "--schema-registry"),
                2);
  }
  auto start = ParseTime(f.start);
  if (!start.ok()) return Fail(Annotate(start.status(), "--start"), 2);
  sim::FarmiaOptions o;
  o.landing = f.landing;
  o.seed = f.seed;
  o.files = f.files;
  o.rows = f.rows;
  o.faults = f.faults;
  o.start = *start;
  o.datasets = f.datasets;
  if (orders) {
    ingest::OrdersOptions oo;
    oo.brokers = f.brokers;
    oo.registry = f.registry;
    oo.orders = f.orders > 0 ? f.orders : 100;
    oo.seed = f.seed;
    oo.start_ms = ToUnixSeconds(*start) * 1000;
    oo.faults = f.faults;
    auto sent = ingest::ProduceOrders(oo);
    if (!sent.ok()) return Fail(sent.status());
    spdlog::info("generate farmia: {} Avro sales order message(s) to topic {} via {}", *sent,
                 oo.topic, f.brokers);
    if (f.landing.empty()) return 0;
  }
  auto summary = sim::GenerateFarmia(o);
  if (!summary.ok())
    return Fail(summary.status(), absl::IsInvalidArgument(summary.status()) ? 2 : 1);
  spdlog::info(
      "generate farmia: {} file(s) under {}: {} valid row(s){}", summary->files, f.landing,
      summary->rows,
      f.faults ? fmt::format(", {} bad row(s), an empty and a non-UTF-8 file", summary->bad_rows)
               : "");
  std::printf("{\"files\":%lld,\"rows\":%lld,\"bad_rows\":%lld}\n",
              static_cast<long long>(summary->files), static_cast<long long>(summary->rows),
              static_cast<long long>(summary->bad_rows));
  return 0;
}

}  // namespace

void AddGenerateCommand(CLI::App& app, Runner* run) {
  auto* cmd = app.add_subcommand("generate", "Sample data for the pipelines (SPEC §6.5)");
  cmd->require_subcommand(1);
  auto f = std::make_shared<GenerateFlags>();
  auto* farmia = cmd->add_subcommand(
      "farmia",
      "Sample landing files for pipelines/farmia/*.yaml: IoT sensor readings and suppliers as\n"
      "CSV, inventory as NDJSON and JSON arrays, weather as JSON arrays, under "
      "LANDING/<dataset>/.\n"
      "--faults mixes in bad rows, extra columns, a BOM, CRLF, an empty and a non-UTF-8 file.");
  farmia->add_option("--landing", f->landing, "the landing root to write into (files)");
  farmia->add_option("--seed", f->seed, "the same seed writes the same files")
      ->capture_default_str();
  farmia->add_option("--files", f->files, "files per dataset")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  farmia->add_option("--rows", f->rows, "rows per file")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  farmia->add_flag("--faults", f->faults, "mix in realistic faults");
  farmia
      ->add_option("--datasets", f->datasets,
                   "only these (iot_sensors, inventory, suppliers, weather); default all")
      ->delimiter(',');
  farmia->add_option("--start", f->start, "time of the first reading (UTC)")->capture_default_str();
  farmia->add_option("--brokers", f->brokers, "Kafka brokers for Avro sales orders");
  farmia->add_option("--schema-registry", f->registry, "schema registry for the orders");
  farmia->add_option("--orders", f->orders,
                     "Avro sales orders to produce to topic sales_orders (default 100 with "
                     "--brokers)");
  farmia->callback([run, f] { *run = [f] { return RunGenerateFarmia(*f); }; });
}

}  // namespace lf::cli
