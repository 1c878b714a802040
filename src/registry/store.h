#pragma once

// Where the registry keeps schemas, subject versions and compatibility levels: PostgreSQL in
// production (pg_store.h), memory in tests (memory_store.h).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "registry/compatibility_level.h"

namespace lf::registry {

// One live version of a subject.
struct SubjectVersion {
  std::string subject;
  int version = 0;
  int64_t id = 0;      // the schema's global id
  std::string schema;  // the schema text as first registered under `id`
};

struct Registration {
  int64_t id = 0;
  int version = 0;
  bool created = false;  // false: the subject already had this schema (nothing changed)
};

// Every method is thread-safe and atomic: several registry processes may share one store.
// Errors other than the documented ones are the store's own (Unavailable, Internal).
class Store {
 public:
  virtual ~Store() = default;

  // Called by Register() inside its critical section, with the level in force for the subject
  // (its own, else the global one, else kDefaultCompatibility) and the schema texts of its live
  // versions, oldest first (never empty). A non-OK status cancels the registration and is
  // returned by Register() as it is.
  using CompatibilityGate =
      std::function<absl::Status(CompatibilityLevel, const std::vector<std::string>& previous)>;

  // Adds `schema` as the next version of `subject` (ids and version numbers are never reused),
  // unless a live version of the subject already has `canonical`: then that version, unchanged
  // and without calling `gate`. A schema whose canonical form is known (under any subject) keeps
  // its id. `gate` is called only when the subject has live versions. Registrations of one
  // subject are serialized across processes.
  virtual absl::StatusOr<Registration> Register(std::string_view subject, std::string_view schema,
                                                std::string_view canonical,
                                                const CompatibilityGate& gate) = 0;

  // The schema text with global id `id`, or nullopt.
  virtual absl::StatusOr<std::optional<std::string>> SchemaById(int64_t id) = 0;

  // The live (subject, version) pairs that use schema `id`, by subject then version.
  virtual absl::StatusOr<std::vector<std::pair<std::string, int>>> SubjectVersionsOf(
      int64_t id) = 0;

  // Subjects with at least one live version, sorted.
  virtual absl::StatusOr<std::vector<std::string>> Subjects() = 0;

  // The live versions of `subject`, oldest first; empty when the subject is unknown.
  virtual absl::StatusOr<std::vector<SubjectVersion>> Versions(std::string_view subject) = 0;

  // The live version of `subject` whose schema has `canonical`, or nullopt.
  virtual absl::StatusOr<std::optional<SubjectVersion>> FindByCanonical(
      std::string_view subject, std::string_view canonical) = 0;

  // The level set for `subject` ("" = the global level), or nullopt when none was set.
  virtual absl::StatusOr<std::optional<CompatibilityLevel>> Config(std::string_view subject) = 0;
  virtual absl::Status SetConfig(std::string_view subject, CompatibilityLevel level) = 0;
};

}  // namespace lf::registry
