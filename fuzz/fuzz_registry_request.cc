// libFuzzer target: the schema registry's REST API (src/registry/service.*) on requests built
// from the input: the first byte picks the method, the input's first line is the request target
// (percent-encoding, queries and hostile subjects included) and the rest is the body (JSON bodies
// of register, lookup, config and compatibility requests, Avro schemas inside them). The service
// runs on the in-memory store with the real Avro rules, and a few requests are replayed against
// the state the fuzzed ones left. Invariants: every reply is valid JSON with a status the API
// uses; an error reply carries error_code and message; a schema registered (200 with an id) is
// then found by that id and registering it again returns the same id.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/json_text.h"
#include "registry/avro_schema_rules.h"
#include "registry/memory_store.h"
#include "registry/service.h"
#include "simdjson.h"

namespace {

using lf::registry::HttpReply;
using lf::registry::HttpRequest;

constexpr std::string_view kMethods[] = {"GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"};
constexpr std::string_view kContentTypes[] = {"application/vnd.schemaregistry.v1+json",
                                              "application/json", "application/octet-stream",
                                              "text/plain", ""};

void CheckReply(const HttpReply& r) {
  if (r.status < 200 || r.status > 599) __builtin_trap();
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(r.body).get(doc) != simdjson::SUCCESS) __builtin_trap();  // not JSON
  if (r.status >= 400) {
    int64_t code = 0;
    std::string_view message;
    if (doc["error_code"].get(code) != simdjson::SUCCESS) __builtin_trap();
    if (doc["message"].get(message) != simdjson::SUCCESS || message.empty()) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static lf::registry::AvroSchemaRules rules;
  lf::registry::MemoryStore store;
  lf::registry::Service service(&store, &rules,
                                lf::registry::ServiceOptions{.max_body_bytes = 1 << 16});
  const uint8_t selector = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t nl = rest.find('\n');
  const std::string_view target = rest.substr(0, nl);
  const std::string_view body = nl == std::string_view::npos ? "" : rest.substr(nl + 1);
  const HttpRequest request{.method = kMethods[selector % 6],
                            .target = target,
                            .content_type = kContentTypes[(selector >> 3) % 5],
                            .body = body};
  // First a known schema, so lookups, versions and compatibility checks have something to meet.
  const std::string seed_body =
      R"({"schema":"{\"type\":\"record\",\"name\":\"r\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}"})";
  CheckReply(service.Handle({.method = "POST",
                             .target = "/subjects/s/versions",
                             .content_type = kContentTypes[0],
                             .body = seed_body}));
  HttpReply reply = service.Handle(request);
  CheckReply(reply);

  // A register that succeeded: the id finds the schema, and registering again gives that id.
  if (request.method == "POST" && reply.status == 200 && target.rfind("/subjects/", 0) == 0 &&
      target.size() > 19 && target.substr(target.size() - 9) == "/versions" &&
      target.find('?') == std::string_view::npos) {
    simdjson::dom::parser parser;
    int64_t id = 0;
    if (parser.parse(reply.body)["id"].get(id) != simdjson::SUCCESS || id < 1) __builtin_trap();
    HttpReply by_id = service.Handle({.method = "GET",
                                      .target = "/schemas/ids/" + std::to_string(id),
                                      .content_type = "",
                                      .body = ""});
    CheckReply(by_id);
    if (by_id.status != 200) __builtin_trap();
    HttpReply again = service.Handle(request);
    CheckReply(again);
    if (again.status != 200 || again.body != reply.body) __builtin_trap();
  }
  // The state the fuzzed request left still answers the usual reads.
  CheckReply(
      service.Handle({.method = "GET", .target = "/subjects", .content_type = "", .body = ""}));
  CheckReply(service.Handle(
      {.method = "GET", .target = "/subjects/s/versions/latest", .content_type = "", .body = ""}));
  return 0;
}
