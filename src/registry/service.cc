#include "registry/service.h"

#include <cctype>
#include <charconv>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "common/json_text.h"
#include "common/status.h"
#include "simdjson.h"
#include "spdlog/spdlog.h"

namespace lf::registry {
namespace {

constexpr int64_t kMaxVersion = 2147483647;  // versions are 32-bit in the API

std::string Quote(std::string_view s) {
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

HttpReply Ok(std::string body) { return HttpReply{200, std::move(body)}; }

HttpReply Error(ErrorCode code, std::string_view message) {
  return HttpReply{HttpStatusOf(code), fmt::format("{{\"error_code\":{},\"message\":{}}}",
                                                   static_cast<int>(code), Quote(message))};
}

HttpReply StoreError(const absl::Status& st) {
  spdlog::warn("registry: {}", Message(st));
  return Error(ErrorCode::kStoreError,
               fmt::format("Error in the backend data store: {}", Message(st)));
}

std::string VersionJson(const SubjectVersion& v) {
  return fmt::format("{{\"subject\":{},\"version\":{},\"id\":{},\"schema\":{}}}", Quote(v.subject),
                     v.version, v.id, Quote(v.schema));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX escapes decoded ('+' too when `plus_is_space`, as in query strings); nullopt on a bad escape.
std::optional<std::string> PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (s[i] == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// True when the query string has `name` equal to "true" (any case).
bool QueryFlag(std::string_view query, std::string_view name) {
  if (query.empty()) return false;
  for (std::string_view pair : Split(query, '&')) {
    size_t eq = pair.find('=');
    auto key = PercentDecode(pair.substr(0, eq), true);
    if (!key || *key != name || eq == std::string_view::npos) continue;
    auto value = PercentDecode(pair.substr(eq + 1), true);
    if (value && Lower(*value) == "true") return true;
  }
  return false;
}

// Well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (int k = 1; k < len; ++k) {
      unsigned char d = s[i + k];
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

// The media type of a Content-Type header, lower-cased, without parameters.
std::string MediaType(std::string_view content_type) {
  std::string out(content_type.substr(0, content_type.find(';')));
  while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) out.pop_back();
  size_t start = out.find_first_not_of(" \t");
  return Lower(start == std::string::npos ? "" : out.substr(start));
}

bool AcceptedMediaType(std::string_view content_type) {
  std::string type = MediaType(content_type);
  return type.empty() || type == "application/vnd.schemaregistry.v1+json" ||
         type == "application/vnd.schemaregistry+json" || type == "application/json" ||
         type == "application/octet-stream";
}

// A positive decimal integer no larger than `max`, or nullopt.
std::optional<int64_t> ParsePositive(std::string_view s, int64_t max) {
  int64_t v = 0;
  if (s.empty() || s.size() > 19) return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 1 || v > max) return std::nullopt;
  return v;
}

// "latest" or -1 → 0 (meaning the latest); 1..2^31-1 → itself; anything else → nullopt.
std::optional<int> ParseVersion(std::string_view s) {
  if (s == "latest" || s == "-1") return 0;
  auto v = ParsePositive(s, kMaxVersion);
  if (!v) return std::nullopt;
  return static_cast<int>(*v);
}

HttpReply InvalidVersion(std::string_view version) {
  return Error(ErrorCode::kInvalidVersion,
               fmt::format("The specified version '{}' is not a valid version id. Allowed values "
                           "are between [1, 2^31-1] and the string \"latest\"",
                           version));
}

HttpReply SubjectNotFound(std::string_view subject) {
  return Error(ErrorCode::kSubjectNotFound, fmt::format("Subject '{}' not found.", subject));
}

// The body of a schema request (register, look up, test compatibility).
struct SchemaRequest {
  std::string schema;
};

// Parses `body` as a JSON object. Returns an error reply for malformed JSON or a non-object.
std::optional<HttpReply> ParseObject(simdjson::dom::parser& parser,
                                     const simdjson::padded_string& padded,
                                     simdjson::dom::object* out) {
  simdjson::dom::element doc;
  if (auto error = parser.parse(padded).get(doc); error) {
    return Error(ErrorCode::kBadRequest,
                 fmt::format("Malformed JSON request body: {}", simdjson::error_message(error)));
  }
  if (doc.get_object().get(*out)) {
    return Error(ErrorCode::kUnprocessable, "The request body must be a JSON object");
  }
  return std::nullopt;
}

std::optional<HttpReply> ParseSchemaRequest(std::string_view body, SchemaRequest* out) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::object object;
  if (auto error = ParseObject(parser, padded, &object)) return error;
  bool has_schema = false;
  for (auto [key, value] : object) {
    if (key == "schema") {
      std::string_view text;
      if (value.get_string().get(text))
        return Error(ErrorCode::kInvalidSchema, "Invalid schema: 'schema' must be a string");
      out->schema = std::string(text);
      has_schema = true;
    } else if (key == "schemaType") {
      std::string_view type;
      if (value.is_null()) continue;
      if (value.get_string().get(type) || Lower(type) != "avro") {
        return Error(ErrorCode::kInvalidSchema,
                     fmt::format("Invalid schema type {}: this registry supports AVRO only",
                                 simdjson::to_string(value)));
      }
    } else if (key == "references") {
      simdjson::dom::array refs;
      if (value.is_null()) continue;
      if (value.get_array().get(refs))
        return Error(ErrorCode::kUnprocessable, "'references' must be an array");
      if (refs.size() != 0)
        return Error(ErrorCode::kInvalidSchema,
                     "Invalid schema: schema references are not supported by this registry");
    }
    // Other members (version, id, metadata, ruleSet, …) are ignored, as Confluent does for
    // those it does not use.
  }
  if (!has_schema || out->schema.find_first_not_of(" \t\r\n") == std::string::npos)
    return Error(ErrorCode::kInvalidSchema, "Empty schema");
  return std::nullopt;
}

}  // namespace

int HttpStatusOf(ErrorCode code) {
  int v = static_cast<int>(code);
  return v >= 1000 ? v / 100 : v;
}

HttpReply Service::Handle(const HttpRequest& request) const {
  std::string_view target = request.target;
  std::string_view query;
  if (size_t q = target.find('?'); q != std::string_view::npos) {
    query = target.substr(q + 1);
    target = target.substr(0, q);
  }
  if (target.empty() || target.front() != '/')
    return Error(ErrorCode::kNotFound, "HTTP 404 Not Found");
  target.remove_prefix(1);
  if (!target.empty() && target.back() == '/') target.remove_suffix(1);
  std::vector<std::string> seg;
  if (!target.empty()) {
    for (std::string_view part : Split(target, '/')) {
      auto decoded = PercentDecode(part, false);
      if (!decoded || decoded->empty()) return Error(ErrorCode::kNotFound, "HTTP 404 Not Found");
      seg.push_back(std::move(*decoded));
    }
  }
  const std::string_view method = request.method;
  const bool get = method == "GET", post = method == "POST", put = method == "PUT";
  if ((post || put) && !AcceptedMediaType(request.content_type)) {
    return Error(ErrorCode::kUnsupportedMediaType,
                 fmt::format("HTTP 415 Unsupported Media Type: use {}", kRegistryContentType));
  }
  if (request.body.size() > options_.max_body_bytes) {
    return Error(ErrorCode::kPayloadTooLarge,
                 fmt::format("Request body larger than {} bytes", options_.max_body_bytes));
  }
  auto is = [&](std::initializer_list<std::string_view> pattern) {
    if (pattern.size() != seg.size()) return false;
    size_t i = 0;
    for (std::string_view p : pattern) {
      if (p != "*" && p != seg[i]) return false;
      ++i;
    }
    return true;
  };
  // Subjects are validated before anything reaches the store (which binds them as parameters).
  auto bad_subject = [&](const std::string& s) -> std::optional<HttpReply> {
    bool ok = !s.empty() && s.size() <= options_.max_subject_bytes && ValidUtf8(s);
    for (unsigned char c : s) ok = ok && c >= 0x20 && c != 0x7F;
    if (ok) return std::nullopt;
    return Error(ErrorCode::kInvalidSubject,
                 fmt::format("Invalid subject: 1 to {} bytes of printable UTF-8 expected",
                             options_.max_subject_bytes));
  };
  const auto method_not_allowed = [] {
    return Error(ErrorCode::kMethodNotAllowed, "HTTP 405 Method Not Allowed");
  };

  if (seg.empty()) return get ? Ok("{}") : method_not_allowed();
  if (is({"schemas", "types"})) return get ? Ok("[\"AVRO\"]") : method_not_allowed();
  if (is({"schemas", "ids", "*"}) || is({"schemas", "ids", "*", "versions"}) ||
      is({"schemas", "ids", "*", "subjects"}) || is({"schemas", "ids", "*", "schema"})) {
    if (!get) return method_not_allowed();
    return SchemaById(seg[2], seg.size() == 4 ? seg[3] : "");
  }
  if (is({"subjects"})) return get ? Subjects() : method_not_allowed();
  if (is({"subjects", "*"})) {
    if (!post) return method_not_allowed();
    if (auto e = bad_subject(seg[1])) return *e;
    return LookUp(seg[1], request.body);
  }
  if (is({"subjects", "*", "versions"})) {
    if (!get && !post) return method_not_allowed();
    if (auto e = bad_subject(seg[1])) return *e;
    return get ? VersionList(seg[1]) : Register(seg[1], request.body);
  }
  if (is({"subjects", "*", "versions", "*"}) || is({"subjects", "*", "versions", "*", "schema"})) {
    if (!get) return method_not_allowed();
    if (auto e = bad_subject(seg[1])) return *e;
    return Version(seg[1], seg[3], seg.size() == 5);
  }
  if (is({"config"}) || is({"config", "*"})) {
    if (!get && !put) return method_not_allowed();
    std::string subject = seg.size() == 2 ? seg[1] : "";
    if (seg.size() == 2) {
      if (auto e = bad_subject(subject)) return *e;
    }
    return get ? GetConfig(subject, QueryFlag(query, "defaultToGlobal"))
               : PutConfig(subject, request.body);
  }
  if (is({"compatibility", "subjects", "*", "versions", "*"}) ||
      is({"compatibility", "subjects", "*", "versions"})) {
    if (!post) return method_not_allowed();
    if (auto e = bad_subject(seg[2])) return *e;
    return TestCompatibility(seg[2], seg.size() == 5 ? seg[4] : "latest", request.body);
  }
  return Error(ErrorCode::kNotFound, "HTTP 404 Not Found");
}

absl::StatusOr<CompatibilityLevel> Service::EffectiveLevel(std::string_view subject) const {
  LF_ASSIGN_OR_RETURN(std::optional<CompatibilityLevel> own, store_->Config(subject));
  if (own) return *own;
  LF_ASSIGN_OR_RETURN(std::optional<CompatibilityLevel> global, store_->Config(""));
  return global.value_or(kDefaultCompatibility);
}

absl::Status Service::Check(CompatibilityLevel level, std::string_view candidate,
                            const std::vector<std::string>& previous) const {
  if (level == CompatibilityLevel::kNone || previous.empty()) return absl::OkStatus();
  if (IsTransitive(level)) return rules_->Check(level, candidate, previous);
  return rules_->Check(level, candidate, {previous.back()});
}

HttpReply Service::Register(std::string_view subject, std::string_view body) const {
  SchemaRequest req;
  if (auto e = ParseSchemaRequest(body, &req)) return *e;
  auto canonical = rules_->Canonical(req.schema);
  if (!canonical.ok())
    return Error(ErrorCode::kInvalidSchema,
                 fmt::format("Invalid schema: {}", Message(canonical.status())));
  std::optional<absl::Status> refused;  // set when the rules refuse the schema
  auto registered =
      store_->Register(subject, req.schema, *canonical,
                       [&](CompatibilityLevel level, const std::vector<std::string>& previous) {
                         absl::Status st = Check(level, req.schema, previous);
                         if (!st.ok()) refused = st;
                         return st;
                       });
  if (refused) {
    if (absl::IsFailedPrecondition(*refused)) {
      return Error(ErrorCode::kIncompatible,
                   fmt::format("Schema being registered is incompatible with an earlier schema "
                               "for subject \"{}\", details: {}",
                               subject, Message(*refused)));
    }
    if (absl::IsInvalidArgument(*refused))
      return Error(ErrorCode::kInvalidSchema, fmt::format("Invalid schema: {}", Message(*refused)));
    return StoreError(*refused);
  }
  if (!registered.ok()) return StoreError(registered.status());
  if (registered->created) {
    spdlog::info("registry: registered schema id {} as {} version {}", registered->id, subject,
                 registered->version);
  }
  return Ok(fmt::format("{{\"id\":{}}}", registered->id));
}

HttpReply Service::LookUp(std::string_view subject, std::string_view body) const {
  SchemaRequest req;
  if (auto e = ParseSchemaRequest(body, &req)) return *e;
  auto canonical = rules_->Canonical(req.schema);
  if (!canonical.ok())
    return Error(ErrorCode::kInvalidSchema,
                 fmt::format("Invalid schema: {}", Message(canonical.status())));
  auto found = store_->FindByCanonical(subject, *canonical);
  if (!found.ok()) return StoreError(found.status());
  if (*found) return Ok(VersionJson(**found));
  auto versions = store_->Versions(subject);
  if (!versions.ok()) return StoreError(versions.status());
  if (versions->empty()) return SubjectNotFound(subject);
  return Error(ErrorCode::kSchemaNotFound, "Schema not found");
}

HttpReply Service::SchemaById(std::string_view id_text, std::string_view what) const {
  const auto not_found = [] { return Error(ErrorCode::kSchemaNotFound, "Schema not found"); };
  auto id = ParsePositive(id_text, INT64_MAX);
  if (!id) return not_found();
  auto schema = store_->SchemaById(*id);
  if (!schema.ok()) return StoreError(schema.status());
  if (!*schema) return not_found();
  if (what.empty()) return Ok(fmt::format("{{\"schema\":{}}}", Quote(**schema)));
  if (what == "schema") return Ok(**schema);
  auto uses = store_->SubjectVersionsOf(*id);
  if (!uses.ok()) return StoreError(uses.status());
  std::string out = "[";
  for (size_t i = 0; i < uses->size(); ++i) {
    const auto& [subject, version] = (*uses)[i];
    if (i > 0) out += ',';
    if (what == "versions") {
      out += fmt::format("{{\"subject\":{},\"version\":{}}}", Quote(subject), version);
    } else if (i == 0 || subject != (*uses)[i - 1].first) {
      out += Quote(subject);
    } else {
      out.pop_back();  // the same subject again: listed once
    }
  }
  return Ok(out + "]");
}

HttpReply Service::Subjects() const {
  auto subjects = store_->Subjects();
  if (!subjects.ok()) return StoreError(subjects.status());
  std::string out = "[";
  for (size_t i = 0; i < subjects->size(); ++i) {
    if (i > 0) out += ',';
    out += Quote((*subjects)[i]);
  }
  return Ok(out + "]");
}

HttpReply Service::VersionList(std::string_view subject) const {
  auto versions = store_->Versions(subject);
  if (!versions.ok()) return StoreError(versions.status());
  if (versions->empty()) return SubjectNotFound(subject);
  std::string out = "[";
  for (size_t i = 0; i < versions->size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string((*versions)[i].version);
  }
  return Ok(out + "]");
}

HttpReply Service::Version(std::string_view subject, std::string_view version_text,
                           bool schema_only) const {
  auto version = ParseVersion(version_text);
  if (!version) return InvalidVersion(version_text);
  auto versions = store_->Versions(subject);
  if (!versions.ok()) return StoreError(versions.status());
  if (versions->empty()) return SubjectNotFound(subject);
  const SubjectVersion* found = *version == 0 ? &versions->back() : nullptr;
  for (const SubjectVersion& v : *versions) {
    if (v.version == *version) found = &v;
  }
  if (!found)
    return Error(ErrorCode::kVersionNotFound, fmt::format("Version {} not found.", *version));
  return Ok(schema_only ? found->schema : VersionJson(*found));
}

HttpReply Service::GetConfig(std::string_view subject, bool default_to_global) const {
  absl::StatusOr<std::optional<CompatibilityLevel>> level = store_->Config(subject);
  if (!level.ok()) return StoreError(level.status());
  if (!*level && !subject.empty()) {
    if (!default_to_global) {
      return Error(ErrorCode::kSubjectLevelConfigNotFound,
                   fmt::format("Subject '{}' does not have subject-level compatibility configured",
                               subject));
    }
    level = store_->Config("");
    if (!level.ok()) return StoreError(level.status());
  }
  return Ok(fmt::format("{{\"compatibilityLevel\":{}}}",
                        Quote(CompatibilityLevelName(level->value_or(kDefaultCompatibility)))));
}

HttpReply Service::PutConfig(std::string_view subject, std::string_view body) const {
  const auto invalid = [] {
    return Error(ErrorCode::kInvalidCompatibilityLevel,
                 "Invalid compatibility level. Valid values are none, backward, forward, full, "
                 "backward_transitive, forward_transitive, and full_transitive");
  };
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::object object;
  if (auto error = ParseObject(parser, padded, &object)) return *error;
  std::string_view name;
  if (object["compatibility"].get_string().get(name)) return invalid();
  auto level = ParseCompatibilityLevel(name);
  if (!level) return invalid();
  if (auto st = store_->SetConfig(subject, *level); !st.ok()) return StoreError(st);
  spdlog::info("registry: compatibility of {} set to {}",
               subject.empty() ? "the registry" : subject, CompatibilityLevelName(*level));
  return Ok(fmt::format("{{\"compatibility\":{}}}", Quote(CompatibilityLevelName(*level))));
}

HttpReply Service::TestCompatibility(std::string_view subject, std::string_view version_text,
                                     std::string_view body) const {
  auto version = ParseVersion(version_text);
  if (!version) return InvalidVersion(version_text);
  SchemaRequest req;
  if (auto e = ParseSchemaRequest(body, &req)) return *e;
  auto canonical = rules_->Canonical(req.schema);
  if (!canonical.ok())
    return Error(ErrorCode::kInvalidSchema,
                 fmt::format("Invalid schema: {}", Message(canonical.status())));
  auto versions = store_->Versions(subject);
  if (!versions.ok()) return StoreError(versions.status());
  std::vector<std::string> previous;
  if (*version == 0) {
    // Against the latest version (all of them for transitive levels), as registration would.
    for (const SubjectVersion& v : *versions) previous.push_back(v.schema);
  } else {
    if (versions->empty()) return SubjectNotFound(subject);
    for (const SubjectVersion& v : *versions) {
      if (v.version == *version) previous.push_back(v.schema);
    }
    if (previous.empty())
      return Error(ErrorCode::kVersionNotFound, fmt::format("Version {} not found.", *version));
  }
  auto level = EffectiveLevel(subject);
  if (!level.ok()) return StoreError(level.status());
  absl::Status st = Check(*level, req.schema, previous);
  if (st.ok()) return Ok("{\"is_compatible\":true}");
  if (absl::IsInvalidArgument(st))
    return Error(ErrorCode::kInvalidSchema, fmt::format("Invalid schema: {}", Message(st)));
  if (!absl::IsFailedPrecondition(st)) return StoreError(st);
  return Ok(fmt::format("{{\"is_compatible\":false,\"messages\":[{}]}}", Quote(Message(st))));
}

}  // namespace lf::registry
