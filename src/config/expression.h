#pragma once

// The two small languages inside a definition's scalars: `aggregate: sum(bytes)` and the
// arithmetic of `derived: [{expr: …}]`.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "pipeline/definition.h"

namespace lf::config {

struct ParsedAggregate {
  pipeline::AggregateKind kind;
  std::string argument;  // empty for count()
};

// "count()", "sum(bytes)", "count_distinct( id )"; nullopt when it is none of the six forms
// (count takes no argument, the others exactly one field name).
std::optional<ParsedAggregate> ParseAggregate(std::string_view text);

// `+ - * / ( )`, unary minus, decimal numbers and metric names ([a-z][a-z0-9_]*). Errors name
// the 1-based character where parsing stopped. Nesting deeper than 64 is refused.
absl::StatusOr<std::unique_ptr<pipeline::Expr>> ParseExpression(std::string_view text);

// Appends the metric names `e` uses to `*out`, each once, in order of first use.
void CollectMetricNames(const pipeline::Expr& e, std::vector<std::string>* out);

}  // namespace lf::config
