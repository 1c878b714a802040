#include "batch/hour_aggregate.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "fmt/format.h"
#include "lake/lake_writer.h"

namespace lf::batch {
namespace {

namespace fs = std::filesystem;
constexpr int64_t kNine = 1795338000;  // 2026-11-22T09:00:00Z

class AggregateHourTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / fmt::format("batch_test_{}", ::getpid());
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  void Add(int64_t ts, int64_t bytes, const char* dev, const char* app, const char* ant) {
    b_.bytes.push_back(bytes);
    b_.timestamp_s.push_back(ts);
    b_.keys[0].push_back(keys_[pipeline::KeyColumn::kAntenna].Intern(ant));
    b_.keys[1].push_back(keys_[pipeline::KeyColumn::kDevice].Intern(dev));
    b_.keys[2].push_back(keys_[pipeline::KeyColumn::kApp].Intern(app));
    b_.partition.push_back(0);
    b_.offset.push_back(0);
  }
  void WriteLake() {
    auto w = lake::LakeWriter::Open(
        {.root = root_.string(), .writer_id = fmt::format("t{}", writes_++)});
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append(b_, keys_).ok());
    auto files = (*w)->CloseAll();
    ASSERT_TRUE(files.ok());
    ASSERT_TRUE(lake::LakeWriter::Publish(root_.string(), *files).ok());
    b_.clear();
  }
  std::map<std::string, UserInfo> users_ = {{"u1", {"a@gmail.com", 100}},
                                            {"u2", {"b@gmail.com", 1000}}};
  int writes_ = 0;
  fs::path root_;
  pipeline::KeyDictionaries keys_;
  pipeline::EventBatch b_;
};

TEST_F(AggregateHourTest, FourMetricsQuotaAndUnknownDevices) {
  Add(kNine + 1, 60, "u1", "SKYPE", "ant1");
  Add(kNine + 3599, 50, "u1", "TELEGRAM", "ant2");
  Add(kNine + 100, 7, "u2", "SKYPE", "ant1");
  Add(kNine + 200, 5, "ghost", "SKYPE", "ant1");
  Add(kNine + 3600, 1000, "u2", "SKYPE", "ant1");  // next hour: not counted
  WriteLake();
  Add(kNine + 300, 3, "u2", "SKYPE", "ant1");  // a second file in the hour
  WriteLake();
  auto r = AggregateHour(root_.string(), "devices", kNine, users_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->events, 5);
  EXPECT_EQ(r->files.size(), 2u);
  std::map<std::pair<std::string, std::string>, int64_t> got;
  for (const auto& row : r->rows) got[{row.type, row.id}] = row.value;
  std::map<std::pair<std::string, std::string>, int64_t> want = {
      {{"antenna_bytes_total", "ant1"}, 75},
      {{"antenna_bytes_total", "ant2"}, 50},
      {{"user_bytes_total", "u1"}, 110},
      {{"user_bytes_total", "u2"}, 10},
      {{"user_bytes_total", "ghost"}, 5},
      {{"app_bytes_total", "SKYPE"}, 75},
      {{"app_bytes_total", "TELEGRAM"}, 50},
      {{"user_email_bytes_total", "a@gmail.com"}, 110},
      {{"user_email_bytes_total", "b@gmail.com"}, 10}};
  EXPECT_EQ(got, want);
  ASSERT_EQ(r->over_quota.size(), 1u);
  EXPECT_EQ(r->over_quota[0].email, "a@gmail.com");
  EXPECT_EQ(r->over_quota[0].usage, 110);
  EXPECT_EQ(r->over_quota[0].quota, 100);
  EXPECT_EQ(r->unknown_devices, 1);
  EXPECT_EQ(r->unknown_examples, std::vector<std::string>{"ghost"});
}

TEST_F(AggregateHourTest, MissingHourIsNotFound) {
  Add(kNine, 1, "u1", "A", "a");
  WriteLake();
  auto r = AggregateHour(root_.string(), "devices", kNine + 7200, users_);
  EXPECT_TRUE(absl::IsNotFound(r.status())) << r.status();
}

TEST_F(AggregateHourTest, CorruptFileIsNamed) {
  Add(kNine, 1, "u1", "A", "a");
  WriteLake();
  fs::path bad;
  for (const auto& e : fs::recursive_directory_iterator(root_))
    if (e.path().extension() == ".parquet") bad = e.path();
  fs::resize_file(bad, fs::file_size(bad) - 3);
  auto r = AggregateHour(root_.string(), "devices", kNine, users_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find(bad.filename().string()), std::string::npos)
      << r.status();
}

}  // namespace
}  // namespace lf::batch
