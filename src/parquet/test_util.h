#pragma once

// Helpers shared by the parquet unit tests.

#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace lf::parquet::testing {

// A per-process scratch directory, removed when the process exits.
inline const std::filesystem::path& ScratchDir() {
  struct Dir {
    std::filesystem::path path;
    Dir()
        : path(std::filesystem::temp_directory_path() /
               ("lf_parquet_test_" + std::to_string(getpid()))) {
      std::filesystem::create_directories(path);
    }
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static Dir dir;
  return dir.path;
}

// Path of a file named `name` in the scratch directory.
inline std::string TempPath(const std::string& name) { return (ScratchDir() / name).string(); }

}  // namespace lf::parquet::testing
