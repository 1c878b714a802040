#include "common/json_text.h"

#include <gtest/gtest.h>

namespace lf {
namespace {

std::string Json(std::string_view s) {
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

TEST(JsonTextTest, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(Json("a\"b\\c\nd\x01"), "\"a\\\"b\\\\c\\nd\\u0001\"");
}

TEST(JsonTextTest, KeepsWellFormedUtf8AndReplacesEveryOtherByte) {
  EXPECT_EQ(Json("é€𝄞"), "\"é€𝄞\"");
  EXPECT_EQ(Json("1\xaasch\xe5ma"), "\"1\ufffdsch\ufffdma\"");          // stray bytes
  EXPECT_EQ(Json("\xc0\xaf"), "\"\ufffd\ufffd\"");                      // overlong '/'
  EXPECT_EQ(Json("\xed\xa0\x80"), "\"\ufffd\ufffd\ufffd\"");            // a surrogate
  EXPECT_EQ(Json("\xf4\x90\x80\x80"), "\"\ufffd\ufffd\ufffd\ufffd\"");  // above U+10FFFF
  EXPECT_EQ(Json("\xe2\x82"), "\"\ufffd\ufffd\"");                      // truncated at the end
}

}  // namespace
}  // namespace lf
