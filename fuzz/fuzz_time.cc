// libFuzzer target: durations (`500ms`, `1h30m`) and ISO-8601 instants from flags and query
// parameters; what parses must format and parse back to the same value.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/time.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto d = lf::ParseDuration(input);
  if (d.ok()) {
    auto again = lf::ParseDuration(lf::FormatDuration(*d));
    if (!again.ok() || *again != *d) __builtin_trap();
  }
  auto t = lf::ParseTime(input);
  if (t.ok()) (void)lf::FormatTime(*t);
  return 0;
}
