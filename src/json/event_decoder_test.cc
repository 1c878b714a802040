#include "json/event_decoder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace lf::json {
namespace {

using pipeline::EventBatch;
using pipeline::KeyColumn;
using pipeline::KeyDictionaries;

constexpr char kGood[] =
    R"({"bytes":9082,"timestamp":1600545287,"app":"SKYPE","id":"00000000-0000-0000-0000-000000000001","antenna_id":"00000000-0000-0000-0000-000000000000"})";

class EventDecoderTest : public ::testing::Test {
 protected:
  // Returns the error, or "" when the payload decoded.
  std::string Decode(std::string_view payload) {
    std::string error;
    if (decoder_.Decode(payload, 3, 42, &batch_, &error)) return "";
    EXPECT_FALSE(error.empty());
    return error;
  }
  KeyDictionaries dicts_;
  EventDecoder decoder_{&dicts_};
  EventBatch batch_;
};

TEST_F(EventDecoderTest, DecodesTheSeedExample) {
  ASSERT_EQ(Decode(kGood), "");
  ASSERT_EQ(batch_.size(), 1u);
  EXPECT_EQ(batch_.bytes[0], 9082);
  EXPECT_EQ(batch_.timestamp_s[0], 1600545287);
  EXPECT_EQ(dicts_[KeyColumn::kApp].Name(batch_.keys[2][0]), "SKYPE");
  EXPECT_EQ(dicts_[KeyColumn::kDevice].Name(batch_.keys[1][0]),
            "00000000-0000-0000-0000-000000000001");
  EXPECT_EQ(dicts_[KeyColumn::kAntenna].Name(batch_.keys[0][0]),
            "00000000-0000-0000-0000-000000000000");
  EXPECT_EQ(batch_.partition[0], 3);
  EXPECT_EQ(batch_.offset[0], 42);
}

TEST_F(EventDecoderTest, AnyFieldOrderExtraFieldsWhitespaceAndEscapes) {
  ASSERT_EQ(Decode(R"( { "antenna_id" : "a\u0031", "extra": {"nested": [1, 2, {"x": null}]},
      "id":"d", "timestamp": 0, "app":"WHATS\"APP", "bytes": 0, "z": 1.5e3 } )"),
            "");
  EXPECT_EQ(dicts_[KeyColumn::kAntenna].Name(batch_.keys[0][0]), "a1");
  EXPECT_EQ(dicts_[KeyColumn::kApp].Name(batch_.keys[2][0]), "WHATS\"APP");
  EXPECT_EQ(batch_.bytes[0], 0);
}

TEST_F(EventDecoderTest, InternsRepeatedKeys) {
  ASSERT_EQ(Decode(kGood), "");
  ASSERT_EQ(Decode(kGood), "");
  EXPECT_EQ(batch_.keys[2][0], batch_.keys[2][1]);
  EXPECT_EQ(dicts_[KeyColumn::kApp].size(), 1u);
}

struct BadCase {
  const char* name;
  std::string payload;
  const char* expected_reason;  // a fragment of the error
};

class BadInputTest : public EventDecoderTest, public ::testing::WithParamInterface<BadCase> {};

TEST_P(BadInputTest, IsRejectedWithAReason) {
  const BadCase& c = GetParam();
  std::string error = Decode(c.payload);
  EXPECT_NE(error, "") << c.name;
  EXPECT_NE(error.find(c.expected_reason), std::string::npos) << c.name << ": " << error;
  EXPECT_EQ(batch_.size(), 0u) << c.name;
}

INSTANTIATE_TEST_SUITE_P(
    EveryKind, BadInputTest,
    ::testing::Values(
        BadCase{"empty", "", "empty"}, BadCase{"not_json", "hello", "not valid JSON"},
        BadCase{"truncated", R"({"bytes":1,"timestamp":2,"app":"A")", "JSON"},
        BadCase{"invalid_utf8",
                std::string("{\"bytes\":1,\"timestamp\":2,\"app\":\"\xff\xfe\",\"id\":\"d\","
                            "\"antenna_id\":\"a\"}"),
                "UTF-8"},
        BadCase{"array", "[1,2,3]", "not a JSON object"},
        BadCase{"number", "42", "not a JSON object"},
        BadCase{"missing_bytes", R"({"timestamp":2,"app":"A","id":"d","antenna_id":"a"})",
                "missing field 'bytes'"},
        BadCase{"missing_antenna", R"({"bytes":1,"timestamp":2,"app":"A","id":"d"})",
                "missing field 'antenna_id'"},
        BadCase{"bytes_string",
                R"({"bytes":"12","timestamp":2,"app":"A","id":"d","antenna_id":"a"})",
                "'bytes' must be an integer"},
        BadCase{"bytes_float", R"({"bytes":1.5,"timestamp":2,"app":"A","id":"d","antenna_id":"a"})",
                "fractional"},
        BadCase{"bytes_null", R"({"bytes":null,"timestamp":2,"app":"A","id":"d","antenna_id":"a"})",
                "got null"},
        BadCase{"bytes_negative",
                R"({"bytes":-1,"timestamp":2,"app":"A","id":"d","antenna_id":"a"})",
                "out of range"},
        BadCase{
            "bytes_beyond_int64",
            R"({"bytes":9223372036854775808,"timestamp":2,"app":"A","id":"d","antenna_id":"a"})",
            "out of range"},
        BadCase{"timestamp_string",
                R"({"bytes":1,"timestamp":"2020-01-01","app":"A","id":"d","antenna_id":"a"})",
                "'timestamp' must be an integer"},
        BadCase{"timestamp_far_future",
                R"({"bytes":1,"timestamp":999999999999999,"app":"A","id":"d","antenna_id":"a"})",
                "'timestamp' out of range"},
        BadCase{"app_number", R"({"bytes":1,"timestamp":2,"app":7,"id":"d","antenna_id":"a"})",
                "'app' must be a string"},
        BadCase{"id_object", R"({"bytes":1,"timestamp":2,"app":"A","id":{},"antenna_id":"a"})",
                "'id' must be a string"},
        BadCase{"nul_in_string",
                R"({"bytes":1,"timestamp":2,"app":"A\u0000","id":"d","antenna_id":"a"})", "NUL"},
        BadCase{"duplicate",
                R"({"bytes":1,"bytes":2,"timestamp":2,"app":"A","id":"d","antenna_id":"a"})",
                "duplicate field 'bytes'"},
        BadCase{"trailing", R"({"bytes":1,"timestamp":2,"app":"A","id":"d","antenna_id":"a"} x)",
                "JSON"}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return std::string(info.param.name); });

TEST_F(EventDecoderTest, BytesSpanTheWholeNonNegativeInt64Range) {
  ASSERT_EQ(
      Decode(R"({"bytes":9223372036854775807,"timestamp":0,"app":"A","id":"d","antenna_id":"a"})"),
      "");
  EXPECT_EQ(batch_.bytes[0], INT64_MAX);
}

TEST_F(EventDecoderTest, KeepsWorkingAfterBadInput) {
  EXPECT_NE(Decode("{"), "");
  EXPECT_EQ(Decode(kGood), "");
  EXPECT_EQ(batch_.size(), 1u);
}

// Deferred interning gives the rows, ids and dictionaries of interning event by event, over good
// and bad messages, escapes, repeats and batches appended to an existing batch.
TEST(EventDecoderDeferredTest, MatchesInterningEventByEvent) {
  std::vector<std::string> payloads;
  for (int i = 0; i < 300; ++i) {
    if (i % 17 == 3) {
      payloads.push_back(R"({"bytes":1,"timestamp":2,"app":"NEVER","id":"bad","antenna_id":1})");
      continue;
    }
    payloads.push_back(R"({"bytes":)" + std::to_string(i) + R"(,"timestamp":)" +
                       std::to_string(1600000000 + i) + R"(,"app":"Aé)" + std::to_string(i % 7) +
                       R"(","id":"dev-)" + std::to_string(i * 7919 % 101) +
                       R"(","antenna_id":"ant)" + std::to_string(i % 5) + R"("})");
  }
  KeyDictionaries now_dicts, later_dicts;
  EventDecoder now(&now_dicts), later(&later_dicts);
  later.set_deferred(true);
  EventBatch now_batch, later_batch;
  std::string error;
  for (size_t start = 0; start < payloads.size(); start += 64) {  // five polls
    for (size_t i = start; i < std::min(payloads.size(), start + 64); ++i) {
      const bool a = now.Decode(payloads[i], 0, static_cast<int64_t>(i), &now_batch, &error);
      const bool b = later.Decode(payloads[i], 0, static_cast<int64_t>(i), &later_batch, &error);
      ASSERT_EQ(a, b) << payloads[i];
    }
    later.InternPending(&later_batch);
  }
  ASSERT_EQ(later_batch.size(), now_batch.size());
  EXPECT_GT(later_batch.size(), 250u);
  for (int c = 0; c < pipeline::kKeyColumns; ++c) {
    EXPECT_EQ(later_batch.keys[c], now_batch.keys[c]) << "column " << c;
    ASSERT_EQ(later_dicts.columns[c].size(), now_dicts.columns[c].size()) << "column " << c;
    for (uint32_t id = 0; id < now_dicts.columns[c].size(); ++id)
      EXPECT_EQ(later_dicts.columns[c].Name(id), now_dicts.columns[c].Name(id));
  }
  EXPECT_EQ(later_batch.bytes, now_batch.bytes);
  EXPECT_EQ(later_dicts[KeyColumn::kApp].Find("NEVER"), -1);  // a bad message interns nothing
}

}  // namespace
}  // namespace lf::json
