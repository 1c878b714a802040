#include "cli/commands.h"

namespace lf::cli {

void AddProvisionCommand(CLI::App& app, Runner* run) {
  auto* cmd = app.add_subcommand("provision", "(not yet built)");
  cmd->callback([run] { *run = [] { return 1; }; });
}

}  // namespace lf::cli
