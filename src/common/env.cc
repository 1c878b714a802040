#include "common/env.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/shutdown.h"
#include "common/status.h"

namespace lf {
namespace {

namespace fs = std::filesystem;

class PosixWritableFile : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  absl::Status Append(std::string_view data) override {
    if (fd_ < 0) return FailedPrecondition("write {}: file is closed", path_);
    while (!data.empty()) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return Unavailable("write {} at offset {}: {}", path_, offset_, std::strerror(errno));
      }
      data.remove_prefix(static_cast<size_t>(n));
      offset_ += n;
    }
    return absl::OkStatus();
  }
  absl::Status Sync() override {
    if (fd_ < 0) return FailedPrecondition("fsync {}: file is closed", path_);
    if (::fdatasync(fd_) != 0) return Unavailable("fsync {}: {}", path_, std::strerror(errno));
    return absl::OkStatus();
  }
  absl::Status Close() override {
    if (fd_ < 0) return absl::OkStatus();
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return Unavailable("close {}: {}", path_, std::strerror(errno));
    return absl::OkStatus();
  }

 private:
  std::string path_;
  int fd_;
  int64_t offset_ = 0;
};

class PosixEnv : public Env {
 public:
  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return Unavailable("create {}: {}", path, std::strerror(errno));
    return std::make_unique<PosixWritableFile>(path, fd);
  }
  bool FileExists(const std::string& path) override {
    std::error_code ec;
    return fs::exists(path, ec);
  }
  bool IsDirectory(const std::string& path) override {
    std::error_code ec;
    return fs::is_directory(path, ec);
  }
  absl::StatusOr<int64_t> FileSize(const std::string& path) override {
    std::error_code ec;
    auto size = fs::file_size(path, ec);
    if (ec) return NotFound("size of {}: {}", path, ec.message());
    return static_cast<int64_t>(size);
  }
  absl::Status CreateDir(const std::string& path) override {
    std::error_code ec;
    if (!fs::create_directory(path, ec) && ec) {
      return Internal("create directory {}: {}", path, ec.message());
    }
    return absl::OkStatus();
  }
  absl::Status SyncDir(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Internal("open directory {} to sync: {}", path, std::strerror(errno));
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return Internal("fsync directory {}: {}", path, std::strerror(err));
    return absl::OkStatus();
  }
  absl::Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return Internal("rename {} to {}: {}", from, to, std::strerror(errno));
    }
    return absl::OkStatus();
  }
  absl::Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return Internal("remove {}: {}", path, std::strerror(errno));
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<FileInfo>> ListFiles(const std::string& dir) override {
    std::vector<FileInfo> out;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return out;
    for (auto it = fs::recursive_directory_iterator(dir, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      std::error_code fec;
      if (!it->is_regular_file(fec)) continue;
      auto mtime = fs::last_write_time(it->path(), fec);
      if (fec) continue;  // removed meanwhile
      auto sys = std::chrono::file_clock::to_sys(mtime);
      out.push_back(FileInfo{dir + "/" + fs::relative(it->path(), dir, fec).string(),
                             std::chrono::time_point_cast<Micros>(sys)});
    }
    if (ec) return Internal("list {}: {}", dir, ec.message());
    return out;
  }

  std::chrono::steady_clock::time_point SteadyNow() override {
    return std::chrono::steady_clock::now();
  }
  Timestamp WallNow() override { return lf::WallNow(); }
  bool SleepUnlessShutdown(std::chrono::milliseconds d) override {
    return lf::SleepUnlessShutdown(d);
  }
};

}  // namespace

Env* Env::Default() {
  static Env* env = new PosixEnv();
  return env;
}

absl::Status CreateDirs(Env* env, const std::string& dir) {
  if (dir.empty() || env->IsDirectory(dir)) return absl::OkStatus();
  const fs::path path(dir);
  const std::string parent = path.has_parent_path() ? path.parent_path().string() : ".";
  if (parent != dir) LF_RETURN_IF_ERROR(CreateDirs(env, parent));
  LF_RETURN_IF_ERROR(env->CreateDir(dir));
  return env->SyncDir(parent.empty() ? "." : parent);
}

}  // namespace lf
