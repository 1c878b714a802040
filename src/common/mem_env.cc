#include "common/mem_env.h"

#include "common/shutdown.h"
#include "common/status.h"

namespace lf {

class MemEnv::File : public WritableFile {
 public:
  File(MemEnv* env, std::string path, std::shared_ptr<Node> node)
      : env_(env), path_(std::move(path)), node_(std::move(node)) {}

  absl::Status Append(std::string_view data) override {
    std::lock_guard<std::mutex> lock(env_->mu_);
    LF_RETURN_IF_ERROR(UsableLocked("write"));
    if (env_->capacity_ >= 0 &&
        env_->UsedBytesLocked() + static_cast<int64_t>(data.size()) > env_->capacity_) {
      return Unavailable("write {}: No space left on device", path_);
    }
    node_->data.append(data);
    node_->modified = env_->wall_;
    return absl::OkStatus();
  }
  absl::Status Sync() override {
    std::lock_guard<std::mutex> lock(env_->mu_);
    LF_RETURN_IF_ERROR(UsableLocked("fsync"));
    node_->synced = node_->data.size();
    return absl::OkStatus();
  }
  absl::Status Close() override {
    std::lock_guard<std::mutex> lock(env_->mu_);
    closed_ = true;
    return absl::OkStatus();
  }

 private:
  absl::Status UsableLocked(const char* what) const {
    if (closed_) return FailedPrecondition("{} {}: file is closed", what, path_);
    if (node_->generation != env_->generation_) {
      return Unavailable("{} {}: the machine crashed since the file was opened", what, path_);
    }
    return absl::OkStatus();
  }

  MemEnv* env_;
  std::string path_;
  std::shared_ptr<Node> node_;
  bool closed_ = false;
};

MemEnv::MemEnv()
    : dirs_{"/", "."},
      durable_dirs_{"/", "."},
      steady_(std::chrono::hours(1000)),
      wall_(FromUnixSeconds(1795341600)) {}  // 2026-11-22T10:00:00Z

std::string MemEnv::Parent(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

int64_t MemEnv::UsedBytesLocked() const {
  int64_t n = 0;
  for (const auto& [path, node] : files_) n += static_cast<int64_t>(node->data.size());
  return n;
}

absl::StatusOr<std::unique_ptr<WritableFile>> MemEnv::NewWritableFile(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!dirs_.contains(Parent(path)))
    return Unavailable("create {}: No such file or directory", path);
  if (dirs_.contains(path)) return Unavailable("create {}: Is a directory", path);
  auto node = std::make_shared<Node>();
  node->modified = wall_;
  node->generation = generation_;
  files_[path] = node;
  return std::make_unique<File>(this, path, std::move(node));
}

bool MemEnv::FileExists(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  return files_.contains(path) || dirs_.contains(path);
}

bool MemEnv::IsDirectory(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  return dirs_.contains(path);
}

absl::StatusOr<int64_t> MemEnv::FileSize(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return NotFound("size of {}: No such file or directory", path);
  return static_cast<int64_t>(it->second->data.size());
}

absl::Status MemEnv::CreateDir(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  if (dirs_.contains(path)) return absl::OkStatus();
  if (files_.contains(path)) return Internal("create directory {}: File exists", path);
  if (!dirs_.contains(Parent(path))) {
    return Internal("create directory {}: No such file or directory", path);
  }
  dirs_.insert(path);
  return absl::OkStatus();
}

absl::Status MemEnv::SyncDir(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!dirs_.contains(path)) return Internal("open directory {} to sync: not found", path);
  // The directory's entries become what they are now.
  for (auto it = durable_files_.begin(); it != durable_files_.end();) {
    it = Parent(it->first) == path && !files_.contains(it->first) ? durable_files_.erase(it)
                                                                  : std::next(it);
  }
  for (const auto& [p, node] : files_)
    if (Parent(p) == path) durable_files_[p] = node;
  for (auto it = durable_dirs_.begin(); it != durable_dirs_.end();) {
    it = Parent(*it) == path && *it != path && !dirs_.contains(*it) ? durable_dirs_.erase(it)
                                                                    : std::next(it);
  }
  for (const std::string& d : dirs_)
    if (Parent(d) == path && d != path) durable_dirs_.insert(d);
  return absl::OkStatus();
}

absl::Status MemEnv::RenameFile(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(from);
  if (it == files_.end()) return Internal("rename {} to {}: No such file or directory", from, to);
  if (!dirs_.contains(Parent(to))) {
    return Internal("rename {} to {}: No such file or directory", from, to);
  }
  std::shared_ptr<Node> node = it->second;
  files_.erase(it);
  files_[to] = std::move(node);
  return absl::OkStatus();
}

absl::Status MemEnv::RemoveFile(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  files_.erase(path);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<FileInfo>> MemEnv::ListFiles(const std::string& dir) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<FileInfo> out;
  const std::string prefix = dir == "/" ? dir : dir + "/";
  for (const auto& [p, node] : files_)
    if (p.starts_with(prefix)) out.push_back(FileInfo{p, node->modified});
  return out;
}

std::chrono::steady_clock::time_point MemEnv::SteadyNow() {
  std::lock_guard<std::mutex> lock(mu_);
  return steady_;
}

Timestamp MemEnv::WallNow() {
  std::lock_guard<std::mutex> lock(mu_);
  return wall_;
}

bool MemEnv::SleepUnlessShutdown(std::chrono::milliseconds d) {
  if (ShutdownRequested()) return true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    slept_ += d;
  }
  Advance(d);
  return ShutdownRequested();
}

void MemEnv::Advance(std::chrono::microseconds d) {
  std::lock_guard<std::mutex> lock(mu_);
  steady_ += d;
  wall_ += d;
}

std::chrono::milliseconds MemEnv::slept() const {
  std::lock_guard<std::mutex> lock(mu_);
  return slept_;
}

void MemEnv::Crash() {
  std::lock_guard<std::mutex> lock(mu_);
  ++generation_;
  dirs_.clear();
  // A directory whose parent's entry for it was lost goes with everything under it (a set sorts
  // a parent before its children).
  for (const std::string& d : durable_dirs_)
    if (d == "/" || d == "." || dirs_.contains(Parent(d))) dirs_.insert(d);
  files_.clear();
  for (const auto& [p, node] : durable_files_) {
    if (!dirs_.contains(Parent(p))) continue;
    node->data.resize(node->synced);
    files_[p] = node;
  }
}

void MemEnv::SetCapacity(int64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  capacity_ = bytes;
}

absl::StatusOr<std::string> MemEnv::Contents(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return NotFound("{}: No such file or directory", path);
  return it->second->data;
}

std::vector<std::string> MemEnv::Files() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [p, node] : files_) out.push_back(p);
  return out;
}

}  // namespace lf
