#pragma once

// The one error convention of the project: fallible calls return absl::Status or
// absl::StatusOr<T>. Debian's abseil has its own absl::string_view (not std::string_view), so
// messages are built with fmt through the helpers below rather than absl::StrCat.

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fmt/format.h"

namespace lf {

#define LF_DEFINE_STATUS_HELPER(Name, Code)                                                   \
  template <typename... Args>                                                                 \
  absl::Status Name(fmt::format_string<Args...> f, Args&&... args) {                          \
    return absl::Status(absl::StatusCode::Code, fmt::format(f, std::forward<Args>(args)...)); \
  }

LF_DEFINE_STATUS_HELPER(InvalidArgument, kInvalidArgument)
LF_DEFINE_STATUS_HELPER(NotFound, kNotFound)
LF_DEFINE_STATUS_HELPER(AlreadyExists, kAlreadyExists)
LF_DEFINE_STATUS_HELPER(FailedPrecondition, kFailedPrecondition)
LF_DEFINE_STATUS_HELPER(Aborted, kAborted)
LF_DEFINE_STATUS_HELPER(OutOfRange, kOutOfRange)
LF_DEFINE_STATUS_HELPER(Unavailable, kUnavailable)
LF_DEFINE_STATUS_HELPER(DataLoss, kDataLoss)
LF_DEFINE_STATUS_HELPER(Internal, kInternal)
LF_DEFINE_STATUS_HELPER(Unimplemented, kUnimplemented)
LF_DEFINE_STATUS_HELPER(ResourceExhausted, kResourceExhausted)

#undef LF_DEFINE_STATUS_HELPER

// The message alone, as a std::string (for logs and printing).
inline std::string Message(const absl::Status& s) { return std::string(s.message()); }

// A copy of `s` with "<prefix>: " in front of its message, same code.
inline absl::Status Annotate(const absl::Status& s, const std::string& prefix) {
  if (s.ok()) return s;
  return absl::Status(s.code(), prefix + ": " + std::string(s.message()));
}

}  // namespace lf

#define LF_STATUS_CONCAT_INNER(a, b) a##b
#define LF_STATUS_CONCAT(a, b) LF_STATUS_CONCAT_INNER(a, b)

// Returns from the enclosing function when `expr` (an absl::Status) is not OK.
#define LF_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::absl::Status lf_status_ = (expr);      \
    if (!lf_status_.ok()) return lf_status_; \
  } while (0)

// `lhs = value of expr` (an absl::StatusOr), or returns its status from the enclosing function.
#define LF_ASSIGN_OR_RETURN(lhs, expr) \
  LF_ASSIGN_OR_RETURN_IMPL(LF_STATUS_CONCAT(lf_statusor_, __LINE__), lhs, expr)
#define LF_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()
