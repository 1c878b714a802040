#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace lf::ingest {

// Writer schemas by id from a Confluent-compatible schema registry (`GET /schemas/ids/{id}`:
// lambdaflow registry, Confluent, Apicurio's ccompat API, Karapace), cached: an id's schema never
// changes. One thread.
class RegistryClient {
 public:
  // `url`: "http://host:port" with an optional path prefix ("http://h:8080/apis/ccompat/v7").
  static absl::StatusOr<std::unique_ptr<RegistryClient>> Open(const std::string& url);
  ~RegistryClient();

  // The schema text of `id`: NotFound when the registry does not know it, Unavailable when it
  // cannot be reached (retry later).
  absl::StatusOr<std::string> SchemaById(int32_t id);
  // Registers `schema` (Avro JSON) under `subject` (`POST /subjects/{subject}/versions`) and
  // returns its id; the registry's refusal (e.g. 409 incompatible) as FailedPrecondition.
  absl::StatusOr<int32_t> Register(const std::string& subject, const std::string& schema);

 private:
  struct Impl;
  explicit RegistryClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::map<int32_t, std::string> cache_;
};

}  // namespace lf::ingest
