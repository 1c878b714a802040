#include "serve/params.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lf::serve {
namespace {

using ::testing::HasSubstr;

Timestamp T(const char* iso) { return *ParseTime(iso); }

TEST(ParamsTest, RangeDefaultsAndParses) {
  auto r =
      ParseRange({}, T("2026-11-22T03:00:00Z"), T("2026-11-22T09:00:00Z"), std::chrono::hours(24));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->from, T("2026-11-22T03:00:00Z"));
  r = ParseRange({{"from", "2026-11-22T08:00:00Z"}, {"to", "2026-11-22T08:30:00.7Z"}},
                 T("2000-01-01"), T("2000-01-02"), std::chrono::hours(24));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->to, T("2026-11-22T08:30:00Z"));  // whole seconds
}

TEST(ParamsTest, BadRangeNamesTheParameter) {
  auto d0 = T("2026-11-22T00:00:00Z"), d1 = T("2026-11-22T06:00:00Z");
  auto bad_from = ParseRange({{"from", "yesterday"}}, d0, d1, std::chrono::hours(24));
  EXPECT_TRUE(absl::IsInvalidArgument(bad_from.status()));
  EXPECT_THAT(bad_from.status().message(), HasSubstr("'from'"));
  auto empty_to = ParseRange({{"to", ""}}, d0, d1, std::chrono::hours(24));
  EXPECT_THAT(empty_to.status().message(), HasSubstr("'to'"));
  auto reversed = ParseRange({{"from", "2026-11-22T05:00:00Z"}, {"to", "2026-11-22T04:00:00Z"}}, d0,
                             d1, std::chrono::hours(24));
  EXPECT_THAT(reversed.status().message(), HasSubstr("'to': must be after 'from'"));
  auto equal = ParseRange({{"from", "2026-11-22T05:00:00Z"}, {"to", "2026-11-22T05:00:00Z"}}, d0,
                          d1, std::chrono::hours(24));
  EXPECT_FALSE(equal.ok());
  auto too_long =
      ParseRange({{"from", "2026-01-01"}, {"to", "2026-11-22"}}, d0, d1, std::chrono::hours(24));
  EXPECT_THAT(too_long.status().message(), HasSubstr("longer than"));
}

TEST(ParamsTest, UnknownAndRepeatedParameters) {
  EXPECT_TRUE(CheckAllowed({{"from", "x"}, {"to", "y"}}, {"from", "to"}).ok());
  auto unknown = CheckAllowed({{"form", "x"}}, {"from", "to"});
  EXPECT_TRUE(absl::IsInvalidArgument(unknown));
  EXPECT_THAT(unknown.message(), HasSubstr("unknown parameter 'form'"));
  auto twice = CheckAllowed({{"from", "x"}, {"from", "y"}}, {"from", "to"});
  EXPECT_THAT(twice.message(), HasSubstr("'from' given more than once"));
  EXPECT_FALSE(CheckAllowed({{"x", ""}}, {}).ok());
}

TEST(ParamsTest, TypeIdLimitKind) {
  EXPECT_EQ(*ParseType({{"type", "antenna_bytes_total"}}), "antenna_bytes_total");
  EXPECT_THAT(ParseType({}).status().message(), HasSubstr("'type': required"));
  EXPECT_THAT(ParseType({{"type", "bytes; DROP TABLE bytes"}}).status().message(),
              HasSubstr("'type'"));
  EXPECT_FALSE(ParseId({})->has_value());
  EXPECT_EQ(**ParseId({{"id", "00000000-0000-0000-0000-000000000001"}}),
            "00000000-0000-0000-0000-000000000001");
  EXPECT_THAT(ParseId({{"id", ""}}).status().message(), HasSubstr("'id'"));
  EXPECT_THAT(ParseId({{"id", std::string(201, 'a')}}).status().message(), HasSubstr("'id'"));
  EXPECT_THAT(ParseId({{"id", std::string("a\0b", 3)}}).status().message(), HasSubstr("control"));
  EXPECT_EQ(*ParseInt({}, "limit", 1, 100, 10), 10);
  EXPECT_EQ(*ParseInt({{"limit", "5"}}, "limit", 1, 100, 10), 5);
  for (const char* bad : {"0", "101", "-1", "5x", "", "1e3", " 5", "99999999999999"}) {
    auto r = ParseInt({{"limit", bad}}, "limit", 1, 100, 10);
    EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << bad;
    EXPECT_THAT(r.status().message(), HasSubstr("'limit'")) << bad;
  }
  EXPECT_EQ(*ParseChoice({{"kind", "apps"}}, "kind", {"users", "apps"}, ""), "apps");
  EXPECT_THAT(ParseChoice({}, "kind", {"users", "apps"}, "").status().message(),
              HasSubstr("'kind': required"));
  EXPECT_THAT(ParseChoice({{"kind", "Users"}}, "kind", {"users", "apps"}, "").status().message(),
              HasSubstr("'kind'"));
}

}  // namespace
}  // namespace lf::serve
