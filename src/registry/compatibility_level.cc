#include "registry/compatibility_level.h"

#include <string>

namespace lf::registry {

std::optional<CompatibilityLevel> ParseCompatibilityLevel(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  auto level = avro::ParseCompatibility(upper);
  if (!level.ok()) return std::nullopt;
  return *level;
}

std::string_view CompatibilityLevelName(CompatibilityLevel level) {
  return avro::CompatibilityName(level);
}

bool IsTransitive(CompatibilityLevel level) {
  return level == CompatibilityLevel::kBackwardTransitive ||
         level == CompatibilityLevel::kForwardTransitive ||
         level == CompatibilityLevel::kFullTransitive;
}

}  // namespace lf::registry
