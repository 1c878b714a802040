#include "pipeline/interner.h"

#include <gtest/gtest.h>

namespace lf::pipeline {
namespace {

TEST(StringInternerTest, DenseIdsInFirstSeenOrder) {
  StringInterner in;
  EXPECT_EQ(in.Intern("SKYPE"), 0u);
  EXPECT_EQ(in.Intern("FACEBOOK"), 1u);
  EXPECT_EQ(in.Intern("SKYPE"), 0u);
  EXPECT_EQ(in.Find("FACEBOOK"), 1);
  EXPECT_EQ(in.Find("TELEGRAM"), -1);
  EXPECT_EQ(in.Name(1), "FACEBOOK");
  EXPECT_EQ(in.size(), 2u);
}

TEST(StringInternerTest, ViewsStayValidAsItGrows) {
  StringInterner in;
  in.Intern("first");
  std::string_view first = in.Name(0);
  for (int i = 0; i < 10000; ++i) in.Intern("k" + std::to_string(i));
  EXPECT_EQ(first, "first");
  EXPECT_EQ(in.Find("k9999"), 10000);
}

}  // namespace
}  // namespace lf::pipeline
