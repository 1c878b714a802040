#include "json/record_decoder.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lf::json {
namespace {

using pipeline::DecodeError;
using pipeline::FieldDef;
using pipeline::FieldType;

std::vector<FieldDef> Fields() {
  std::vector<FieldDef> f(7);
  f[0] = {.name = "id", .type = FieldType::kString};
  f[1] = {.name = "n",
          .type = FieldType::kInt64,
          .min = pipeline::Bound{int64_t{0}},
          .max = pipeline::Bound{int64_t{100}}};
  f[2] = {.name = "price", .type = FieldType::kFloat64, .optional = true};
  f[3] = {.name = "vip", .type = FieldType::kBool, .optional = true};
  f[4] = {.name = "at", .type = FieldType::kTimestamp, .unit = pipeline::TimeUnit::kMillis};
  f[5] = {.name = "note", .type = FieldType::kString, .optional = true};
  f[6] = {.name = "kind", .type = FieldType::kString, .from_key = true};
  return f;
}

class RecordDecoderTest : public ::testing::Test {
 protected:
  bool Decode(std::string_view json, std::string_view key = "order") {
    return decoder_.Decode(json, key, 3, next_offset_++, &batch_, &error_);
  }
  pipeline::Schema schema_{Fields()};
  pipeline::Dictionaries dicts_{schema_};
  pipeline::RecordBatch batch_{&schema_, &dicts_};
  JsonRecordDecoder decoder_{&schema_};
  DecodeError error_;
  int64_t next_offset_ = 10;
};

TEST_F(RecordDecoderTest, DecodesEveryTypeInAnyOrder) {
  ASSERT_TRUE(Decode(R"({"at": 1600545287250, "vip": true, "n": 7, "price": 2.5, "id": "a\u00e9",
                         "extra": [1, {"x": 2}], "note": null})"))
      << error_.message;
  ASSERT_TRUE(Decode(R"({"id": "b", "n": 0, "at": "2026-11-22T09:00:01.250Z"})", "refund"));
  ASSERT_EQ(batch_.num_rows(), 2u);
  ASSERT_TRUE(batch_.Validate().ok()) << batch_.Validate();
  EXPECT_EQ(batch_.String(0, 0), "a\xc3\xa9");
  EXPECT_EQ(batch_.column(1).ints[0], 7);
  EXPECT_EQ(batch_.column(2).doubles[0], 2.5);
  EXPECT_EQ(batch_.column(2).valid[1], 0);
  EXPECT_EQ(batch_.column(3).ints[0], 1);
  EXPECT_EQ(batch_.column(4).ints[0], 1600545287250000);
  EXPECT_EQ(batch_.column(4).ints[1], 1795338001250000);
  EXPECT_EQ(batch_.column(5).valid[0], 0);
  EXPECT_EQ(batch_.String(6, 0), "order");
  EXPECT_EQ(batch_.String(6, 1), "refund");
  EXPECT_EQ(batch_.partition[1], 3);
  EXPECT_EQ(batch_.offset[1], 11);
  // Strings are interned per column: the same text is the same id.
  ASSERT_TRUE(Decode(R"({"id": "b", "n": 1, "at": 0})", "order"));
  EXPECT_EQ(batch_.column(0).ids[2], batch_.column(0).ids[1]);
  EXPECT_EQ(batch_.column(6).ids[2], batch_.column(6).ids[0]);
}

struct Bad {
  const char* json;
  const char* key;
  DecodeError::Code code;
  const char* field;
  const char* message;
};

TEST_F(RecordDecoderTest, RefusesBadRecordsNamingTheField) {
  const Bad cases[] = {
      {"", "k", DecodeError::Code::kMalformed, "", "empty message"},
      {"{\"id\":", "k", DecodeError::Code::kMalformed, "", "not valid JSON"},
      {"[1]", "k", DecodeError::Code::kNotARecord, "",
       "not a JSON object: the message is an array"},
      {R"({"n": 1, "at": 0})", "k", DecodeError::Code::kMissing, "id", "missing field 'id'"},
      {R"({"id": null, "n": 1, "at": 0})", "k", DecodeError::Code::kMissing, "id",
       "field 'id' is null"},
      {R"({"id": 5, "n": 1, "at": 0})", "k", DecodeError::Code::kWrongType, "id",
       "field 'id' must be a string, got a number"},
      {R"({"id": "a", "n": 1.5, "at": 0})", "k", DecodeError::Code::kWrongType, "n",
       "must be an integer"},
      {R"({"id": "a", "n": 99999999999999999999, "at": 0})", "k", DecodeError::Code::kOutOfRange,
       "n", "within int64"},
      {R"({"id": "a", "n": -1, "at": 0})", "k", DecodeError::Code::kOutOfRange, "n",
       "field 'n' is below its minimum 0"},
      {R"({"id": "a", "n": 101, "at": 0})", "k", DecodeError::Code::kOutOfRange, "n",
       "field 'n' is above its maximum 100"},
      {R"({"id": "a", "n": 1, "at": "yesterday"})", "k", DecodeError::Code::kWrongType, "at",
       "not an ISO-8601 time"},
      {R"({"id": "a", "n": 1, "at": 9223372036854775807})", "k", DecodeError::Code::kOutOfRange,
       "at", "outside the years 1-9999"},
      {R"({"id": "a", "n": 1, "at": 0, "vip": "yes"})", "k", DecodeError::Code::kWrongType, "vip",
       "must be true or false"},
      {R"({"id": "a", "id": "b", "n": 1, "at": 0})", "k", DecodeError::Code::kDuplicate, "id",
       "duplicate field 'id'"},
      {R"({"id": "a", "n": 1, "at": 0})", "", DecodeError::Code::kMissing, "kind",
       "the message key (field 'kind') is missing"},
      {R"({"id": "a", "n": 1, "at": 0})", "\xff", DecodeError::Code::kWrongType, "kind",
       "is not UTF-8 text"},
      {R"({"id": "a\u0000", "n": 1, "at": 0})", "k", DecodeError::Code::kWrongType, "id",
       "contains a NUL character"},
      {R"({"id": "a", "n": 1, "at": 0} x)", "k", DecodeError::Code::kMalformed, "",
       "not valid JSON"},
  };
  for (const Bad& b : cases) {
    error_ = {};
    EXPECT_FALSE(Decode(b.json, b.key)) << b.json;
    EXPECT_EQ(error_.code, b.code) << b.json << ": " << error_.message;
    EXPECT_EQ(error_.field, b.field) << b.json;
    EXPECT_THAT(error_.message, ::testing::HasSubstr(b.message)) << b.json;
  }
  EXPECT_EQ(batch_.num_rows(), 0u) << "a refused record leaves the batch unchanged";
  EXPECT_TRUE(batch_.Validate().ok());
}

TEST_F(RecordDecoderTest, PayloadMembersNamedLikeTheKeyFieldAreIgnored) {
  ASSERT_TRUE(Decode(R"({"id": "a", "n": 1, "at": 0, "kind": "from-body"})", "from-key"));
  EXPECT_EQ(batch_.String(6, 0), "from-key");
}

TEST(RecordBatchTest, ValidateCatchesInconsistentColumns) {
  pipeline::Schema schema(Fields());
  pipeline::Dictionaries dicts(schema);
  pipeline::RecordBatch batch(&schema, &dicts);
  JsonRecordDecoder decoder(&schema);
  DecodeError error;
  ASSERT_TRUE(decoder.Decode(R"({"id": "a", "n": 1, "at": 0})", "k", 0, 0, &batch, &error));
  EXPECT_TRUE(batch.Validate().ok());
  batch.column(1).ints.push_back(5);
  EXPECT_THAT(std::string(batch.Validate().message()), ::testing::HasSubstr("column n has 2"));
  batch.column(1).ints.pop_back();
  batch.column(0).ids[0] = 99;
  EXPECT_THAT(std::string(batch.Validate().message()), ::testing::HasSubstr("unknown string id"));
  batch.column(0).ids[0] = 0;
  batch.column(1).valid[0] = 0;
  EXPECT_THAT(std::string(batch.Validate().message()), ::testing::HasSubstr("required column n"));
  batch.Clear();
  EXPECT_EQ(batch.num_rows(), 0u);
  EXPECT_TRUE(batch.Validate().ok());
}

}  // namespace
}  // namespace lf::json
