#include "lake/inspect.h"

#include <algorithm>
#include <filesystem>

#include "common/status.h"
#include "lake/layout.h"
#include "parquet/reader.h"

namespace lf::lake {

namespace fs = std::filesystem;

int64_t HourInfo::rows() const {
  int64_t n = 0;
  for (const auto& f : files) n += f.rows;
  return n;
}

absl::StatusOr<std::vector<HourInfo>> ListHours(const std::string& root, const std::string& dataset,
                                                std::optional<int64_t> hour_s) {
  fs::path base = fs::path(root) / dataset;
  std::error_code ec;
  if (!fs::is_directory(base, ec)) {
    return NotFound("lake: no dataset directory {} (is --storage right?)", base.string());
  }
  std::vector<HourInfo> hours;
  std::vector<fs::path> dirs;
  if (hour_s) {
    fs::path d = fs::path(root) / HourDir(dataset, *hour_s);
    if (!fs::is_directory(d, ec)) return NotFound("lake: no data for that hour: {}", d.string());
    dirs.push_back(d);
  } else {
    for (auto it = fs::recursive_directory_iterator(base, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_directory(ec) && it->path().filename().string().rfind("hour=", 0) == 0)
        dirs.push_back(it->path());
    }
    if (ec) return Internal("lake: list {}: {}", base.string(), ec.message());
  }
  for (const fs::path& d : dirs) {
    auto h = ParseHourDir(fs::relative(d, root, ec).string());
    if (!h) continue;
    HourInfo info;
    info.hour_s = *h;
    info.dir = d.string();
    for (const auto& entry : fs::directory_iterator(d, ec)) {
      std::string name = entry.path().filename().string();
      if (name == kSuccessMarker) info.success = true;
      if (name.empty() || name[0] == '.' || name[0] == '_' ||
          entry.path().extension() != ".parquet")
        continue;
      LF_ASSIGN_OR_RETURN(auto reader, parquet::ParquetReader::Open(entry.path().string()));
      info.files.push_back(FileInfo{entry.path().string(), reader->num_rows(),
                                    static_cast<int64_t>(entry.file_size(ec))});
    }
    std::sort(info.files.begin(), info.files.end(),
              [](const FileInfo& a, const FileInfo& b) { return a.path < b.path; });
    hours.push_back(std::move(info));
  }
  std::sort(hours.begin(), hours.end(),
            [](const HourInfo& a, const HourInfo& b) { return a.hour_s < b.hour_s; });
  return hours;
}

}  // namespace lf::lake
