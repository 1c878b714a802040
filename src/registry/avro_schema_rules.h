#pragma once

// SchemaRules for Avro (src/avro): the canonical form is the spec's Parsing Canonical Form, the
// check is Avro schema resolution under the registry's levels.

#include "registry/schema_rules.h"

namespace lf::registry {

// Stateless and thread-safe.
class AvroSchemaRules : public SchemaRules {
 public:
  absl::StatusOr<std::string> Canonical(std::string_view schema) const override;
  absl::Status Check(CompatibilityLevel level, std::string_view candidate,
                     const std::vector<std::string>& previous) const override;
};

}  // namespace lf::registry
