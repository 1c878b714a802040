#pragma once

// A read-only YAML document tree with source positions, built from libyaml's event parser.
//
// Why not yaml-cpp: Debian 12's yaml-cpp 0.7 loops forever on a ',' where a document's first
// node should be (",", "- a\n,", "--- ,"), which our fuzzer found within seconds; a definition
// loader must never hang. libyaml (the C parser behind PyYAML, fuzzed continuously upstream) is
// in Debian too, and its event API is all a loader needs. Scalars stay text: no implicit typing.

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace lf::config::yaml {

// 0-based line and column of a node's first character; -1 when unknown.
struct Mark {
  int line = -1;
  int column = -1;
};

class Node {
 public:
  enum class Type { kNull, kScalar, kSequence, kMap };

  Node();  // a null node without position

  Type type() const { return data_->type; }
  bool IsNull() const { return type() == Type::kNull; }
  bool IsScalar() const { return type() == Type::kScalar; }
  bool IsSequence() const { return type() == Type::kSequence; }
  bool IsMap() const { return type() == Type::kMap; }
  // The text of a scalar (empty for other nodes). A plain "", "~" or "null" is a null node.
  const std::string& Scalar() const { return data_->scalar; }
  Mark mark() const { return data_->mark; }
  // Items of a sequence / entries of a map, in document order (duplicate keys kept).
  const std::vector<Node>& items() const { return data_->items; }
  const std::vector<std::pair<Node, Node>>& entries() const { return data_->entries; }
  size_t size() const { return IsMap() ? entries().size() : items().size(); }

 private:
  friend class TreeBuilder;
  struct Data {
    Type type = Type::kNull;
    std::string scalar;
    Mark mark;
    std::vector<Node> items;
    std::vector<std::pair<Node, Node>> entries;
  };
  explicit Node(std::shared_ptr<Data> data) : data_(std::move(data)) {}
  std::shared_ptr<Data> data_;  // shared by aliases of an anchored node
};

struct ParseError {
  Mark mark;
  std::string message;
};

// Every document of `text`. On malformed YAML, nesting deeper than `max_depth` or an unknown
// alias: InvalidArgument whose message is "LINE:COLUMN: what" (1-based).
absl::StatusOr<std::vector<Node>> ParseDocuments(std::string_view text, int max_depth = 64);

}  // namespace lf::config::yaml
