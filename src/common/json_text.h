#pragma once

#include <string>
#include <string_view>

namespace lf {

// Appends `s` as a JSON string literal (quotes, escapes for '"', '\\' and control characters).
// Well-formed UTF-8 is copied as it is; any other byte becomes U+FFFD, so the result is always
// valid JSON whatever `s` holds (found by fuzz_registry_request: a request path with a stray byte
// made an error reply that no JSON parser accepted).
void AppendJsonString(std::string_view s, std::string* out);

}  // namespace lf
