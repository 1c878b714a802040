#include "postgres/conninfo.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace lf::postgres {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;

TEST(JdbcUriTest, HostPortDatabase) {
  std::vector<std::string> ignored;
  auto p = ParseJdbcUri("jdbc:postgresql://db.example.com:6543/metrics", &ignored);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(*p, Contains(Pair("host", "db.example.com")));
  EXPECT_THAT(*p, Contains(Pair("port", "6543")));
  EXPECT_THAT(*p, Contains(Pair("dbname", "metrics")));
}

TEST(JdbcUriTest, DefaultsQueryPropertiesAndIgnoredOnes) {
  std::vector<std::string> ignored;
  auto p = ParseJdbcUri(
      "jdbc:postgresql://10.0.0.1/postgres?user=alice&password=s%40cret&ssl=true&"
      "loggerLevel=DEBUG&currentSchema=lf",
      &ignored);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(*p, Contains(Pair("port", "5432")));
  EXPECT_THAT(*p, Contains(Pair("user", "alice")));
  EXPECT_THAT(*p, Contains(Pair("password", "s@cret")));
  EXPECT_THAT(*p, Contains(Pair("sslmode", "require")));
  EXPECT_THAT(*p, Contains(Pair("options", "-csearch_path=lf")));
  EXPECT_THAT(ignored, Contains("loggerLevel"));
}

TEST(JdbcUriTest, MultipleHostsAndIpv6) {
  std::vector<std::string> ignored;
  auto p = ParseJdbcUri("jdbc:postgresql://a:1,[::1]:2/db", &ignored);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(*p, Contains(Pair("host", "a,::1")));
  EXPECT_THAT(*p, Contains(Pair("port", "1,2")));
}

TEST(JdbcUriTest, RejectsGarbage) {
  std::vector<std::string> ignored;
  EXPECT_FALSE(ParseJdbcUri("jdbc:mysql://x/y", &ignored).ok());
  EXPECT_FALSE(ParseJdbcUri("jdbc:postgresql://h:12x/db", &ignored).ok());
  EXPECT_FALSE(ParseJdbcUri("jdbc:postgresql://h/db?password=%zz", &ignored).ok());
}

TEST(ConnTargetTest, DisplayNeverShowsThePassword) {
  for (const char* pg : {"postgresql://bob:hunter2@127.0.0.1:5433/lf",
                         "host=127.0.0.1 port=5433 dbname=lf user=bob password=hunter2",
                         "jdbc:postgresql://127.0.0.1:5433/lf?user=bob&password=hunter2"}) {
    auto t = ParseConnTarget(pg);
    ASSERT_TRUE(t.ok()) << pg << ": " << t.status();
    EXPECT_THAT(t->display, Not(HasSubstr("hunter2"))) << pg;
    EXPECT_THAT(t->display, HasSubstr("127.0.0.1:5433/lf")) << pg;
    EXPECT_THAT(t->display, HasSubstr("bob")) << pg;
  }
}

TEST(ConnTargetTest, PositionalUserAndPasswordOverride) {
  auto t = ParseConnTarget("jdbc:postgresql://h:1/db", "carol", "pw");
  ASSERT_TRUE(t.ok());
  EXPECT_THAT(t->params, Contains(Pair("user", "carol")));
  EXPECT_THAT(t->params, Contains(Pair("password", "pw")));
  EXPECT_THAT(t->display, Not(HasSubstr("pw")));
}

TEST(ConnTargetTest, BadStringNamesTheFlagWithoutEchoingIt) {
  auto t = ParseConnTarget("postgresql://u:topsecret@h:notaport/db?bogus=1");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("--pg"));
  EXPECT_THAT(std::string(t.status().message()), Not(HasSubstr("topsecret")));
}

}  // namespace
}  // namespace lf::postgres
