#pragma once

// An Env in memory for tests: files and directories in maps, clocks that move only when told to
// (or when the code under test sleeps), and the faults a real disk has: a crash that loses what
// was not synced, and a full disk.

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/env.h"

namespace lf {

class MemEnv : public Env {
 public:
  MemEnv();

  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  bool FileExists(const std::string& path) override;
  bool IsDirectory(const std::string& path) override;
  absl::StatusOr<int64_t> FileSize(const std::string& path) override;
  absl::Status CreateDir(const std::string& path) override;
  absl::Status SyncDir(const std::string& path) override;
  absl::Status RenameFile(const std::string& from, const std::string& to) override;
  absl::Status RemoveFile(const std::string& path) override;
  absl::StatusOr<std::vector<FileInfo>> ListFiles(const std::string& dir) override;

  std::chrono::steady_clock::time_point SteadyNow() override;
  Timestamp WallNow() override;
  // Advances both clocks by `d` at once (no real waiting); false, unless shutdown was requested.
  bool SleepUnlessShutdown(std::chrono::milliseconds d) override;

  // Moves both clocks forward.
  void Advance(std::chrono::microseconds d);
  // What the code under test slept, in all.
  std::chrono::milliseconds slept() const;

  // A power loss: every directory entry not made durable by SyncDir of its directory since it was
  // created, renamed or removed goes back to its durable state, and every file loses what was
  // appended after its last Sync. Open WritableFiles stop working.
  void Crash();
  // Appends fail with "No space left on device" once the files hold `bytes` in all (-1: never).
  void SetCapacity(int64_t bytes);

  // The file's current content; NotFound when it does not exist.
  absl::StatusOr<std::string> Contents(const std::string& path) const;
  // Every file path, sorted.
  std::vector<std::string> Files() const;

 private:
  struct Node {
    std::string data;
    size_t synced = 0;
    Timestamp modified;
    uint64_t generation = 0;  // of the MemEnv when created; a crash invalidates open handles
  };
  class File;

  static std::string Parent(const std::string& path);
  int64_t UsedBytesLocked() const;

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Node>> files_, durable_files_;
  std::set<std::string> dirs_, durable_dirs_;
  std::chrono::steady_clock::time_point steady_;
  Timestamp wall_;
  std::chrono::milliseconds slept_{0};
  int64_t capacity_ = -1;
  uint64_t generation_ = 0;
};

}  // namespace lf
