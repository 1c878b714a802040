#include "avro/binary_decoder.h"

#include <cmath>
#include <limits>

#include "avro/binary_encoder.h"
#include "fmt/format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lf::avro {
namespace {

using namespace std::string_literals;
using pipeline::DecodeError;
using pipeline::FieldDef;
using pipeline::FieldType;
using ::testing::HasSubstr;

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

Schema MustParse(std::string_view json) {
  auto s = Schema::Parse(json);
  EXPECT_TRUE(s.ok()) << s.status();
  return std::move(s).value();
}

// A writer schema using every type, and two records written by fastavro 1.13 (an independent
// encoder): fastavro.schemaless_writer(parse_schema(kOrderSchema), record).hex().
constexpr const char* kOrderSchema = R"({"type":"record","name":"Order","namespace":"shop",
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
 ]})";
// order_id "o-1", customer_id "8f1c1a52-…", quantity 3, unit_price 19.99, currency USD,
// order_ts 2026-11-22T09:00:01.250Z, channel "web", discount 123.45, tags [a, b],
// attrs {x: 1, y: -2}, shipping {Madrid, 28001}, checksum b"ab\xe9!", ship_date 2026-11-23,
// weight 1.5, price_fx -12.345, paid true, micros_ts 2026-01-02T03:04:05.000006Z,
// when 2026-11-22T09:00:00Z.
constexpr const char* kRecord1 =
    "066f2d314838663163316135322d316433652d346331652d396133622d326637663061316232633364063d0ad7a3"
    "70fd334002c4eddea7c068020677656204303904026102620004027802027903000c4d616472696402c2b5036162"
    "e921d8c4020000c03fffffffffffffcfc7018ccde7e4ded7a3060280dadea7c068";
// order_id "o-2", customer_id all zeros, quantity -7, unit_price 0.1, currency EUR,
// order_ts 1969-12-31T23:59:59.999Z, channel null, discount -0.05, tags [], attrs {},
// shipping {Liège, null}, checksum 00 01 02 03, ship_date 1970-01-01, weight -0.25,
// price_fx 0.000, paid false, micros_ts 0, when null.
constexpr const char* kRecord2 =
    "066f2d324830303030303030302d303030302d303030302d303030302d3030303030303030303030300d9a999999"
    "9999b93f00010002fb00000c4c69c3a86765000001020300000080be0000000000000000000000";

std::vector<FieldDef> OrderFields() {
  std::vector<FieldDef> f(15);
  f[0] = {.name = "order_id", .type = FieldType::kString};
  f[1] = {.name = "customer_id", .type = FieldType::kString};
  f[2] = {.name = "quantity", .type = FieldType::kInt64};
  f[3] = {.name = "unit_price", .type = FieldType::kFloat64};
  f[4] = {.name = "currency", .type = FieldType::kString};
  f[5] = {.name = "order_ts", .type = FieldType::kTimestamp};
  f[6] = {.name = "channel", .type = FieldType::kString, .optional = true};
  f[7] = {.name = "discount", .type = FieldType::kString};
  f[8] = {.name = "price_fx", .type = FieldType::kFloat64};
  f[9] = {.name = "ship_date", .type = FieldType::kTimestamp};
  f[10] = {.name = "weight", .type = FieldType::kFloat64};
  f[11] = {.name = "paid", .type = FieldType::kBool};
  f[12] = {.name = "micros_ts", .type = FieldType::kTimestamp};
  f[13] = {.name = "when", .type = FieldType::kTimestamp, .optional = true};
  f[14] = {.name = "region", .type = FieldType::kString, .optional = true};  // not in the writer
  return f;
}

class OrderDecoderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = AvroRecordDecoder::Make(&writer_, &schema_);
    ASSERT_TRUE(d.ok()) << d.status();
    decoder_ = std::move(d).value();
    decoder_->set_rescue(&rescue_);
  }
  bool Decode(std::string_view body) {
    return decoder_->Decode(body, 2, next_offset_++, &batch_, &error_);
  }

  Schema writer_ = MustParse(kOrderSchema);
  pipeline::Schema schema_{OrderFields()};
  pipeline::Dictionaries dicts_{schema_};
  pipeline::RecordBatch batch_{&schema_, &dicts_};
  std::unique_ptr<AvroRecordDecoder> decoder_;
  DecodeError error_;
  std::string rescue_;
  int64_t next_offset_ = 100;
};

TEST_F(OrderDecoderTest, DecodesRecordsOfAnIndependentEncoder) {
  ASSERT_TRUE(Decode(Unhex(kRecord1))) << error_.message;
  EXPECT_EQ(rescue_,
            R"({"tags":["a","b"],"attrs":{"x":1,"y":-2},"shipping":{"city":"Madrid","zip":28001},)"
            "\"checksum\":\"ab\xc3\xa9!\"}");
  ASSERT_TRUE(Decode(Unhex(kRecord2))) << error_.message;
  EXPECT_EQ(rescue_, R"({"tags":[],"attrs":{},"shipping":{"city":"Li)"
                     "\xc3\xa8"
                     R"(ge","zip":null},"checksum":"\u0000\u0001\u0002\u0003"})");
  ASSERT_EQ(batch_.num_rows(), 2u);
  ASSERT_TRUE(batch_.Validate().ok()) << batch_.Validate();
  EXPECT_EQ(batch_.String(0, 0), "o-1");
  EXPECT_EQ(batch_.String(1, 0), "8f1c1a52-1d3e-4c1e-9a3b-2f7f0a1b2c3d");
  EXPECT_EQ(batch_.column(2).ints[0], 3);
  EXPECT_EQ(batch_.column(2).ints[1], -7);
  EXPECT_EQ(batch_.column(3).doubles[0], 19.99);
  EXPECT_EQ(batch_.column(3).doubles[1], 0.1);
  EXPECT_EQ(batch_.String(4, 0), "USD");
  EXPECT_EQ(batch_.String(4, 1), "EUR");
  EXPECT_EQ(batch_.column(5).ints[0], 1795338001250000);
  EXPECT_EQ(batch_.column(5).ints[1], -1000);
  EXPECT_EQ(batch_.String(6, 0), "web");
  EXPECT_EQ(batch_.column(6).valid[1], 0);
  EXPECT_EQ(batch_.String(7, 0), "123.45");
  EXPECT_EQ(batch_.String(7, 1), "-0.05");
  EXPECT_EQ(batch_.column(8).doubles[0], -12.345);
  EXPECT_EQ(batch_.column(8).doubles[1], 0.0);
  EXPECT_EQ(batch_.column(9).ints[0], 1795392000000000);  // 2026-11-23T00:00:00Z
  EXPECT_EQ(batch_.column(9).ints[1], 0);
  EXPECT_EQ(batch_.column(10).doubles[0], 1.5);
  EXPECT_EQ(batch_.column(10).doubles[1], -0.25);
  EXPECT_EQ(batch_.column(11).ints[0], 1);
  EXPECT_EQ(batch_.column(11).ints[1], 0);
  EXPECT_EQ(batch_.column(12).ints[0], 1767323045000006);
  EXPECT_EQ(batch_.column(13).ints[0], 1795338000000000);
  EXPECT_EQ(batch_.column(13).valid[1], 0);
  EXPECT_EQ(batch_.column(14).valid[0], 0);  // not in the writer, optional: null
  EXPECT_EQ(batch_.partition[1], 2);
  EXPECT_EQ(batch_.offset[1], 101);
}

TEST_F(OrderDecoderTest, EveryTruncationIsRefused) {
  const std::string body = Unhex(kRecord1);
  for (size_t n = 0; n < body.size(); ++n) {
    error_ = {};
    EXPECT_FALSE(Decode(body.substr(0, n))) << n;
    EXPECT_EQ(error_.code, DecodeError::Code::kMalformed) << n << ": " << error_.message;
  }
  EXPECT_EQ(batch_.num_rows(), 0u);
}

TEST_F(OrderDecoderTest, TrailingBytesAreRefused) {
  EXPECT_FALSE(Decode(Unhex(kRecord1) + "\x00"s));
  EXPECT_EQ(error_.code, DecodeError::Code::kMalformed);
  EXPECT_THAT(error_.message, HasSubstr("1 bytes after the end of the record"));
}

TEST_F(OrderDecoderTest, WithoutARescueTargetUnknownFieldsAreSkipped) {
  decoder_->set_rescue(nullptr);
  ASSERT_TRUE(Decode(Unhex(kRecord1))) << error_.message;
  EXPECT_TRUE(rescue_.empty());
}

// A small writer schema per case; the definition below reads it.
class ResolutionTest : public ::testing::Test {
 protected:
  bool Decode(std::string_view writer_json, const std::vector<FieldDef>& fields,
              const std::string& body, std::string_view key = {}) {
    writer_ = std::make_unique<Schema>(MustParse(writer_json));
    schema_ = std::make_unique<pipeline::Schema>(fields);
    dicts_ = std::make_unique<pipeline::Dictionaries>(*schema_);
    batch_ = std::make_unique<pipeline::RecordBatch>(schema_.get(), dicts_.get());
    auto d = AvroRecordDecoder::Make(writer_.get(), schema_.get());
    EXPECT_TRUE(d.ok()) << d.status();
    decoder_ = std::move(d).value();
    decoder_->set_rescue(&rescue_);
    error_ = {};
    const bool ok = decoder_->Decode(body, key, 0, 0, batch_.get(), &error_);
    EXPECT_EQ(batch_->num_rows(), ok ? 1u : 0u);
    EXPECT_TRUE(batch_->Validate().ok());
    return ok;
  }
  static std::string Record(std::string_view fields) {
    return fmt::format(R"({{"type": "record", "name": "R", "fields": [{}]}})", fields);
  }

  std::unique_ptr<Schema> writer_;
  std::unique_ptr<pipeline::Schema> schema_;
  std::unique_ptr<pipeline::Dictionaries> dicts_;
  std::unique_ptr<pipeline::RecordBatch> batch_;
  std::unique_ptr<AvroRecordDecoder> decoder_;
  DecodeError error_;
  std::string rescue_;
};

TEST_F(ResolutionTest, MakeNeedsARecord) {
  Schema s = MustParse("\"string\"");
  pipeline::Schema fields({});
  auto d = AvroRecordDecoder::Make(&s, &fields);
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(std::string(d.status().message()), HasSubstr("the writer schema is string"));
}

TEST_F(ResolutionTest, MissingFieldsAndNulls) {
  const std::string writer = Record(R"({"name": "a", "type": ["null", "long"]})");
  RecordWriter w;
  w.UnionBranch(0);
  const std::vector<FieldDef> required = {{.name = "a", .type = FieldType::kInt64}};
  EXPECT_FALSE(Decode(writer, required, w.body()));
  EXPECT_EQ(error_.code, DecodeError::Code::kMissing);
  EXPECT_EQ(error_.field, "a");
  EXPECT_EQ(error_.message, "field 'a' is null");
  const std::vector<FieldDef> optional = {
      {.name = "a", .type = FieldType::kInt64, .optional = true}};
  EXPECT_TRUE(Decode(writer, optional, w.body())) << error_.message;
  EXPECT_EQ(batch_->column(0).valid[0], 0);

  const std::vector<FieldDef> absent = {{.name = "b", .type = FieldType::kString}};
  EXPECT_FALSE(Decode(writer, absent, w.body()));
  EXPECT_EQ(error_.code, DecodeError::Code::kMissing);
  EXPECT_EQ(error_.message, "missing field 'b' (not in the writer schema)");
  EXPECT_EQ(rescue_, R"({"a":null})");
}

TEST_F(ResolutionTest, Promotions) {
  const std::string writer = Record(R"({"name": "i", "type": "int"}, {"name": "l", "type": "long"},
      {"name": "f", "type": "float"}, {"name": "s", "type": "string"},
      {"name": "b", "type": "bytes"}, {"name": "e", "type": {"type": "enum", "name": "E",
      "symbols": ["X", "Y"]}})");
  RecordWriter w;
  w.Int(-5);
  w.Long(int64_t{1} << 40);
  w.Float(0.5f);
  w.String("2026-11-22T09:00:00Z");
  w.Bytes("caf\xc3\xa9");
  w.Enum(1);
  const std::vector<FieldDef> fields = {
      {.name = "i", .type = FieldType::kFloat64}, {.name = "l", .type = FieldType::kFloat64},
      {.name = "f", .type = FieldType::kFloat64}, {.name = "s", .type = FieldType::kTimestamp},
      {.name = "b", .type = FieldType::kString},  {.name = "e", .type = FieldType::kString}};
  ASSERT_TRUE(Decode(writer, fields, w.body())) << error_.message;
  EXPECT_EQ(batch_->column(0).doubles[0], -5.0);
  EXPECT_EQ(batch_->column(1).doubles[0], 1099511627776.0);
  EXPECT_EQ(batch_->column(2).doubles[0], 0.5);
  EXPECT_EQ(batch_->column(3).ints[0], 1795338000000000);
  EXPECT_EQ(batch_->String(4, 0), "caf\xc3\xa9");
  EXPECT_EQ(batch_->String(5, 0), "Y");
  EXPECT_EQ(rescue_, "");
}

TEST_F(ResolutionTest, PlainNumbersBecomeTimestampsInTheFieldsUnit) {
  const std::string writer = Record(R"({"name": "t", "type": "long"})");
  RecordWriter w;
  w.Long(1600545287);
  const std::vector<FieldDef> secs = {
      {.name = "t", .type = FieldType::kTimestamp, .unit = pipeline::TimeUnit::kSeconds}};
  ASSERT_TRUE(Decode(writer, secs, w.body())) << error_.message;
  EXPECT_EQ(batch_->column(0).ints[0], 1600545287000000);
}

struct Bad {
  const char* writer_fields;
  std::string body;
  FieldDef field;
  DecodeError::Code code;
  const char* message;
};

TEST_F(ResolutionTest, RefusesValuesThatDoNotFit) {
  auto body = [](auto&& write) {
    RecordWriter w;
    write(w);
    return w.Take();
  };
  const Bad cases[] = {
      {R"({"name": "a", "type": "string"})",
       body([](RecordWriter& w) { w.String("x"); }),
       {.name = "a", .type = FieldType::kInt64},
       DecodeError::Code::kWrongType,
       "field 'a' must be int64, got Avro string"},
      {R"({"name": "a", "type": "long"})",
       body([](RecordWriter& w) { w.Long(1); }),
       {.name = "a", .type = FieldType::kBool},
       DecodeError::Code::kWrongType,
       "field 'a' must be bool, got Avro long"},
      {R"({"name": "a", "type": "double"})",
       body([](RecordWriter& w) { w.Double(1); }),
       {.name = "a", .type = FieldType::kInt64},
       DecodeError::Code::kWrongType,
       "must be int64, got Avro double"},
      {R"({"name": "a", "type": "bytes"})",
       body([](RecordWriter& w) { w.Bytes("\xff\xfe"); }),
       {.name = "a", .type = FieldType::kString},
       DecodeError::Code::kWrongType,
       "field 'a' is not valid UTF-8"},
      {R"({"name": "a", "type": "string"})",
       body([](RecordWriter& w) { w.String("a\0b"s); }),
       {.name = "a", .type = FieldType::kString},
       DecodeError::Code::kWrongType,
       "contains a NUL character"},
      {R"({"name": "a", "type": "long"})",
       body([](RecordWriter& w) { w.Long(-1); }),
       {.name = "a", .type = FieldType::kInt64, .min = pipeline::Bound{int64_t{0}}},
       DecodeError::Code::kOutOfRange,
       "field 'a' is below its minimum 0"},
      {R"({"name": "a", "type": "double"})",
       body([](RecordWriter& w) { w.Double(2.5); }),
       {.name = "a", .type = FieldType::kFloat64, .max = pipeline::Bound{2.0}},
       DecodeError::Code::kOutOfRange,
       "field 'a' is above its maximum 2"},
      {R"({"name": "a", "type": "double"})",
       body([](RecordWriter& w) { w.Double(std::numeric_limits<double>::quiet_NaN()); }),
       {.name = "a", .type = FieldType::kFloat64},
       DecodeError::Code::kOutOfRange,
       "is not a finite number"},
      {R"({"name": "a", "type": {"type": "long", "logicalType": "timestamp-millis"}})",
       body([](RecordWriter& w) { w.Long(INT64_MAX); }),
       {.name = "a", .type = FieldType::kTimestamp},
       DecodeError::Code::kOutOfRange,
       "is outside the years 1-9999"},
      {R"({"name": "a", "type": {"type": "int", "logicalType": "date"}})",
       body([](RecordWriter& w) { w.Int(3'000'000); }),
       {.name = "a", .type = FieldType::kTimestamp},
       DecodeError::Code::kOutOfRange,
       "is outside the years 1-9999"},
      {R"({"name": "a", "type": "string"})",
       body([](RecordWriter& w) { w.String("soon"); }),
       {.name = "a", .type = FieldType::kTimestamp},
       DecodeError::Code::kWrongType,
       "is not an ISO-8601 time: 'soon'"},
      {R"({"name": "a", "type": {"type": "array", "items": "int"}})",
       body([](RecordWriter& w) { w.ArrayEnd(); }),
       {.name = "a", .type = FieldType::kString},
       DecodeError::Code::kWrongType,
       "must be string, got Avro array"},
      {R"({"name": "a", "type": "int"})",
       body([](RecordWriter& w) { w.Long(int64_t{1} << 40); }),
       {.name = "a", .type = FieldType::kInt64},
       DecodeError::Code::kMalformed,
       "int out of 32-bit range"},
      {R"({"name": "a", "type": ["null", "int"]})",
       body([](RecordWriter& w) { w.UnionBranch(2); }),
       {.name = "a", .type = FieldType::kInt64},
       DecodeError::Code::kMalformed,
       "field 'a': union branch index out of range"},
      {R"({"name": "a", "type": {"type": "enum", "name": "E", "symbols": ["A"]}})",
       body([](RecordWriter& w) { w.Enum(1); }),
       {.name = "a", .type = FieldType::kString},
       DecodeError::Code::kMalformed,
       "enum index out of range"},
      {R"({"name": "a", "type": "boolean"})",
       "\x02"s,
       {.name = "a", .type = FieldType::kBool},
       DecodeError::Code::kMalformed,
       "boolean byte is neither 0 nor 1"},
  };
  for (const Bad& b : cases) {
    EXPECT_FALSE(Decode(Record(b.writer_fields), {b.field}, b.body)) << b.writer_fields;
    EXPECT_EQ(error_.code, b.code) << b.writer_fields << ": " << error_.message;
    EXPECT_EQ(error_.field, "a") << b.writer_fields;
    EXPECT_THAT(error_.message, HasSubstr(b.message)) << b.writer_fields;
  }
}

TEST_F(ResolutionTest, KeyField) {
  const std::string writer = Record(R"({"name": "kind", "type": "string"})");
  RecordWriter w;
  w.String("from the body");
  const std::vector<FieldDef> fields = {
      {.name = "kind", .type = FieldType::kString, .from_key = true}};
  ASSERT_TRUE(Decode(writer, fields, w.body(), "order")) << error_.message;
  EXPECT_EQ(batch_->String(0, 0), "order");
  EXPECT_EQ(rescue_, R"({"kind":"from the body"})");
  EXPECT_FALSE(Decode(writer, fields, w.body(), ""));
  EXPECT_EQ(error_.message, "the message key (field 'kind') is missing");
}

TEST_F(ResolutionTest, RescueRendersEveryTypeAsJson) {
  const std::string writer = Record(R"({"name": "id", "type": "string"},
      {"name": "d", "type": "double"}, {"name": "f", "type": "float"},
      {"name": "inf", "type": "double"}, {"name": "b", "type": "boolean"},
      {"name": "dec", "type": {"type": "bytes", "logicalType": "decimal", "precision": 5,
                               "scale": 4}},
      {"name": "day", "type": {"type": "int", "logicalType": "date"}},
      {"name": "far", "type": {"type": "long", "logicalType": "timestamp-micros"}},
      {"name": "u", "type": ["null", "string", {"type": "map", "values": "int"}]},
      {"name": "xs", "type": {"type": "array", "items": "long"}})");
  RecordWriter w;
  w.String("k");
  w.Double(0.1);
  w.Float(0.1f);
  w.Double(-std::numeric_limits<double>::infinity());
  w.Bool(false);
  w.DecimalBytes(-5);
  w.Int(-1);
  w.Long(INT64_MAX);
  w.UnionBranch(2);
  w.MapStart(1);
  w.String("q\"");
  w.Int(7);
  w.MapEnd();
  // Blocks in the negative-count form (count, then the block's size in bytes), then a plain one.
  w.Long(-2);
  w.Long(2);
  w.Long(1);
  w.Long(2);
  w.ArrayStart(1);
  w.Long(3);
  w.ArrayEnd();
  const std::vector<FieldDef> fields = {{.name = "id", .type = FieldType::kString}};
  ASSERT_TRUE(Decode(writer, fields, w.body())) << error_.message;
  EXPECT_EQ(rescue_,
            R"({"d":0.1,"f":0.1,"inf":"-Infinity","b":false,"dec":-0.0005,"day":"1969-12-31",)"
            R"("far":9223372036854775807,"u":{"q\"":7},"xs":[1,2,3]})");
}

TEST_F(ResolutionTest, HostileLengthsAndCountsAreRefused) {
  const std::string writer = Record(R"({"name": "s", "type": "string"},
      {"name": "nulls", "type": {"type": "array", "items": "null"}},
      {"name": "longs", "type": {"type": "array", "items": "long"}},
      {"name": "m", "type": {"type": "map", "values": "null"}})");
  const std::vector<FieldDef> fields = {{.name = "s", .type = FieldType::kString}};
  auto with = [](auto&& write) {
    RecordWriter w;
    write(w);
    return w.Take();
  };
  const std::pair<std::string, const char*> cases[] = {
      {with([](RecordWriter& w) { w.Long(int64_t{1} << 62); }),
       "length runs past the end of the message"},
      {with([](RecordWriter& w) { w.Long(-3); }), "negative length"},
      {std::string(11, '\xff'), "varint overflows 64 bits"},
      {std::string(9, '\xff') + "\x02"s, "varint overflows 64 bits"},
      {std::string(9, '\xff') + "\x01"s, "negative length"},  // the 10-byte form of -2^63
      {with([](RecordWriter& w) {
         w.String("");
         w.ArrayStart(int64_t{1} << 40);
       }),
       "more array items and map entries than allowed"},
      {with([](RecordWriter& w) {
         w.String("");
         w.ArrayStart(kMaxElements);
         w.ArrayStart(1);
       }),
       "more array items and map entries than allowed"},
      {with([](RecordWriter& w) {
         w.String("");
         w.ArrayEnd();
         w.ArrayStart(1000);
         w.Long(1);
       }),
       "block count larger than the bytes left can hold"},
      {with([](RecordWriter& w) {
         w.String("");
         w.Long(-1);
         w.Long(int64_t{1} << 50);
       }),
       "block size runs past the end of the message"},
      {with([](RecordWriter& w) {
         w.String("");
         w.Long(INT64_MIN);
       }),
       "block count out of range"},
      {with([](RecordWriter& w) {
         w.String("");
         w.ArrayEnd();
         w.ArrayEnd();
         w.MapStart(1);
         w.Bytes("\xc3");
       }),
       "map key is not valid UTF-8"},
  };
  for (const auto& [body, message] : cases) {
    EXPECT_FALSE(Decode(writer, fields, body)) << message;
    EXPECT_EQ(error_.code, DecodeError::Code::kMalformed) << message;
    EXPECT_THAT(error_.message, HasSubstr(message));
  }
}

TEST_F(ResolutionTest, DeepNestingIsRefused) {
  const std::string writer = Record(R"({"name": "id", "type": "string"},
      {"name": "list", "type": {"type": "record", "name": "L", "fields": [
          {"name": "next", "type": ["null", "L"]}]}})");
  const std::vector<FieldDef> fields = {{.name = "id", .type = FieldType::kString}};
  auto nested = [](int levels) {
    RecordWriter w;
    w.String("x");
    for (int i = 0; i < levels; ++i) w.UnionBranch(1);
    w.UnionBranch(0);
    return w.Take();
  };
  EXPECT_TRUE(Decode(writer, fields, nested(10))) << error_.message;
  EXPECT_EQ(rescue_, R"({"list":{"next":{"next":{"next":{"next":{"next":{"next":{"next":)"
                     R"({"next":{"next":{"next":{"next":null}}}}}}}}}}}})");
  EXPECT_FALSE(Decode(writer, fields, nested(1000)));
  EXPECT_EQ(error_.code, DecodeError::Code::kMalformed);
  EXPECT_THAT(error_.message, HasSubstr("values nested too deeply (in field 'list')"));
}

}  // namespace
}  // namespace lf::avro
