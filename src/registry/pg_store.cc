#include "registry/pg_store.h"

#include <string>

#include "common/status.h"
#include "spdlog/spdlog.h"

namespace lf::registry {
namespace {

// Arbitrary constants: the advisory lock taken while creating the tables, and the first key of
// the two-key lock that serializes registrations of one subject (the second is its hash).
constexpr char kSetupLock[] = "SELECT pg_advisory_xact_lock(7466230150)";
constexpr char kSubjectLockClass[] = "746623";

constexpr char kCreateTables[] = R"sql(
CREATE TABLE IF NOT EXISTS lf_registry_schemas (
  id SERIAL PRIMARY KEY,
  schema TEXT NOT NULL,
  canonical TEXT NOT NULL,
  -- SHA-256 of canonical: unique (an index on the text itself would fail past ~2.7 kB).
  fingerprint BYTEA NOT NULL,
  schema_type TEXT NOT NULL DEFAULT 'AVRO',
  created_at TIMESTAMPTZ NOT NULL DEFAULT now());
CREATE UNIQUE INDEX IF NOT EXISTS lf_registry_schemas_fingerprint
  ON lf_registry_schemas (fingerprint);
CREATE TABLE IF NOT EXISTS lf_registry_subject_versions (
  subject TEXT NOT NULL,
  version INT NOT NULL,
  schema_id INT NOT NULL REFERENCES lf_registry_schemas (id),
  deleted BOOLEAN NOT NULL DEFAULT false,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (subject, version));
CREATE INDEX IF NOT EXISTS lf_registry_subject_versions_schema
  ON lf_registry_subject_versions (schema_id);
CREATE TABLE IF NOT EXISTS lf_registry_config (
  subject TEXT PRIMARY KEY,  -- '' is the global level
  compatibility TEXT NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now());
)sql";

// The SQL expression of the fingerprint of the text in parameter $`param`.
std::string Fingerprint(int param) { return fmt::format("sha256(convert_to(${}, 'UTF8'))", param); }

postgres::ConnTarget RegistryTarget(const postgres::ConnTarget& target) {
  postgres::ConnTarget t = target;
  std::string options;
  for (const auto& [key, value] : t.params) {
    if (key == "options") options = value;  // later pairs win, as in libpq
  }
  options += " -c statement_timeout=15000";
  t.params.emplace_back("options", options);
  t.params.emplace_back("application_name", "lambdaflow-registry");
  return t;
}

int ToInt(const char* text) { return std::stoi(text); }
int64_t ToInt64(const char* text) { return std::stoll(text); }

absl::StatusOr<std::optional<CompatibilityLevel>> LevelOf(PGresult* r) {
  if (PQntuples(r) == 0) return std::nullopt;
  std::string_view text = PQgetvalue(r, 0, 0);
  auto level = ParseCompatibilityLevel(text);
  if (!level)
    return Internal("registry: unknown compatibility level '{}' in lf_registry_config", text);
  return level;
}

}  // namespace

PgStore::PgStore(const PgStoreOptions& options)
    : target_(RegistryTarget(options.target)), max_connections_(options.max_connections) {}

absl::StatusOr<std::unique_ptr<PgStore>> PgStore::Open(const PgStoreOptions& options) {
  std::unique_ptr<PgStore> store(new PgStore(options));
  LF_ASSIGN_OR_RETURN(postgres::PgConn conn, postgres::Connect(store->target_));
  LF_RETURN_IF_ERROR(
      postgres::InTransaction(conn.get(), "registry: create tables", [&]() -> absl::Status {
        LF_RETURN_IF_ERROR(postgres::Exec(conn.get(), kSetupLock, "registry: lock"));
        return postgres::Exec(conn.get(), kCreateTables, "registry: create tables");
      }));
  store->Release(std::move(conn));
  {
    std::lock_guard lock(store->mu_);
    store->open_ = 1;
  }
  return store;
}

absl::StatusOr<postgres::PgConn> PgStore::Acquire() {
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !idle_.empty() || open_ < max_connections_; });
    if (!idle_.empty()) {
      postgres::PgConn conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
    ++open_;
  }
  auto conn = postgres::Connect(target_);
  if (!conn.ok()) {
    std::lock_guard lock(mu_);
    --open_;
    cv_.notify_one();
  }
  return conn;
}

void PgStore::Release(postgres::PgConn conn) {
  std::lock_guard lock(mu_);
  if (conn && !postgres::ConnectionLost(conn.get())) {
    idle_.push_back(std::move(conn));
  } else if (open_ > 0) {
    --open_;  // a lost connection is closed; the next caller opens a fresh one
  }
  cv_.notify_one();
}

absl::Status PgStore::With(const std::function<absl::Status(PGconn*)>& fn) {
  absl::Status st;
  for (int attempt = 0; attempt < 2; ++attempt) {
    LF_ASSIGN_OR_RETURN(postgres::PgConn conn, Acquire());
    st = fn(conn.get());
    bool lost = postgres::ConnectionLost(conn.get());
    Release(std::move(conn));
    if (st.ok() || !lost) return st;
    spdlog::warn("registry: {} (retrying on a new connection)", Message(st));
  }
  return st;
}

absl::StatusOr<Registration> PgStore::Register(std::string_view subject_view,
                                               std::string_view schema_view,
                                               std::string_view canonical_view,
                                               const CompatibilityGate& gate) {
  const std::string subject(subject_view), schema(schema_view), canonical(canonical_view);
  const std::string lock_sql =
      fmt::format("SELECT pg_advisory_xact_lock({}, hashtext($1))", kSubjectLockClass);
  const std::string live_sql = fmt::format(
      "SELECT v.version, v.schema_id, s.schema, s.fingerprint = {} AND s.canonical = $2 "
      "FROM lf_registry_subject_versions v JOIN lf_registry_schemas s ON s.id = v.schema_id "
      "WHERE v.subject = $1 AND NOT v.deleted ORDER BY v.version",
      Fingerprint(2));
  // Another subject may be adding the same schema at this moment: the unique index makes one
  // transaction wait for the other, and the following SELECT then sees the committed row.
  const std::string insert_schema_sql = fmt::format(
      "INSERT INTO lf_registry_schemas (schema, canonical, fingerprint) VALUES ($1, $2, {}) "
      "ON CONFLICT (fingerprint) DO NOTHING",
      Fingerprint(2));
  const std::string schema_id_sql =
      fmt::format("SELECT id FROM lf_registry_schemas WHERE fingerprint = {} AND canonical = $1",
                  Fingerprint(1));
  // Version numbers count deleted versions too: a number is never given twice.
  constexpr char kInsertVersion[] =
      "INSERT INTO lf_registry_subject_versions (subject, version, schema_id) "
      "SELECT $1, COALESCE(max(version), 0) + 1, $2 FROM lf_registry_subject_versions "
      "WHERE subject = $1 RETURNING version";

  Registration out;
  absl::Status st = With([&](PGconn* conn) {
    return postgres::InTransaction(conn, "registry: register", [&]() -> absl::Status {
      out = Registration{};
      LF_RETURN_IF_ERROR(
          postgres::Query(conn, lock_sql, {subject.c_str()}, "registry: lock subject").status());
      LF_ASSIGN_OR_RETURN(postgres::PgResult live,
                          postgres::Query(conn, live_sql, {subject.c_str(), canonical.c_str()},
                                          "registry: read versions"));
      std::vector<std::string> previous;
      for (int i = 0; i < PQntuples(live.get()); ++i) {
        if (std::string_view(PQgetvalue(live.get(), i, 3)) == "t") {
          out = {ToInt64(PQgetvalue(live.get(), i, 1)), ToInt(PQgetvalue(live.get(), i, 0)), false};
          return absl::OkStatus();  // already registered: the transaction changed nothing
        }
        previous.emplace_back(PQgetvalue(live.get(), i, 2));
      }
      if (!previous.empty()) {
        LF_ASSIGN_OR_RETURN(
            postgres::PgResult cfg,
            postgres::Query(conn,
                            "SELECT compatibility FROM lf_registry_config "
                            "WHERE subject IN ($1, '') ORDER BY subject = '' LIMIT 1",
                            {subject.c_str()}, "registry: read config"));
        LF_ASSIGN_OR_RETURN(std::optional<CompatibilityLevel> level, LevelOf(cfg.get()));
        LF_RETURN_IF_ERROR(gate(level.value_or(kDefaultCompatibility), previous));
      }
      LF_RETURN_IF_ERROR(postgres::Query(conn, insert_schema_sql,
                                         {schema.c_str(), canonical.c_str()},
                                         "registry: insert schema")
                             .status());
      LF_ASSIGN_OR_RETURN(
          postgres::PgResult id,
          postgres::Query(conn, schema_id_sql, {canonical.c_str()}, "registry: read schema id"));
      if (PQntuples(id.get()) != 1) return Internal("registry: schema row missing after insert");
      out.id = ToInt64(PQgetvalue(id.get(), 0, 0));
      const std::string id_text = std::to_string(out.id);
      LF_ASSIGN_OR_RETURN(postgres::PgResult version,
                          postgres::Query(conn, kInsertVersion, {subject.c_str(), id_text.c_str()},
                                          "registry: insert version"));
      out.version = ToInt(PQgetvalue(version.get(), 0, 0));
      out.created = true;
      return absl::OkStatus();
    });
  });
  if (!st.ok()) return st;
  return out;
}

absl::StatusOr<std::optional<std::string>> PgStore::SchemaById(int64_t id) {
  const std::string id_text = std::to_string(id);
  std::optional<std::string> out;
  LF_RETURN_IF_ERROR(With([&](PGconn* conn) -> absl::Status {
    LF_ASSIGN_OR_RETURN(
        postgres::PgResult r,
        postgres::Query(conn, "SELECT schema FROM lf_registry_schemas WHERE id = $1",
                        {id_text.c_str()}, "registry: read schema"));
    out.reset();
    if (PQntuples(r.get()) == 1) out = PQgetvalue(r.get(), 0, 0);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<std::pair<std::string, int>>> PgStore::SubjectVersionsOf(int64_t id) {
  const std::string id_text = std::to_string(id);
  std::vector<std::pair<std::string, int>> out;
  LF_RETURN_IF_ERROR(With([&](PGconn* conn) -> absl::Status {
    LF_ASSIGN_OR_RETURN(postgres::PgResult r,
                        postgres::Query(conn,
                                        "SELECT subject, version FROM lf_registry_subject_versions "
                                        "WHERE schema_id = $1 AND NOT deleted "
                                        "ORDER BY subject COLLATE \"C\", version",
                                        {id_text.c_str()}, "registry: read versions of schema"));
    out.clear();
    for (int i = 0; i < PQntuples(r.get()); ++i)
      out.emplace_back(PQgetvalue(r.get(), i, 0), ToInt(PQgetvalue(r.get(), i, 1)));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<std::string>> PgStore::Subjects() {
  std::vector<std::string> out;
  LF_RETURN_IF_ERROR(With([&](PGconn* conn) -> absl::Status {
    LF_ASSIGN_OR_RETURN(postgres::PgResult r,
                        postgres::Query(conn,
                                        "SELECT DISTINCT subject COLLATE \"C\" AS subject "
                                        "FROM lf_registry_subject_versions WHERE NOT deleted "
                                        "ORDER BY 1",
                                        {}, "registry: list subjects"));
    out.clear();
    for (int i = 0; i < PQntuples(r.get()); ++i) out.emplace_back(PQgetvalue(r.get(), i, 0));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<SubjectVersion>> PgStore::Versions(std::string_view subject_view) {
  const std::string subject(subject_view);
  std::vector<SubjectVersion> out;
  LF_RETURN_IF_ERROR(With([&](PGconn* conn) -> absl::Status {
    LF_ASSIGN_OR_RETURN(postgres::PgResult r,
                        postgres::Query(conn,
                                        "SELECT v.version, v.schema_id, s.schema "
                                        "FROM lf_registry_subject_versions v "
                                        "JOIN lf_registry_schemas s ON s.id = v.schema_id "
                                        "WHERE v.subject = $1 AND NOT v.deleted ORDER BY v.version",
                                        {subject.c_str()}, "registry: read versions"));
    out.clear();
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      out.push_back({subject, ToInt(PQgetvalue(r.get(), i, 0)), ToInt64(PQgetvalue(r.get(), i, 1)),
                     PQgetvalue(r.get(), i, 2)});
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::optional<SubjectVersion>> PgStore::FindByCanonical(
    std::string_view subject_view, std::string_view canonical_view) {
  const std::string subject(subject_view), canonical(canonical_view);
  const std::string sql = fmt::format(
      "SELECT v.version, v.schema_id, s.schema FROM lf_registry_subject_versions v "
      "JOIN lf_registry_schemas s ON s.id = v.schema_id "
      "WHERE v.subject = $1 AND NOT v.deleted AND s.fingerprint = {} AND s.canonical = $2 "
      "ORDER BY v.version LIMIT 1",
      Fingerprint(2));
  std::optional<SubjectVersion> out;
  LF_RETURN_IF_ERROR(With([&](PGconn* conn) -> absl::Status {
    LF_ASSIGN_OR_RETURN(postgres::PgResult r,
                        postgres::Query(conn, sql, {subject.c_str(), canonical.c_str()},
                                        "registry: look up schema"));
    out.reset();
    if (PQntuples(r.get()) == 1) {
      out = SubjectVersion{subject, ToInt(PQgetvalue(r.get(), 0, 0)),
                           ToInt64(PQgetvalue(r.get(), 0, 1)), PQgetvalue(r.get(), 0, 2)};
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::optional<CompatibilityLevel>> PgStore::Config(std::string_view subject_view) {
  const std::string subject(subject_view);
  std::optional<CompatibilityLevel> out;
  LF_RETURN_IF_ERROR(With([&](PGconn* conn) -> absl::Status {
    LF_ASSIGN_OR_RETURN(
        postgres::PgResult r,
        postgres::Query(conn, "SELECT compatibility FROM lf_registry_config WHERE subject = $1",
                        {subject.c_str()}, "registry: read config"));
    LF_ASSIGN_OR_RETURN(out, LevelOf(r.get()));
    return absl::OkStatus();
  }));
  return out;
}

absl::Status PgStore::SetConfig(std::string_view subject_view, CompatibilityLevel level) {
  const std::string subject(subject_view), name(CompatibilityLevelName(level));
  return With([&](PGconn* conn) {
    return postgres::Query(conn,
                           "INSERT INTO lf_registry_config (subject, compatibility) "
                           "VALUES ($1, $2) ON CONFLICT (subject) DO UPDATE "
                           "SET compatibility = EXCLUDED.compatibility, updated_at = now()",
                           {subject.c_str(), name.c_str()}, "registry: write config")
        .status();
  });
}

}  // namespace lf::registry
