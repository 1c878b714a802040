#include "lake/lake_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/mem_env.h"
#include "fmt/format.h"
#include "lake/layout.h"
#include "parquet/reader.h"

namespace lf::lake {
namespace {

namespace fs = std::filesystem;
constexpr int64_t kNine = 1795338000;  // 2026-11-22T09:00:00Z

// Appends one event of antenna "ant", device "dev", app SKYPE to `batch`.
void AddEvent(pipeline::EventBatch* batch, pipeline::KeyDictionaries* keys, int64_t ts,
              int64_t bytes) {
  batch->bytes.push_back(bytes);
  batch->timestamp_s.push_back(ts);
  batch->keys[0].push_back((*keys)[pipeline::KeyColumn::kAntenna].Intern("ant"));
  batch->keys[1].push_back((*keys)[pipeline::KeyColumn::kDevice].Intern("dev"));
  batch->keys[2].push_back((*keys)[pipeline::KeyColumn::kApp].Intern("SKYPE"));
  batch->partition.push_back(0);
  batch->offset.push_back(static_cast<int64_t>(batch->offset.size()));
}

class LakeWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / fmt::format("lake_test_{}_{}", ::getpid(), counter_++);
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  void Add(int64_t ts, int64_t bytes) { AddEvent(&batch_, &keys_, ts, bytes); }
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

// The lake's commit and recovery on an in-memory disk that loses what was not synced.
class LakeWriterMemTest : public ::testing::Test {
 protected:
  void Add(int64_t ts, int64_t bytes) { AddEvent(&batch_, &keys_, ts, bytes); }
  std::unique_ptr<LakeWriter> Open() {
    auto w = LakeWriter::Open({.root = "/lake", .writer_id = MakeWriterId(), .env = &env_});
    EXPECT_TRUE(w.ok()) << w.status();
    return std::move(*w);
  }
  // Rows of a file of the in-memory disk, read by the Parquet reader from a real copy.
  int64_t RowsOf(const std::string& path) {
    auto data = env_.Contents(path);
    if (!data.ok()) return -1;
    const fs::path copy =
        fs::temp_directory_path() / fmt::format("lake_mem_test_{}.parquet", ::getpid());
    { std::ofstream(copy, std::ios::binary) << *data; }
    auto reader = parquet::ParquetReader::Open(copy.string());
    fs::remove(copy);
    return reader.ok() ? (*reader)->num_rows() : -2;
  }

  MemEnv env_;
  pipeline::KeyDictionaries keys_;
  pipeline::EventBatch batch_;
};

// CloseAll's files are what the commit records: after a power loss they must be whole, under
// either name, or the manifest would list rows the lake lost.
TEST_F(LakeWriterMemTest, ClosedFilesSurviveACrashWholeAndPublishAfterIt) {
  auto w = Open();
  for (int i = 0; i < 50; ++i) Add(kNine + i, i);
  Add(kNine + 3600, 7);
  ASSERT_TRUE(w->Append(batch_, keys_).ok());
  auto files = w->CloseAll();
  ASSERT_TRUE(files.ok()) << files.status();
  ASSERT_EQ(files->size(), 2u);
  env_.Crash();  // after the commit, before the renames
  for (const LakeFile& f : *files) {
    EXPECT_EQ(RowsOf("/lake/" + f.temp_path), f.rows) << f.temp_path;
    EXPECT_EQ(env_.FileSize("/lake/" + f.temp_path).value_or(-1), f.bytes) << f.temp_path;
  }
  ASSERT_TRUE(LakeWriter::Publish("/lake", *files, &env_).ok());
  env_.Crash();  // published means durable
  for (const LakeFile& f : *files) {
    EXPECT_EQ(RowsOf("/lake/" + f.path), f.rows) << f.path;
    EXPECT_FALSE(env_.FileExists("/lake/" + f.temp_path)) << f.temp_path;
  }
}

TEST_F(LakeWriterMemTest, ARenameLostInACrashIsRedoneByPublish) {
  auto w = Open();
  Add(kNine, 1);
  Add(kNine + 3600, 2);
  ASSERT_TRUE(w->Append(batch_, keys_).ok());
  auto files = w->CloseAll();
  ASSERT_TRUE(files.ok()) << files.status();
  // The first rename happened, its directory was not synced yet: the crash undoes it.
  const LakeFile& first = (*files)[0];
  ASSERT_TRUE(env_.RenameFile("/lake/" + first.temp_path, "/lake/" + first.path).ok());
  env_.Crash();
  EXPECT_FALSE(env_.FileExists("/lake/" + first.path));
  ASSERT_TRUE(LakeWriter::Publish("/lake", *files, &env_).ok());
  ASSERT_TRUE(LakeWriter::Publish("/lake", *files, &env_).ok());  // idempotent
  env_.Crash();
  for (const LakeFile& f : *files) EXPECT_EQ(RowsOf("/lake/" + f.path), f.rows) << f.path;
}

TEST_F(LakeWriterMemTest, OpenFilesLostInACrashLeaveNothingPublished) {
  auto w = Open();
  Add(kNine, 1);
  ASSERT_TRUE(w->Append(batch_, keys_).ok());
  env_.Crash();  // before CloseAll: never committed
  for (const std::string& path : env_.Files()) {
    EXPECT_EQ(path.find("/part-"), std::string::npos) << path << " looks published";
  }
  EXPECT_TRUE(env_.IsDirectory("/lake/devices"));  // Open synced its parents
}

// Another host's temporary file is removed only once it has not changed for a day (its writer
// may still be running); the clock is the environment's.
TEST_F(LakeWriterMemTest, AForeignWritersTempFileGoesAfterADay) {
  ASSERT_TRUE(CreateDirs(&env_, "/lake/" + HourDir("devices", kNine)).ok());
  const std::string foreign =
      "/lake/" + HourDir("devices", kNine) + "/" + TempFileName(FinalFileName("otherhost-7-1", 0));
  ASSERT_TRUE(env_.NewWritableFile(foreign).ok());
  env_.Advance(std::chrono::hours(23));
  EXPECT_EQ(LakeWriter::RemoveOrphanTemps("/lake", "devices", {}, &env_), 0);
  EXPECT_TRUE(env_.FileExists(foreign));
  env_.Advance(std::chrono::hours(2));
  EXPECT_EQ(LakeWriter::RemoveOrphanTemps("/lake", "devices", {}, &env_), 1);
  EXPECT_FALSE(env_.FileExists(foreign));
}

TEST_F(LakeWriterMemTest, AFullDiskIsAnErrorAndLeavesNoFiles) {
  auto w = Open();
  Add(kNine, 1);
  env_.SetCapacity(2);  // not even the magic number fits
  absl::Status st = w->Append(batch_, keys_);
  EXPECT_NE(st.message().find("No space left on device"), std::string_view::npos) << st;
  EXPECT_TRUE(env_.Files().empty());

  env_.SetCapacity(64);  // the header fits, the footer does not
  ASSERT_TRUE(w->Append(batch_, keys_).ok());
  auto files = w->CloseAll();
  EXPECT_FALSE(files.ok());
  EXPECT_TRUE(w->empty());
  EXPECT_TRUE(env_.Files().empty());
}

TEST_F(LakeWriterMemTest, TheOldestOpenFileIsTimedByTheEnvironment) {
  auto w = Open();
  Add(kNine, 1);
  ASSERT_TRUE(w->Append(batch_, keys_).ok());
  const auto opened = w->oldest_open();
  env_.Advance(std::chrono::minutes(5));
  EXPECT_EQ(env_.SteadyNow() - opened, std::chrono::minutes(5));
}

}  // namespace
}  // namespace lf::lake
