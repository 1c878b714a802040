// `lambdaflow pipeline validate|explain FILE`: checks a definition and shows what it creates.

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/status.h"
#include "config/explain.h"
#include "config/pipeline_loader.h"

namespace lf::cli {
namespace {

struct PipelineFlags {
  std::vector<std::string> files;
};

// Loads each file and hands the valid ones to `then`; every problem goes to stderr. 0 when all
// are valid, 2 otherwise.
int ForEachDefinition(
    const PipelineFlags& f,
    const std::function<void(const std::string&, const pipeline::Definition&)>& then) {
  int status = 0;
  for (const std::string& file : f.files) {
    auto def = config::LoadPipeline(file);
    if (!def.ok()) {
      std::fprintf(stderr, "%s\n", Message(def.status()).c_str());
      status = 2;
      continue;
    }
    then(file, *def);
  }
  return status;
}

int RunValidate(const PipelineFlags& f) {
  return ForEachDefinition(f, [](const std::string& file, const pipeline::Definition& def) {
    std::printf("%s: ok: pipeline %s, %zu fields, %zu metrics, %zu derived, %zu batch metrics\n",
                file.c_str(), def.name.c_str(), def.fields.size(), def.metrics.size(),
                def.derived.size(), def.batch.metrics.size());
  });
}

int RunExplain(const PipelineFlags& f) {
  return ForEachDefinition(f, [](const std::string&, const pipeline::Definition& def) {
    std::fputs(config::ExplainPipeline(def).c_str(), stdout);
  });
}

}  // namespace

void AddPipelineCommand(CLI::App& app, Runner* run) {
  auto* cmd = app.add_subcommand(
      "pipeline", "Pipeline definitions (YAML, SPEC §4): check them and see what they create.");
  cmd->require_subcommand(1);
  auto f = std::make_shared<PipelineFlags>();
  auto* validate = cmd->add_subcommand(
      "validate",
      "Checks definitions; every problem is printed as FILE:LINE:COLUMN: message. Exit status 0\n"
      "when all are valid, 2 otherwise.");
  validate->add_option("FILE", f->files, "pipeline definition(s)")->required();
  validate->callback([run, f] { *run = [f] { return RunValidate(*f); }; });
  auto* explain = cmd->add_subcommand(
      "explain",
      "Prints what a definition creates: the source and schema, the PostgreSQL tables, keys and\n"
      "views, the lake layout, and for each metric the Spark SQL a Spark user would have written.");
  explain->add_option("FILE", f->files, "pipeline definition(s)")->required();
  explain->callback([run, f] { *run = [f] { return RunExplain(*f); }; });
}

}  // namespace lf::cli
