#include "pipeline/interner.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

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

TEST(StringInternerTest, InternAllMatchesOneByOne) {
  // Spans of every length around the prefetch distances, repeats inside and across spans, the
  // empty string, and enough keys to grow the table many times.
  StringInterner in;
  std::map<std::string, uint32_t> want;
  std::vector<std::string> keys;
  uint64_t x = 12345;
  auto next_key = [&] {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    uint64_t k = (x >> 33) % 40000;
    return k == 0 ? std::string() : "00000000-0000-0000-0000-" + std::to_string(k);
  };
  for (size_t len = 0; len < 2000; len += 1 + len / 7) {
    keys.clear();
    for (size_t i = 0; i < len; ++i) keys.push_back(next_key());
    std::vector<std::string_view> views(keys.begin(), keys.end());
    std::vector<uint32_t> ids(len, 999999);
    if (len % 3 == 0) {
      for (size_t i = 0; i < len; ++i) ids[i] = in.Intern(views[i]);
    } else {
      in.InternAll(views, ids.data());
    }
    for (size_t i = 0; i < len; ++i) {
      auto [it, added] = want.emplace(keys[i], static_cast<uint32_t>(want.size()));
      ASSERT_EQ(ids[i], it->second) << "key '" << keys[i] << "' at " << i << " of " << len;
    }
  }
  ASSERT_EQ(in.size(), want.size());
  for (const auto& [k, id] : want) {
    EXPECT_EQ(in.Find(k), static_cast<int64_t>(id));
    EXPECT_EQ(in.Name(id), k);
  }
  EXPECT_EQ(in.Find("never added"), -1);
}

TEST(StringInternerTest, LongStringsAndMoves) {
  StringInterner in;
  std::string big(200000, 'x');
  EXPECT_EQ(in.Intern(big), 0u);
  EXPECT_EQ(in.Intern(""), 1u);
  EXPECT_EQ(in.Intern(std::string(200000, 'x')), 0u);
  StringInterner moved = std::move(in);
  EXPECT_EQ(moved.Name(0), big);
  EXPECT_EQ(moved.Find(""), 1);
  EXPECT_EQ(moved.Intern("new"), 2u);
}

}  // namespace
}  // namespace lf::pipeline
