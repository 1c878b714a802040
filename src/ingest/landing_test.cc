#include "ingest/landing.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace lf::ingest {
namespace {

namespace fs = std::filesystem;

class LandingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lf-landing-XXXXXX";
    root_ = mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(root_); }
  void Touch(const std::string& rel, const std::string& content = "x") {
    fs::create_directories((fs::path(root_) / rel).parent_path());
    std::ofstream(fs::path(root_) / rel) << content;
  }
  std::vector<std::string> Paths(const std::string& pattern) {
    auto files = ListLanding(root_, pattern);
    EXPECT_TRUE(files.ok()) << files.status();
    std::vector<std::string> out;
    for (const auto& f : *files) out.push_back(f.path);
    return out;
  }
  std::string root_;
};

TEST_F(LandingTest, ListsMatchingFilesButNotHiddenOnesOrTheProcessedAreas) {
  Touch("iot_sensors/b.csv");
  Touch("iot_sensors/a.csv");
  Touch("iot_sensors/a.json");
  Touch("iot_sensors/.partial.csv");
  Touch("_processed/iot/iot_sensors/old.csv");
  Touch("weather/2026/w1.json");
  EXPECT_EQ(Paths("iot_sensors/*.csv"),
            (std::vector<std::string>{"iot_sensors/a.csv", "iot_sensors/b.csv"}));
  EXPECT_EQ(Paths("weather/*/*.json"), (std::vector<std::string>{"weather/2026/w1.json"}));
  EXPECT_EQ(Paths("*/*.csv"), (std::vector<std::string>{"iot_sensors/a.csv", "iot_sensors/b.csv"}));
  EXPECT_TRUE(Paths("missing/*.csv").empty());
  EXPECT_FALSE(ListLanding(root_, "../*.csv").ok());
}

TEST_F(LandingTest, SettledOnlyAfterSizeAndMtimeHeldStill) {
  SettleTracker t(std::chrono::milliseconds(2000));
  auto t0 = std::chrono::steady_clock::now();
  std::vector<LandingFile> v = {{"a", 10, 1}, {"b", 5, 1}};
  EXPECT_TRUE(t.Settled(v, t0).empty());
  v[1].size = 6;  // b still growing
  auto s = t.Settled(v, t0 + std::chrono::milliseconds(2500));
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].path, "a");
  s = t.Settled(v, t0 + std::chrono::milliseconds(4600));
  EXPECT_EQ(s.size(), 2u);
  EXPECT_TRUE(t.Settled({}, t0 + std::chrono::seconds(10)).empty());  // forgotten when gone
}

TEST_F(LandingTest, MovesKeepEarlierFilesOfTheSameName) {
  Touch("inv/a.json", "1");
  auto to = MoveLandingFile(root_, "inv/a.json", "_processed");
  ASSERT_TRUE(to.ok()) << to.status();
  EXPECT_EQ(*to, "_processed/inv/a.json");
  Touch("inv/a.json", "2");
  to = MoveLandingFile(root_, "inv/a.json", "_processed");
  ASSERT_TRUE(to.ok());
  EXPECT_EQ(*to, "_processed/inv/a.json.1");
  EXPECT_FALSE(fs::exists(fs::path(root_) / "inv/a.json"));
  EXPECT_FALSE(MoveLandingFile(root_, "inv/missing.json", "_error").ok());
}

}  // namespace
}  // namespace lf::ingest
