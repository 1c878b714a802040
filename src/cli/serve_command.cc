// `lambdaflow serve`: the live dashboard, JSON API, Server-Sent Events and Prometheus metrics.

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/pipeline_support.h"
#include "common/status.h"
#include "common/time.h"
#include "serve/server.h"
#include "spdlog/spdlog.h"

namespace lf::cli {
namespace {

struct ServeFlags {
  std::string pg, pg_user, pg_password;
  std::string listen = "127.0.0.1:8080";
  std::string auth_token;
  std::string lateness = "1m";
  std::vector<std::string> pipelines;
  bool lateness_given = false;
};

// --pipeline: serve reads the telecom tables under their default names so far.
absl::Status ApplyPipelines(ServeFlags* f) {
  for (const std::string& file : f->pipelines) {
    LF_ASSIGN_OR_RETURN(pipeline::Definition def, LoadDefinition(file));
    // Wide-layout pipelines are served from the catalog (/api/pipelines, /api/metric).
    if (def.postgres.layout == pipeline::Layout::kWide) continue;
    LF_RETURN_IF_ERROR(CheckTelecomShape(def, "serve"));
    const postgres::SchemaOptions defaults, tables = TelecomTables(def);
    if (tables.bytes_table != defaults.bytes_table ||
        tables.bytes_hourly_table != defaults.bytes_hourly_table ||
        tables.user_quota_limit_table != defaults.user_quota_limit_table ||
        tables.user_metadata_table != defaults.user_metadata_table) {
      return FailedPrecondition(
          "serve: pipeline {} ({}) renames the telecom tables; the dashboard reads bytes, "
          "bytes_hourly, user_quota_limit and user_metadata so far",
          def.name, def.file);
    }
    if (!f->lateness_given) f->lateness = FormatDuration(def.lateness);
  }
  return absl::OkStatus();
}

int RunServe(ServeFlags f) {
  if (auto st = ApplyPipelines(&f); !st.ok()) return Fail(st, 2);
  serve::ServerOptions options;
  auto colon = f.listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Fail(
        InvalidArgument("--listen: expected HOST:PORT (e.g. 127.0.0.1:8080), got '{}'", f.listen),
        2);
  }
  options.host = f.listen.substr(0, colon);
  if (options.host.size() > 2 && options.host.front() == '[' && options.host.back() == ']')
    options.host = options.host.substr(1, options.host.size() - 2);
  try {
    size_t used = 0;
    options.port = std::stoi(f.listen.substr(colon + 1), &used);
    if (used != f.listen.size() - colon - 1 || options.port < 0 || options.port > 65535)
      throw std::out_of_range("");
  } catch (const std::exception&) {
    return Fail(
        InvalidArgument("--listen: bad port in '{}' (0..65535; 0 picks a free one)", f.listen), 2);
  }
  auto lateness = ParseDuration(f.lateness);
  if (!lateness.ok()) return Fail(Annotate(lateness.status(), "--lateness"), 2);
  options.lateness = std::chrono::duration_cast<std::chrono::seconds>(*lateness);
  options.auth_token = f.auth_token;
  if (!options.auth_token.empty()) {
    // Scrub the token from argv as passwords are (prefer LAMBDAFLOW_AUTH_TOKEN in the environment).
    postgres::ConnTarget token;
    token.secrets.push_back(options.auth_token);
    HideSecretsFromProcessList(token);
  }
  bool local = options.host == "127.0.0.1" || options.host == "localhost" || options.host == "::1";
  if (!local && options.auth_token.empty()) {
    spdlog::warn(
        "serve: listening on {} without --auth-token: anyone who can reach it can read the data",
        options.host);
  }

  auto target = postgres::ParseConnTarget(f.pg, f.pg_user, f.pg_password);
  if (!target.ok()) return Fail(target.status(), 2);
  HideSecretsFromProcessList(*target);
  options.target = *target;

  auto server = serve::Server::Open(options);
  if (!server.ok()) return Fail(server.status(), 1);
  std::string host =
      options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host;
  spdlog::info("serve: {} (read-only), dashboard at http://{}:{}/{}", target->display, host,
               (*server)->port(),
               options.auth_token.empty() ? "" : " (open /?token=<token> once to sign in)");
  std::printf("serve: listening on http://%s:%d/\n", host.c_str(), (*server)->port());
  std::fflush(stdout);
  if (auto st = (*server)->Run(); !st.ok()) return Fail(st, 1);
  spdlog::info("serve: stopped");
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App& app, Runner* run) {
  auto f = std::make_shared<ServeFlags>();
  auto* cmd = app.add_subcommand(
      "serve",
      "The serving layer: a live dashboard (bytes per antenna, top users and apps, users over "
      "quota,\n"
      "speed versus batch, pipeline health) pushed by Server-Sent Events, a JSON API under /api/,\n"
      "Prometheus metrics at /metrics and /healthz for probes. Reads PostgreSQL, never writes.\n"
      "Prints 'serve: listening on http://HOST:PORT/' when ready; SIGINT/SIGTERM stop it.");
  AddPgOptions(cmd, &f->pg, &f->pg_user, &f->pg_password)->required();
  cmd->add_option("--listen", f->listen, "HOST:PORT to listen on (port 0 picks a free one)")
      ->capture_default_str();
  cmd->add_option(
         "--auth-token", f->auth_token,
         "require 'Authorization: Bearer TOKEN' (or the cookie set by opening /?token=TOKEN); "
         "/healthz stays open. Use it when listening beyond 127.0.0.1")
      ->envname("LAMBDAFLOW_AUTH_TOKEN");
  auto* lateness = cmd->add_option("--lateness", f->lateness,
                                   "the speed layer's allowed lateness (marks open windows)")
                       ->capture_default_str();
  cmd->add_option("--pipeline", f->pipelines,
                  "pipeline definition(s) to serve (repeatable); their lateness applies unless "
                  "--lateness is given");
  cmd->callback([=] {
    f->lateness_given = lateness->count() > 0;
    *run = [f] { return RunServe(*f); };
  });
}

}  // namespace lf::cli
