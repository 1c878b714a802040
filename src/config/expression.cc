#include "config/expression.h"

#include <algorithm>
#include <cstdlib>

#include "common/status.h"

namespace lf::config {
namespace {

using pipeline::AggregateKind;
using pipeline::Expr;

constexpr int kMaxDepth = 64;
// Also bounds the length of a chain like a+a+a+…, whose tree is as deep as it is long.
constexpr size_t kMaxExpressionBytes = 4096;

bool IsSpace(char c) { return c == ' ' || c == '\t'; }
bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Recursive descent over: expr := term (('+'|'-') term)*; term := unary (('*'|'/') unary)*;
// unary := '-' unary | primary; primary := number | name | '(' expr ')'.
class ExprParser {
 public:
  explicit ExprParser(std::string_view text) : text_(text) {}

  absl::StatusOr<std::unique_ptr<Expr>> Parse() {
    auto e = ParseSum(0);
    if (!e.ok()) return e;
    SkipSpace();
    if (pos_ != text_.size()) return Fail("unexpected '{}'", text_[pos_]);
    return e;
  }

 private:
  template <typename... Args>
  absl::Status Fail(fmt::format_string<Args...> f, Args&&... args) {
    return InvalidArgument("{} at character {} of '{}'",
                           fmt::format(f, std::forward<Args>(args)...), pos_ + 1, text_);
  }

  void SkipSpace() {
    while (pos_ < text_.size() && IsSpace(text_[pos_])) ++pos_;
  }

  static std::unique_ptr<Expr> Binary(Expr::Kind kind, std::unique_ptr<Expr> l,
                                      std::unique_ptr<Expr> r) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->left = std::move(l);
    e->right = std::move(r);
    return e;
  }

  absl::StatusOr<std::unique_ptr<Expr>> ParseSum(int depth) {
    LF_ASSIGN_OR_RETURN(auto left, ParseProduct(depth));
    for (;;) {
      SkipSpace();
      if (pos_ >= text_.size() || (text_[pos_] != '+' && text_[pos_] != '-')) return left;
      Expr::Kind kind = text_[pos_++] == '+' ? Expr::Kind::kAdd : Expr::Kind::kSub;
      LF_ASSIGN_OR_RETURN(auto right, ParseProduct(depth));
      left = Binary(kind, std::move(left), std::move(right));
    }
  }

  absl::StatusOr<std::unique_ptr<Expr>> ParseProduct(int depth) {
    LF_ASSIGN_OR_RETURN(auto left, ParseUnary(depth));
    for (;;) {
      SkipSpace();
      if (pos_ >= text_.size() || (text_[pos_] != '*' && text_[pos_] != '/')) return left;
      Expr::Kind kind = text_[pos_++] == '*' ? Expr::Kind::kMul : Expr::Kind::kDiv;
      LF_ASSIGN_OR_RETURN(auto right, ParseUnary(depth));
      left = Binary(kind, std::move(left), std::move(right));
    }
  }

  absl::StatusOr<std::unique_ptr<Expr>> ParseUnary(int depth) {
    if (depth > kMaxDepth) return Fail("nested too deeply");
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == '-') {
      ++pos_;
      LF_ASSIGN_OR_RETURN(auto inner, ParseUnary(depth + 1));
      auto e = std::make_unique<Expr>();
      e->kind = Expr::Kind::kNeg;
      e->left = std::move(inner);
      return e;
    }
    return ParsePrimary(depth);
  }

  absl::StatusOr<std::unique_ptr<Expr>> ParsePrimary(int depth) {
    SkipSpace();
    if (pos_ >= text_.size()) return Fail("expression ends early");
    char c = text_[pos_];
    if (c == '(') {
      ++pos_;
      LF_ASSIGN_OR_RETURN(auto inner, ParseSum(depth + 1));
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != ')') return Fail("missing ')'");
      ++pos_;
      return inner;
    }
    if (IsDigit(c) || c == '.') {
      size_t start = pos_;
      while (pos_ < text_.size() && (IsDigit(text_[pos_]) || text_[pos_] == '.')) ++pos_;
      std::string number(text_.substr(start, pos_ - start));
      char* end = nullptr;
      double v = std::strtod(number.c_str(), &end);
      if (end != number.c_str() + number.size() || number == ".") {
        pos_ = start;
        return Fail("bad number '{}'", number);
      }
      auto e = std::make_unique<Expr>();
      e->kind = Expr::Kind::kNumber;
      e->number = v;
      return e;
    }
    if (IsNameStart(c)) {
      size_t start = pos_;
      while (pos_ < text_.size() && IsNameChar(text_[pos_])) ++pos_;
      auto e = std::make_unique<Expr>();
      e->kind = Expr::Kind::kMetric;
      e->metric = std::string(text_.substr(start, pos_ - start));
      return e;
    }
    return Fail("unexpected '{}'", c);
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

std::optional<ParsedAggregate> ParseAggregate(std::string_view text) {
  text = Trim(text);
  size_t open = text.find('(');
  if (open == std::string_view::npos || text.empty() || text.back() != ')') return std::nullopt;
  std::string_view fn = Trim(text.substr(0, open));
  std::string_view arg = Trim(text.substr(open + 1, text.size() - open - 2));
  static constexpr std::pair<std::string_view, AggregateKind> kKinds[] = {
      {"count", AggregateKind::kCount}, {"sum", AggregateKind::kSum},
      {"min", AggregateKind::kMin},     {"max", AggregateKind::kMax},
      {"avg", AggregateKind::kAvg},     {"count_distinct", AggregateKind::kCountDistinct}};
  for (const auto& [name, kind] : kKinds) {
    if (fn != name) continue;
    if (kind == AggregateKind::kCount) {
      if (!arg.empty()) return std::nullopt;
      return ParsedAggregate{kind, ""};
    }
    if (arg.empty() || !IsNameStart(arg[0]) || !std::all_of(arg.begin(), arg.end(), IsNameChar)) {
      return std::nullopt;
    }
    return ParsedAggregate{kind, std::string(arg)};
  }
  return std::nullopt;
}

absl::StatusOr<std::unique_ptr<pipeline::Expr>> ParseExpression(std::string_view text) {
  if (text.size() > kMaxExpressionBytes) {
    return InvalidArgument("expression longer than {} characters", kMaxExpressionBytes);
  }
  return ExprParser(text).Parse();
}

void CollectMetricNames(const pipeline::Expr& e, std::vector<std::string>* out) {
  if (e.kind == Expr::Kind::kMetric) {
    if (std::find(out->begin(), out->end(), e.metric) == out->end()) out->push_back(e.metric);
    return;
  }
  if (e.left) CollectMetricNames(*e.left, out);
  if (e.right) CollectMetricNames(*e.right, out);
}

}  // namespace lf::config
