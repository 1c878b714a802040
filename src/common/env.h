#pragma once

// The environment a layer runs in: files, the clocks and sleeping, behind one interface (the
// shape of leveldb's Env). Production code takes an `Env*` (nullptr: Env::Default(), POSIX and the
// real clocks); tests pass a MemEnv (common/mem_env.h) to run the lake's commit and recovery and
// the jobs' timing in memory, with crashes and full disks on demand.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/time.h"

namespace lf {

// A file being written from its start. Not thread-safe.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual absl::Status Append(std::string_view data) = 0;
  // Makes what was appended durable (fdatasync).
  virtual absl::Status Sync() = 0;
  virtual absl::Status Close() = 0;
};

struct FileInfo {
  std::string path;  // as given to ListFiles joined with the file's relative path
  Timestamp modified;
};

class Env {
 public:
  virtual ~Env() = default;
  // POSIX files, the system's clocks, sleeping that wakes on shutdown. Never deleted.
  static Env* Default();
  // `env`, or Default() when it is nullptr.
  static Env* Or(Env* env) { return env != nullptr ? env : Default(); }

  // Creates or truncates `path`.
  virtual absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(
      const std::string& path) = 0;
  virtual bool FileExists(const std::string& path) = 0;
  virtual bool IsDirectory(const std::string& path) = 0;
  virtual absl::StatusOr<int64_t> FileSize(const std::string& path) = 0;
  // Creates one directory; OK when it exists already.
  virtual absl::Status CreateDir(const std::string& path) = 0;
  // fsyncs a directory, so that entries created, renamed or removed in it survive a crash.
  virtual absl::Status SyncDir(const std::string& path) = 0;
  // Replaces `to` if it exists.
  virtual absl::Status RenameFile(const std::string& from, const std::string& to) = 0;
  // OK when the file did not exist.
  virtual absl::Status RemoveFile(const std::string& path) = 0;
  // Regular files under `dir`, recursively, in no particular order; an empty list when `dir`
  // does not exist.
  virtual absl::StatusOr<std::vector<FileInfo>> ListFiles(const std::string& dir) = 0;

  virtual std::chrono::steady_clock::time_point SteadyNow() = 0;
  virtual Timestamp WallNow() = 0;
  // Sleeps up to `d`, returning early (true) when shutdown is requested.
  virtual bool SleepUnlessShutdown(std::chrono::milliseconds d) = 0;
};

// Creates `dir` and its missing parents, syncing each new directory's parent so that it survives.
absl::Status CreateDirs(Env* env, const std::string& dir);

}  // namespace lf
