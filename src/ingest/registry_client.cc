#include "ingest/registry_client.h"

#include "common/json_text.h"
#include "common/status.h"
#include "httplib.h"
#include "simdjson.h"

namespace lf::ingest {

struct RegistryClient::Impl {
  std::unique_ptr<httplib::Client> http;
  std::string prefix;  // path prefix, without a trailing '/'
};

RegistryClient::RegistryClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RegistryClient::~RegistryClient() = default;

absl::StatusOr<std::unique_ptr<RegistryClient>> RegistryClient::Open(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) {
    return InvalidArgument("--schema-registry: expected http://HOST:PORT[/PATH], got '{}'", url);
  }
  const size_t slash = url.find('/', kScheme.size());
  const std::string host_port = url.substr(0, slash);
  auto impl = std::make_unique<Impl>();
  impl->prefix = slash == std::string::npos ? "" : url.substr(slash);
  while (!impl->prefix.empty() && impl->prefix.back() == '/') impl->prefix.pop_back();
  impl->http = std::make_unique<httplib::Client>(host_port);
  if (!impl->http->is_valid()) return InvalidArgument("--schema-registry: bad URL '{}'", url);
  impl->http->set_connection_timeout(5);
  impl->http->set_read_timeout(10);
  return std::unique_ptr<RegistryClient>(new RegistryClient(std::move(impl)));
}

absl::StatusOr<std::string> RegistryClient::SchemaById(int32_t id) {
  if (auto it = cache_.find(id); it != cache_.end()) return it->second;
  const std::string path = impl_->prefix + "/schemas/ids/" + std::to_string(id);
  auto res = impl_->http->Get(path, {{"Accept", "application/vnd.schemaregistry.v1+json"}});
  if (!res) {
    return Unavailable("schema registry: GET {}: {}", path, httplib::to_string(res.error()));
  }
  if (res->status == 404) return NotFound("schema registry: no schema with id {}", id);
  if (res->status != 200) {
    return Unavailable("schema registry: GET {}: HTTP {}: {}", path, res->status,
                       res->body.substr(0, 200));
  }
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view schema;
  if (parser.parse(res->body).get(doc) || doc["schema"].get_string().get(schema)) {
    return Unavailable("schema registry: GET {}: no \"schema\" in the answer", path);
  }
  return cache_.emplace(id, std::string(schema)).first->second;
}

absl::StatusOr<int32_t> RegistryClient::Register(const std::string& subject,
                                                 const std::string& schema) {
  std::string body = "{\"schema\":";
  AppendJsonString(schema, &body);
  body += "}";
  const std::string path = impl_->prefix + "/subjects/" + subject + "/versions";
  auto res = impl_->http->Post(path, body, "application/vnd.schemaregistry.v1+json");
  if (!res) {
    return Unavailable("schema registry: POST {}: {}", path, httplib::to_string(res.error()));
  }
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  int64_t id = 0;
  if (res->status != 200 || parser.parse(res->body).get(doc) || doc["id"].get_int64().get(id)) {
    return FailedPrecondition("schema registry: POST {}: HTTP {}: {}", path, res->status,
                              res->body.substr(0, 300));
  }
  return static_cast<int32_t>(id);
}

}  // namespace lf::ingest
