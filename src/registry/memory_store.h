#pragma once

// An in-memory Store for tests (and a registry without PostgreSQL). Thread-safe.

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "registry/store.h"

namespace lf::registry {

class MemoryStore : public Store {
 public:
  absl::StatusOr<Registration> Register(std::string_view subject, std::string_view schema,
                                        std::string_view canonical,
                                        const CompatibilityGate& gate) override;
  absl::StatusOr<std::optional<std::string>> SchemaById(int64_t id) override;
  absl::StatusOr<std::vector<std::pair<std::string, int>>> SubjectVersionsOf(int64_t id) override;
  absl::StatusOr<std::vector<std::string>> Subjects() override;
  absl::StatusOr<std::vector<SubjectVersion>> Versions(std::string_view subject) override;
  absl::StatusOr<std::optional<SubjectVersion>> FindByCanonical(
      std::string_view subject, std::string_view canonical) override;
  absl::StatusOr<std::optional<CompatibilityLevel>> Config(std::string_view subject) override;
  absl::Status SetConfig(std::string_view subject, CompatibilityLevel level) override;

 private:
  struct Schema {
    std::string text;
    std::string canonical;
  };
  struct Version {
    int version;
    int64_t id;
  };
  std::vector<SubjectVersion> VersionsLocked(std::string_view subject) const;

  std::mutex mu_;
  std::vector<Schema> schemas_;                                        // id - 1 → schema
  std::map<std::string, std::vector<Version>, std::less<>> subjects_;  // oldest first
  std::map<std::string, CompatibilityLevel, std::less<>> config_;
};

}  // namespace lf::registry
