#include "avro/schema.h"

#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "common/json_text.h"
#include "common/status.h"
#include "simdjson.h"

namespace lf::avro {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// Deeper type nesting than this is refused: no real schema comes close, and the parser recurses.
constexpr int kMaxSchemaDepth = 100;
// A fixed larger than this cannot be in any message we accept.
constexpr int64_t kMaxFixedSize = int64_t{1} << 31;

constexpr std::string_view kPrimitiveNames[] = {"null",  "boolean", "int",    "long",
                                                "float", "double",  "string", "bytes"};

std::optional<Type> PrimitiveType(std::string_view name) {
  constexpr Type kTypes[] = {Type::kNull,  Type::kBoolean, Type::kInt,    Type::kLong,
                             Type::kFloat, Type::kDouble,  Type::kString, Type::kBytes};
  for (size_t i = 0; i < std::size(kPrimitiveNames); ++i) {
    if (kPrimitiveNames[i] == name) return kTypes[i];
  }
  return std::nullopt;
}

// [A-Za-z_][A-Za-z0-9_]*
bool IsSimpleName(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

// Simple names joined by dots; empty is the null namespace.
bool IsNamespace(std::string_view s) {
  if (s.empty()) return true;
  size_t start = 0;
  while (true) {
    const size_t dot = s.find('.', start);
    if (!IsSimpleName(s.substr(start, dot - start))) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::string_view Namespace(std::string_view full_name) {
  const size_t dot = full_name.rfind('.');
  return dot == std::string_view::npos ? std::string_view() : full_name.substr(0, dot);
}

std::string Minified(element e) { return simdjson::minify(e); }

}  // namespace

std::string_view TypeName(Type t) {
  switch (t) {
    case Type::kNull:
      return "null";
    case Type::kBoolean:
      return "boolean";
    case Type::kInt:
      return "int";
    case Type::kLong:
      return "long";
    case Type::kFloat:
      return "float";
    case Type::kDouble:
      return "double";
    case Type::kString:
      return "string";
    case Type::kBytes:
      return "bytes";
    case Type::kEnum:
      return "enum";
    case Type::kFixed:
      return "fixed";
    case Type::kArray:
      return "array";
    case Type::kMap:
      return "map";
    case Type::kUnion:
      return "union";
    case Type::kRecord:
      return "record";
  }
  return "?";
}

std::string_view Node::short_name() const {
  const size_t dot = name.rfind('.');
  return dot == std::string::npos ? std::string_view(name) : std::string_view(name).substr(dot + 1);
}

int Node::FieldIndex(std::string_view field_name) const {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == field_name) return static_cast<int>(i);
  }
  return -1;
}

// Builds a Schema from a simdjson DOM. `where` strings name the place for error messages.
class SchemaParser {
 public:
  absl::StatusOr<Schema> Run(std::string_view json) {
    element root;
    if (auto e = dom_.parse(json.data(), json.size(), true).get(root); e) {
      return InvalidArgument("avro schema: not valid JSON: {}", simdjson::error_message(e));
    }
    auto top = ParseType(root, "", "the schema", 0);
    if (!top.ok()) return top.status();
    for (const PendingDefault& d : defaults_) {
      if (!ValidDefault(*d.field->type, d.value)) {
        return InvalidArgument("avro schema: {} field '{}': default {} does not match its type {}",
                               d.where, d.field->name, Minified(d.value),
                               TypeName(d.field->type->type));
      }
      d.field->default_json = Minified(d.value);
    }
    LF_RETURN_IF_ERROR(CheckFinite());
    schema_.root_ = *top;
    return std::move(schema_);
  }

 private:
  struct PendingDefault {
    Field* field;
    element value;
    std::string where;
  };

  Node* NewNode(Type t) {
    schema_.nodes_.push_back(std::make_unique<Node>());
    schema_.nodes_.back()->type = t;
    return schema_.nodes_.back().get();
  }

  // A reference by name: a full name when dotted, else in the enclosing namespace, then the null
  // namespace.
  const Node* Lookup(std::string_view name, std::string_view ns) const {
    if (name.find('.') == std::string_view::npos && !ns.empty()) {
      auto it = names_.find(std::string(ns) + "." + std::string(name));
      if (it != names_.end()) return it->second;
    }
    auto it = names_.find(std::string(name));
    return it == names_.end() ? nullptr : it->second;
  }

  absl::StatusOr<const Node*> ParseType(element e, std::string_view ns, const std::string& where,
                                        int depth) {
    if (depth > kMaxSchemaDepth) {
      return InvalidArgument("avro schema: {}: types nested deeper than {}", where,
                             kMaxSchemaDepth);
    }
    switch (e.type()) {
      case element_type::STRING:
        return ParseName(std::string_view(e.get_string().value_unsafe()), ns, where);
      case element_type::ARRAY:
        return ParseUnion(e.get_array().value_unsafe(), ns, where, depth);
      case element_type::OBJECT:
        return ParseObject(e.get_object().value_unsafe(), ns, where, depth);
      default:
        return InvalidArgument(
            "avro schema: {}: a type must be a string, an array or an object, "
            "got {}",
            where, Minified(e));
    }
  }

  absl::StatusOr<const Node*> ParseName(std::string_view name, std::string_view ns,
                                        const std::string& where) {
    if (auto t = PrimitiveType(name)) return NewNode(*t);
    if (const Node* n = Lookup(name, ns)) return n;
    return InvalidArgument("avro schema: {}: unknown type '{}'", where, name);
  }

  absl::StatusOr<const Node*> ParseUnion(simdjson::dom::array a, std::string_view ns,
                                         const std::string& where, int depth) {
    Node* u = NewNode(Type::kUnion);
    size_t i = 0;
    for (element b : a) {
      const std::string branch_where = fmt::format("{} union branch {}", where, i++);
      LF_ASSIGN_OR_RETURN(const Node* branch, ParseType(b, ns, branch_where, depth + 1));
      if (branch->type == Type::kUnion) {
        return InvalidArgument("avro schema: {}: a union may not contain a union", branch_where);
      }
      for (const Node* other : u->branches) {
        const bool same = branch->named() ? other->named() && other->name == branch->name
                                          : other->type == branch->type;
        if (same) {
          return InvalidArgument("avro schema: {}: the union has two branches of type '{}'",
                                 branch_where,
                                 branch->named() ? branch->name : TypeName(branch->type));
        }
      }
      u->branches.push_back(branch);
    }
    if (u->branches.empty()) return InvalidArgument("avro schema: {}: empty union", where);
    return u;
  }

  absl::StatusOr<std::string_view> RequiredString(simdjson::dom::object o, std::string_view key,
                                                  const std::string& where) {
    element v;
    if (o[key].get(v) || !v.is_string()) {
      return InvalidArgument("avro schema: {}: '{}' must be a string", where, key);
    }
    return std::string_view(v.get_string().value_unsafe());
  }

  absl::StatusOr<const Node*> ParseObject(simdjson::dom::object o, std::string_view ns,
                                          const std::string& where, int depth) {
    element type_el;
    if (o["type"].get(type_el)) {
      return InvalidArgument("avro schema: {}: an object type needs a 'type'", where);
    }
    if (!type_el.is_string()) return ParseType(type_el, ns, where, depth + 1);
    const std::string_view type(type_el.get_string().value_unsafe());
    Node* n = nullptr;
    if (type == "record" || type == "error") {
      LF_ASSIGN_OR_RETURN(n, ParseRecord(o, ns, where, depth));
      n->is_error = type == "error";
    } else if (type == "enum") {
      LF_ASSIGN_OR_RETURN(n, ParseEnum(o, ns, where));
    } else if (type == "fixed") {
      LF_ASSIGN_OR_RETURN(n, ParseFixed(o, ns, where));
    } else if (type == "array" || type == "map") {
      const bool array = type == "array";
      const std::string_view key = array ? "items" : "values";
      element child;
      if (o[key].get(child)) {
        return InvalidArgument("avro schema: {}: {} needs '{}'", where, type, key);
      }
      LF_ASSIGN_OR_RETURN(const Node* c,
                          ParseType(child, ns, fmt::format("{} {}", where, key), depth + 1));
      n = NewNode(array ? Type::kArray : Type::kMap);
      (array ? n->items : n->values) = c;
    } else if (auto t = PrimitiveType(type)) {
      n = NewNode(*t);
    } else {
      // {"type": "SomeName"}: a reference written as an object.
      return ParseName(type, ns, where);
    }
    ApplyLogicalType(o, n);
    return n;
  }

  // Sets n->logical when the annotation is one we know and valid for the node; otherwise leaves
  // the underlying type (the spec: invalid logical types are ignored).
  static void ApplyLogicalType(simdjson::dom::object o, Node* n) {
    std::string_view lt;
    if (o["logicalType"].get_string().get(lt)) return;
    if (lt == "timestamp-millis" && n->type == Type::kLong) {
      n->logical = LogicalType::kTimestampMillis;
    } else if (lt == "timestamp-micros" && n->type == Type::kLong) {
      n->logical = LogicalType::kTimestampMicros;
    } else if (lt == "date" && n->type == Type::kInt) {
      n->logical = LogicalType::kDate;
    } else if (lt == "uuid" && n->type == Type::kString) {
      n->logical = LogicalType::kUuid;
    } else if (lt == "decimal" && (n->type == Type::kBytes || n->type == Type::kFixed)) {
      int64_t precision = 0, scale = 0;
      if (o["precision"].get_int64().get(precision) || precision <= 0) return;
      if (auto s = o["scale"]; !s.error() && s.get_int64().get(scale)) return;
      if (scale < 0 || scale > precision) return;
      if (n->type == Type::kFixed) {
        // The most digits a signed integer of `size` bytes always holds.
        if (n->size == 0) return;
        const double max_digits =
            std::floor(static_cast<double>(8 * n->size - 1) * std::log10(2.0));
        if (static_cast<double>(precision) > max_digits) return;
      }
      n->logical = LogicalType::kDecimal;
      n->precision = static_cast<int>(precision);
      n->scale = static_cast<int>(scale);
    }
  }

  // The full name of a named type being defined, and its namespace for what it contains.
  absl::StatusOr<std::string> DefineName(simdjson::dom::object o, std::string_view enclosing,
                                         std::string_view kind, const std::string& where) {
    LF_ASSIGN_OR_RETURN(std::string_view name, RequiredString(o, "name", where));
    std::string full;
    if (name.find('.') != std::string_view::npos) {
      full = std::string(name);
    } else {
      std::string_view ns = enclosing;
      element ns_el;
      if (!o["namespace"].get(ns_el)) {
        if (ns_el.is_null()) {
          ns = "";
        } else if (ns_el.is_string()) {
          ns = std::string_view(ns_el.get_string().value_unsafe());
        } else {
          return InvalidArgument("avro schema: {} '{}': 'namespace' must be a string", kind, name);
        }
      }
      full = ns.empty() ? std::string(name) : fmt::format("{}.{}", ns, name);
    }
    const size_t dot = full.rfind('.');
    const std::string_view short_name =
        dot == std::string::npos ? std::string_view(full) : std::string_view(full).substr(dot + 1);
    if (!IsSimpleName(short_name) || !IsNamespace(Namespace(full))) {
      return InvalidArgument("avro schema: {}: invalid {} name '{}'", where, kind, full);
    }
    if (PrimitiveType(short_name)) {
      return InvalidArgument("avro schema: {}: a {} may not be named '{}' (a primitive type)",
                             where, kind, short_name);
    }
    if (names_.count(full)) {
      return InvalidArgument("avro schema: {}: {} '{}' is defined twice", where, kind, full);
    }
    return full;
  }

  absl::Status Register(Node* n, simdjson::dom::object o) {
    names_[n->name] = n;
    simdjson::dom::array aliases;
    if (o["aliases"].get_array().get(aliases)) return absl::OkStatus();
    for (element a : aliases) {
      std::string_view alias;
      if (a.get_string().get(alias) || alias.empty()) {
        return InvalidArgument("avro schema: {} '{}': aliases must be names", TypeName(n->type),
                               n->name);
      }
      const std::string ns(Namespace(n->name));
      n->aliases.push_back(alias.find('.') != std::string_view::npos || ns.empty()
                               ? std::string(alias)
                               : fmt::format("{}.{}", ns, alias));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Node*> ParseRecord(simdjson::dom::object o, std::string_view ns,
                                    const std::string& where, int depth) {
    LF_ASSIGN_OR_RETURN(std::string full, DefineName(o, ns, "record", where));
    Node* r = NewNode(Type::kRecord);
    r->name = std::move(full);
    // Registered before its fields: a field may refer to the record itself.
    LF_RETURN_IF_ERROR(Register(r, o));
    const std::string here = fmt::format("record '{}'", r->name);
    simdjson::dom::array fields;
    if (o["fields"].get_array().get(fields)) {
      return InvalidArgument("avro schema: {}: 'fields' must be an array", here);
    }
    const std::string inner_ns(Namespace(r->name));
    // Fields are added after parsing all of them: pointers into r->fields must stay stable for
    // the pending defaults.
    r->fields.reserve(fields.size());
    for (element fe : fields) {
      simdjson::dom::object fo;
      if (fe.get_object().get(fo)) {
        return InvalidArgument("avro schema: {}: each field must be an object", here);
      }
      LF_ASSIGN_OR_RETURN(std::string_view fname, RequiredString(fo, "name", here + " field"));
      if (!IsSimpleName(fname)) {
        return InvalidArgument("avro schema: {}: invalid field name '{}'", here, fname);
      }
      if (r->FieldIndex(fname) >= 0) {
        return InvalidArgument("avro schema: {}: duplicate field '{}'", here, fname);
      }
      const std::string fwhere = fmt::format("{} field '{}'", here, fname);
      element ft;
      if (fo["type"].get(ft)) return InvalidArgument("avro schema: {}: no 'type'", fwhere);
      LF_ASSIGN_OR_RETURN(const Node* type, ParseType(ft, inner_ns, fwhere, depth + 1));
      Field& f = r->fields.emplace_back();
      f.name = std::string(fname);
      f.type = type;
      simdjson::dom::array aliases;
      if (!fo["aliases"].get_array().get(aliases)) {
        for (element a : aliases) {
          std::string_view alias;
          if (a.get_string().get(alias) || !IsSimpleName(alias)) {
            return InvalidArgument("avro schema: {}: aliases must be names", fwhere);
          }
          f.aliases.emplace_back(alias);
        }
      }
      element def;
      if (!fo["default"].get(def)) defaults_.push_back({&f, def, here});
    }
    return r;
  }

  absl::StatusOr<Node*> ParseEnum(simdjson::dom::object o, std::string_view ns,
                                  const std::string& where) {
    LF_ASSIGN_OR_RETURN(std::string full, DefineName(o, ns, "enum", where));
    Node* n = NewNode(Type::kEnum);
    n->name = std::move(full);
    LF_RETURN_IF_ERROR(Register(n, o));
    simdjson::dom::array symbols;
    if (o["symbols"].get_array().get(symbols)) {
      return InvalidArgument("avro schema: enum '{}': 'symbols' must be an array", n->name);
    }
    for (element s : symbols) {
      std::string_view sym;
      if (s.get_string().get(sym) || !IsSimpleName(sym)) {
        return InvalidArgument("avro schema: enum '{}': invalid symbol {}", n->name, Minified(s));
      }
      for (const std::string& other : n->symbols) {
        if (other == sym) {
          return InvalidArgument("avro schema: enum '{}': duplicate symbol '{}'", n->name, sym);
        }
      }
      n->symbols.emplace_back(sym);
    }
    element def;
    if (!o["default"].get(def)) {
      std::string_view d;
      if (def.get_string().get(d) ||
          std::find(n->symbols.begin(), n->symbols.end(), d) == n->symbols.end()) {
        return InvalidArgument("avro schema: enum '{}': default {} is not one of its symbols",
                               n->name, Minified(def));
      }
      n->enum_default = std::string(d);
    }
    return n;
  }

  absl::StatusOr<Node*> ParseFixed(simdjson::dom::object o, std::string_view ns,
                                   const std::string& where) {
    LF_ASSIGN_OR_RETURN(std::string full, DefineName(o, ns, "fixed", where));
    int64_t size = -1;
    if (o["size"].get_int64().get(size) || size < 0 || size > kMaxFixedSize) {
      return InvalidArgument("avro schema: fixed '{}': 'size' must be an integer in [0, {}]", full,
                             kMaxFixedSize);
    }
    Node* n = NewNode(Type::kFixed);
    n->name = std::move(full);
    n->size = size;
    LF_RETURN_IF_ERROR(Register(n, o));
    return n;
  }

  // The spec's default rules: a union's default matches its first branch; bytes and fixed are
  // strings of code points 0-255.
  static bool ValidDefault(const Node& n, element v) {
    switch (n.type) {
      case Type::kNull:
        return v.is_null();
      case Type::kBoolean:
        return v.is_bool();
      case Type::kInt: {
        int64_t i = 0;
        return !v.get_int64().get(i) && i >= INT32_MIN && i <= INT32_MAX;
      }
      case Type::kLong:
        return v.is_int64();
      case Type::kFloat:
      case Type::kDouble:
        return v.is_number();
      case Type::kString:
        return v.is_string();
      case Type::kBytes:
      case Type::kFixed: {
        std::string_view s;
        if (v.get_string().get(s)) return false;
        size_t code_points = 0;
        for (size_t i = 0; i < s.size(); ++i) {
          const auto c = static_cast<unsigned char>(s[i]);
          if ((c & 0xC0) == 0x80) continue;
          ++code_points;
          if (c >= 0xC4) return false;  // above U+00FF
        }
        return n.type == Type::kBytes || static_cast<int64_t>(code_points) == n.size;
      }
      case Type::kEnum: {
        std::string_view s;
        return !v.get_string().get(s) &&
               std::find(n.symbols.begin(), n.symbols.end(), s) != n.symbols.end();
      }
      case Type::kArray: {
        simdjson::dom::array a;
        if (v.get_array().get(a)) return false;
        for (element item : a) {
          if (!ValidDefault(*n.items, item)) return false;
        }
        return true;
      }
      case Type::kMap: {
        simdjson::dom::object o;
        if (v.get_object().get(o)) return false;
        for (auto kv : o) {
          if (!ValidDefault(*n.values, kv.value)) return false;
        }
        return true;
      }
      case Type::kUnion:
        return ValidDefault(*n.branches.front(), v);
      case Type::kRecord: {
        simdjson::dom::object o;
        if (v.get_object().get(o)) return false;
        for (const Field& f : n.fields) {
          element fv;
          if (o[f.name].get(fv)) {
            if (!f.default_json.has_value()) return false;
          } else if (!ValidDefault(*f.type, fv)) {
            return false;
          }
        }
        return true;
      }
    }
    return false;
  }

  // Refuses records that can only contain themselves (no null branch, array or map on the way
  // round): no finite value exists, so no message could ever be decoded.
  absl::Status CheckFinite() const {
    std::unordered_set<const Node*> finite;
    bool changed = true;
    auto has_value = [&](const Node* n) {
      switch (n->type) {
        case Type::kRecord:
          return finite.count(n) > 0;
        case Type::kUnion:
          for (const Node* b : n->branches) {
            if (b->type != Type::kRecord || finite.count(b)) return true;
          }
          return false;
        default:
          return true;  // arrays and maps may be empty
      }
    };
    while (changed) {
      changed = false;
      for (const auto& n : schema_.nodes_) {
        if (n->type != Type::kRecord || finite.count(n.get())) continue;
        bool all = true;
        for (const Field& f : n->fields) all = all && has_value(f.type);
        if (all) changed = finite.insert(n.get()).second || changed;
      }
    }
    for (const auto& n : schema_.nodes_) {
      if (n->type == Type::kRecord && !finite.count(n.get())) {
        return InvalidArgument(
            "avro schema: record '{}' always contains itself: the recursion needs a way out "
            "(a null union branch, an array or a map)",
            n->name);
      }
    }
    return absl::OkStatus();
  }

  simdjson::dom::parser dom_;
  Schema schema_;
  std::unordered_map<std::string, const Node*> names_;
  std::vector<PendingDefault> defaults_;
};

absl::StatusOr<Schema> Schema::Parse(std::string_view json) { return SchemaParser().Run(json); }

namespace {

void WriteCanonical(const Node& n, std::unordered_set<std::string>* seen, std::string* out) {
  auto name_and_type = [&](std::string_view type) {
    out->append("{\"name\":");
    AppendJsonString(n.name, out);
    out->append(",\"type\":\"");
    out->append(type);
    out->push_back('"');
  };
  if (n.named()) {
    if (!seen->insert(n.name).second) {
      AppendJsonString(n.name, out);
      return;
    }
  }
  switch (n.type) {
    case Type::kRecord:
      name_and_type(n.is_error ? "error" : "record");
      out->append(",\"fields\":[");
      for (size_t i = 0; i < n.fields.size(); ++i) {
        if (i) out->push_back(',');
        out->append("{\"name\":");
        AppendJsonString(n.fields[i].name, out);
        out->append(",\"type\":");
        WriteCanonical(*n.fields[i].type, seen, out);
        out->push_back('}');
      }
      out->append("]}");
      return;
    case Type::kEnum:
      name_and_type("enum");
      out->append(",\"symbols\":[");
      for (size_t i = 0; i < n.symbols.size(); ++i) {
        if (i) out->push_back(',');
        AppendJsonString(n.symbols[i], out);
      }
      out->append("]}");
      return;
    case Type::kFixed:
      name_and_type("fixed");
      out->append(fmt::format(",\"size\":{}}}", n.size));
      return;
    case Type::kArray:
      out->append("{\"type\":\"array\",\"items\":");
      WriteCanonical(*n.items, seen, out);
      out->push_back('}');
      return;
    case Type::kMap:
      out->append("{\"type\":\"map\",\"values\":");
      WriteCanonical(*n.values, seen, out);
      out->push_back('}');
      return;
    case Type::kUnion:
      out->push_back('[');
      for (size_t i = 0; i < n.branches.size(); ++i) {
        if (i) out->push_back(',');
        WriteCanonical(*n.branches[i], seen, out);
      }
      out->push_back(']');
      return;
    default:
      out->push_back('"');
      out->append(TypeName(n.type));
      out->push_back('"');
      return;
  }
}

// The spec's CRC-64-AVRO: the empty fingerprint and the byte table derived from it.
constexpr uint64_t kEmptyFingerprint = 0xc15d213aa4d7a795ULL;

struct FingerprintTable {
  uint64_t entries[256];
  constexpr FingerprintTable() : entries() {
    for (uint64_t i = 0; i < 256; ++i) {
      uint64_t fp = i;
      for (int j = 0; j < 8; ++j) fp = (fp >> 1) ^ (kEmptyFingerprint & (0 - (fp & 1)));
      entries[i] = fp;
    }
  }
};
constexpr FingerprintTable kFingerprintTable;

}  // namespace

std::string CanonicalForm(const Schema& schema) {
  std::unordered_set<std::string> seen;
  std::string out;
  WriteCanonical(schema.root(), &seen, &out);
  return out;
}

uint64_t Fingerprint64(std::string_view bytes) {
  uint64_t fp = kEmptyFingerprint;
  for (char c : bytes) {
    fp = (fp >> 8) ^ kFingerprintTable.entries[(fp ^ static_cast<unsigned char>(c)) & 0xff];
  }
  return fp;
}

uint64_t Fingerprint64(const Schema& schema) { return Fingerprint64(CanonicalForm(schema)); }

}  // namespace lf::avro
