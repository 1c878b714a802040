// lambdaflow: one binary, one subcommand per layer of the pipeline.

#include <cstdio>
#include <cstring>
#include <string>

#include "CLI/CLI.hpp"
#include "cli/commands.h"
#include "common/logging.h"
#include "common/shutdown.h"
#include "common/status.h"
#include "spdlog/spdlog.h"

namespace lf::cli {
namespace {
int g_argc = 0;
char** g_argv = nullptr;
}  // namespace

CLI::Option* AddPgOptions(CLI::App* cmd, std::string* pg, std::string* user,
                          std::string* password) {
  cmd->add_option("--pg-user", *user, "PostgreSQL user (overrides the one in --pg)");
  cmd->add_option("--pg-password", *password,
                  "PostgreSQL password (prefer PGPASSWORD or ~/.pgpass: flags show in ps)");
  return cmd->add_option(
      "--pg", *pg, "PostgreSQL: libpq connection string or URI, or jdbc:postgresql://host:port/db");
}

int Fail(const absl::Status& st, int code) {
  spdlog::error("{}", Message(st));
  return code;
}

void HideSecretsFromProcessList(const postgres::ConnTarget& target) {
  for (const std::string& value : target.secrets) {
    for (int i = 1; i < g_argc; ++i) {
      for (char* p = std::strstr(g_argv[i], value.c_str()); p; p = std::strstr(p, value.c_str()))
        std::memset(p, '*', value.size());
    }
  }
  // A password inside a URI may also be percent-encoded or part of a key=value string; those
  // forms are caught above only when written literally.
}

}  // namespace lf::cli

int main(int argc, char** argv) {
  lf::cli::g_argc = argc;
  lf::cli::g_argv = argv;
  CLI::App app{
      "Lambdaflow: a lambda-architecture pipeline in one binary. A speed layer turns a Kafka\n"
      "stream into 5-minute metrics in PostgreSQL exactly once; a batch layer recomputes exact\n"
      "hourly metrics from a Parquet lake; a serving layer merges both.",
      "lambdaflow"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "lambdaflow 0.1.0");
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();

  lf::cli::Runner run;
  lf::cli::AddUpCommand(app, &run);
  lf::cli::AddBrokerCommand(app, &run);
  lf::cli::AddProvisionCommand(app, &run);
  lf::cli::AddSimulateCommand(app, &run);
  lf::cli::AddSpeedCommand(app, &run);
  lf::cli::AddLakeCommand(app, &run);
  lf::cli::AddBatchCommand(app, &run);
  lf::cli::AddServeCommand(app, &run);
  lf::cli::AddPipelineCommand(app, &run);
  lf::cli::AddIngestCommand(app, &run);
  lf::cli::AddGenerateCommand(app, &run);
  lf::cli::AddRegistryCommand(app, &run);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (auto st = lf::InitLogging(log_level); !st.ok()) {
    std::fprintf(stderr, "lambdaflow: %s\n", std::string(st.message()).c_str());
    return 2;
  }
  lf::InstallShutdownHandlers();
  if (!run) return 2;
  try {
    return run();
  } catch (const std::exception& e) {
    // Modules return statuses; anything thrown this far is a bug, reported rather than aborting.
    spdlog::critical("internal error: {}", e.what());
    return 70;
  }
}
