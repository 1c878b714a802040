#include "avro/schema.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lf::avro {
namespace {

using ::testing::HasSubstr;

Schema MustParse(std::string_view json) {
  auto s = Schema::Parse(json);
  EXPECT_TRUE(s.ok()) << s.status() << "\n" << json;
  if (!s.ok()) return std::move(Schema::Parse("\"null\"").value());
  return std::move(s).value();
}

TEST(SchemaTest, ParsesPrimitivesInBothForms) {
  const std::pair<const char*, Type> cases[] = {
      {"\"null\"", Type::kNull},     {"\"boolean\"", Type::kBoolean},
      {"\"int\"", Type::kInt},       {"{\"type\": \"long\"}", Type::kLong},
      {"\"float\"", Type::kFloat},   {"\"double\"", Type::kDouble},
      {"\"string\"", Type::kString}, {"{\"type\": \"bytes\", \"x-custom\": 1}", Type::kBytes},
  };
  for (const auto& [json, type] : cases) {
    Schema s = MustParse(json);
    EXPECT_EQ(s.root().type, type) << json;
  }
}

TEST(SchemaTest, ParsesEveryComplexTypeAndLogicalType) {
  Schema s = MustParse(R"({
    "type": "record", "name": "Order", "namespace": "shop", "doc": "ignored",
    "aliases": ["Purchase"],
    "fields": [
      {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
      {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
      {"name": "at_us", "type": {"type": "long", "logicalType": "timestamp-micros"}},
      {"name": "day", "type": {"type": "int", "logicalType": "date"}},
      {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9,
                                  "scale": 2}},
      {"name": "fx", "type": {"type": "fixed", "name": "Dec8", "size": 8,
                              "logicalType": "decimal", "precision": 10, "scale": 3}},
      {"name": "currency", "type": {"type": "enum", "name": "Currency",
                                    "symbols": ["EUR", "USD"], "default": "EUR"}},
      {"name": "tags", "type": {"type": "array", "items": "string"}, "default": []},
      {"name": "attrs", "type": {"type": "map", "values": "long"}},
      {"name": "note", "type": ["null", "string"], "default": null, "aliases": ["remark"]},
      {"name": "again", "type": "Currency"},
      {"name": "again_full", "type": "shop.Dec8"}
    ]})");
  const Node& r = s.root();
  ASSERT_EQ(r.type, Type::kRecord);
  EXPECT_EQ(r.name, "shop.Order");
  EXPECT_EQ(r.short_name(), "Order");
  EXPECT_THAT(r.aliases, ::testing::ElementsAre("shop.Purchase"));
  ASSERT_EQ(r.fields.size(), 12u);
  EXPECT_EQ(r.fields[0].type->logical, LogicalType::kUuid);
  EXPECT_EQ(r.fields[1].type->logical, LogicalType::kTimestampMillis);
  EXPECT_EQ(r.fields[2].type->logical, LogicalType::kTimestampMicros);
  EXPECT_EQ(r.fields[3].type->logical, LogicalType::kDate);
  EXPECT_EQ(r.fields[4].type->logical, LogicalType::kDecimal);
  EXPECT_EQ(r.fields[4].type->precision, 9);
  EXPECT_EQ(r.fields[4].type->scale, 2);
  EXPECT_EQ(r.fields[5].type->type, Type::kFixed);
  EXPECT_EQ(r.fields[5].type->size, 8);
  EXPECT_EQ(r.fields[5].type->logical, LogicalType::kDecimal);
  EXPECT_EQ(r.fields[6].type->name, "shop.Currency");
  EXPECT_THAT(r.fields[6].type->symbols, ::testing::ElementsAre("EUR", "USD"));
  EXPECT_EQ(r.fields[6].type->enum_default, "EUR");
  EXPECT_EQ(r.fields[7].type->items->type, Type::kString);
  EXPECT_EQ(r.fields[7].default_json, "[]");
  EXPECT_EQ(r.fields[8].type->values->type, Type::kLong);
  EXPECT_EQ(r.fields[9].type->type, Type::kUnion);
  EXPECT_EQ(r.fields[9].default_json, "null");
  EXPECT_THAT(r.fields[9].aliases, ::testing::ElementsAre("remark"));
  EXPECT_FALSE(r.fields[0].default_json.has_value());
  // References are the same node.
  EXPECT_EQ(r.fields[10].type, r.fields[6].type);
  EXPECT_EQ(r.fields[11].type, r.fields[5].type);
  EXPECT_EQ(r.FieldIndex("note"), 9);
  EXPECT_EQ(r.FieldIndex("nope"), -1);
}

TEST(SchemaTest, InvalidLogicalTypesFallBackToTheUnderlyingType) {
  const char* cases[] = {
      R"({"type": "int", "logicalType": "timestamp-millis"})",
      R"({"type": "long", "logicalType": "date"})",
      R"({"type": "bytes", "logicalType": "decimal", "precision": 2, "scale": 3})",
      R"({"type": "bytes", "logicalType": "decimal"})",
      R"({"type": "fixed", "name": "F", "size": 2, "logicalType": "decimal", "precision": 5})",
      R"({"type": "long", "logicalType": "local-timestamp-millis"})",
  };
  for (const char* json : cases) {
    Schema s = MustParse(json);
    EXPECT_EQ(s.root().logical, LogicalType::kNone) << json;
  }
}

TEST(SchemaTest, RecursiveRecordsAndNamespaces) {
  Schema s = MustParse(R"({"type": "record", "name": "Node", "namespace": "x.y", "fields": [
      {"name": "value", "type": "long"},
      {"name": "next", "type": ["null", "Node"]},
      {"name": "children", "type": {"type": "array", "items": "x.y.Node"}},
      {"name": "other", "type": {"type": "record", "name": "a.b.Other", "fields": [
          {"name": "inner", "type": {"type": "enum", "name": "Kind", "symbols": ["K"]}}]}},
      {"name": "kind", "type": "a.b.Kind"}]})");
  const Node& r = s.root();
  EXPECT_EQ(r.fields[1].type->branches[1], &r);
  EXPECT_EQ(r.fields[2].type->items, &r);
  EXPECT_EQ(r.fields[3].type->name, "a.b.Other");
  // A nested type without a namespace takes its enclosing type's namespace.
  EXPECT_EQ(r.fields[4].type->name, "a.b.Kind");
}

TEST(SchemaTest, RefusesBadSchemasNamingThePlace) {
  const std::pair<const char*, const char*> cases[] = {
      {"{", "not valid JSON"},
      {"\"integer\"", "unknown type 'integer'"},
      {"42", "a type must be a string, an array or an object"},
      {"{}", "needs a 'type'"},
      {R"({"type": "record", "fields": []})", "'name' must be a string"},
      {R"({"type": "record", "name": "1abc", "fields": []})", "invalid record name '1abc'"},
      {R"({"type": "record", "name": "a..b", "fields": []})", "invalid record name"},
      {R"({"type": "record", "name": "int", "fields": []})", "may not be named 'int'"},
      {R"({"type": "record", "name": "R"})", "'fields' must be an array"},
      {R"({"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"},
          {"name": "a", "type": "long"}]})",
       "record 'R': duplicate field 'a'"},
      {R"({"type": "record", "name": "R", "fields": [{"name": "a-b", "type": "int"}]})",
       "invalid field name 'a-b'"},
      {R"({"type": "record", "name": "R", "fields": [{"name": "qty", "type": "integer"}]})",
       "record 'R' field 'qty': unknown type 'integer'"},
      {R"({"type": "record", "name": "R", "fields": [{"name": "a"}]})", "field 'a': no 'type'"},
      {R"({"type": "record", "name": "R", "fields": [{"name": "a", "type": "int",
          "default": "x"}]})",
       "field 'a': default \"x\" does not match its type int"},
      {R"({"type": "record", "name": "R", "fields": [{"name": "a", "type": ["null", "int"],
          "default": 1}]})",
       "default 1 does not match"},
      {R"({"type": "record", "name": "R", "fields": [{"name": "a", "type": "int",
          "default": 4294967296}]})",
       "does not match"},
      {R"({"type": "record", "name": "R", "fields": [{"name": "me", "type": "R"}]})",
       "record 'R' always contains itself"},
      {R"({"type": "record", "name": "R", "fields": [{"name": "a", "type": {"type": "enum",
          "name": "R", "symbols": ["A"]}}]})",
       "enum 'R' is defined twice"},
      {R"({"type": "enum", "name": "E", "symbols": ["A", "A"]})", "duplicate symbol 'A'"},
      {R"({"type": "enum", "name": "E", "symbols": ["A", "b c"]})", "invalid symbol \"b c\""},
      {R"({"type": "enum", "name": "E", "symbols": ["A"], "default": "B"})",
       "default \"B\" is not one of its symbols"},
      {R"({"type": "enum", "name": "E"})", "'symbols' must be an array"},
      {R"({"type": "fixed", "name": "F"})", "'size' must be an integer"},
      {R"({"type": "fixed", "name": "F", "size": -1})", "'size' must be an integer"},
      {R"({"type": "array"})", "array needs 'items'"},
      {R"({"type": "map"})", "map needs 'values'"},
      {R"(["null", ["int"]])", "a union may not contain a union"},
      {R"(["null", "int", "null"])", "two branches of type 'null'"},
      {R"(["int", {"type": "int", "logicalType": "date"}])", "two branches of type 'int'"},
      {R"([{"type": "fixed", "name": "F", "size": 1}, "F"])", "two branches of type 'F'"},
      {"[]", "empty union"},
  };
  for (const auto& [json, message] : cases) {
    auto s = Schema::Parse(json);
    ASSERT_FALSE(s.ok()) << json;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(s.status().message()), HasSubstr(message)) << json;
    EXPECT_THAT(std::string(s.status().message()), HasSubstr("avro schema: ")) << json;
  }
}

TEST(SchemaTest, RefusesTypesNestedTooDeeply) {
  std::string json;
  for (int i = 0; i < 200; ++i) json += R"({"type": "array", "items": )";
  json += "\"int\"";
  for (int i = 0; i < 200; ++i) json += "}";
  auto s = Schema::Parse(json);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("nested deeper than"));
}

// Expected forms and fingerprints from an independent implementation (fastavro 1.13:
// to_parsing_canonical_form, fingerprint(..., "CRC-64-AVRO"), which prints the 8 bytes
// little-endian, as the single-object encoding writes them).
TEST(SchemaTest, CanonicalFormAndFingerprintMatchAnIndependentImplementation) {
  struct Case {
    const char* json;
    const char* canonical;
    uint64_t fingerprint;
  };
  const Case cases[] = {
      {"\"null\"", "\"null\"", 0x63dd24e7cc258f8aULL},
      {"{\"type\": \"int\"}", "\"int\"", 0x7275d51a3f395c8fULL},
      {R"({"type": "record", "name": "Node", "namespace": "x.y", "fields": [
           {"name": "value", "type": "long"}, {"name": "next", "type": ["null", "Node"]}]})",
       R"({"name":"x.y.Node","type":"record","fields":[{"name":"value","type":"long"},)"
       R"({"name":"next","type":["null","x.y.Node"]}]})",
       0xba489f9cf0e19819ULL},
      {R"({"size": 16, "type": "fixed", "namespace": "a", "name": "F", "aliases": ["G"]})",
       R"({"name":"a.F","type":"fixed","size":16})", 0x18e375f8702eb3ffULL},
      {R"({"type": "enum", "name": "E", "symbols": ["A", "B"], "doc": "x"})",
       R"({"name":"E","type":"enum","symbols":["A","B"]})", 0xae10ce05eafd7355ULL},
      {R"({"type": "array", "items": {"type": "map", "values": ["null", "double"]}})",
       R"({"type":"array","items":{"type":"map","values":["null","double"]}})",
       0xc1ed2e98c6167403ULL},
  };
  for (const Case& c : cases) {
    Schema s = MustParse(c.json);
    EXPECT_EQ(CanonicalForm(s), c.canonical) << c.json;
    EXPECT_EQ(Fingerprint64(s), c.fingerprint) << c.json;
  }
}

TEST(SchemaTest, CanonicalFormOfALargeSchemaMatchesFastavro) {
  Schema s = MustParse(R"({"type":"record","name":"Order","namespace":"shop","doc":"an order",
   "fields":[
    {"name":"order_id","type":"string"},
    {"name":"customer_id","type":{"type":"string","logicalType":"uuid"}},
    {"name":"quantity","type":"int"},
    {"name":"unit_price","type":"double"},
    {"name":"currency","type":{"type":"enum","name":"Currency","symbols":["EUR","USD"]}},
    {"name":"order_ts","type":{"type":"long","logicalType":"timestamp-millis"}},
    {"name":"channel","type":["null","string"],"default":null},
    {"name":"discount","type":{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}},
    {"name":"tags","type":{"type":"array","items":"string"}},
    {"name":"attrs","type":{"type":"map","values":"long"}},
    {"name":"shipping","type":{"type":"record","name":"Address","fields":[
      {"name":"city","type":"string"},{"name":"zip","type":["null","int"]}]}},
    {"name":"checksum","type":{"type":"fixed","name":"Md5","size":4}},
    {"name":"ship_date","type":{"type":"int","logicalType":"date"}},
    {"name":"weight","type":"float"},
    {"name":"price_fx","type":{"type":"fixed","name":"Dec8","size":8,"logicalType":"decimal",
      "precision":10,"scale":3}},
    {"name":"paid","type":"boolean"},
    {"name":"micros_ts","type":{"type":"long","logicalType":"timestamp-micros"}},
    {"name":"when","type":["null",{"type":"long","logicalType":"timestamp-millis"},"Address"]}
  ]})");
  EXPECT_EQ(
      CanonicalForm(s),
      R"({"name":"shop.Order","type":"record","fields":[{"name":"order_id","type":"string"},)"
      R"({"name":"customer_id","type":"string"},{"name":"quantity","type":"int"},)"
      R"({"name":"unit_price","type":"double"},{"name":"currency","type":{"name":"shop.Currency",)"
      R"("type":"enum","symbols":["EUR","USD"]}},{"name":"order_ts","type":"long"},)"
      R"({"name":"channel","type":["null","string"]},{"name":"discount","type":"bytes"},)"
      R"({"name":"tags","type":{"type":"array","items":"string"}},{"name":"attrs","type":)"
      R"({"type":"map","values":"long"}},{"name":"shipping","type":{"name":"shop.Address",)"
      R"("type":"record","fields":[{"name":"city","type":"string"},{"name":"zip","type":)"
      R"(["null","int"]}]}},{"name":"checksum","type":{"name":"shop.Md5","type":"fixed",)"
      R"("size":4}},{"name":"ship_date","type":"int"},{"name":"weight","type":"float"},)"
      R"({"name":"price_fx","type":{"name":"shop.Dec8","type":"fixed","size":8}},)"
      R"({"name":"paid","type":"boolean"},{"name":"micros_ts","type":"long"},)"
      R"({"name":"when","type":["null","long","shop.Address"]}]})");
  EXPECT_EQ(Fingerprint64(s), 0x354fbe9f4231b2d8ULL);
}

TEST(SchemaTest, EquivalentSpellingsShareACanonicalForm) {
  Schema a = MustParse(R"({"type": "record", "name": "R", "namespace": "n", "fields": [
      {"name": "f", "type": {"type": "int"}, "doc": "d", "default": 1}]})");
  Schema b = MustParse(R"({"fields": [{"type": "int", "name": "f"}], "name": "n.R",
      "type": "record"})");
  EXPECT_EQ(CanonicalForm(a), CanonicalForm(b));
  EXPECT_EQ(Fingerprint64(a), Fingerprint64(b));
  EXPECT_EQ(Fingerprint64(""), 0xc15d213aa4d7a795ULL);  // the spec's empty fingerprint
}

}  // namespace
}  // namespace lf::avro
