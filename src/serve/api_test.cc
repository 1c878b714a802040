#include "serve/api.h"

#include "gtest/gtest.h"
#include "serve/db_pool.h"

namespace lf::serve {
namespace {

TEST(JsonStringTest, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(JsonString("plain"), "\"plain\"");
  EXPECT_EQ(JsonString("a\"b\\c\nd\te\x01"), "\"a\\\"b\\\\c\\nd\\te\\u0001\"");
  EXPECT_EQ(JsonString("parameter 'x': ü"), "\"parameter 'x': ü\"");
}

TEST(ReadOnlyTargetTest, AddsReadOnlySessionSettingsAfterTheUsersOptions) {
  postgres::ConnTarget t;
  t.params = {{"host", "db"}, {"options", "-c search_path=lf"}};
  postgres::ConnTarget ro = ReadOnlyTarget(t);
  std::string options;
  for (const auto& [k, v] : ro.params) {
    if (k == "options") options = v;  // the last one wins in libpq
  }
  EXPECT_NE(options.find("-c search_path=lf"), std::string::npos);
  EXPECT_NE(options.find("-c default_transaction_read_only=on"), std::string::npos);
  EXPECT_NE(options.find("statement_timeout"), std::string::npos);
}

}  // namespace
}  // namespace lf::serve
