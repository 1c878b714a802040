#pragma once

// What the registry needs to know about a schema language: a canonical form (the key that makes
// registration idempotent and ids global) and the compatibility check. The registry owns this
// interface; Avro implements it (avro_schema_rules.h), tests use a fake.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "registry/compatibility_level.h"

namespace lf::registry {

// Implementations must be thread-safe: HTTP worker threads share one instance.
class SchemaRules {
 public:
  virtual ~SchemaRules() = default;

  // The canonical form of `schema`: two schemas with the same canonical form are the same schema.
  // InvalidArgument saying what is wrong when `schema` is not a valid schema.
  virtual absl::StatusOr<std::string> Canonical(std::string_view schema) const = 0;

  // OK when `candidate` may follow `previous` under `level`; FailedPrecondition saying why when it
  // may not. `previous` are schema texts, oldest first, already narrowed by the caller to the
  // versions `level` compares with (the latest only, or all of them for *_TRANSITIVE levels);
  // each was accepted by Canonical() before. Never called with kNone or an empty `previous`.
  virtual absl::Status Check(CompatibilityLevel level, std::string_view candidate,
                             const std::vector<std::string>& previous) const = 0;
};

}  // namespace lf::registry
