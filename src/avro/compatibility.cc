#include "avro/compatibility.h"

#include <algorithm>
#include <set>
#include <utility>

#include "common/status.h"

namespace lf::avro {
namespace {

std::string_view ShortName(std::string_view full) {
  const size_t dot = full.rfind('.');
  return dot == std::string_view::npos ? full : full.substr(dot + 1);
}

// Named types match when their unqualified names are equal, or a reader alias names the writer.
bool NamesMatch(const Node& reader, const Node& writer) {
  if (ShortName(reader.name) == ShortName(writer.name)) return true;
  for (const std::string& alias : reader.aliases) {
    if (alias == writer.name || ShortName(alias) == ShortName(writer.name)) return true;
  }
  return false;
}

std::string Describe(const Node& n) {
  return n.named() ? fmt::format("{} '{}'", TypeName(n.type), n.name)
                   : std::string(TypeName(n.type));
}

class Resolver {
 public:
  // Checks the pair; `where` names the place for the message ("" at the root).
  absl::Status Check(const Node& r, const Node& w, const std::string& where) {
    // A recursive pair already being checked is assumed fine: any failure shows on the first
    // pass through it.
    if (!in_progress_.insert({&r, &w}).second) return absl::OkStatus();
    absl::Status s = CheckPair(r, w, where);
    in_progress_.erase({&r, &w});
    return s;
  }

 private:
  static std::string At(const std::string& where) {
    return where.empty() ? std::string() : fmt::format(" at {}", where);
  }

  // Whether a non-union writer type matches a reader type without looking inside (the spec's
  // "match" for choosing a reader union branch).
  static bool ShallowMatch(const Node& r, const Node& w) {
    if (r.type == w.type) return !r.named() || NamesMatch(r, w);
    switch (w.type) {
      case Type::kInt:
        return r.type == Type::kLong || r.type == Type::kFloat || r.type == Type::kDouble;
      case Type::kLong:
        return r.type == Type::kFloat || r.type == Type::kDouble;
      case Type::kFloat:
        return r.type == Type::kDouble;
      case Type::kString:
        return r.type == Type::kBytes;
      case Type::kBytes:
        return r.type == Type::kString;
      default:
        return false;
    }
  }

  absl::Status CheckPair(const Node& r, const Node& w, const std::string& where) {
    if (w.type == Type::kUnion) {
      for (size_t i = 0; i < w.branches.size(); ++i) {
        LF_RETURN_IF_ERROR(Check(r, *w.branches[i], where));
      }
      return absl::OkStatus();
    }
    if (r.type == Type::kUnion) {
      // The first reader branch that matches exactly, else the first it can be promoted to.
      const Node* pick = nullptr;
      for (const Node* b : r.branches) {
        if (b->type == w.type && (!b->named() || NamesMatch(*b, w))) {
          pick = b;
          break;
        }
      }
      if (!pick) {
        for (const Node* b : r.branches) {
          if (ShallowMatch(*b, w)) {
            pick = b;
            break;
          }
        }
      }
      if (!pick) {
        return InvalidArgument("the writer's {}{} is not among the reader's union branches",
                               Describe(w), At(where));
      }
      return Check(*pick, w, where);
    }
    if (!ShallowMatch(r, w)) {
      if (r.type == w.type) {
        return InvalidArgument("the reader's {} does not match the writer's {} (names differ){}",
                               Describe(r), Describe(w), At(where));
      }
      return InvalidArgument("the writer's {} cannot be read as {}{}", Describe(w), Describe(r),
                             At(where));
    }
    switch (r.type) {
      case Type::kRecord:
        return CheckRecord(r, w, where);
      case Type::kEnum:
        if (r.enum_default) return absl::OkStatus();
        for (const std::string& sym : w.symbols) {
          if (std::find(r.symbols.begin(), r.symbols.end(), sym) == r.symbols.end()) {
            return InvalidArgument(
                "the writer's enum '{}' has symbol '{}' that the reader lacks, and the reader has "
                "no default{}",
                w.name, sym, At(where));
          }
        }
        return absl::OkStatus();
      case Type::kFixed:
        if (r.size != w.size) {
          return InvalidArgument("fixed '{}' has size {} in the reader and {} in the writer{}",
                                 r.name, r.size, w.size, At(where));
        }
        return absl::OkStatus();
      case Type::kArray:
        return Check(*r.items, *w.items, where.empty() ? "array items" : where + " items");
      case Type::kMap:
        return Check(*r.values, *w.values, where.empty() ? "map values" : where + " values");
      default:
        return absl::OkStatus();
    }
  }

  absl::Status CheckRecord(const Node& r, const Node& w, const std::string& where) {
    for (const Field& rf : r.fields) {
      int wi = w.FieldIndex(rf.name);
      for (size_t a = 0; wi < 0 && a < rf.aliases.size(); ++a) wi = w.FieldIndex(rf.aliases[a]);
      if (wi < 0) {
        if (!rf.default_json) {
          return InvalidArgument(
              "field '{}' has no default and is missing in the writer schema (record '{}'){}",
              rf.name, r.name, At(where));
        }
        continue;
      }
      const std::string field_where = fmt::format("field '{}.{}'", r.name, rf.name);
      LF_RETURN_IF_ERROR(Check(*rf.type, *w.fields[wi].type, field_where));
    }
    return absl::OkStatus();
  }

  std::set<std::pair<const Node*, const Node*>> in_progress_;
};

constexpr std::pair<Compatibility, std::string_view> kNames[] = {
    {Compatibility::kNone, "NONE"},
    {Compatibility::kBackward, "BACKWARD"},
    {Compatibility::kForward, "FORWARD"},
    {Compatibility::kFull, "FULL"},
    {Compatibility::kBackwardTransitive, "BACKWARD_TRANSITIVE"},
    {Compatibility::kForwardTransitive, "FORWARD_TRANSITIVE"},
    {Compatibility::kFullTransitive, "FULL_TRANSITIVE"},
};

}  // namespace

absl::Status CanRead(const Schema& reader, const Schema& writer) {
  return Resolver().Check(reader.root(), writer.root(), "");
}

std::string_view CompatibilityName(Compatibility c) {
  for (const auto& [value, name] : kNames) {
    if (value == c) return name;
  }
  return "?";
}

absl::StatusOr<Compatibility> ParseCompatibility(std::string_view name) {
  for (const auto& [value, n] : kNames) {
    if (n == name) return value;
  }
  return InvalidArgument(
      "avro: unknown compatibility level '{}' (NONE, BACKWARD, FORWARD, FULL, "
      "BACKWARD_TRANSITIVE, FORWARD_TRANSITIVE or FULL_TRANSITIVE)",
      name);
}

absl::Status CheckCompatibility(Compatibility level, const Schema& candidate,
                                const std::vector<const Schema*>& previous) {
  if (level == Compatibility::kNone || previous.empty()) return absl::OkStatus();
  const bool transitive = level == Compatibility::kBackwardTransitive ||
                          level == Compatibility::kForwardTransitive ||
                          level == Compatibility::kFullTransitive;
  const bool backward = level == Compatibility::kBackward || level == Compatibility::kFull ||
                        level == Compatibility::kBackwardTransitive ||
                        level == Compatibility::kFullTransitive;
  const bool forward = level == Compatibility::kForward || level == Compatibility::kFull ||
                       level == Compatibility::kForwardTransitive ||
                       level == Compatibility::kFullTransitive;
  const size_t first = transitive ? 0 : previous.size() - 1;
  // Newest first: the most relevant failure is reported.
  for (size_t i = previous.size(); i-- > first;) {
    const Schema& old = *previous[i];
    if (backward) {
      if (absl::Status s = CanRead(candidate, old); !s.ok()) {
        return InvalidArgument("avro: {}: the new schema cannot read data of version {} of {}: {}",
                               CompatibilityName(level), i + 1, previous.size(), Message(s));
      }
    }
    if (forward) {
      if (absl::Status s = CanRead(old, candidate); !s.ok()) {
        return InvalidArgument("avro: {}: version {} of {} cannot read data of the new schema: {}",
                               CompatibilityName(level), i + 1, previous.size(), Message(s));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace lf::avro
