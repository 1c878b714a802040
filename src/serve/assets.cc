#include "serve/assets.h"

namespace lf::serve {

bool IsPlainAssetPath(std::string_view p) {
  if (p.empty() || p.front() != '/' || p.size() > 256) return false;
  // Segments between slashes: non-empty, not "." or "..", made of a safe alphabet only. Checking
  // the alphabet first excludes '%' (a second decoding layer), '\\', NUL and controls.
  size_t start = 1;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string_view::npos) end = p.size();
    std::string_view seg = p.substr(start, end - start);
    if (seg.empty() || seg == "." || seg == "..") return false;
    for (char c : seg) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '-' || c == '_';
      if (!ok) return false;
    }
    start = end + 1;
  }
  return true;
}

const EmbeddedFile* FindAsset(std::string_view request_path, const EmbeddedFile* files,
                              size_t count) {
  if (request_path == "/") request_path = "/index.html";
  if (!IsPlainAssetPath(request_path)) return nullptr;
  for (size_t i = 0; i < count; ++i) {
    if (files[i].path == request_path) return &files[i];
  }
  return nullptr;
}

}  // namespace lf::serve
