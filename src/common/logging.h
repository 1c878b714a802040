#pragma once

#include <string_view>

#include "absl/status/status.h"

namespace lf {

// Sets up the process logger (spdlog's default, to stderr) at `level`: trace, debug, info, warn,
// error or off. Call once from main before other threads start.
absl::Status InitLogging(std::string_view level);

}  // namespace lf
