#include "registry/avro_schema_rules.h"

#include <memory>

#include "avro/compatibility.h"
#include "avro/schema.h"
#include "common/status.h"

namespace lf::registry {
absl::StatusOr<std::string> AvroSchemaRules::Canonical(std::string_view schema) const {
  LF_ASSIGN_OR_RETURN(avro::Schema parsed, avro::Schema::Parse(schema));
  return avro::CanonicalForm(parsed);
}

absl::Status AvroSchemaRules::Check(CompatibilityLevel level, std::string_view candidate,
                                    const std::vector<std::string>& previous) const {
  auto parsed = avro::Schema::Parse(candidate);
  if (!parsed.ok()) return parsed.status();  // InvalidArgument: the candidate itself is broken
  std::vector<avro::Schema> earlier;
  earlier.reserve(previous.size());
  for (const std::string& text : previous) {
    auto schema = avro::Schema::Parse(text);
    if (!schema.ok()) {
      return Internal("registry: a stored schema no longer parses: {}", Message(schema.status()));
    }
    earlier.push_back(std::move(*schema));
  }
  std::vector<const avro::Schema*> pointers;
  for (const avro::Schema& s : earlier) pointers.push_back(&s);
  absl::Status st = avro::CheckCompatibility(level, *parsed, pointers);
  // Avro reports a failed check as InvalidArgument; to the registry it is a refusal (409).
  if (absl::IsInvalidArgument(st)) return FailedPrecondition("{}", Message(st));
  return st;
}

}  // namespace lf::registry
