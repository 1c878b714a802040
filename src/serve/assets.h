#pragma once

// The dashboard's static files (web/dist), embedded in the binary at build time: the binary is
// the whole product and no request can reach the file system.

#include <cstddef>
#include <string_view>

namespace lf::serve {

// One embedded file. `path` starts with '/' ("/index.html"); `data` lives for the whole process.
struct EmbeddedFile {
  std::string_view path;
  std::string_view content_type;
  std::string_view data;
};

// The files generated from web/dist by embed_assets.cmake (defined in the generated .cc).
extern const EmbeddedFile kEmbeddedFiles[];
extern const size_t kEmbeddedFileCount;

// The embedded file a request path names, or nullptr. "/" means "/index.html". Only exact names
// of the table match; anything that is not a plain path of [A-Za-z0-9._-] segments ("..",
// empty or dot segments, backslashes, '%', NUL, control characters) is refused before lookup.
// `files`/`count` default to the embedded table; tests pass their own.
const EmbeddedFile* FindAsset(std::string_view request_path,
                              const EmbeddedFile* files = kEmbeddedFiles,
                              size_t count = kEmbeddedFileCount);

// True when `request_path` is a plain asset path as described above.
bool IsPlainAssetPath(std::string_view request_path);

}  // namespace lf::serve
