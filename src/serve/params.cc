#include "serve/params.h"

#include <algorithm>
#include <charconv>

#include "common/status.h"

namespace lf::serve {

absl::Status CheckAllowed(const Params& params, const std::set<std::string_view>& allowed) {
  for (auto it = params.begin(); it != params.end(); it = params.upper_bound(it->first)) {
    if (!allowed.contains(it->first)) {
      std::string names;
      for (std::string_view a : allowed) names += fmt::format("{}{}", names.empty() ? "" : ", ", a);
      return InvalidArgument("unknown parameter '{}' (accepted: {})", it->first.substr(0, 64),
                             names);
    }
    if (params.count(it->first) > 1)
      return InvalidArgument("parameter '{}' given more than once", it->first);
  }
  return absl::OkStatus();
}

std::optional<std::string> Get(const Params& params, std::string_view name) {
  auto it = params.find(std::string(name));
  if (it == params.end()) return std::nullopt;
  return it->second;
}

namespace {

absl::StatusOr<Timestamp> ParseBound(const Params& params, std::string_view name,
                                     Timestamp fallback) {
  auto text = Get(params, name);
  if (!text) return fallback;
  if (text->empty())
    return InvalidArgument("parameter '{}': empty (expected an ISO-8601 time)", name);
  auto t = ParseTime(*text);
  if (!t.ok()) {
    return InvalidArgument("parameter '{}': not an ISO-8601 time like 2026-11-22T09:00:00Z: '{}'",
                           name, text->substr(0, 64));
  }
  // Whole seconds: the tables hold TIMESTAMP at second resolution at most, and JSON stays simple.
  return std::chrono::floor<std::chrono::seconds>(*t);
}

}  // namespace

absl::StatusOr<TimeRange> ParseRange(const Params& params, Timestamp default_from,
                                     Timestamp default_to, std::chrono::seconds max_span) {
  TimeRange r;
  LF_ASSIGN_OR_RETURN(r.from, ParseBound(params, "from", default_from));
  LF_ASSIGN_OR_RETURN(r.to, ParseBound(params, "to", default_to));
  if (r.from >= r.to) {
    return InvalidArgument("parameter 'to': must be after 'from' ({} is not after {})",
                           FormatTime(r.to), FormatTime(r.from));
  }
  if (r.to - r.from > max_span) {
    return InvalidArgument("parameters 'from'/'to': the range is longer than {}",
                           FormatDuration(max_span));
  }
  // Year 1..9999 keeps every value representable in PostgreSQL and in JavaScript dates.
  if (r.from < FromUnixSeconds(-62135596800) || r.to > FromUnixSeconds(253402300799)) {
    return InvalidArgument("parameters 'from'/'to': outside years 1..9999");
  }
  return r;
}

absl::StatusOr<std::string> ParseType(const Params& params) {
  auto type = Get(params, "type");
  if (!type)
    return InvalidArgument(
        "parameter 'type': required (antenna_bytes_total, user_bytes_total, "
        "app_bytes_total or user_email_bytes_total)");
  if (std::find(std::begin(kWindowTypes), std::end(kWindowTypes), *type) ==
      std::end(kWindowTypes)) {
    return InvalidArgument(
        "parameter 'type': unknown metric '{}' (antenna_bytes_total, user_bytes_total, "
        "app_bytes_total or user_email_bytes_total)",
        type->substr(0, 64));
  }
  return *type;
}

absl::StatusOr<std::optional<std::string>> ParseId(const Params& params) {
  auto id = Get(params, "id");
  if (!id) return std::optional<std::string>();
  if (id->empty() || id->size() > 200)
    return InvalidArgument("parameter 'id': must be 1 to 200 characters");
  for (unsigned char c : *id) {
    if (c < 0x20 || c == 0x7f)
      return InvalidArgument("parameter 'id': control characters are not allowed");
  }
  return std::optional<std::string>(*id);
}

absl::StatusOr<int> ParseInt(const Params& params, std::string_view name, int lo, int hi,
                             int fallback) {
  auto text = Get(params, name);
  if (!text) return fallback;
  int value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || text->empty()) {
    return InvalidArgument("parameter '{}': not an integer: '{}'", name, text->substr(0, 64));
  }
  if (value < lo || value > hi) {
    return InvalidArgument("parameter '{}': {} is outside {}..{}", name, value, lo, hi);
  }
  return value;
}

absl::StatusOr<std::string> ParseChoice(const Params& params, std::string_view name,
                                        const std::set<std::string_view>& choices,
                                        std::string_view fallback) {
  auto text = Get(params, name);
  std::string names;
  for (std::string_view c : choices) names += fmt::format("{}{}", names.empty() ? "" : " or ", c);
  if (!text) {
    if (fallback.empty()) return InvalidArgument("parameter '{}': required ({})", name, names);
    return std::string(fallback);
  }
  if (!choices.contains(*text)) {
    return InvalidArgument("parameter '{}': expected {}, got '{}'", name, names,
                           text->substr(0, 64));
  }
  return *text;
}

}  // namespace lf::serve
