#pragma once

// Validation of the JSON API's query parameters. Every handler names the parameters it accepts;
// anything else, a repeated parameter or a malformed value is an InvalidArgument whose message
// names the parameter, which the server turns into HTTP 400.

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/time.h"

namespace lf::serve {

// Query parameters as cpp-httplib delivers them (already percent-decoded), repeated keys kept.
using Params = std::multimap<std::string, std::string>;

// The metric types of the `bytes` and `bytes_hourly` tables.
inline constexpr std::string_view kWindowTypes[] = {"antenna_bytes_total", "user_bytes_total",
                                                    "app_bytes_total", "user_email_bytes_total"};

// A half-open interval [from, to) of event time, both whole seconds.
struct TimeRange {
  Timestamp from;
  Timestamp to;
};

// Fails naming the first parameter of `params` that is not in `allowed` or appears twice.
absl::Status CheckAllowed(const Params& params, const std::set<std::string_view>& allowed);

// The value of `name`, or nullopt when absent.
std::optional<std::string> Get(const Params& params, std::string_view name);

// `from` and `to` (ISO-8601 or @unix-seconds). A missing bound takes the default given; `from`
// must be before `to` and the range at most `max_span` long.
absl::StatusOr<TimeRange> ParseRange(const Params& params, Timestamp default_from,
                                     Timestamp default_to, std::chrono::seconds max_span);

// `type`: one of kWindowTypes (required).
absl::StatusOr<std::string> ParseType(const Params& params);

// `id`: optional key filter, 1..200 printable characters.
absl::StatusOr<std::optional<std::string>> ParseId(const Params& params);

// `name`: an integer in [lo, hi], or `fallback` when absent.
absl::StatusOr<int> ParseInt(const Params& params, std::string_view name, int lo, int hi,
                             int fallback);

// `name`: one of `choices`, or `fallback` when absent (fallback empty = required).
absl::StatusOr<std::string> ParseChoice(const Params& params, std::string_view name,
                                        const std::set<std::string_view>& choices,
                                        std::string_view fallback);

}  // namespace lf::serve
