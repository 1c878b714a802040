#include "registry/service.h"

#include <mutex>
#include <string>
#include <vector>

#include "common/json_text.h"
#include "common/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "registry/memory_store.h"

namespace lf::registry {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Schemas are any text; whitespace does not count; "bad" makes one invalid and "breaking" one
// that no earlier schema accepts. Records what the service asked it to compare.
class FakeRules : public SchemaRules {
 public:
  absl::StatusOr<std::string> Canonical(std::string_view schema) const override {
    if (schema.find("bad") != std::string_view::npos) return InvalidArgument("fake: bad schema");
    std::string out;
    for (char c : schema) {
      if (c != ' ' && c != '\n') out.push_back(c);
    }
    return out;
  }
  absl::Status Check(CompatibilityLevel level, std::string_view candidate,
                     const std::vector<std::string>& previous) const override {
    std::lock_guard lock(mu_);
    calls_.push_back({level, previous});
    if (candidate.find("breaking") != std::string_view::npos)
      return FailedPrecondition("fake: field 'x' was removed");
    return absl::OkStatus();
  }
  struct Call {
    CompatibilityLevel level;
    std::vector<std::string> previous;
  };
  std::vector<Call> calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  mutable std::mutex mu_;
  mutable std::vector<Call> calls_;
};

class ServiceTest : public ::testing::Test {
 protected:
  HttpReply Call(std::string_view method, std::string_view target, std::string_view body = "",
                 std::string_view content_type = "application/vnd.schemaregistry.v1+json") {
    return service_.Handle(
        {.method = method, .target = target, .content_type = content_type, .body = body});
  }
  HttpReply Register(std::string_view subject, std::string_view schema) {
    std::string body;
    body += "{\"schema\":";
    AppendJsonString(schema, &body);
    body += "}";
    return Call("POST", std::string("/subjects/") + std::string(subject) + "/versions", body);
  }

  MemoryStore store_;
  FakeRules rules_;
  Service service_{&store_, &rules_,
                   ServiceOptions{.max_body_bytes = 4096, .max_subject_bytes = 40}};
};

#define EXPECT_REPLY(reply, want_status, want_body) \
  do {                                              \
    HttpReply r_ = (reply);                         \
    EXPECT_EQ(r_.status, want_status) << r_.body;   \
    EXPECT_EQ(r_.body, want_body);                  \
  } while (0)

#define EXPECT_ERROR(reply, want_status, want_code)                                   \
  do {                                                                                \
    HttpReply r_ = (reply);                                                           \
    EXPECT_EQ(r_.status, want_status) << r_.body;                                     \
    EXPECT_THAT(r_.body, HasSubstr("{\"error_code\":" #want_code ",\"message\":\"")); \
  } while (0)

TEST_F(ServiceTest, RegisterIsIdempotentAndIdsAreGlobal) {
  EXPECT_REPLY(Register("orders-value", "v1"), 200, "{\"id\":1}");
  EXPECT_REPLY(Register("orders-value", " v1 "), 200, "{\"id\":1}");  // same canonical form
  EXPECT_REPLY(Call("GET", "/subjects/orders-value/versions"), 200, "[1]");
  EXPECT_REPLY(Register("orders-value", "v2"), 200, "{\"id\":2}");
  EXPECT_REPLY(Register("audit-value", "v2"), 200, "{\"id\":2}");   // known under another subject
  EXPECT_REPLY(Register("orders-value", "v1"), 200, "{\"id\":1}");  // an older version still found
  EXPECT_REPLY(Call("GET", "/subjects/orders-value/versions"), 200, "[1,2]");
  EXPECT_REPLY(Call("GET", "/subjects"), 200, "[\"audit-value\",\"orders-value\"]");
  EXPECT_REPLY(Call("GET", "/schemas/ids/2/versions"), 200,
               "[{\"subject\":\"audit-value\",\"version\":1},"
               "{\"subject\":\"orders-value\",\"version\":2}]");
  EXPECT_REPLY(Call("GET", "/schemas/ids/2/subjects"), 200, "[\"audit-value\",\"orders-value\"]");
}

TEST_F(ServiceTest, ComparesWithLatestOrAllVersionsByLevel) {
  Register("s", "v1");
  Register("s", "v2");
  ASSERT_EQ(rules_.calls().size(), 1u);  // the first version has nothing to compare with
  EXPECT_EQ(rules_.calls()[0].level, CompatibilityLevel::kBackward);
  EXPECT_THAT(rules_.calls()[0].previous, ElementsAre("v1"));
  Register("s", "v3");
  EXPECT_THAT(rules_.calls()[1].previous, ElementsAre("v2"));  // BACKWARD: the latest only
  EXPECT_REPLY(Call("PUT", "/config/s", "{\"compatibility\":\"FULL_TRANSITIVE\"}"), 200,
               "{\"compatibility\":\"FULL_TRANSITIVE\"}");
  Register("s", "v4");
  EXPECT_EQ(rules_.calls()[2].level, CompatibilityLevel::kFullTransitive);
  EXPECT_THAT(rules_.calls()[2].previous, ElementsAre("v1", "v2", "v3"));
}

TEST_F(ServiceTest, IncompatibleSchemaIsRefusedUnlessLevelIsNone) {
  Register("s", "v1");
  HttpReply r = Register("s", "breaking");
  EXPECT_EQ(r.status, 409);
  EXPECT_THAT(r.body, HasSubstr("\"error_code\":409"));
  EXPECT_THAT(r.body, HasSubstr("field 'x' was removed"));
  EXPECT_REPLY(Call("GET", "/subjects/s/versions"), 200, "[1]");
  Call("PUT", "/config", "{\"compatibility\":\"NONE\"}");
  EXPECT_REPLY(Register("s", "breaking"), 200, "{\"id\":2}");
}

TEST_F(ServiceTest, InvalidSchemasAndBodies) {
  EXPECT_ERROR(Register("s", "bad"), 422, 42201);
  EXPECT_ERROR(Register("s", "  "), 422, 42201);
  EXPECT_ERROR(Call("POST", "/subjects/s/versions", "{\"schema\": 5}"), 422, 42201);
  EXPECT_ERROR(Call("POST", "/subjects/s/versions", "{}"), 422, 42201);
  EXPECT_ERROR(Call("POST", "/subjects/s/versions", "{\"schema\":"), 400, 400);
  EXPECT_ERROR(Call("POST", "/subjects/s/versions", "[1]"), 422, 422);
  EXPECT_ERROR(
      Call("POST", "/subjects/s/versions", "{\"schema\":\"v\",\"schemaType\":\"PROTOBUF\"}"), 422,
      42201);
  EXPECT_REPLY(Call("POST", "/subjects/s/versions",
                    "{\"schema\":\"v\",\"schemaType\":\"AVRO\",\"references\":[]}"),
               200, "{\"id\":1}");
  EXPECT_ERROR(Call("POST", "/subjects/s/versions",
                    "{\"schema\":\"w\",\"references\":[{\"name\":\"x\",\"subject\":\"y\","
                    "\"version\":1}]}"),
               422, 42201);
  EXPECT_ERROR(Call("POST", "/subjects/s/versions", "{\"schema\":\"v\"}", "text/plain"), 415, 415);
  EXPECT_REPLY(Call("POST", "/subjects/s/versions", "{\"schema\":\"v\"}", "application/json"), 200,
               "{\"id\":1}");
  EXPECT_ERROR(Call("POST", "/subjects/s/versions", std::string(5000, ' ')), 413, 413);
}

TEST_F(ServiceTest, VersionsAndTheirErrors) {
  Register("s", "v1");
  Register("s", "v2");
  EXPECT_REPLY(Call("GET", "/subjects/s/versions/latest"), 200,
               "{\"subject\":\"s\",\"version\":2,\"id\":2,\"schema\":\"v2\"}");
  EXPECT_REPLY(Call("GET", "/subjects/s/versions/-1"), 200,
               "{\"subject\":\"s\",\"version\":2,\"id\":2,\"schema\":\"v2\"}");
  EXPECT_REPLY(Call("GET", "/subjects/s/versions/1"), 200,
               "{\"subject\":\"s\",\"version\":1,\"id\":1,\"schema\":\"v1\"}");
  EXPECT_REPLY(Call("GET", "/subjects/s/versions/1/schema"), 200, "v1");
  EXPECT_ERROR(Call("GET", "/subjects/s/versions/3"), 404, 40402);
  EXPECT_ERROR(Call("GET", "/subjects/s/versions/0"), 422, 42202);
  EXPECT_ERROR(Call("GET", "/subjects/s/versions/abc"), 422, 42202);
  EXPECT_ERROR(Call("GET", "/subjects/s/versions/2147483648"), 422, 42202);
  EXPECT_ERROR(Call("GET", "/subjects/nope/versions/1"), 404, 40401);
  EXPECT_ERROR(Call("GET", "/subjects/nope/versions"), 404, 40401);
}

TEST_F(ServiceTest, SchemasById) {
  Register("s", "v\"1");
  EXPECT_REPLY(Call("GET", "/schemas/ids/1"), 200, "{\"schema\":\"v\\\"1\"}");
  EXPECT_ERROR(Call("GET", "/schemas/ids/2"), 404, 40403);
  EXPECT_ERROR(Call("GET", "/schemas/ids/x"), 404, 40403);
  EXPECT_ERROR(Call("GET", "/schemas/ids/-1"), 404, 40403);
  EXPECT_ERROR(Call("GET", "/schemas/ids/99999999999999999999"), 404, 40403);
  EXPECT_REPLY(Call("GET", "/schemas/types"), 200, "[\"AVRO\"]");
}

TEST_F(ServiceTest, LookUpUnderSubject) {
  Register("s", "v1");
  EXPECT_REPLY(Call("POST", "/subjects/s", "{\"schema\":\" v1\"}"), 200,
               "{\"subject\":\"s\",\"version\":1,\"id\":1,\"schema\":\"v1\"}");
  EXPECT_ERROR(Call("POST", "/subjects/s", "{\"schema\":\"v9\"}"), 404, 40403);
  EXPECT_ERROR(Call("POST", "/subjects/other", "{\"schema\":\"v1\"}"), 404, 40401);
  EXPECT_ERROR(Call("POST", "/subjects/s", "{\"schema\":\"bad\"}"), 422, 42201);
}

TEST_F(ServiceTest, Config) {
  EXPECT_REPLY(Call("GET", "/config"), 200, "{\"compatibilityLevel\":\"BACKWARD\"}");
  EXPECT_REPLY(Call("PUT", "/config", "{\"compatibility\":\"FULL\"}"), 200,
               "{\"compatibility\":\"FULL\"}");
  EXPECT_REPLY(Call("GET", "/config"), 200, "{\"compatibilityLevel\":\"FULL\"}");
  EXPECT_ERROR(Call("GET", "/config/s"), 404, 40408);
  EXPECT_REPLY(Call("GET", "/config/s?defaultToGlobal=true"), 200,
               "{\"compatibilityLevel\":\"FULL\"}");
  EXPECT_REPLY(Call("PUT", "/config/s", "{\"compatibility\":\"forward\"}"), 200,
               "{\"compatibility\":\"FORWARD\"}");
  EXPECT_REPLY(Call("GET", "/config/s"), 200, "{\"compatibilityLevel\":\"FORWARD\"}");
  EXPECT_ERROR(Call("PUT", "/config/s", "{\"compatibility\":\"SIDEWAYS\"}"), 422, 42203);
  EXPECT_ERROR(Call("PUT", "/config/s", "{\"compatibility\":1}"), 422, 42203);
  EXPECT_ERROR(Call("PUT", "/config/s", "{\"compatibility\""), 400, 400);
  EXPECT_ERROR(Call("DELETE", "/config/s"), 405, 405);
}

TEST_F(ServiceTest, TestCompatibility) {
  const std::string ok = "{\"schema\":\"v2\"}", breaking = "{\"schema\":\"breaking\"}";
  EXPECT_REPLY(Call("POST", "/compatibility/subjects/s/versions/latest", ok), 200,
               "{\"is_compatible\":true}");  // nothing to compare with
  EXPECT_ERROR(Call("POST", "/compatibility/subjects/s/versions/1", ok), 404, 40401);
  Register("s", "v1");
  EXPECT_REPLY(Call("POST", "/compatibility/subjects/s/versions/latest", ok), 200,
               "{\"is_compatible\":true}");
  EXPECT_REPLY(Call("POST", "/compatibility/subjects/s/versions/1", breaking), 200,
               "{\"is_compatible\":false,\"messages\":[\"fake: field 'x' was removed\"]}");
  EXPECT_ERROR(Call("POST", "/compatibility/subjects/s/versions/2", ok), 404, 40402);
  EXPECT_ERROR(Call("POST", "/compatibility/subjects/s/versions/zero", ok), 422, 42202);
  EXPECT_ERROR(Call("POST", "/compatibility/subjects/s/versions/latest", "{\"schema\":\"bad\"}"),
               422, 42201);
  EXPECT_REPLY(Call("GET", "/subjects/s/versions"), 200, "[1]");  // a check registers nothing
}

TEST_F(ServiceTest, SubjectsArePercentDecodedAndValidated) {
  EXPECT_REPLY(Register("a%2Fb%20c", "v1"), 200, "{\"id\":1}");
  EXPECT_REPLY(Call("GET", "/subjects"), 200, "[\"a/b c\"]");
  EXPECT_REPLY(Call("GET", "/subjects/a%2fb%20c/versions"), 200, "[1]");
  EXPECT_ERROR(Register("a%01b", "v1"), 422, 42208);
  EXPECT_ERROR(Register(std::string(41, 'x'), "v1"), 422, 42208);
  EXPECT_ERROR(Register("%C3%28", "v1"), 422, 42208);  // not UTF-8
  EXPECT_ERROR(Register("x%zz", "v1"), 404, 404);
  EXPECT_REPLY(Register("%C3%A9t%C3%A9", "v1"), 200, "{\"id\":1}");
}

TEST_F(ServiceTest, UnknownPathsAndMethods) {
  EXPECT_ERROR(Call("GET", "/nope"), 404, 404);
  EXPECT_ERROR(Call("GET", "/subjects/s/versions/1/extra"), 404, 404);
  EXPECT_ERROR(Call("GET", "/subjects//versions"), 404, 404);
  EXPECT_ERROR(Call("DELETE", "/subjects"), 405, 405);
  EXPECT_ERROR(Call("GET", "/subjects/s"), 405, 405);
  EXPECT_REPLY(Call("GET", "/"), 200, "{}");
  EXPECT_REPLY(Call("GET", "/subjects/"), 200, "[]");
}

}  // namespace
}  // namespace lf::registry
