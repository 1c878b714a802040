#pragma once

// The registry's Store in PostgreSQL: tables lf_registry_schemas, lf_registry_subject_versions
// and lf_registry_config, created (idempotently) by Open(). Several registry processes may share
// one database: registrations of a subject are serialized by a transaction-scoped advisory lock
// and schema ids are kept unique by a unique index on the canonical form's SHA-256.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "postgres/connection.h"
#include "postgres/conninfo.h"
#include "registry/store.h"

namespace lf::registry {

struct PgStoreOptions {
  postgres::ConnTarget target;
  size_t max_connections = 4;  // opened lazily, shared by the HTTP worker threads
};

class PgStore : public Store {
 public:
  // Connects once and creates the tables when missing; errors name the database (not the
  // password).
  static absl::StatusOr<std::unique_ptr<PgStore>> Open(const PgStoreOptions& options);

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
  explicit PgStore(const PgStoreOptions& options);

  // Runs `fn` with a pooled connection; once more on a fresh connection when the first one turned
  // out to be lost (every operation here is safe to repeat: registration is idempotent).
  absl::Status With(const std::function<absl::Status(PGconn*)>& fn);
  absl::StatusOr<postgres::PgConn> Acquire();
  void Release(postgres::PgConn conn);

  postgres::ConnTarget target_;
  size_t max_connections_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<postgres::PgConn> idle_;
  size_t open_ = 0;
};

}  // namespace lf::registry
