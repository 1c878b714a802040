// `lambdaflow provision`: creates every table and loads user_metadata (idempotent).

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/pipeline_support.h"
#include "common/status.h"
#include "postgres/connection.h"
#include "postgres/schema.h"
#include "spdlog/spdlog.h"

namespace lf::cli {
namespace {

struct ProvisionFlags {
  std::string pg;
  std::string pg_user, pg_password;
  postgres::SchemaOptions schema;
  std::vector<std::string> pipelines;
};

// Each --pipeline: the long layout's telecom tables, then the definition's own objects and its
// catalog rows.
int ProvisionPipelines(PGconn* conn, const std::vector<pipeline::Definition>& defs) {
  for (const pipeline::Definition& def : defs) {
    if (def.postgres.layout == pipeline::Layout::kLong) {
      if (auto st = CheckTelecomShape(def, "provision"); !st.ok()) {
        spdlog::error("{}", Message(st));
        return 2;
      }
      if (auto st = postgres::Provision(conn, TelecomTables(def)); !st.ok()) {
        spdlog::error("{}", Message(st));
        return absl::IsInvalidArgument(st) ? 2 : 1;
      }
    }
    if (auto st = postgres::ProvisionPipeline(conn, def); !st.ok()) {
      spdlog::error("{}", Message(st));
      return absl::IsInvalidArgument(st) ? 2 : 1;
    }
    spdlog::info("provision: pipeline {} ({}): {} metrics, {} derived, {} batch metrics", def.name,
                 def.file, def.metrics.size(), def.derived.size(), def.batch.metrics.size());
  }
  std::printf("provision: ok\n");
  return 0;
}

int RunProvision(const ProvisionFlags& f) {
  std::vector<pipeline::Definition> defs;
  for (const std::string& file : f.pipelines) {
    auto def = LoadDefinition(file);
    if (!def.ok()) {
      spdlog::error("provision: {}", Message(def.status()));
      return 2;
    }
    defs.push_back(std::move(*def));
  }
  auto target = postgres::ParseConnTarget(f.pg, f.pg_user, f.pg_password);
  if (!target.ok()) {
    spdlog::error("{}", Message(target.status()));
    return 2;
  }
  HideSecretsFromProcessList(*target);
  auto conn = postgres::Connect(*target);
  if (!conn.ok()) {
    spdlog::error("provision: {}", Message(conn.status()));
    return 1;
  }
  if (!defs.empty()) return ProvisionPipelines(conn->get(), defs);
  if (auto st = postgres::Provision(conn->get(), f.schema); !st.ok()) {
    spdlog::error("{}", Message(st));
    return absl::IsInvalidArgument(st) ? 2 : 1;
  }
  spdlog::info(
      "provision: {} is ready: {}, {}, {}, {} (20 users), dead_letters, lf_offsets, lf_data_loss",
      target->display, f.schema.bytes_table, f.schema.bytes_hourly_table,
      f.schema.user_quota_limit_table, f.schema.user_metadata_table);
  std::printf("provision: ok\n");
  return 0;
}

}  // namespace

void AddProvisionCommand(CLI::App& app, Runner* run) {
  auto f = std::make_shared<ProvisionFlags>();
  auto* cmd = app.add_subcommand(
      "provision",
      "Creates every table Lambdaflow uses (user_metadata with the course's 20 users, bytes,\n"
      "bytes_hourly, user_quota_limit, dead_letters and the internal lf_* tables) with the\n"
      "unique keys upserts need. Idempotent: running it again changes nothing; on a database\n"
      "that already has the seeds' original tables it adds what is missing and keeps every row.");
  AddPgOptions(cmd, &f->pg, &f->pg_user, &f->pg_password)->required();
  cmd->add_option("--pipeline", f->pipelines,
                  "provision these pipeline definitions (repeatable): their tables, keys, views "
                  "and catalog rows (lf_pipelines, lf_metrics); without it, the telecom tables");
  cmd->add_option("--user-metadata-table", f->schema.user_metadata_table)->capture_default_str();
  cmd->add_option("--bytes-table", f->schema.bytes_table)->capture_default_str();
  cmd->add_option("--bytes-hourly-table", f->schema.bytes_hourly_table)->capture_default_str();
  cmd->add_option("--user-quota-limit-table", f->schema.user_quota_limit_table)
      ->capture_default_str();
  cmd->callback([run, f] { *run = [f] { return RunProvision(*f); }; });
}

}  // namespace lf::cli
