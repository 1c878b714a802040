// libFuzzer target: `--pg` as users give it — libpq key=value strings, postgresql:// URIs and
// jdbc:postgresql:// URIs — and the display form, which must never contain a password found in
// the input.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "postgres/conninfo.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto target = lf::postgres::ParseConnTarget(input);
  if (target.ok()) {
    // The display form never shows a password. The password as found may also occur by chance
    // in the display's other parts, so a marker takes its place in the input (where the input
    // holds it literally, once) and must not show.
    static constexpr std::string_view kMarker = "Zq9PASSWORDxK";
    if (input.find(kMarker) != std::string_view::npos) return 0;  // the marker must be unique
    for (const auto& secret : target->secrets) {
      size_t first = input.find(secret);
      if (secret.empty() || first == std::string_view::npos ||
          input.find(secret, first + 1) != std::string_view::npos)
        continue;
      std::string marked(input);
      marked.replace(first, secret.size(), kMarker);
      auto again = lf::postgres::ParseConnTarget(marked);
      if (!again.ok()) continue;
      bool is_secret = false;
      for (const auto& s : again->secrets) is_secret |= s == kMarker;
      if (is_secret && again->display.find(kMarker) != std::string::npos) __builtin_trap();
    }
  }
  std::vector<std::string> ignored;
  (void)lf::postgres::ParseJdbcUri(input, &ignored);
  return 0;
}
