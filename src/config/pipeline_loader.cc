#include "config/pipeline_loader.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "config/expression.h"
#include "config/yaml_tree.h"
#include "fmt/format.h"

namespace lf::config {
namespace {

using pipeline::AggregateKind;
using pipeline::Condition;
using pipeline::Definition;
using pipeline::FieldDef;
using pipeline::FieldType;
using pipeline::MetricDef;

constexpr int64_t kSecondsPerDay = 86400;
constexpr size_t kMaxGroupFields = 4;
// PostgreSQL truncates identifiers at 63 bytes; metric tables get "_batch", "_lambda" or
// "_members" appended.
constexpr size_t kMaxIdentifier = 63;
constexpr size_t kMaxMetricName = kMaxIdentifier - 8;
constexpr size_t kMaxPipelineName = 41;
constexpr size_t kMaxTopic = 249;
// Deeper nesting is refused while parsing (a definition needs four levels or so).
constexpr int kMaxNesting = 64;

// The §6.2 metadata columns a lake sink with `metadata: true` adds after the fields.
constexpr std::string_view kMetadataColumns[] = {
    "_ingested_at", "_source_file", "_source_row", "_topic",        "_partition",
    "_offset",      "_schema_id",   "_batch_id",   "_rescued_data",
};
// Columns of every wide metric table besides the group fields.
constexpr std::string_view kWideColumns[] = {"window_start", "value", "updated_at"};

bool IsLowerIdent(std::string_view s, size_t max_len) {
  if (s.empty() || s.size() > max_len) return false;
  if (!(s[0] >= 'a' && s[0] <= 'z')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool IsIdent(std::string_view s) {
  if (s.empty() || s.size() > kMaxIdentifier) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(s[0])) return false;
  return std::all_of(s.begin(), s.end(),
                     [&](char c) { return alpha(c) || (c >= '0' && c <= '9'); });
}

// `name` or `schema.name`, each a plain identifier.
bool IsTableName(std::string_view s) {
  size_t dot = s.find('.');
  if (dot == std::string_view::npos) return IsIdent(s);
  return IsIdent(s.substr(0, dot)) && IsIdent(s.substr(dot + 1));
}

bool IsTopic(std::string_view s) {
  if (s.empty() || s.size() > kMaxTopic || s == "." || s == "..") return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

// Relative path segments of [a-z0-9_-], no "." or "..": a dataset directory under the storage.
bool IsDatasetPath(std::string_view s) {
  if (s.empty() || s.size() > 200) return false;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find('/', start);
    if (end == std::string_view::npos) end = s.size();
    std::string_view seg = s.substr(start, end - start);
    if (seg.empty() || seg[0] == '-' || seg[0] == '_') return false;
    for (char c : seg) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
    }
    start = end + 1;
  }
  return true;
}

// A relative glob under the landing root: no "..", no absolute path, printable characters only.
bool IsLandingGlob(std::string_view s) {
  if (s.empty() || s.size() > 200 || s[0] == '/') return false;
  if (s.find("..") != std::string_view::npos) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::strchr("._-/*?[]", c) != nullptr;
  });
}

struct Entry {
  std::string key;
  yaml::Node key_node;
  yaml::Node value;
};

class Loader {
 public:
  Loader(std::string file, const LoadOptions& options)
      : file_(std::move(file)), options_(options) {}

  absl::StatusOr<Definition> Load(std::string_view text);

 private:
  // ---- diagnostics ----
  template <typename... Args>
  void Error(const yaml::Mark& mark, fmt::format_string<Args...> f, Args&&... args) {
    const int line = mark.line < 0 ? 1 : mark.line + 1;
    const int column = mark.column < 0 ? 1 : mark.column + 1;
    errors_.push_back({line, column, fmt::format(f, std::forward<Args>(args)...)});
  }
  template <typename... Args>
  void Error(const yaml::Node& node, fmt::format_string<Args...> f, Args&&... args) {
    Error(node.mark(), f, std::forward<Args>(args)...);
  }

  // ---- shapes ----
  // The entries of a map, checking that every key is known and appears once; an error for a
  // node that is not a map. `what` names the map in messages ("the source", "metric 'x'").
  std::vector<Entry> Map(const yaml::Node& node, std::string_view what,
                         std::initializer_list<std::string_view> allowed);
  static const Entry* Find(const std::vector<Entry>& entries, std::string_view key) {
    for (const Entry& e : entries) {
      if (e.key == key) return &e;
    }
    return nullptr;
  }
  // A scalar's text with ${VAR} replaced; nullopt (and an error) when not a scalar.
  std::optional<std::string> Text(const yaml::Node& node, std::string_view what);
  std::optional<bool> Bool(const yaml::Node& node, std::string_view what);
  std::optional<std::chrono::seconds> Window(const yaml::Node& node, std::string_view what);
  std::optional<std::vector<std::string>> TextList(const yaml::Node& node, std::string_view what);
  // The value converted to `type` and written in canonical text; nullopt (and an error) when it
  // does not convert.
  std::optional<std::string> Canonical(const yaml::Node& node, const FieldDef& field,
                                       std::string_view what);

  // ---- sections ----
  void LoadSource(const Entry& e, Definition* def);
  void LoadFields(const Entry& e, Definition* def);
  void LoadField(const yaml::Node& node, Definition* def, std::set<std::string>* seen);
  std::optional<MetricDef> LoadMetric(const yaml::Node& node, const Definition& def, bool in_batch,
                                      std::chrono::seconds default_window);
  void LoadWhere(const yaml::Node& node, const Definition& def, MetricDef* m);
  void LoadDerived(const Entry& e, Definition* def);
  void LoadSinks(const Entry& e, Definition* def);
  void LoadBatch(const Entry& e, Definition* def);
  void LoadLookup(const yaml::Node& node, Definition* def);
  void LoadLimit(const yaml::Node& node, Definition* def);
  void CheckMetricSet(const std::vector<Entry>& top, Definition* def);

  // The type of a group field: an event field, or in the batch "lookup.column".
  std::optional<FieldType> GroupFieldType(const Definition& def, std::string_view name,
                                          bool in_batch) const;

  struct Diagnostic {
    int line, column;
    std::string message;
  };
  std::string file_;
  const LoadOptions& options_;
  std::vector<Diagnostic> errors_;
  std::vector<yaml::Node> metric_nodes_;  // parallel to def.metrics, for later messages
  // Fields declared with a bad type: already reported, so uses of them are not reported again.
  std::set<std::string> broken_fields_;
  bool Broken(const std::string& field) const { return broken_fields_.count(field) > 0; }
};

std::vector<Entry> Loader::Map(const yaml::Node& node, std::string_view what,
                               std::initializer_list<std::string_view> allowed) {
  std::vector<Entry> entries;
  if (!node.IsMap()) {
    Error(node, "{} must be a map of keys to values", what);
    return entries;
  }
  for (const auto& [k, value] : node.entries()) {
    if (!k.IsScalar()) {
      Error(k, "{}: keys must be plain text", what);
      continue;
    }
    std::string key = k.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string expected;
      for (std::string_view a : allowed)
        expected += (expected.empty() ? "" : ", ") + std::string(a);
      Error(k, "unknown key '{}' in {} (expected one of: {})", key, what, expected);
      continue;
    }
    if (Find(entries, key) != nullptr) {
      Error(k, "key '{}' appears twice in {}", key, what);
      continue;
    }
    entries.push_back({std::move(key), k, value});
  }
  return entries;
}

std::optional<std::string> Loader::Text(const yaml::Node& node, std::string_view what) {
  if (node.IsNull()) {
    Error(node, "{} needs a value", what);
    return std::nullopt;
  }
  if (!node.IsScalar()) {
    Error(node, "{} must be a single value, not a {}", what, node.IsMap() ? "map" : "list");
    return std::nullopt;
  }
  const std::string& raw = node.Scalar();
  std::string out;
  size_t i = 0;
  while (i < raw.size()) {
    if (raw[i] == '$' && i + 1 < raw.size() && raw[i + 1] == '{') {
      size_t close = raw.find('}', i + 2);
      std::string name = close == std::string::npos ? "" : raw.substr(i + 2, close - i - 2);
      if (!IsIdent(name)) {
        Error(node, "{}: '${{' must be followed by a variable name and '}}'", what);
        return std::nullopt;
      }
      std::optional<std::string> value;
      if (options_.getenv) {
        value = options_.getenv(name);
      } else if (const char* v = std::getenv(name.c_str())) {
        value = v;
      }
      if (!value) {
        Error(node, "{}: environment variable {} is not set", what, name);
        return std::nullopt;
      }
      out += *value;
      i = close + 1;
    } else {
      out += raw[i++];
    }
  }
  return out;
}

std::optional<bool> Loader::Bool(const yaml::Node& node, std::string_view what) {
  auto text = Text(node, what);
  if (!text) return std::nullopt;
  if (*text == "true") return true;
  if (*text == "false") return false;
  Error(node, "{} must be true or false, not '{}'", what, *text);
  return std::nullopt;
}

std::optional<std::chrono::seconds> Loader::Window(const yaml::Node& node, std::string_view what) {
  auto text = Text(node, what);
  if (!text) return std::nullopt;
  auto d = ParseDuration(*text);
  if (!d.ok()) {
    Error(node, "{}: bad duration '{}' (use 1m, 5m, 15m, 1h, 1d …)", what, *text);
    return std::nullopt;
  }
  const int64_t us = d->count();
  if (us <= 0 || us % 1'000'000 != 0) {
    Error(node, "{}: '{}' is not a whole number of seconds", what, *text);
    return std::nullopt;
  }
  const int64_t s = us / 1'000'000;
  if (s != kSecondsPerDay && (s > kSecondsPerDay || kSecondsPerDay % s != 0)) {
    Error(node,
          "{}: '{}' does not divide a day (windows are aligned to UTC midnight; use a "
          "divisor of 24h such as 1m, 5m, 15m, 1h, or 1d)",
          what, *text);
    return std::nullopt;
  }
  return std::chrono::seconds(s);
}

std::optional<std::vector<std::string>> Loader::TextList(const yaml::Node& node,
                                                         std::string_view what) {
  if (!node.IsSequence()) {
    Error(node, "{} must be a list", what);
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  for (const yaml::Node& item : node.items()) {
    auto t = Text(item, what);
    if (t) {
      out.push_back(*t);
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::string> Loader::Canonical(const yaml::Node& node, const FieldDef& field,
                                             std::string_view what) {
  auto text = Text(node, what);
  if (!text) return std::nullopt;
  const std::string& t = *text;
  switch (field.type) {
    case FieldType::kString:
      return t;
    case FieldType::kBool:
      if (t == "true" || t == "false") return t;
      break;
    case FieldType::kInt64: {
      errno = 0;
      char* end = nullptr;
      int64_t v = std::strtoll(t.c_str(), &end, 10);
      if (!t.empty() && end == t.c_str() + t.size() && errno == 0 && t[0] != ' ') {
        return fmt::format("{}", v);
      }
      break;
    }
    case FieldType::kFloat64: {
      errno = 0;
      char* end = nullptr;
      double v = std::strtod(t.c_str(), &end);
      if (!t.empty() && end == t.c_str() + t.size() && errno == 0 && std::isfinite(v) &&
          t[0] != ' ') {
        return fmt::format("{}", v);
      }
      break;
    }
    case FieldType::kTimestamp: {
      auto ts = ParseTime(t);
      if (ts.ok()) return FormatTime(*ts);
      break;
    }
  }
  Error(node, "{}: '{}' is not a {} (the type of field '{}')", what, t,
        pipeline::FieldTypeName(field.type), field.name);
  return std::nullopt;
}

void Loader::LoadSource(const Entry& e, Definition* def) {
  auto entries = Map(e.value, "source", {"kafka", "landing", "format"});
  const Entry* kafka = Find(entries, "kafka");
  const Entry* landing = Find(entries, "landing");
  if ((kafka == nullptr) == (landing == nullptr)) {
    if (e.value.IsMap()) Error(e.value, "source needs exactly one of 'kafka' and 'landing'");
  }
  if (kafka != nullptr) {
    def->source.kind = pipeline::SourceKind::kKafka;
    auto k = Map(kafka->value, "source.kafka", {"topic", "key_as"});
    if (const Entry* topic = Find(k, "topic")) {
      if (auto t = Text(topic->value, "source.kafka.topic")) {
        if (IsTopic(*t)) {
          def->source.topic = *t;
        } else {
          Error(topic->value, "'{}' is not a Kafka topic name ([A-Za-z0-9._-], 1-249 chars)", *t);
        }
      }
    } else if (kafka->value.IsMap()) {
      Error(kafka->value, "source.kafka needs 'topic'");
    }
    if (const Entry* key = Find(k, "key_as")) {
      if (auto t = Text(key->value, "source.kafka.key_as")) {
        if (IsIdent(*t)) {
          def->source.key_as = *t;
        } else {
          Error(key->value, "source.kafka.key_as: '{}' is not a plain field name", *t);
        }
      }
    }
  }
  if (landing != nullptr) {
    def->source.kind = pipeline::SourceKind::kLanding;
    if (auto t = Text(landing->value, "source.landing")) {
      if (IsLandingGlob(*t)) {
        def->source.landing = *t;
      } else {
        Error(landing->value,
              "source.landing: '{}' must be a relative glob under the landing root, like "
              "iot_sensors/*.csv (no '..', no absolute path)",
              *t);
      }
    }
  }
  if (const Entry* format = Find(entries, "format")) {
    if (auto t = Text(format->value, "source.format")) {
      if (*t == "json") {
        def->source.format = pipeline::Format::kJson;
      } else if (*t == "csv") {
        def->source.format = pipeline::Format::kCsv;
      } else if (*t == "avro") {
        def->source.format = pipeline::Format::kAvro;
        if (landing != nullptr) Error(format->value, "source.format avro needs a kafka source");
      } else {
        Error(format->value, "source.format must be json, csv or avro, not '{}'", *t);
      }
    }
  }
}

void Loader::LoadField(const yaml::Node& node, Definition* def, std::set<std::string>* seen) {
  auto entries =
      Map(node, "a field", {"name", "type", "unit", "optional", "min", "max", "description"});
  if (!node.IsMap()) return;
  FieldDef f;
  const Entry* name = Find(entries, "name");
  if (name == nullptr) {
    Error(node, "a field needs 'name'");
    return;
  }
  auto n = Text(name->value, "field name");
  if (!n) return;
  if (!IsIdent(*n)) {
    Error(name->value,
          "field name '{}' is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*, at most "
          "63 bytes)",
          *n);
    return;
  }
  if (!seen->insert(*n).second) {
    Error(name->value, "field '{}' is declared twice", *n);
    return;
  }
  f.name = *n;
  const Entry* type = Find(entries, "type");
  if (type == nullptr) {
    Error(node, "field '{}' needs 'type' (string, int64, float64, bool or timestamp)", f.name);
    return;
  }
  auto t = Text(type->value, "type");
  if (!t) return;
  static constexpr std::pair<std::string_view, FieldType> kTypes[] = {
      {"string", FieldType::kString},
      {"int64", FieldType::kInt64},
      {"float64", FieldType::kFloat64},
      {"bool", FieldType::kBool},
      {"timestamp", FieldType::kTimestamp}};
  bool known = false;
  for (const auto& [text, ft] : kTypes) {
    if (*t == text) {
      f.type = ft;
      known = true;
    }
  }
  if (!known) {
    Error(type->value, "field '{}': unknown type '{}' (string, int64, float64, bool or timestamp)",
          f.name, *t);
    broken_fields_.insert(f.name);
    return;
  }
  if (const Entry* unit = Find(entries, "unit")) {
    if (f.type != FieldType::kTimestamp) {
      Error(unit->key_node, "field '{}': 'unit' is only for timestamp fields", f.name);
    } else if (auto u = Text(unit->value, "unit")) {
      if (*u == "s") {
        f.unit = pipeline::TimeUnit::kSeconds;
      } else if (*u == "ms") {
        f.unit = pipeline::TimeUnit::kMillis;
      } else if (*u == "us") {
        f.unit = pipeline::TimeUnit::kMicros;
      } else {
        Error(unit->value, "field '{}': unit must be s, ms or us, not '{}'", f.name, *u);
      }
    }
  }
  if (const Entry* opt = Find(entries, "optional")) {
    if (auto b = Bool(opt->value, "optional")) f.optional = *b;
  }
  for (const char* bound_key : {"min", "max"}) {
    const Entry* b = Find(entries, bound_key);
    if (b == nullptr) continue;
    if (f.type != FieldType::kInt64 && f.type != FieldType::kFloat64) {
      Error(b->key_node, "field '{}': '{}' is only for int64 and float64 fields", f.name,
            bound_key);
      continue;
    }
    auto canon = Canonical(b->value, f, bound_key);
    if (!canon) continue;
    pipeline::Bound v;
    if (f.type == FieldType::kInt64) {
      v = static_cast<int64_t>(std::strtoll(canon->c_str(), nullptr, 10));
    } else {
      v = std::strtod(canon->c_str(), nullptr);
    }
    (std::string_view(bound_key) == "min" ? f.min : f.max) = v;
  }
  if (f.min && f.max && *f.max < *f.min) {
    Error(node, "field '{}': min is greater than max", f.name);
  }
  def->fields.push_back(std::move(f));
}

void Loader::LoadFields(const Entry& e, Definition* def) {
  if (!e.value.IsSequence() || e.value.size() == 0) {
    Error(e.value, "fields must be a non-empty list of {{name, type}}");
    return;
  }
  std::set<std::string> seen;
  for (const yaml::Node& item : e.value.items()) LoadField(item, def, &seen);
}

std::optional<FieldType> Loader::GroupFieldType(const Definition& def, std::string_view name,
                                                bool in_batch) const {
  if (const FieldDef* f = def.Field(name)) return f->type;
  if (!in_batch) return std::nullopt;
  size_t dot = name.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  for (const pipeline::LookupDef& l : def.batch.lookups) {
    if (l.name != name.substr(0, dot)) continue;
    for (const auto& [col, type] : l.columns) {
      if (col == name.substr(dot + 1)) return type;
    }
  }
  return std::nullopt;
}

void Loader::LoadWhere(const yaml::Node& node, const Definition& def, MetricDef* m) {
  if (!node.IsMap()) {
    Error(node, "metric '{}': where must be a map from field to condition", m->name);
    return;
  }
  for (const auto& [key, v] : node.entries()) {
    if (!key.IsScalar()) {
      Error(key, "metric '{}': where keys must be field names", m->name);
      continue;
    }
    const std::string field_name = key.Scalar();
    const FieldDef* field = def.Field(field_name);
    if (field == nullptr) {
      if (!Broken(field_name)) {
        Error(key, "metric '{}': where names unknown field '{}'", m->name, field_name);
      }
      continue;
    }
    for (const Condition& c : m->where) {
      if (c.field == field_name)
        Error(key, "metric '{}': where names '{}' twice", m->name, field_name);
    }
    Condition c;
    c.field = field_name;
    const std::string what = fmt::format("metric '{}': where {}", m->name, field_name);
    if (v.IsMap()) {
      auto entries = Map(v, what, {"in", "present"});
      if (entries.size() != 1) {
        if (entries.empty() && v.size() == 0) Error(v, "{}: needs 'in' or 'present'", what);
        if (entries.size() > 1) Error(v, "{}: use either 'in' or 'present', not both", what);
        continue;
      }
      if (entries[0].key == "in") {
        c.kind = Condition::Kind::kIn;
        if (!entries[0].value.IsSequence() || entries[0].value.size() == 0) {
          Error(entries[0].value, "{}: 'in' needs a non-empty list", what);
          continue;
        }
        bool ok = true;
        for (const yaml::Node& item : entries[0].value.items()) {
          auto canon = Canonical(item, *field, what);
          if (canon) {
            c.values.push_back(*canon);
          } else {
            ok = false;
          }
        }
        if (!ok) continue;
      } else {
        c.kind = Condition::Kind::kPresent;
        auto b = Bool(entries[0].value, what + ": present");
        if (!b) continue;
        c.present = *b;
        if (!c.present && !field->optional) {
          Error(entries[0].value, "{}: field '{}' is required, so 'present: false' never holds",
                what, field_name);
          continue;
        }
      }
    } else {
      auto canon = Canonical(v, *field, what);
      if (!canon) continue;
      c.kind = Condition::Kind::kEquals;
      c.values.push_back(*canon);
    }
    m->where.push_back(std::move(c));
  }
}

std::optional<MetricDef> Loader::LoadMetric(const yaml::Node& node, const Definition& def,
                                            bool in_batch, std::chrono::seconds default_window) {
  auto entries = Map(node, "a metric",
                     {"name", "window", "group_by", "aggregate", "where", "table", "description"});
  if (!node.IsMap()) return std::nullopt;
  MetricDef m;
  bool ok = true;
  const Entry* name = Find(entries, "name");
  if (name == nullptr) {
    Error(node, "a metric needs 'name'");
    return std::nullopt;
  }
  auto n = Text(name->value, "metric name");
  if (!n) return std::nullopt;
  if (!IsLowerIdent(*n, kMaxMetricName)) {
    Error(name->value,
          "metric name '{}' must match [a-z][a-z0-9_]* and be at most {} bytes (it "
          "names tables)",
          *n, kMaxMetricName);
    return std::nullopt;
  }
  m.name = *n;
  if (const Entry* w = Find(entries, "window")) {
    auto win = Window(w->value, fmt::format("metric '{}': window", m.name));
    if (win) {
      m.window = *win;
    } else {
      ok = false;
    }
  } else if (default_window.count() > 0) {
    m.window = default_window;
  } else {
    Error(node, "metric '{}' needs 'window'", m.name);
    ok = false;
  }
  if (const Entry* g = Find(entries, "group_by")) {
    auto list = TextList(g->value, fmt::format("metric '{}': group_by", m.name));
    if (!list) {
      ok = false;
    } else if (list->size() > kMaxGroupFields) {
      Error(g->value, "metric '{}': at most {} group_by fields", m.name, kMaxGroupFields);
      ok = false;
    } else {
      size_t i = 0;
      for (const std::string& field : *list) {
        const yaml::Node& item = g->value.items()[i++];
        auto type = GroupFieldType(def, field, in_batch);
        if (!type) {
          if (!Broken(field)) {
            Error(item, "metric '{}': group_by names unknown field '{}'", m.name, field);
          }
          ok = false;
        } else if (*type == FieldType::kFloat64) {
          Error(item, "metric '{}': cannot group by float64 field '{}'", m.name, field);
          ok = false;
        } else if (std::find(m.group_by.begin(), m.group_by.end(), field) != m.group_by.end()) {
          Error(item, "metric '{}': group_by names '{}' twice", m.name, field);
          ok = false;
        } else if (std::find(std::begin(kWideColumns), std::end(kWideColumns), field) !=
                   std::end(kWideColumns)) {
          Error(item, "metric '{}': group field '{}' clashes with the metric table's own column",
                m.name, field);
          ok = false;
        }
        m.group_by.push_back(field);
      }
    }
  }
  if (const Entry* a = Find(entries, "aggregate")) {
    if (auto parsed = ParseAggregate(a->value.IsScalar() ? a->value.Scalar() : "")) {
      m.aggregate = parsed->kind;
      m.argument = parsed->argument;
      const FieldDef* arg = m.argument.empty() ? nullptr : def.Field(m.argument);
      if (!m.argument.empty() && arg == nullptr) {
        if (!Broken(m.argument)) {
          Error(a->value, "metric '{}': aggregate names unknown field '{}'", m.name, m.argument);
        }
        ok = false;
      } else if ((m.aggregate == AggregateKind::kSum || m.aggregate == AggregateKind::kAvg ||
                  m.aggregate == AggregateKind::kMin || m.aggregate == AggregateKind::kMax) &&
                 arg->type != FieldType::kInt64 && arg->type != FieldType::kFloat64) {
        Error(a->value, "metric '{}': {} needs an int64 or float64 field; '{}' is {}", m.name,
              pipeline::AggregateName(m.aggregate), m.argument, pipeline::FieldTypeName(arg->type));
        ok = false;
      }
    } else {
      Error(a->value,
            "metric '{}': aggregate must be count(), sum(F), min(F), max(F), avg(F) or "
            "count_distinct(F)",
            m.name);
      ok = false;
    }
  } else {
    Error(node, "metric '{}' needs 'aggregate'", m.name);
    ok = false;
  }
  if (const Entry* w = Find(entries, "where")) LoadWhere(w->value, def, &m);
  if (const Entry* t = Find(entries, "table")) {
    if (auto table = Text(t->value, "table")) {
      const size_t last = table->rfind('.') == std::string::npos ? 0 : table->rfind('.') + 1;
      if (IsTableName(*table) && table->size() - last <= kMaxMetricName) {
        m.table = *table;
      } else {
        Error(t->value,
              "metric '{}': table '{}' is not a plain SQL name (name or schema.name, "
              "[A-Za-z_][A-Za-z0-9_]*, the name at most {} bytes)",
              m.name, *table, kMaxMetricName);
        ok = false;
      }
    }
  }
  if (m.table.empty()) m.table = m.name;
  if (!ok) return std::nullopt;
  return m;
}

void Loader::LoadDerived(const Entry& e, Definition* def) {
  if (!e.value.IsSequence()) {
    Error(e.value, "derived must be a list of {{name, expr}}");
    return;
  }
  for (const yaml::Node& item : e.value.items()) {
    auto entries = Map(item, "a derived metric", {"name", "expr", "description"});
    if (!item.IsMap()) continue;
    const Entry* name = Find(entries, "name");
    const Entry* expr = Find(entries, "expr");
    if (name == nullptr || expr == nullptr) {
      Error(item, "a derived metric needs 'name' and 'expr'");
      continue;
    }
    auto n = Text(name->value, "derived name");
    auto x = Text(expr->value, "derived expr");
    if (!n || !x) continue;
    if (!IsLowerIdent(*n, kMaxMetricName)) {
      Error(name->value, "derived name '{}' must match [a-z][a-z0-9_]* (it names a view)", *n);
      continue;
    }
    if (def->Metric(*n) != nullptr ||
        std::any_of(def->derived.begin(), def->derived.end(),
                    [&](const pipeline::DerivedDef& o) { return o.name == *n; })) {
      Error(name->value, "derived '{}' has the name of another metric", *n);
      continue;
    }
    pipeline::DerivedDef d;
    d.name = *n;
    d.expr_text = *x;
    auto parsed = ParseExpression(*x);
    if (!parsed.ok()) {
      Error(expr->value, "derived '{}': {}", d.name, Message(parsed.status()));
      continue;
    }
    d.expr = std::move(*parsed);
    CollectMetricNames(*d.expr, &d.metrics);
    bool ok = true;
    const MetricDef* first = nullptr;
    for (const std::string& metric : d.metrics) {
      const MetricDef* m = def->Metric(metric);
      if (m == nullptr) {
        Error(expr->value, "derived '{}': '{}' is not a metric of this pipeline", d.name, metric);
        ok = false;
        continue;
      }
      if (first == nullptr) {
        first = m;
      } else if (m->window != first->window || m->group_by != first->group_by) {
        Error(expr->value,
              "derived '{}': metrics '{}' ({} by [{}]) and '{}' ({} by [{}]) have "
              "different windows or group_by",
              d.name, first->name, pipeline::WindowText(first->window),
              fmt::join(first->group_by, ", "), m->name, pipeline::WindowText(m->window),
              fmt::join(m->group_by, ", "));
        ok = false;
      }
    }
    if (first == nullptr) {
      if (ok) Error(expr->value, "derived '{}': the expression names no metric", d.name);
      continue;
    }
    if (!ok) continue;
    d.window = first->window;
    d.group_by = first->group_by;
    def->derived.push_back(std::move(d));
  }
}

void Loader::LoadSinks(const Entry& e, Definition* def) {
  auto entries = Map(e.value, "sinks", {"postgres", "lake"});
  if (const Entry* pg = Find(entries, "postgres")) {
    auto p = Map(pg->value, "sinks.postgres", {"layout", "table"});
    if (const Entry* layout = Find(p, "layout")) {
      if (auto t = Text(layout->value, "sinks.postgres.layout")) {
        if (*t == "wide") {
          def->postgres.layout = pipeline::Layout::kWide;
        } else if (*t == "long") {
          def->postgres.layout = pipeline::Layout::kLong;
        } else {
          Error(layout->value, "sinks.postgres.layout must be wide or long, not '{}'", *t);
        }
      }
    }
    if (const Entry* table = Find(p, "table")) {
      if (auto t = Text(table->value, "sinks.postgres.table")) {
        if (IsTableName(*t)) {
          def->postgres.table = *t;
        } else {
          Error(table->value,
                "sinks.postgres.table '{}' is not a plain SQL name (name or "
                "schema.name, [A-Za-z_][A-Za-z0-9_]*)",
                *t);
        }
      }
    }
    if (def->postgres.layout == pipeline::Layout::kLong && def->postgres.table.empty() &&
        pg->value.IsMap()) {
      Error(pg->value, "sinks.postgres: the long layout needs 'table'");
    }
  }
  if (const Entry* lake = Find(entries, "lake")) {
    auto l = Map(lake->value, "sinks.lake", {"dataset", "partition", "metadata"});
    if (const Entry* ds = Find(l, "dataset")) {
      if (auto t = Text(ds->value, "sinks.lake.dataset")) {
        if (IsDatasetPath(*t)) {
          def->lake.dataset = *t;
        } else {
          Error(ds->value,
                "sinks.lake.dataset '{}' must be a relative path of [a-z0-9_-] "
                "segments, like devices or bronze/iot_sensors",
                *t);
        }
      }
    } else if (lake->value.IsMap()) {
      Error(lake->value, "sinks.lake needs 'dataset'");
    }
    if (const Entry* part = Find(l, "partition")) {
      if (auto t = Text(part->value, "sinks.lake.partition")) {
        if (*t == "event_hour") {
          def->lake.partition = pipeline::LakePartition::kEventHour;
        } else if (*t == "event_date") {
          def->lake.partition = pipeline::LakePartition::kEventDate;
        } else if (*t == "ingest_date") {
          def->lake.partition = pipeline::LakePartition::kIngestDate;
        } else {
          Error(part->value,
                "sinks.lake.partition must be event_hour, event_date or ingest_date, not '{}'", *t);
        }
      }
    }
    if (const Entry* md = Find(l, "metadata")) {
      if (auto b = Bool(md->value, "sinks.lake.metadata")) def->lake.metadata = *b;
      if (def->lake.metadata) {
        for (const FieldDef& f : def->fields) {
          if (std::find(std::begin(kMetadataColumns), std::end(kMetadataColumns), f.name) !=
              std::end(kMetadataColumns)) {
            Error(md->value, "field '{}' clashes with a metadata column of 'metadata: true'",
                  f.name);
          }
        }
      }
    }
  }
}

void Loader::LoadLookup(const yaml::Node& node, Definition* def) {
  auto entries = Map(node, "a lookup", {"name", "table", "key", "on", "columns"});
  if (!node.IsMap()) return;
  pipeline::LookupDef l;
  for (const char* required : {"name", "table", "key", "on", "columns"}) {
    if (Find(entries, required) == nullptr) {
      Error(node, "a lookup needs '{}'", required);
      return;
    }
  }
  auto name = Text(Find(entries, "name")->value, "lookup name");
  auto table = Text(Find(entries, "table")->value, "lookup table");
  auto key = Text(Find(entries, "key")->value, "lookup key");
  auto on = Text(Find(entries, "on")->value, "lookup on");
  if (!name || !table || !key || !on) return;
  if (!IsLowerIdent(*name, kMaxIdentifier)) {
    Error(Find(entries, "name")->value, "lookup name '{}' must match [a-z][a-z0-9_]*", *name);
    return;
  }
  if (!IsTableName(*table)) {
    Error(Find(entries, "table")->value, "lookup table '{}' is not a plain SQL name", *table);
    return;
  }
  if (!IsIdent(*key)) {
    Error(Find(entries, "key")->value, "lookup key '{}' is not a plain column name", *key);
    return;
  }
  if (def->Field(*on) == nullptr) {
    Error(Find(entries, "on")->value, "lookup '{}': 'on' names unknown field '{}'", *name, *on);
    return;
  }
  l.name = *name;
  l.table = *table;
  l.key = *key;
  l.on = *on;
  const yaml::Node& cols = Find(entries, "columns")->value;
  if (!cols.IsMap() || cols.size() == 0) {
    Error(cols, "lookup '{}': columns must be a map from column to type", l.name);
    return;
  }
  for (const auto& [key, type_node] : cols.entries()) {
    std::string col = key.IsScalar() ? key.Scalar() : "";
    if (!IsIdent(col)) {
      Error(key, "lookup '{}': '{}' is not a plain column name", l.name, col);
      continue;
    }
    FieldDef probe;
    probe.name = col;
    auto t = Text(type_node, "lookup column type");
    if (!t) continue;
    if (*t == "string") {
      probe.type = FieldType::kString;
    } else if (*t == "int64") {
      probe.type = FieldType::kInt64;
    } else if (*t == "float64") {
      probe.type = FieldType::kFloat64;
    } else {
      Error(type_node, "lookup '{}': column type must be string, int64 or float64, not '{}'",
            l.name, *t);
      continue;
    }
    l.columns.emplace_back(col, probe.type);
  }
  for (const pipeline::LookupDef& other : def->batch.lookups) {
    if (other.name == l.name) {
      Error(Find(entries, "name")->value, "lookup '{}' is declared twice", l.name);
      return;
    }
  }
  def->batch.lookups.push_back(std::move(l));
}

void Loader::LoadLimit(const yaml::Node& node, Definition* def) {
  auto entries = Map(node, "a limit", {"name", "table", "metric", "limit", "label"});
  if (!node.IsMap()) return;
  for (const char* required : {"name", "metric", "limit", "label"}) {
    if (Find(entries, required) == nullptr) {
      Error(node, "a limit needs '{}'", required);
      return;
    }
  }
  pipeline::LimitDef l;
  auto name = Text(Find(entries, "name")->value, "limit name");
  auto metric = Text(Find(entries, "metric")->value, "limit metric");
  auto limit = Text(Find(entries, "limit")->value, "limit");
  auto label = Text(Find(entries, "label")->value, "limit label");
  if (!name || !metric || !limit || !label) return;
  if (!IsLowerIdent(*name, kMaxIdentifier)) {
    Error(Find(entries, "name")->value, "limit name '{}' must match [a-z][a-z0-9_]*", *name);
    return;
  }
  l.name = *name;
  l.table = *name;
  if (const Entry* t = Find(entries, "table")) {
    auto table = Text(t->value, "limit table");
    if (!table) return;
    if (!IsTableName(*table)) {
      Error(t->value, "limit table '{}' is not a plain SQL name", *table);
      return;
    }
    l.table = *table;
  }
  const MetricDef* m = nullptr;
  for (const MetricDef& bm : def->batch.metrics) {
    if (bm.name == *metric) m = &bm;
  }
  if (m == nullptr) {
    Error(Find(entries, "metric")->value, "limit '{}': '{}' is not a batch metric", l.name,
          *metric);
    return;
  }
  l.metric = *metric;
  auto limit_type = GroupFieldType(*def, *limit, true);
  if (limit->find('.') == std::string::npos || !limit_type ||
      (*limit_type != FieldType::kInt64 && *limit_type != FieldType::kFloat64)) {
    Error(Find(entries, "limit")->value,
          "limit '{}': 'limit' must name a numeric lookup column as <lookup>.<column>", l.name);
    return;
  }
  if (label->find('.') == std::string::npos || !GroupFieldType(*def, *label, true)) {
    Error(Find(entries, "label")->value,
          "limit '{}': 'label' must name a lookup column as <lookup>.<column>", l.name);
    return;
  }
  l.limit = *limit;
  l.label = *label;
  def->batch.limits.push_back(std::move(l));
}

void Loader::LoadBatch(const Entry& e, Definition* def) {
  auto entries = Map(e.value, "batch", {"every", "metrics", "sink", "lookups", "limits"});
  if (!e.value.IsMap()) return;
  def->batch.enabled = true;
  if (const Entry* every = Find(entries, "every")) {
    if (auto t = Text(every->value, "batch.every")) {
      if (*t == "1h") {
        def->batch.every = std::chrono::hours(1);
      } else if (*t == "1d" || *t == "24h") {
        def->batch.every = std::chrono::hours(24);
      } else {
        Error(every->value, "batch.every must be 1h or 1d, not '{}'", *t);
      }
    }
  }
  if (const Entry* sink = Find(entries, "sink")) {
    auto s = Map(sink->value, "batch.sink", {"table"});
    if (const Entry* t = Find(s, "table")) {
      if (auto table = Text(t->value, "batch.sink.table")) {
        if (IsTableName(*table)) {
          def->batch.table = *table;
        } else {
          Error(t->value, "batch.sink.table '{}' is not a plain SQL name", *table);
        }
      }
    }
  }
  if (const Entry* lookups = Find(entries, "lookups")) {
    if (!lookups->value.IsSequence()) {
      Error(lookups->value, "batch.lookups must be a list");
    } else {
      for (const yaml::Node& item : lookups->value.items()) LoadLookup(item, def);
    }
  }
  if (const Entry* metrics = Find(entries, "metrics")) {
    if (!metrics->value.IsSequence()) {
      Error(metrics->value, "batch.metrics must be a list");
    } else {
      for (const yaml::Node& item : metrics->value.items()) {
        if (item.IsScalar()) {
          // A speed metric by name, recomputed per unit as it is.
          auto name = Text(item, "batch metric");
          if (!name) continue;
          const MetricDef* m = def->Metric(*name);
          if (m == nullptr) {
            Error(item, "batch: '{}' is not a metric of this pipeline", *name);
            continue;
          }
          if (def->batch.every.count() % m->window.count() != 0) {
            Error(item, "batch: metric '{}' has a {} window, which does not divide batch.every",
                  *name, pipeline::WindowText(m->window));
            continue;
          }
          MetricDef copy = *m;
          copy.table = m->table + "_batch";
          def->batch.metrics.push_back(std::move(copy));
          continue;
        }
        auto m = LoadMetric(item, *def, /*in_batch=*/true, def->batch.every);
        if (!m) continue;
        if (def->batch.every.count() % m->window.count() != 0) {
          Error(item, "batch metric '{}': window {} does not divide batch.every", m->name,
                pipeline::WindowText(m->window));
          continue;
        }
        if (const MetricDef* speed = def->Metric(m->name)) {
          // Same name: the batch recomputes that speed metric, possibly at a coarser window
          // (rolled up from the speed windows where the batch has not run).
          const bool rollable =
              m->aggregate == AggregateKind::kSum || m->aggregate == AggregateKind::kCount ||
              m->aggregate == AggregateKind::kMin || m->aggregate == AggregateKind::kMax;
          if (speed->group_by != m->group_by || speed->aggregate != m->aggregate ||
              speed->argument != m->argument) {
            Error(item,
                  "batch metric '{}' has the name of a speed metric but not its group_by "
                  "and aggregate",
                  m->name);
            continue;
          }
          if (m->window.count() % speed->window.count() != 0 ||
              (m->window != speed->window && !rollable)) {
            Error(item,
                  "batch metric '{}': its window {} cannot be rolled up from the speed "
                  "metric's {} windows",
                  m->name, pipeline::WindowText(m->window), pipeline::WindowText(speed->window));
            continue;
          }
        }
        m->table = m->table + "_batch";
        def->batch.metrics.push_back(std::move(*m));
      }
    }
  }
  std::set<std::string> names;
  for (const MetricDef& m : def->batch.metrics) {
    if (!names.insert(m.name).second) {
      Error(e.value, "batch: metric '{}' is listed twice", m.name);
    }
  }
  if (const Entry* limits = Find(entries, "limits")) {
    if (!limits->value.IsSequence()) {
      Error(limits->value, "batch.limits must be a list");
    } else {
      for (const yaml::Node& item : limits->value.items()) LoadLimit(item, def);
    }
  }
  if (def->postgres.layout == pipeline::Layout::kLong && !def->batch.metrics.empty() &&
      def->batch.table.empty()) {
    Error(e.value, "batch: with the long layout the batch needs sink.table");
  }
}

// Rules across sections: unique names and tables, the long layout's shape.
void Loader::CheckMetricSet(const std::vector<Entry>& top, Definition* def) {
  std::set<std::string> tables;
  for (size_t i = 0; i < def->metrics.size(); ++i) {
    const MetricDef& m = def->metrics[i];
    const yaml::Node& at = metric_nodes_[i];
    if (def->postgres.layout == pipeline::Layout::kLong) {
      if (m.group_by.size() != 1 || !pipeline::HasIntegerValues(*def, m)) {
        Error(at,
              "metric '{}': the long layout needs exactly one group_by field and integer "
              "values",
              m.name);
      }
    } else if (!tables.insert(m.table).second) {
      Error(at, "metric '{}': table '{}' is used by another metric", m.name, m.table);
    }
  }
  if (!def->derived.empty() && def->postgres.layout == pipeline::Layout::kLong) {
    Error(Find(top, "derived")->key_node, "derived metrics need sinks.postgres.layout: wide");
  }
  if (def->postgres.layout == pipeline::Layout::kLong) {
    for (const MetricDef& m : def->batch.metrics) {
      if (m.group_by.size() != 1 || !pipeline::HasIntegerValues(*def, m)) {
        Error(Find(top, "batch")->value,
              "batch metric '{}': the long layout needs exactly one "
              "group_by field and integer values",
              m.name);
      }
    }
  }
}

absl::StatusOr<Definition> Loader::Load(std::string_view text) {
  Definition def;
  def.file = file_;
  auto parsed = yaml::ParseDocuments(text, kMaxNesting);
  if (!parsed.ok()) return InvalidArgument("{}:{}", file_, Message(parsed.status()));
  const std::vector<yaml::Node>& docs = *parsed;
  if (docs.empty() || docs[0].IsNull()) return InvalidArgument("{}:1:1: the file is empty", file_);
  if (docs.size() > 1) {
    return InvalidArgument("{}:{}:1: one pipeline per file: a second YAML document starts here",
                           file_, docs[1].mark().line + 1);
  }
  const yaml::Node& root = docs[0];
  {
    auto top = Map(root, "the definition",
                   {"name", "description", "source", "fields", "event_time", "lateness", "metrics",
                    "derived", "sinks", "batch"});
    if (!root.IsMap()) return InvalidArgument("{}:1:1: {}", file_, errors_[0].message);
    if (const Entry* name = Find(top, "name")) {
      if (auto n = Text(name->value, "name")) {
        if (IsLowerIdent(*n, kMaxPipelineName)) {
          def.name = *n;
        } else {
          Error(name->value,
                "name '{}' must match [a-z][a-z0-9_]{{0,40}} (it names offsets, "
                "views and the consumer group)",
                *n);
        }
      }
    } else {
      Error(root, "the definition needs 'name'");
    }
    if (const Entry* fields = Find(top, "fields")) {
      LoadFields(*fields, &def);
    } else {
      Error(root, "the definition needs 'fields'");
    }
    if (const Entry* source = Find(top, "source")) {
      LoadSource(*source, &def);
      if (!def.source.key_as.empty()) {
        // The key becomes a string field: declared (then it must be a string) or added last.
        FieldDef* declared = nullptr;
        for (FieldDef& f : def.fields) {
          if (f.name == def.source.key_as) declared = &f;
        }
        if (declared == nullptr) {
          FieldDef key;
          key.name = def.source.key_as;
          key.from_key = true;
          def.fields.push_back(key);
        } else if (declared->type != FieldType::kString) {
          Error(source->value, "source.kafka.key_as: field '{}' must be a string",
                def.source.key_as);
        } else {
          declared->from_key = true;
        }
      }
    } else {
      Error(root, "the definition needs 'source'");
    }
    if (const Entry* et = Find(top, "event_time")) {
      if (auto t = Text(et->value, "event_time")) {
        const FieldDef* f = def.Field(*t);
        if (f == nullptr) {
          if (!Broken(*t)) Error(et->value, "event_time names unknown field '{}'", *t);
        } else if (f->type != FieldType::kTimestamp) {
          Error(et->value, "event_time: field '{}' is {}, not timestamp", *t,
                pipeline::FieldTypeName(f->type));
        } else if (f->optional) {
          Error(et->value, "event_time: field '{}' is optional; event time must always be there",
                *t);
        } else {
          def.event_time = *t;
        }
      }
    }
    if (const Entry* lateness = Find(top, "lateness")) {
      if (auto t = Text(lateness->value, "lateness")) {
        auto d = ParseDuration(*t);
        if (!d.ok() || d->count() < 0) {
          Error(lateness->value, "lateness: bad duration '{}' (use 30s, 1m, 10m …)", *t);
        } else {
          def.lateness = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
        }
      }
    }
    if (const Entry* sinks = Find(top, "sinks")) LoadSinks(*sinks, &def);
    if (const Entry* metrics = Find(top, "metrics")) {
      if (!metrics->value.IsSequence()) {
        Error(metrics->value, "metrics must be a list");
      } else {
        std::set<std::string> names;
        for (const yaml::Node& item : metrics->value.items()) {
          auto m = LoadMetric(item, def, /*in_batch=*/false, std::chrono::seconds(0));
          if (!m) continue;
          if (!names.insert(m->name).second) {
            Error(item, "metric '{}' is declared twice", m->name);
            continue;
          }
          def.metrics.push_back(std::move(*m));
          metric_nodes_.push_back(item);
        }
      }
    }
    if (const Entry* derived = Find(top, "derived")) LoadDerived(*derived, &def);
    if (const Entry* batch = Find(top, "batch")) LoadBatch(*batch, &def);
    CheckMetricSet(top, &def);
  }
  if (errors_.empty()) return def;
  std::stable_sort(errors_.begin(), errors_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  std::string message;
  for (const Diagnostic& d : errors_) {
    if (!message.empty()) message += '\n';
    message += fmt::format("{}:{}:{}: {}", file_, d.line, d.column, d.message);
  }
  return absl::InvalidArgumentError(message);
}

}  // namespace

absl::StatusOr<Definition> ParsePipeline(std::string_view text, const std::string& file,
                                         const LoadOptions& options) {
  Loader loader(file, options);
  return loader.Load(text);
}

absl::StatusOr<Definition> LoadPipeline(const std::string& path, const LoadOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return NotFound("pipeline: cannot read definition {}: {}", path, std::strerror(errno));
  }
  std::string text;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxDefinitionBytes) {
      return InvalidArgument("pipeline: {} is larger than {} bytes; not a pipeline definition",
                             path, kMaxDefinitionBytes);
    }
  }
  return ParsePipeline(text, path, options);
}

}  // namespace lf::config
