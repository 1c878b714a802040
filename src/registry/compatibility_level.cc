#include "registry/compatibility_level.h"

#include <array>
#include <utility>

namespace lf::registry {
namespace {

constexpr std::array<std::pair<CompatibilityLevel, std::string_view>, 7> kNames = {{
    {CompatibilityLevel::kNone, "NONE"},
    {CompatibilityLevel::kBackward, "BACKWARD"},
    {CompatibilityLevel::kForward, "FORWARD"},
    {CompatibilityLevel::kFull, "FULL"},
    {CompatibilityLevel::kBackwardTransitive, "BACKWARD_TRANSITIVE"},
    {CompatibilityLevel::kForwardTransitive, "FORWARD_TRANSITIVE"},
    {CompatibilityLevel::kFullTransitive, "FULL_TRANSITIVE"},
}};

bool EqualsIgnoringAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'a' && a[i] <= 'z' ? static_cast<char>(a[i] - 'a' + 'A') : a[i];
    if (x != b[i]) return false;
  }
  return true;
}

}  // namespace

std::optional<CompatibilityLevel> ParseCompatibilityLevel(std::string_view name) {
  for (const auto& [level, text] : kNames) {
    if (EqualsIgnoringAsciiCase(name, text)) return level;
  }
  return std::nullopt;
}

std::string_view CompatibilityLevelName(CompatibilityLevel level) {
  for (const auto& [l, text] : kNames) {
    if (l == level) return text;
  }
  return "NONE";  // unreachable: every enumerator is in the table
}

bool IsTransitive(CompatibilityLevel level) {
  return level == CompatibilityLevel::kBackwardTransitive ||
         level == CompatibilityLevel::kForwardTransitive ||
         level == CompatibilityLevel::kFullTransitive;
}

}  // namespace lf::registry
