#include "ingest/landing_decoder.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace lf::ingest {
namespace {

namespace fs = std::filesystem;
using pipeline::FieldDef;
using pipeline::FieldType;

std::vector<FieldDef> SensorFields() {
  std::vector<FieldDef> f(4);
  f[0] = {"sensor_id", FieldType::kString};
  f[1] = {"ts", FieldType::kTimestamp};
  f[2] = {"temperature_c", FieldType::kFloat64};
  f[3] = {"count", FieldType::kInt64};
  f[3].optional = true;
  return f;
}

class LandingDecoderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lf-landing-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& content) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  // Decodes `content` as a file of `format`; rows stay in batch_/meta_ (flushes only count).
  DecodedFile Decode(const std::string& content, pipeline::Format format,
                     size_t flush_rows = 1000) {
    LandingDecoder decoder(&schema_, format);
    meta_.files = {"in/file"};
    auto d = decoder.Decode(Write("file", content), "in/file", 0, &batch_, &meta_, &dead_,
                            flush_rows, [&] {
                              ++flushes_;
                              return absl::OkStatus();
                            });
    EXPECT_TRUE(d.ok()) << d.status();
    EXPECT_TRUE(batch_.Validate().ok()) << batch_.Validate();
    return *d;
  }

  std::string dir_;
  pipeline::Schema schema_{SensorFields()};
  pipeline::Dictionaries dicts_{schema_};
  pipeline::RecordBatch batch_{&schema_, &dicts_};
  lake::RowMetadata meta_;
  std::vector<postgres::FileDeadLetter> dead_;
  int flushes_ = 0;
};

TEST_F(LandingDecoderTest, CsvHeaderByNameInAnyOrderWithTheRfc4180Oddities) {
  const std::string csv =
      "\xEF\xBB\xBF"
      "temperature_c,extra,sensor_id,ts\r\n"
      "21.5,x,\"S,1\",2026-11-22T09:00:00Z\r\n"
      "-3,\"multi\nline\",S2,2026-11-22T09:00:01.5Z\n"
      "7,,\"say \"\"hi\"\"\",1795338000\n";
  DecodedFile d = Decode(csv, pipeline::Format::kCsv);
  EXPECT_EQ(d.file_error, "");
  ASSERT_EQ(d.rows, 3);
  EXPECT_EQ(d.bad_rows, 0);
  EXPECT_EQ(batch_.String(0, 0), "S,1");
  EXPECT_EQ(batch_.String(0, 2), "say \"hi\"");
  EXPECT_EQ(batch_.column(1).ints[1], 1795338001500000);
  EXPECT_EQ(batch_.column(1).ints[2], 1795338000000000);
  EXPECT_DOUBLE_EQ(batch_.column(2).doubles[1], -3);
  EXPECT_EQ(batch_.column(3).valid, (std::vector<uint8_t>{0, 0, 0}));  // no column: null
  EXPECT_EQ(meta_.rescued[0], R"({"extra":"x"})");
  EXPECT_EQ(meta_.rescued[1], R"({"extra":"multi\nline"})");
  EXPECT_EQ(meta_.rescued[2], R"({"extra":null})");
  EXPECT_EQ(meta_.source_row, (std::vector<int64_t>{1, 2, 3}));
}

TEST_F(LandingDecoderTest, CsvBadRowsBecomeDeadLettersWithTheirRowAndReason) {
  const std::string csv =
      "sensor_id,ts,temperature_c,count\n"
      "S1,2026-11-22T09:00:00Z,20,1\n"
      "S2,2026-11-22T09:00:00Z\n"                          // too few fields
      ",2026-11-22T09:00:00Z,20,1\n"                       // required string empty
      "S4,yesterday,20,1\n"                                // not a time
      "S5,2026-11-22T09:00:00Z,warm,1\n"                   // not a number
      "S6,2026-11-22T09:00:00Z,20,99999999999999999999\n"  // outside int64
      "S7,2026-11-22T09:00:00Z,20,\n"                      // optional empty: null, fine
      "\"S8\"x,2026-11-22T09:00:00Z,20,1\n";               // garbage after a closing quote
  DecodedFile d = Decode(csv, pipeline::Format::kCsv);
  EXPECT_EQ(d.rows, 2);
  EXPECT_EQ(d.bad_rows, 6);
  ASSERT_EQ(dead_.size(), 6u);
  EXPECT_EQ(dead_[0].source_row, 2);
  EXPECT_EQ(dead_[0].payload, "S2,2026-11-22T09:00:00Z");
  EXPECT_EQ(dead_[0].error, "2 field(s), the header has 4");
  EXPECT_EQ(dead_[1].error, "field 'sensor_id' is empty");
  EXPECT_NE(dead_[2].error.find("not an ISO-8601 time"), std::string::npos);
  EXPECT_NE(dead_[3].error.find("must be a number"), std::string::npos);
  EXPECT_NE(dead_[4].error.find("outside int64"), std::string::npos);
  EXPECT_EQ(dead_[5].source_row, 8);
  EXPECT_EQ(dead_[5].source_file, "in/file");
  EXPECT_EQ(meta_.source_row, (std::vector<int64_t>{1, 7}));
  EXPECT_EQ(batch_.column(3).valid, (std::vector<uint8_t>{1, 0}));
}

TEST_F(LandingDecoderTest, CsvFilesUnreadableAsAWhole) {
  EXPECT_EQ(Decode("", pipeline::Format::kCsv).file_error, "empty file: no header row");
  EXPECT_EQ(Decode("sensor_id,ts\nS1,2026-11-22T09:00:00Z,1\n", pipeline::Format::kCsv).file_error,
            "header row: no column for the required field 'temperature_c'");
  EXPECT_EQ(Decode("sensor_id,ts,ts,temperature_c\n", pipeline::Format::kCsv).file_error,
            "header row: column 'ts' appears twice");
  EXPECT_EQ(batch_.num_rows(), 0u);
}

TEST_F(LandingDecoderTest, NdjsonWithBlankLinesUnknownMembersAndABadLine) {
  const std::string json =
      "{\"sensor_id\":\"S1\",\"ts\":\"2026-11-22T09:00:00Z\",\"temperature_c\":1.5,\"x\":{\"a\":[1,"
      "2]}}\n"
      "\n"
      "{\"sensor_id\":\"S2\",\"ts\":1795338000,\"temperature_c\":2, \"y\" : true }\r\n"
      "{not json}\n"
      "{\"sensor_id\":\"S3\",\"ts\":1795338000,\"temperature_c\":3}";
  DecodedFile d = Decode(json, pipeline::Format::kJson);
  EXPECT_EQ(d.rows, 3);
  ASSERT_EQ(d.bad_rows, 1);
  EXPECT_EQ(dead_[0].source_row, 3);
  EXPECT_EQ(dead_[0].payload, "{not json}");
  EXPECT_EQ(meta_.rescued[0], R"({"x":{"a":[1,2]}})");
  EXPECT_EQ(meta_.rescued[1], R"({"y":true})");
  EXPECT_EQ(meta_.rescued[2], "");
  EXPECT_EQ(meta_.source_row, (std::vector<int64_t>{1, 2, 4}));
}

TEST_F(LandingDecoderTest, JsonArraysStreamElementByElement) {
  const std::string json =
      "\xEF\xBB\xBF  [ "
      "{\"sensor_id\":\"a],b\",\"ts\":1,\"temperature_c\":1,\"n\":[{\"k\":\"}\"}]},\n"
      " {\"sensor_id\":\"esc\\\"]\",\"ts\":2,\"temperature_c\":2},\n"
      " 42,\n"
      " {\"sensor_id\":\"c\",\"ts\":3,\"temperature_c\":3}\n]\n";
  DecodedFile d = Decode(json, pipeline::Format::kJson, 2);
  EXPECT_EQ(d.rows, 3);
  EXPECT_EQ(d.bad_rows, 1);
  EXPECT_EQ(dead_[0].source_row, 3);
  EXPECT_EQ(dead_[0].payload, "42");
  EXPECT_EQ(batch_.String(0, 0), "a],b");
  EXPECT_EQ(batch_.String(0, 1), "esc\"]");
  EXPECT_EQ(meta_.rescued[0], R"({"n":[{"k":"}"}]})");
  EXPECT_EQ(flushes_, 2);  // at 2 rows and, as this flush keeps the rows, again at 3
}

TEST_F(LandingDecoderTest, TruncatedArrayAndTrailingContentAreDeadLetters) {
  DecodedFile d = Decode("[{\"sensor_id\":\"a\",\"ts\":1,\"temperature_c\":1},{\"sensor_id\":\"b\"",
                         pipeline::Format::kJson);
  EXPECT_EQ(d.rows, 1);
  ASSERT_EQ(d.bad_rows, 1);
  EXPECT_EQ(dead_[0].error, "the JSON array is not closed: truncated file?");
  dead_.clear();
  d = Decode("[] garbage", pipeline::Format::kJson);
  EXPECT_EQ(d.rows, 0);
  ASSERT_EQ(d.bad_rows, 1);
  EXPECT_EQ(dead_[0].error, "content after the JSON array");
  dead_.clear();
  d = Decode("", pipeline::Format::kJson);
  EXPECT_EQ(d.rows + d.bad_rows, 0);
  EXPECT_EQ(d.file_error, "");
}

TEST(ParseTextValueTest, TypesBoundsAndSpaces) {
  pipeline::DecodeError e;
  int64_t i = 0;
  double d = 0;
  FieldDef b{"b", FieldType::kBool};
  EXPECT_TRUE(ParseTextValue(b, " TRUE ", &i, &d, &e));
  EXPECT_EQ(i, 1);
  EXPECT_TRUE(ParseTextValue(b, "0", &i, &d, &e));
  EXPECT_EQ(i, 0);
  EXPECT_FALSE(ParseTextValue(b, "yes", &i, &d, &e));
  FieldDef n{"n", FieldType::kInt64};
  n.min = int64_t{0};
  EXPECT_TRUE(ParseTextValue(n, "+12", &i, &d, &e));
  EXPECT_EQ(i, 12);
  EXPECT_FALSE(ParseTextValue(n, "-1", &i, &d, &e));
  EXPECT_EQ(e.message, "field 'n' is below its minimum 0");
  EXPECT_FALSE(ParseTextValue(n, "1.5", &i, &d, &e));
  FieldDef x{"x", FieldType::kFloat64};
  EXPECT_TRUE(ParseTextValue(x, "1e3", &i, &d, &e));
  EXPECT_DOUBLE_EQ(d, 1000);
  EXPECT_FALSE(ParseTextValue(x, "nan", &i, &d, &e));
  FieldDef t{"t", FieldType::kTimestamp};
  t.unit = pipeline::TimeUnit::kMillis;
  EXPECT_TRUE(ParseTextValue(t, "1795338000123", &i, &d, &e));
  EXPECT_EQ(i, 1795338000123000);
  EXPECT_TRUE(ParseTextValue(t, "2026-11-22 09:00:00", &i, &d, &e));
  EXPECT_EQ(i, 1795338000000000);
}

}  // namespace
}  // namespace lf::ingest

namespace lf::ingest {
namespace {

// Found by fuzz_landing_decoder: On-Demand skips an unknown member's array or object by counting
// brackets, so `[1,{"k":2]}` went to _rescued_data as it was. The record is malformed.
TEST_F(LandingDecoderTest, AnUnbalancedUnknownMemberMakesTheRecordBad) {
  DecodedFile d = Decode(
      "{\"sensor_id\":\"S1\",\"ts\":1,\"temperature_c\":1,\"u\":[1,{\"k\":2]}}\n"
      "{\"sensor_id\":\"S2\",\"ts\":1,\"temperature_c\":1,\"u\":[1,{\"k\":2}]}\n",
      pipeline::Format::kJson);
  EXPECT_EQ(d.rows, 1);
  ASSERT_EQ(d.bad_rows, 1);
  EXPECT_EQ(dead_[0].source_row, 1);
  EXPECT_EQ(meta_.rescued[0], R"({"u":[1,{"k":2}]})");
  // Scalars are checked too: On-Demand does not read the values it skips.
  dead_.clear();
  d = Decode(
      "{\"sensor_id\":\"S1\",\"ts\":1,\"temperature_c\":1,\"x\":tru}\n"
      "{\"sensor_id\":\"S1\",\"ts\":1,\"temperature_c\":1,\"x\":01}\n"
      "{\"sensor_id\":\"S1\",\"ts\":1,\"temperature_c\":1,\"x\":\"a\\q\"}\n",
      pipeline::Format::kJson);
  EXPECT_EQ(d.rows, 0);
  EXPECT_EQ(d.bad_rows, 3);
}

}  // namespace
}  // namespace lf::ingest
