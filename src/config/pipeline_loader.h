#pragma once

// Loads a pipeline definition (SPEC §4) from YAML into pipeline::Definition, checking everything
// the layers rely on. This module is the only one that sees YAML.
//
// Errors: absl::InvalidArgumentError whose message holds one line per problem, each
// "FILE:LINE:COLUMN: message" (1-based), in file order; every problem found is reported, not only
// the first. A file that cannot be read is NotFound / PermissionDenied-like (the OS reason).

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "pipeline/definition.h"

namespace lf::config {

struct LoadOptions {
  // Resolves ${VAR} in scalars; defaults to the process environment.
  std::function<std::optional<std::string>(const std::string&)> getenv;
};

// Files larger than this are refused before parsing (definitions are a few KiB).
inline constexpr size_t kMaxDefinitionBytes = 1 << 20;

absl::StatusOr<pipeline::Definition> LoadPipeline(const std::string& path,
                                                  const LoadOptions& options = {});

// `file` is only used in messages and stored in Definition::file.
absl::StatusOr<pipeline::Definition> ParsePipeline(std::string_view text, const std::string& file,
                                                   const LoadOptions& options = {});

}  // namespace lf::config
