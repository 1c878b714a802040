// libFuzzer target: what `lambdaflow serve` takes from a request — the query parameters of the
// JSON API (split from the input as a query string, percent-decoding aside) through every
// validator, and the path through the asset lookup, which must never match anything but a plain
// name of the table.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "serve/assets.h"
#include "serve/params.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // The first line is a request path, the rest a query string.
  size_t nl = input.find('\n');
  std::string_view path = input.substr(0, nl);
  std::string_view query = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);

  static const lf::serve::EmbeddedFile files[] = {{"/index.html", "text/html", "<html>"},
                                                  {"/app.js", "text/javascript", "x"}};
  const lf::serve::EmbeddedFile* hit = lf::serve::FindAsset(path, files, 2);
  if (hit && path != "/" && path != hit->path) __builtin_trap();
  (void)lf::serve::IsPlainAssetPath(path);

  lf::serve::Params params;
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view kv = query.substr(pos, amp - pos);
    size_t eq = kv.find('=');
    params.emplace(std::string(kv.substr(0, eq)),
                   eq == std::string_view::npos ? std::string() : std::string(kv.substr(eq + 1)));
    pos = amp + 1;
  }
  (void)lf::serve::CheckAllowed(params, {"from", "to", "type", "id", "limit", "bucket"});
  auto now = lf::FromUnixSeconds(1795305600);
  (void)lf::serve::ParseRange(params, now - std::chrono::hours(6), now,
                              std::chrono::hours(24 * 31));
  (void)lf::serve::ParseType(params);
  (void)lf::serve::ParseId(params);
  (void)lf::serve::ParseInt(params, "limit", 1, 1000, 10);
  (void)lf::serve::ParseChoice(params, "bucket", {"5m", "1h"}, "5m");
  return 0;
}
