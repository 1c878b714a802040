#pragma once

// The Confluent Schema Registry REST API, independent of the HTTP server: a request (method,
// raw target, content type, body) in, a status and a JSON body out. Routing, validation, the
// error codes and the compatibility rules live here; server.h only moves bytes.

#include <cstddef>
#include <string>
#include <string_view>

#include "registry/schema_rules.h"
#include "registry/store.h"

namespace lf::registry {

// The content type of every reply (requests may also use application/json or
// application/octet-stream, as Confluent's clients do).
inline constexpr std::string_view kRegistryContentType = "application/vnd.schemaregistry.v1+json";

// The API's error codes: `error_code` in the JSON body; the HTTP status is the code itself for
// three-digit codes and its first three digits otherwise (40401 → 404).
enum class ErrorCode : int {
  kBadRequest = 400,  // malformed JSON
  kNotFound = 404,    // no such endpoint
  kMethodNotAllowed = 405,
  kIncompatible = 409,
  kPayloadTooLarge = 413,
  kUnsupportedMediaType = 415,
  kUnprocessable = 422,  // well-formed JSON of the wrong shape
  kSubjectNotFound = 40401,
  kVersionNotFound = 40402,
  kSchemaNotFound = 40403,
  kSubjectLevelConfigNotFound = 40408,
  kInvalidSchema = 42201,
  kInvalidVersion = 42202,
  kInvalidCompatibilityLevel = 42203,
  kInvalidSubject = 42208,
  kStoreError = 50001,
};

int HttpStatusOf(ErrorCode code);

struct HttpRequest {
  std::string_view method;        // "GET", "POST", …
  std::string_view target;        // the raw request target: percent-encoded path, optional ?query
  std::string_view content_type;  // may be empty
  std::string_view body;
};

struct HttpReply {
  int status = 200;
  std::string body;  // JSON, without a trailing newline
};

struct ServiceOptions {
  size_t max_body_bytes = 1 << 20;
  size_t max_subject_bytes = 255;
};

// Thread-safe when `store` and `rules` are (both must outlive the service).
class Service {
 public:
  Service(Store* store, const SchemaRules* rules, ServiceOptions options = {})
      : store_(store), rules_(rules), options_(options) {}

  HttpReply Handle(const HttpRequest& request) const;

 private:
  HttpReply Register(std::string_view subject, std::string_view body) const;
  HttpReply LookUp(std::string_view subject, std::string_view body) const;
  HttpReply SchemaById(std::string_view id, std::string_view what) const;
  HttpReply Subjects() const;
  HttpReply VersionList(std::string_view subject) const;
  HttpReply Version(std::string_view subject, std::string_view version, bool schema_only) const;
  HttpReply GetConfig(std::string_view subject, bool default_to_global) const;
  HttpReply PutConfig(std::string_view subject, std::string_view body) const;
  HttpReply TestCompatibility(std::string_view subject, std::string_view version,
                              std::string_view body) const;

  // The level in force for `subject`: its own, else the global one, else the default.
  absl::StatusOr<CompatibilityLevel> EffectiveLevel(std::string_view subject) const;
  // Runs the rules for `level` against `previous` (all live versions, oldest first).
  absl::Status Check(CompatibilityLevel level, std::string_view candidate,
                     const std::vector<std::string>& previous) const;

  Store* store_;
  const SchemaRules* rules_;
  ServiceOptions options_;
};

}  // namespace lf::registry
