#pragma once

#include <functional>

#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "postgres/conninfo.h"

namespace lf::cli {

// What a selected subcommand does once flags are parsed; returns the process exit status.
using Runner = std::function<int()>;

// Each adds its subcommand and flags to `app`; when the subcommand is selected, parsing sets
// `*run` to its action. Defined in <name>_command.cc. This directory is the only place where
// modules are wired together.
void AddBrokerCommand(CLI::App& app, Runner* run);
void AddProvisionCommand(CLI::App& app, Runner* run);
void AddSimulateCommand(CLI::App& app, Runner* run);
void AddSpeedCommand(CLI::App& app, Runner* run);
void AddLakeCommand(CLI::App& app, Runner* run);
void AddBatchCommand(CLI::App& app, Runner* run);
void AddUpCommand(CLI::App& app, Runner* run);
void AddServeCommand(CLI::App& app, Runner* run);
void AddPipelineCommand(CLI::App& app, Runner* run);
void AddIngestCommand(CLI::App& app, Runner* run);
void AddGenerateCommand(CLI::App& app, Runner* run);
void AddRegistryCommand(CLI::App& app, Runner* run);

// Logs `st` as an error and returns `code` (the exit status: 2 for usage, 1 for failures).
int Fail(const absl::Status& st, int code = 1);

// Adds --pg (returned, so callers can mark it required), --pg-user and --pg-password.
CLI::Option* AddPgOptions(CLI::App* cmd, std::string* pg, std::string* user, std::string* password);

// Overwrites the password of `target`, wherever it appears in this process's argv, with '*', so
// `ps` stops showing it (it was visible from exec until now; prefer PGPASSWORD or ~/.pgpass).
void HideSecretsFromProcessList(const postgres::ConnTarget& target);

}  // namespace lf::cli
