#pragma once

// Avro schema resolution (spec: "Schema Resolution") as a yes/no check with the reason, and the
// schema registry's compatibility levels built on it (SPEC §6.4).

#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "avro/schema.h"

namespace lf::avro {

// OK when data written with `writer` can be read with `reader`: records match by (unqualified)
// name or a reader alias, fields by name or reader field alias; a reader field missing in the
// writer needs a default; writer fields unknown to the reader are ignored; int promotes to
// long/float/double, long to float/double, float to double, string and bytes to each other;
// every writer enum symbol is a reader symbol unless the reader enum has a default; fixed sizes
// match; every branch of a writer union must be readable, and a non-union writer must match some
// reader union branch. Logical types do not take part (as in the spec). Otherwise
// InvalidArgument saying what breaks, e.g. "field 'currency' has no default and is missing in
// the writer schema (record 'shop.Order')".
absl::Status CanRead(const Schema& reader, const Schema& writer);

// The schema registry's levels (Confluent's names).
enum class Compatibility {
  kNone,
  kBackward,
  kForward,
  kFull,
  kBackwardTransitive,
  kForwardTransitive,
  kFullTransitive,
};

// "NONE", "BACKWARD", ..., "FULL_TRANSITIVE".
std::string_view CompatibilityName(Compatibility c);
// The inverse of CompatibilityName (exact, upper case); InvalidArgument otherwise.
absl::StatusOr<Compatibility> ParseCompatibility(std::string_view name);

// Whether `candidate` may be registered after `previous` (oldest first; none may be null).
// BACKWARD: the candidate can read data of the latest previous schema; FORWARD: the latest can
// read the candidate's data; FULL: both; the *_TRANSITIVE levels check against every previous
// schema. OK with no previous schema. InvalidArgument naming the level, the schema it fails
// against ("version 2 of 3", counting from the oldest) and CanRead's reason.
absl::Status CheckCompatibility(Compatibility level, const Schema& candidate,
                                const std::vector<const Schema*>& previous);

}  // namespace lf::avro
