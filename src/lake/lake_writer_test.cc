#include "lake/lake_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "fmt/format.h"
#include "lake/layout.h"
#include "parquet/reader.h"

namespace lf::lake {
namespace {

namespace fs = std::filesystem;
constexpr int64_t kNine = 1795338000;  // 2026-11-22T09:00:00Z

class LakeWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / fmt::format("lake_test_{}_{}", ::getpid(), counter_++);
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  void Add(int64_t ts, int64_t bytes) {
    batch_.bytes.push_back(bytes);
    batch_.timestamp_s.push_back(ts);
    batch_.keys[0].push_back(keys_[pipeline::KeyColumn::kAntenna].Intern("ant"));
    batch_.keys[1].push_back(keys_[pipeline::KeyColumn::kDevice].Intern("dev"));
    batch_.keys[2].push_back(keys_[pipeline::KeyColumn::kApp].Intern("SKYPE"));
    batch_.partition.push_back(0);
    batch_.offset.push_back(static_cast<int64_t>(batch_.offset.size()));
  }
  std::unique_ptr<LakeWriter> Open() {
    auto w = LakeWriter::Open({.root = root_.string(), .writer_id = MakeWriterId()});
    EXPECT_TRUE(w.ok()) << w.status();
    return std::move(*w);
  }
  static inline int counter_ = 0;
  fs::path root_;
  pipeline::KeyDictionaries keys_;
  pipeline::EventBatch batch_;
};

TEST_F(LakeWriterTest, OneFilePerHourHiddenUntilPublished) {
  auto w = Open();
  Add(kNine + 10, 1);
  Add(kNine + 3600 + 5, 2);
  Add(kNine + 20, 4);
  ASSERT_TRUE(w->Append(batch_, keys_).ok());
  EXPECT_EQ(w->open_hours(), (std::vector<int64_t>{kNine, kNine + 3600}));
  auto files = w->CloseAll();
  ASSERT_TRUE(files.ok()) << files.status();
  ASSERT_EQ(files->size(), 2u);
  EXPECT_TRUE(w->empty());
  const LakeFile& nine = (*files)[0];
  EXPECT_EQ(nine.rows, 2);
  EXPECT_EQ(nine.path.rfind("devices/year=2026/month=11/day=22/hour=9/part-", 0), 0u);
  EXPECT_TRUE(fs::exists(root_ / nine.temp_path));
  EXPECT_FALSE(fs::exists(root_ / nine.path));

  ASSERT_TRUE(LakeWriter::Publish(root_.string(), *files).ok());
  ASSERT_TRUE(LakeWriter::Publish(root_.string(), *files).ok());  // idempotent
  EXPECT_FALSE(fs::exists(root_ / nine.temp_path));
  auto reader = parquet::ParquetReader::Open((root_ / nine.path).string());
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->num_rows(), 2);
}

TEST_F(LakeWriterTest, KeepMaskSelectsRows) {
  auto w = Open();
  Add(kNine, 1);
  Add(kNine, 2);
  std::vector<uint8_t> keep = {0, 1};
  ASSERT_TRUE(w->Append(batch_, keys_, keep).ok());
  auto files = w->CloseAll();
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].rows, 1);
}

TEST_F(LakeWriterTest, DiscardAndSuccessMarker) {
  auto w = Open();
  Add(kNine, 1);
  ASSERT_TRUE(w->Append(batch_, keys_).ok());
  auto files = w->CloseAll();
  ASSERT_TRUE(files.ok());
  LakeWriter::Discard(root_.string(), *files);
  EXPECT_FALSE(fs::exists(root_ / (*files)[0].temp_path));
  ASSERT_TRUE(LakeWriter::MarkSuccess(root_.string(), "devices", kNine).ok());
  EXPECT_TRUE(fs::exists(root_ / HourDir("devices", kNine) / "_SUCCESS"));
}

TEST_F(LakeWriterTest, OrphanTempsOfDeadLocalWritersAreRemoved) {
  auto w = Open();
  Add(kNine, 1);
  ASSERT_TRUE(w->Append(batch_, keys_).ok());
  auto files = w->CloseAll();
  ASSERT_TRUE(files.ok());
  // Our own process is alive: its temp file stays.
  EXPECT_EQ(LakeWriter::RemoveOrphanTemps(root_.string(), "devices", {}), 0);
  // A file of a dead writer on this host (pid 2^22+1 is above pid_max's default) goes.
  std::string id = MakeWriterId();
  std::string dead_id = id.substr(0, id.find('-')) + "-4194305-1";
  fs::path dead = root_ / HourDir("devices", kNine) / TempFileName(FinalFileName(dead_id, 0));
  { std::ofstream(dead.string()) << "partial"; }
  EXPECT_EQ(LakeWriter::RemoveOrphanTemps(root_.string(), "devices", {}), 1);
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_TRUE(fs::exists(root_ / (*files)[0].temp_path));
}

// A relative root (`ingest --storage lake`) once failed: the first new directory's parent is "",
// which cannot be opened to fsync.
TEST_F(LakeWriterTest, RelativeRootIsCreated) {
  fs::create_directories(root_);
  const fs::path before = fs::current_path();
  fs::current_path(root_);
  auto w = LakeWriter::Open({.root = "rel", .writer_id = MakeWriterId()});
  const bool made = fs::is_directory(root_ / "rel" / "devices");
  fs::current_path(before);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_TRUE(made);
}

}  // namespace
}  // namespace lf::lake
