#include "config/expression.h"

#include "gtest/gtest.h"

namespace lf::config {
namespace {

using pipeline::AggregateKind;

TEST(ParseAggregateTest, AcceptsTheSixForms) {
  EXPECT_EQ(ParseAggregate("count()")->kind, AggregateKind::kCount);
  EXPECT_EQ(ParseAggregate(" sum( bytes ) ")->argument, "bytes");
  EXPECT_EQ(ParseAggregate("min(x)")->kind, AggregateKind::kMin);
  EXPECT_EQ(ParseAggregate("max(x)")->kind, AggregateKind::kMax);
  EXPECT_EQ(ParseAggregate("avg(x)")->kind, AggregateKind::kAvg);
  auto cd = ParseAggregate("count_distinct(qls_unit_id)");
  ASSERT_TRUE(cd.has_value());
  EXPECT_EQ(cd->kind, AggregateKind::kCountDistinct);
  EXPECT_EQ(cd->argument, "qls_unit_id");
}

TEST(ParseAggregateTest, RefusesEverythingElse) {
  for (const char* bad : {"", "count", "count(x)", "sum()", "sum(a,b)", "median(x)", "sum(1x)",
                          "sum(x))", "SUM(x)", "sum(x", "sum(a b)"}) {
    EXPECT_FALSE(ParseAggregate(bad).has_value()) << bad;
  }
}

TEST(ParseExpressionTest, PrecedenceAndNames) {
  auto e = ParseExpression("100 * (a - b) / a");
  ASSERT_TRUE(e.ok()) << e.status();
  std::vector<std::string> names;
  CollectMetricNames(**e, &names);
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(pipeline::ExprSql(**e, [](const std::string& m) { return m; }),
            "((100 * (a - b))::double precision / NULLIF(a, 0))");
  auto neg = ParseExpression("-a + 2.5*b");
  ASSERT_TRUE(neg.ok());
  EXPECT_EQ(pipeline::ExprSql(**neg, [](const std::string& m) { return m; }), "((-a) + (2.5 * b))");
}

TEST(ParseExpressionTest, ErrorsNameThePlace) {
  auto e = ParseExpression("a + * b");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("unexpected '*' at character 5"), std::string::npos)
      << e.status();
  EXPECT_FALSE(ParseExpression("(a + b").ok());
  EXPECT_FALSE(ParseExpression("a b").ok());
  EXPECT_FALSE(ParseExpression("").ok());
  EXPECT_FALSE(ParseExpression("1..2").ok());
  EXPECT_FALSE(ParseExpression("a; DROP TABLE x").ok());
}

TEST(ParseExpressionTest, HostileNestingIsRefusedNotRecursed) {
  EXPECT_FALSE(ParseExpression(std::string(100000, '(') + "a").ok());
  EXPECT_FALSE(ParseExpression(std::string(100000, '-') + "a").ok());
  std::string chain = "a";
  for (int i = 0; i < 100000; ++i) chain += "+a";
  EXPECT_FALSE(ParseExpression(chain).ok());
}

}  // namespace
}  // namespace lf::config
