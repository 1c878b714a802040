// `lambdaflow registry`: a Confluent-compatible schema registry (SPEC §6.4) kept in PostgreSQL.

#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "common/status.h"
#include "registry/avro_schema_rules.h"
#include "registry/pg_store.h"
#include "registry/server.h"
#include "registry/service.h"
#include "spdlog/spdlog.h"

namespace lf::cli {
namespace {

struct RegistryFlags {
  std::string pg, pg_user, pg_password;
  std::string listen = "127.0.0.1:8081";
};

// "HOST:PORT" (or "[v6]:PORT") into host and port; port 0 means any free port.
absl::Status ParseListen(const std::string& listen, std::string* host, int* port) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return InvalidArgument("--listen: expected HOST:PORT (e.g. 127.0.0.1:8081), got '{}'", listen);
  *host = listen.substr(0, colon);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']')
    *host = host->substr(1, host->size() - 2);
  try {
    size_t used = 0;
    *port = std::stoi(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1 || *port < 0 || *port > 65535)
      throw std::out_of_range("");
  } catch (const std::exception&) {
    return InvalidArgument("--listen: bad port in '{}' (0..65535; 0 picks a free one)", listen);
  }
  return absl::OkStatus();
}

int RunRegistry(const RegistryFlags& f) {
  registry::ServerOptions server_options;
  if (auto st = ParseListen(f.listen, &server_options.host, &server_options.port); !st.ok())
    return Fail(st, 2);
  bool local = server_options.host == "127.0.0.1" || server_options.host == "localhost" ||
               server_options.host == "::1";
  if (!local) {
    spdlog::warn(
        "registry: listening on {} without authentication: anyone who can reach it can register "
        "schemas",
        server_options.host);
  }
  auto target = postgres::ParseConnTarget(f.pg, f.pg_user, f.pg_password);
  if (!target.ok()) return Fail(target.status(), 2);
  HideSecretsFromProcessList(*target);

  auto store = registry::PgStore::Open({.target = *target});
  if (!store.ok()) return Fail(store.status(), 1);
  registry::AvroSchemaRules rules;
  registry::Service service(store->get(), &rules,
                            {.max_body_bytes = server_options.max_body_bytes});
  auto server = registry::Server::Open(server_options, &service);
  if (!server.ok()) return Fail(server.status(), 1);

  std::string host = server_options.host.find(':') != std::string::npos
                         ? "[" + server_options.host + "]"
                         : server_options.host;
  spdlog::info("registry: schemas in {}", target->display);
  std::printf("registry: listening on http://%s:%d/\n", host.c_str(), (*server)->port());
  std::fflush(stdout);
  if (auto st = (*server)->Run(); !st.ok()) return Fail(st, 1);
  spdlog::info("registry: stopped");
  return 0;
}

}  // namespace

void AddRegistryCommand(CLI::App& app, Runner* run) {
  auto f = std::make_shared<RegistryFlags>();
  auto* cmd = app.add_subcommand(
      "registry",
      "A schema registry speaking the Confluent Schema Registry REST API (Avro schemas, kept in\n"
      "PostgreSQL tables lf_registry_*; several registry processes may share one database).\n"
      "Prints 'registry: listening on http://HOST:PORT/' when ready; SIGINT/SIGTERM stop it.");
  AddPgOptions(cmd, &f->pg, &f->pg_user, &f->pg_password)->required();
  cmd->add_option("--listen", f->listen, "HOST:PORT to listen on (port 0 picks a free one)")
      ->capture_default_str();
  cmd->callback([=] { *run = [f] { return RunRegistry(*f); }; });
}

}  // namespace lf::cli
