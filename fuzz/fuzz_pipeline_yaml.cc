// libFuzzer target: pipeline definitions (YAML, SPEC §4) through the loader, and what loads
// through `pipeline explain` (which renders its SQL). The derived-expression parser gets the raw
// input as well. A definition that loads must load again identically.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/explain.h"
#include "config/expression.h"
#include "config/pipeline_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  lf::config::LoadOptions options;
  options.getenv = [](const std::string& name) -> std::optional<std::string> {
    if (name == "X") return std::string("x");
    return std::nullopt;
  };
  auto def = lf::config::ParsePipeline(input, "fuzz.yaml", options);
  if (def.ok()) {
    std::string explained = lf::config::ExplainPipeline(*def);
    auto again = lf::config::ParsePipeline(input, "fuzz.yaml", options);
    if (!again.ok() || lf::config::ExplainPipeline(*again) != explained) __builtin_trap();
  }
  (void)lf::config::ParseExpression(input);
  (void)lf::config::ParseAggregate(input);
  return 0;
}
