#include "ingest/landing.h"

#include <fnmatch.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/status.h"

namespace lf::ingest {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> Segments(const std::string& pattern) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= pattern.size()) {
    size_t end = pattern.find('/', start);
    if (end == std::string::npos) end = pattern.size();
    if (end > start) out.push_back(pattern.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool Skipped(const std::string& name) {
  return name.empty() || name[0] == '.' || name == "_processed" || name == "_error";
}

void Walk(const fs::path& root, const std::string& rel, const std::vector<std::string>& segs,
          size_t depth, std::vector<LandingFile>* out) {
  std::error_code ec;
  fs::directory_iterator it(root / rel, ec), end;
  if (ec) return;
  for (; it != end; it.increment(ec)) {
    if (ec) return;
    const std::string name = it->path().filename().string();
    if (Skipped(name) || fnmatch(segs[depth].c_str(), name.c_str(), FNM_PERIOD) != 0) continue;
    const std::string child = rel.empty() ? name : rel + "/" + name;
    struct stat st;
    if (::lstat((root / child).c_str(), &st) != 0) continue;
    if (depth + 1 < segs.size()) {
      if (S_ISDIR(st.st_mode)) Walk(root, child, segs, depth + 1, out);
    } else if (S_ISREG(st.st_mode)) {
      out->push_back(
          {child, static_cast<int64_t>(st.st_size),
           static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec});
    }
  }
}

}  // namespace

absl::StatusOr<std::vector<LandingFile>> ListLanding(const std::string& root,
                                                     const std::string& pattern) {
  std::vector<std::string> segs = Segments(pattern);
  if (segs.empty()) return InvalidArgument("ingest: empty landing pattern");
  for (const std::string& s : segs) {
    if (s == "..") return InvalidArgument("ingest: landing pattern {} leaves the landing", pattern);
  }
  std::vector<LandingFile> out;
  Walk(fs::path(root), "", segs, 0, &out);
  std::sort(out.begin(), out.end(),
            [](const LandingFile& a, const LandingFile& b) { return a.path < b.path; });
  return out;
}

std::vector<LandingFile> SettleTracker::Settled(const std::vector<LandingFile>& listing,
                                                std::chrono::steady_clock::time_point now) {
  std::map<std::string, Seen> next;
  std::vector<LandingFile> out;
  for (const LandingFile& f : listing) {
    auto it = seen_.find(f.path);
    Seen s{f.size, f.mtime_ns, now};
    if (it != seen_.end() && it->second.size == f.size && it->second.mtime_ns == f.mtime_ns) {
      s.since = it->second.since;
    }
    if (now - s.since >= settle_) out.push_back(f);
    next.emplace(f.path, s);
  }
  seen_ = std::move(next);
  return out;
}

absl::StatusOr<std::string> MoveLandingFile(const std::string& root, const std::string& path,
                                            const std::string& area) {
  const fs::path from = fs::path(root) / path;
  std::string to_rel = area + "/" + path;
  std::error_code ec;
  fs::create_directories((fs::path(root) / to_rel).parent_path(), ec);
  if (ec)
    return Unavailable("ingest: create {}: {}", (fs::path(root) / to_rel).parent_path().string(),
                       ec.message());
  for (int n = 1; fs::exists(fs::path(root) / to_rel, ec); ++n) {
    to_rel = area + "/" + path + "." + std::to_string(n);
  }
  fs::rename(from, fs::path(root) / to_rel, ec);
  if (ec) return Unavailable("ingest: move {} to {}: {}", from.string(), to_rel, ec.message());
  return to_rel;
}

}  // namespace lf::ingest
