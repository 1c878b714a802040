#include "common/mem_env.h"

#include <gtest/gtest.h>

namespace lf {
namespace {

absl::Status Write(Env* env, const std::string& path, std::string_view data, bool sync) {
  auto file = env->NewWritableFile(path);
  if (!file.ok()) return file.status();
  if (absl::Status st = (*file)->Append(data); !st.ok()) return st;
  if (sync) {
    if (absl::Status st = (*file)->Sync(); !st.ok()) return st;
  }
  return (*file)->Close();
}

TEST(MemEnvTest, ACrashKeepsOnlySyncedDataUnderDurableNames) {
  MemEnv env;
  ASSERT_TRUE(CreateDirs(&env, "/lake/a/b").ok());  // each new directory's parent synced
  ASSERT_TRUE(Write(&env, "/lake/a/b/synced", "kept", true).ok());
  ASSERT_TRUE(Write(&env, "/lake/a/b/unsynced", "lost", false).ok());
  ASSERT_TRUE(env.SyncDir("/lake/a/b").ok());
  ASSERT_TRUE(Write(&env, "/lake/a/b/no-dir-sync", "data", true).ok());
  ASSERT_TRUE(env.RenameFile("/lake/a/b/synced", "/lake/a/b/renamed").ok());
  env.Crash();
  EXPECT_TRUE(env.IsDirectory("/lake/a/b"));
  EXPECT_EQ(env.Contents("/lake/a/b/synced").value_or("?"), "kept");  // the rename was not synced
  EXPECT_FALSE(env.FileExists("/lake/a/b/renamed"));
  EXPECT_EQ(env.Contents("/lake/a/b/unsynced").value_or("?"), "");  // its name, not its data
  EXPECT_FALSE(env.FileExists("/lake/a/b/no-dir-sync"));
}

TEST(MemEnvTest, ASyncedRenameSurvives) {
  MemEnv env;
  ASSERT_TRUE(CreateDirs(&env, "/d").ok());
  ASSERT_TRUE(Write(&env, "/d/.tmp", "x", true).ok());
  ASSERT_TRUE(env.RenameFile("/d/.tmp", "/d/final").ok());
  ASSERT_TRUE(env.SyncDir("/d").ok());
  env.Crash();
  EXPECT_EQ(env.Files(), std::vector<std::string>{"/d/final"});
}

TEST(MemEnvTest, AnUnsyncedDirectoryIsLostWithItsFiles) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDir("/d").ok());  // "/" not synced
  ASSERT_TRUE(Write(&env, "/d/f", "x", true).ok());
  ASSERT_TRUE(env.SyncDir("/d").ok());
  env.Crash();
  EXPECT_FALSE(env.IsDirectory("/d"));
  EXPECT_TRUE(env.Files().empty());
}

TEST(MemEnvTest, WritesFailWhenTheDiskIsFullAndOpenFilesDieInACrash) {
  MemEnv env;
  env.SetCapacity(5);
  auto file = env.NewWritableFile("/f");
  ASSERT_TRUE(file.ok());
  EXPECT_TRUE((*file)->Append("12345").ok());
  absl::Status full = (*file)->Append("6");
  EXPECT_NE(full.message().find("No space left on device"), std::string_view::npos) << full;
  env.Crash();
  EXPECT_FALSE((*file)->Append("").ok());
  EXPECT_FALSE(env.NewWritableFile("/missing/f").ok());
}

TEST(MemEnvTest, ClocksMoveOnlyWhenToldOrWhenSleeping) {
  MemEnv env;
  const auto steady = env.SteadyNow();
  const Timestamp wall = env.WallNow();
  EXPECT_EQ(env.SteadyNow(), steady);
  EXPECT_FALSE(env.SleepUnlessShutdown(std::chrono::milliseconds(1500)));
  env.Advance(std::chrono::seconds(2));
  EXPECT_EQ(env.SteadyNow() - steady, std::chrono::milliseconds(3500));
  EXPECT_EQ(env.WallNow() - wall, std::chrono::milliseconds(3500));
  EXPECT_EQ(env.slept(), std::chrono::milliseconds(1500));
}

TEST(MemEnvTest, ListFilesIsRecursiveWithModificationTimes) {
  MemEnv env;
  ASSERT_TRUE(CreateDirs(&env, "/r/x/y").ok());
  ASSERT_TRUE(Write(&env, "/r/x/a", "1", false).ok());
  env.Advance(std::chrono::hours(1));
  ASSERT_TRUE(Write(&env, "/r/x/y/b", "2", false).ok());
  ASSERT_TRUE(Write(&env, "/rest", "3", false).ok());
  auto list = env.ListFiles("/r");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].path, "/r/x/a");
  EXPECT_EQ((*list)[1].path, "/r/x/y/b");
  EXPECT_EQ((*list)[1].modified - (*list)[0].modified, std::chrono::hours(1));
}

}  // namespace
}  // namespace lf
