#pragma once

#include <functional>

#include "CLI/CLI.hpp"

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

}  // namespace lf::cli
