#include "avro/compatibility.h"

#include "fmt/format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lf::avro {
namespace {

using ::testing::HasSubstr;

Schema S(std::string_view json) {
  auto s = Schema::Parse(json);
  EXPECT_TRUE(s.ok()) << s.status() << "\n" << json;
  return std::move(s).value();
}

std::string Record(std::string_view fields) {
  return fmt::format(R"({{"type": "record", "name": "Order", "namespace": "shop",
                         "fields": [{}]}})",
                     fields);
}

constexpr const char* kId = R"({"name": "id", "type": "string"})";

std::string Why(const absl::Status& s) { return std::string(s.message()); }

TEST(CanReadTest, FieldsResolveByName) {
  Schema v1 = S(Record(kId));
  Schema with_default = S(Record(
      fmt::format(R"({}, {{"name": "currency", "type": "string", "default": "EUR"}})", kId)));
  Schema without_default =
      S(Record(fmt::format(R"({}, {{"name": "currency", "type": "string"}})", kId)));
  EXPECT_TRUE(CanRead(with_default, v1).ok());
  const absl::Status s = CanRead(without_default, v1);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Why(s),
              HasSubstr("field 'currency' has no default and is missing in the writer schema"));
  // Writer fields the reader lacks are ignored; fields may come in any order.
  EXPECT_TRUE(CanRead(v1, without_default).ok());
  Schema reordered = S(Record(fmt::format(R"({{"name": "currency", "type": "string"}}, {})", kId)));
  EXPECT_TRUE(CanRead(reordered, without_default).ok());
  // A reader field alias finds a renamed writer field.
  Schema renamed = S(Record(R"({"name": "order_id", "type": "string", "aliases": ["id"]})"));
  EXPECT_TRUE(CanRead(renamed, v1).ok());
}

TEST(CanReadTest, Promotions) {
  const std::pair<const char*, const char*> ok[] = {
      {"int", "long"},     {"int", "float"},    {"int", "double"},
      {"long", "float"},   {"long", "double"},  {"float", "double"},
      {"string", "bytes"}, {"bytes", "string"}, {"string", "string"}};
  for (const auto& [writer, reader] : ok) {
    EXPECT_TRUE(CanRead(S(fmt::format("\"{}\"", reader)), S(fmt::format("\"{}\"", writer))).ok())
        << writer << " -> " << reader;
  }
  const std::pair<const char*, const char*> bad[] = {{"long", "int"},    {"double", "float"},
                                                     {"float", "long"},  {"string", "int"},
                                                     {"boolean", "int"}, {"null", "string"}};
  for (const auto& [writer, reader] : bad) {
    const absl::Status s =
        CanRead(S(fmt::format("\"{}\"", reader)), S(fmt::format("\"{}\"", writer)));
    EXPECT_FALSE(s.ok()) << writer << " -> " << reader;
    EXPECT_THAT(Why(s),
                HasSubstr(fmt::format("the writer's {} cannot be read as {}", writer, reader)));
  }
  // Inside a record the message names the field.
  const absl::Status s = CanRead(S(Record(R"({"name": "qty", "type": "int"})")),
                                 S(Record(R"({"name": "qty", "type": "long"})")));
  EXPECT_THAT(Why(s),
              HasSubstr("the writer's long cannot be read as int at field 'shop.Order.qty'"));
}

TEST(CanReadTest, Enums) {
  Schema ab = S(R"({"type": "enum", "name": "E", "symbols": ["A", "B"]})");
  Schema abc = S(R"({"type": "enum", "name": "E", "symbols": ["A", "B", "C"]})");
  Schema ab_default = S(R"({"type": "enum", "name": "E", "symbols": ["A", "B"], "default": "A"})");
  Schema other = S(R"({"type": "enum", "name": "F", "symbols": ["A", "B"]})");
  EXPECT_TRUE(CanRead(abc, ab).ok());
  EXPECT_THAT(Why(CanRead(ab, abc)), HasSubstr("has symbol 'C' that the reader lacks"));
  EXPECT_TRUE(CanRead(ab_default, abc).ok());
  EXPECT_THAT(Why(CanRead(other, ab)), HasSubstr("names differ"));
}

TEST(CanReadTest, NamedTypes) {
  Schema f4 = S(R"({"type": "fixed", "name": "F", "size": 4})");
  Schema f8 = S(R"({"type": "fixed", "name": "F", "size": 8})");
  Schema g4 = S(R"({"type": "fixed", "name": "G", "size": 4})");
  Schema g4_alias = S(R"({"type": "fixed", "name": "G", "size": 4, "aliases": ["F"]})");
  EXPECT_THAT(Why(CanRead(f8, f4)), HasSubstr("size 8 in the reader and 4 in the writer"));
  EXPECT_FALSE(CanRead(g4, f4).ok());
  EXPECT_TRUE(CanRead(g4_alias, f4).ok());
  // Records match by unqualified name.
  Schema other_ns = S(R"({"type": "record", "name": "Order", "namespace": "legacy",
                          "fields": [{"name": "id", "type": "string"}]})");
  EXPECT_TRUE(CanRead(other_ns, S(Record(kId))).ok());
  Schema other_name = S(R"({"type": "record", "name": "Sale", "fields": []})");
  EXPECT_FALSE(CanRead(other_name, S(Record(kId))).ok());
}

TEST(CanReadTest, ArraysMapsAndRecursion) {
  EXPECT_TRUE(
      CanRead(S(R"({"type": "array", "items": "long"})"), S(R"({"type": "array", "items": "int"})"))
          .ok());
  EXPECT_THAT(Why(CanRead(S(R"({"type": "map", "values": "int"})"),
                          S(R"({"type": "map", "values": "string"})"))),
              HasSubstr("map values"));
  Schema list = S(R"({"type": "record", "name": "L", "fields": [{"name": "v", "type": "int"},
                      {"name": "next", "type": ["null", "L"]}]})");
  Schema list_long = S(R"({"type": "record", "name": "L", "fields": [{"name": "v", "type": "long"},
                           {"name": "next", "type": ["null", "L"]}]})");
  EXPECT_TRUE(CanRead(list_long, list).ok());
  EXPECT_FALSE(CanRead(list, list_long).ok());
}

TEST(CanReadTest, Unions) {
  Schema null_string = S(R"(["null", "string"])");
  Schema null_string_int = S(R"(["null", "string", "int"])");
  Schema str = S("\"string\"");
  Schema null_long = S(R"(["null", "long"])");
  EXPECT_TRUE(CanRead(null_string, str).ok());  // a writer value picks its reader branch
  EXPECT_TRUE(CanRead(null_string_int, null_string).ok());
  EXPECT_THAT(Why(CanRead(null_string, null_string_int)),
              HasSubstr("the writer's int is not among the reader's union branches"));
  EXPECT_FALSE(CanRead(str, null_string).ok());                   // the writer may send null
  EXPECT_TRUE(CanRead(null_long, S(R"(["null", "int"])")).ok());  // promotion into a branch
  EXPECT_TRUE(CanRead(S("\"long\""), S(R"(["int", "long"])")).ok());
}

TEST(CompatibilityTest, NamesRoundTrip) {
  for (Compatibility c : {Compatibility::kNone, Compatibility::kBackward, Compatibility::kForward,
                          Compatibility::kFull, Compatibility::kBackwardTransitive,
                          Compatibility::kForwardTransitive, Compatibility::kFullTransitive}) {
    auto parsed = ParseCompatibility(CompatibilityName(c));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, c);
  }
  EXPECT_EQ(CompatibilityName(Compatibility::kFullTransitive), "FULL_TRANSITIVE");
  EXPECT_THAT(Why(ParseCompatibility("backward").status()),
              HasSubstr("unknown compatibility level 'backward'"));
}

// The evolution steps of one subject, each checked at every level.
class CompatibilityLevelsTest : public ::testing::Test {
 protected:
  bool Ok(Compatibility c, const Schema& candidate, const std::vector<const Schema*>& previous) {
    return CheckCompatibility(c, candidate, previous).ok();
  }
  Schema v1_ = S(Record(kId));
  Schema add_with_default_ = S(Record(
      fmt::format(R"({}, {{"name": "note", "type": ["null", "string"], "default": null}})", kId)));
  Schema add_without_default_ =
      S(Record(fmt::format(R"({}, {{"name": "qty", "type": "int"}})", kId)));
  Schema removed_ = S(Record(R"({"name": "other", "type": "string", "default": ""})"));
};

TEST_F(CompatibilityLevelsTest, AddingAFieldWithADefaultIsFullyCompatible) {
  for (Compatibility c : {Compatibility::kBackward, Compatibility::kForward, Compatibility::kFull,
                          Compatibility::kFullTransitive}) {
    EXPECT_TRUE(Ok(c, add_with_default_, {&v1_})) << CompatibilityName(c);
  }
}

TEST_F(CompatibilityLevelsTest, AddingARequiredFieldIsOnlyForward) {
  EXPECT_FALSE(Ok(Compatibility::kBackward, add_without_default_, {&v1_}));
  EXPECT_TRUE(Ok(Compatibility::kForward, add_without_default_, {&v1_}));
  EXPECT_FALSE(Ok(Compatibility::kFull, add_without_default_, {&v1_}));
  EXPECT_TRUE(Ok(Compatibility::kNone, add_without_default_, {&v1_}));
  const absl::Status s = CheckCompatibility(Compatibility::kBackward, add_without_default_, {&v1_});
  EXPECT_THAT(Why(s), HasSubstr("BACKWARD: the new schema cannot read data of version 1 of 1: "
                                "field 'qty' has no default"));
}

TEST_F(CompatibilityLevelsTest, RemovingARequiredFieldIsOnlyBackward) {
  EXPECT_TRUE(Ok(Compatibility::kBackward, removed_, {&v1_}));
  EXPECT_FALSE(Ok(Compatibility::kForward, removed_, {&v1_}));
  EXPECT_THAT(Why(CheckCompatibility(Compatibility::kForward, removed_, {&v1_})),
              HasSubstr("FORWARD: version 1 of 1 cannot read data of the new schema: field 'id'"));
}

TEST_F(CompatibilityLevelsTest, PromotionIsBackwardOnly) {
  Schema qty_int = S(Record(R"({"name": "qty", "type": "int"})"));
  Schema qty_long = S(Record(R"({"name": "qty", "type": "long"})"));
  EXPECT_TRUE(Ok(Compatibility::kBackward, qty_long, {&qty_int}));
  EXPECT_FALSE(Ok(Compatibility::kForward, qty_long, {&qty_int}));
  EXPECT_FALSE(Ok(Compatibility::kFull, qty_long, {&qty_int}));
}

TEST_F(CompatibilityLevelsTest, EnumSymbols) {
  Schema ab = S(Record(R"({"name": "c", "type": {"type": "enum", "name": "C",
                              "symbols": ["A", "B"]}})"));
  Schema abc = S(Record(R"({"name": "c", "type": {"type": "enum", "name": "C",
                               "symbols": ["A", "B", "C"]}})"));
  EXPECT_TRUE(Ok(Compatibility::kBackward, abc, {&ab}));  // added: new reader knows all old ones
  EXPECT_FALSE(Ok(Compatibility::kForward, abc, {&ab}));
  EXPECT_FALSE(Ok(Compatibility::kBackward, ab, {&abc}));  // removed
  EXPECT_TRUE(Ok(Compatibility::kForward, ab, {&abc}));
}

TEST_F(CompatibilityLevelsTest, UnionChanges) {
  Schema s = S(Record(R"({"name": "v", "type": "string"})"));
  Schema ns = S(Record(R"({"name": "v", "type": ["null", "string"]})"));
  Schema nsi = S(Record(R"({"name": "v", "type": ["null", "string", "int"]})"));
  EXPECT_TRUE(Ok(Compatibility::kBackward, ns, {&s}));  // widening into a union
  EXPECT_FALSE(Ok(Compatibility::kForward, ns, {&s}));  // old readers cannot take null
  EXPECT_TRUE(Ok(Compatibility::kBackward, nsi, {&ns}));
  EXPECT_FALSE(Ok(Compatibility::kFull, nsi, {&ns}));
}

TEST_F(CompatibilityLevelsTest, TransitiveLevelsCheckEveryVersion) {
  // v1 {id}; v2 {id, qty default 0}; v3 {id, qty required}: v3 reads v2 (qty present) but not v1.
  Schema v2 = S(Record(fmt::format(R"({}, {{"name": "qty", "type": "int", "default": 0}})", kId)));
  EXPECT_TRUE(Ok(Compatibility::kBackward, add_without_default_, {&v1_, &v2}));
  EXPECT_FALSE(Ok(Compatibility::kBackwardTransitive, add_without_default_, {&v1_, &v2}));
  EXPECT_THAT(Why(CheckCompatibility(Compatibility::kBackwardTransitive, add_without_default_,
                                     {&v1_, &v2})),
              HasSubstr("BACKWARD_TRANSITIVE: the new schema cannot read data of version 1 of 2"));
  EXPECT_TRUE(Ok(Compatibility::kForwardTransitive, add_with_default_, {&v1_, &v2}));
  EXPECT_FALSE(Ok(Compatibility::kFullTransitive, add_without_default_, {&v1_, &v2}));
  EXPECT_TRUE(Ok(Compatibility::kFullTransitive, v1_, {}));  // the first version
}

}  // namespace
}  // namespace lf::avro
