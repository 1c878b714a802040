#pragma once

#include <string>
#include <string_view>

namespace lf {

// Failpoints: named places where a crash or a stall does the most harm (inside a transaction,
// between a commit and the publication of its files). The torture tests (tests/torture/) arm
// them through the environment to crash a process at exactly those instants, which random
// SIGKILLs from outside reach only by luck:
//
//   LF_FAILPOINTS="NAME=ACTION[,NAME=ACTION…]"   ACTION is one of
//     kill@N       the Nth time NAME is reached, the process SIGKILLs itself (N ≥ 1)
//     sleep@N:MS   the Nth time NAME is reached, it stalls for MS milliseconds
//
// Each action announces itself on stderr first ("failpoint NAME: kill (hit N)") so a test
// knows when it happened. Unset, a failpoint costs one relaxed atomic load. A malformed
// LF_FAILPOINTS is reported once and ignored.
void Failpoint(std::string_view name);

// The failpoint name of a transaction's step: "lake commit" + "before_commit" →
// "lake_commit.before_commit" (spaces and colons become underscores).
std::string FailpointName(std::string_view what, std::string_view step);

}  // namespace lf
