#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace lf::ingest {

// A file in the landing area, by its path relative to the landing root.
struct LandingFile {
  std::string path;  // relative, '/'-separated
  int64_t size = 0;
  int64_t mtime_ns = 0;
};

// The files under `root` matching `pattern` (SPEC §4 `source.landing`, e.g. "iot_sensors/*.csv":
// shell wildcards * ? [..] in each path segment; no segment matches a hidden name or the
// `_processed` / `_error` areas). Sorted by path. A missing directory is no files.
absl::StatusOr<std::vector<LandingFile>> ListLanding(const std::string& root,
                                                     const std::string& pattern);

// Which files have held still — same size and mtime — for `settle` (SPEC §6.3). Feed it every
// listing; it forgets files that disappeared.
class SettleTracker {
 public:
  explicit SettleTracker(std::chrono::milliseconds settle) : settle_(settle) {}
  // The files of `listing` settled at `now`.
  std::vector<LandingFile> Settled(const std::vector<LandingFile>& listing,
                                   std::chrono::steady_clock::time_point now);

 private:
  struct Seen {
    int64_t size, mtime_ns;
    std::chrono::steady_clock::time_point since;
  };
  std::chrono::milliseconds settle_;
  std::map<std::string, Seen> seen_;
};

// Moves landing file `path` to <root>/<area>/<path> (area "_processed" or "_error"; with the
// definitions' globs, "iot_sensors/a.csv" goes to "_processed/iot_sensors/a.csv"), creating
// directories; an existing file there keeps its name and the new one gets ".1", ".2"…
// Returns the new path relative to the root.
absl::StatusOr<std::string> MoveLandingFile(const std::string& root, const std::string& path,
                                            const std::string& area);

}  // namespace lf::ingest
