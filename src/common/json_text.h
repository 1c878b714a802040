#pragma once

#include <string>
#include <string_view>

namespace lf {

// Appends `s` as a JSON string literal (quotes, escapes for '"', '\\' and control characters;
// other bytes are copied as they are).
void AppendJsonString(std::string_view s, std::string* out);

}  // namespace lf
