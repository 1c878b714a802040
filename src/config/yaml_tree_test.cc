#include "config/yaml_tree.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lf::config::yaml {
namespace {

using ::testing::HasSubstr;

TEST(YamlTreeTest, MapsSequencesScalarsAndPositions) {
  auto docs = ParseDocuments("a: 1\nb:\n  - x\n  - {c: d}\n");
  ASSERT_TRUE(docs.ok()) << docs.status();
  ASSERT_EQ(docs->size(), 1u);
  const Node& root = (*docs)[0];
  ASSERT_TRUE(root.IsMap());
  ASSERT_EQ(root.size(), 2u);
  EXPECT_EQ(root.entries()[0].first.Scalar(), "a");
  EXPECT_EQ(root.entries()[0].second.Scalar(), "1");
  const Node& b = root.entries()[1].second;
  ASSERT_TRUE(b.IsSequence());
  EXPECT_EQ(b.items()[0].Scalar(), "x");
  EXPECT_EQ(b.items()[0].mark().line, 2);
  EXPECT_EQ(b.items()[0].mark().column, 4);
  const Node& inner = b.items()[1];
  ASSERT_TRUE(inner.IsMap());
  EXPECT_EQ(inner.entries()[0].second.Scalar(), "d");
  EXPECT_EQ(inner.entries()[0].second.mark().column, 8);
}

TEST(YamlTreeTest, ScalarsStayTextAndPlainNullIsNull) {
  auto docs = ParseDocuments("[no, 010, 'null', null, ~, '', 1e3]");
  ASSERT_TRUE(docs.ok());
  const auto& items = (*docs)[0].items();
  EXPECT_EQ(items[0].Scalar(), "no");
  EXPECT_EQ(items[1].Scalar(), "010");
  EXPECT_TRUE(items[2].IsScalar());
  EXPECT_TRUE(items[3].IsNull());
  EXPECT_TRUE(items[4].IsNull());
  EXPECT_TRUE(items[5].IsScalar());
  EXPECT_EQ(items[6].Scalar(), "1e3");
}

TEST(YamlTreeTest, NestedMapsKeepTheirOwnKeys) {
  auto docs = ParseDocuments("a: {b: {c: 1, d: 2}, e: 3}\nf: 4\n");
  ASSERT_TRUE(docs.ok());
  const Node& a = (*docs)[0].entries()[0].second;
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a.entries()[0].second.entries()[1].first.Scalar(), "d");
  EXPECT_EQ(a.entries()[1].first.Scalar(), "e");
  EXPECT_EQ((*docs)[0].entries()[1].second.Scalar(), "4");
}

TEST(YamlTreeTest, AnchorsAliasesAndDuplicateKeysKept) {
  auto docs = ParseDocuments("x: &a [1, 2]\ny: *a\nx: 3\n");
  ASSERT_TRUE(docs.ok());
  const Node& root = (*docs)[0];
  ASSERT_EQ(root.size(), 3u);
  EXPECT_EQ(root.entries()[1].second.items()[1].Scalar(), "2");
  EXPECT_THAT(std::string(ParseDocuments("y: *nope\n").status().message()),
              HasSubstr("1:4: alias *nope names no anchor"));
  // An alias inside its own anchor is not yet defined: no cycles.
  EXPECT_FALSE(ParseDocuments("a: &x [*x]\n").ok());
}

TEST(YamlTreeTest, MalformedAndHostileInputIsAnErrorNotAHang) {
  // Debian's yaml-cpp 0.7 loops forever on each of these.
  for (const char* text : {",", "- a\n,", "--- ,", " ,- * (a - b)/ ?1"}) {
    auto docs = ParseDocuments(text);
    EXPECT_FALSE(docs.ok()) << text;
    EXPECT_THAT(std::string(docs.status().message()), HasSubstr("not valid YAML")) << text;
  }
  EXPECT_THAT(std::string(ParseDocuments(std::string(100, '[')).status().message()),
              HasSubstr("nested more than 64 levels"));
  std::string dashes;
  for (int i = 0; i < 5000; ++i) dashes += "- ";
  EXPECT_FALSE(ParseDocuments(dashes + "x").ok());
  EXPECT_THAT(std::string(ParseDocuments("a: [1, 2\n").status().message()),
              HasSubstr("not valid YAML"));
}

TEST(YamlTreeTest, SeveralDocuments) {
  auto docs = ParseDocuments("a: 1\n---\nb: 2\n");
  ASSERT_TRUE(docs.ok());
  EXPECT_EQ(docs->size(), 2u);
  EXPECT_EQ((*docs)[1].mark().line, 2);
  auto empty = ParseDocuments("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

}  // namespace
}  // namespace lf::config::yaml
