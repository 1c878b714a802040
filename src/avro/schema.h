#pragma once

// Avro schemas (Avro 1.11 specification): parsed from their JSON text into an immutable tree,
// validated, and written back in Parsing Canonical Form with its CRC-64-AVRO fingerprint — what
// the schema registry dedups by (SPEC §6.4).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace lf::avro {

enum class Type {
  kNull,
  kBoolean,
  kInt,
  kLong,
  kFloat,
  kDouble,
  kString,
  kBytes,
  kEnum,
  kFixed,
  kArray,
  kMap,
  kUnion,
  kRecord,
};

// The logical types in use. An annotation the spec calls invalid (timestamp-millis on an int, a
// decimal whose scale exceeds its precision, an unknown name) is ignored, as the spec requires:
// the node keeps its underlying type and kNone.
enum class LogicalType { kNone, kTimestampMillis, kTimestampMicros, kDate, kDecimal, kUuid };

// "record", "long", ... as in schemas.
std::string_view TypeName(Type t);

struct Node;

struct Field {
  std::string name;
  const Node* type = nullptr;
  // The default value as minified JSON text (already checked against `type`); nullopt: none.
  std::optional<std::string> default_json;
  std::vector<std::string> aliases;
};

// One node of a schema tree. Named types (record, enum, fixed) appear once; a reference to one
// is the same pointer, so a recursive record points at itself.
struct Node {
  Type type = Type::kNull;
  LogicalType logical = LogicalType::kNone;
  int precision = 0;  // kDecimal
  int scale = 0;      // kDecimal
  // Named types: the full name ("shop.Order") and the full names of their aliases.
  std::string name;
  std::vector<std::string> aliases;
  std::vector<std::string> symbols;         // kEnum
  std::optional<std::string> enum_default;  // kEnum: a symbol
  int64_t size = 0;                         // kFixed
  const Node* items = nullptr;              // kArray
  const Node* values = nullptr;             // kMap
  std::vector<const Node*> branches;        // kUnion
  std::vector<Field> fields;                // kRecord
  bool is_error = false;                    // kRecord declared as "error"

  bool named() const {
    return type == Type::kRecord || type == Type::kEnum || type == Type::kFixed;
  }
  // The name after the last dot.
  std::string_view short_name() const;
  // The index of the field called `name`, or -1 (kRecord).
  int FieldIndex(std::string_view name) const;
};

// An immutable, validated schema. Move-only; nodes keep their addresses when it moves.
class Schema {
 public:
  // Parses and validates `json`: every type of the spec, named-type references (to the record
  // being defined or to earlier named types), logical types, defaults. InvalidArgument naming the
  // place ("avro schema: record 'shop.Order' field 'qty': unknown type 'integer'") otherwise.
  static absl::StatusOr<Schema> Parse(std::string_view json);

  Schema(Schema&&) noexcept = default;
  Schema& operator=(Schema&&) noexcept = default;

  const Node& root() const { return *root_; }

 private:
  Schema() = default;
  friend class SchemaParser;

  std::vector<std::unique_ptr<Node>> nodes_;
  const Node* root_ = nullptr;
};

// The schema's Parsing Canonical Form (spec: "Parsing Canonical Form for Schemas"): primitives as
// bare names, full names, only name/type/fields/symbols/items/values/size in that order, each
// named type spelled out at its first occurrence only, no whitespace.
std::string CanonicalForm(const Schema& schema);

// The spec's 64-bit Rabin fingerprint (CRC-64-AVRO) of `bytes`; of a schema, of its canonical
// form.
uint64_t Fingerprint64(std::string_view bytes);
uint64_t Fingerprint64(const Schema& schema);

}  // namespace lf::avro
