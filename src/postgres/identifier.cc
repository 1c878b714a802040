#include "postgres/identifier.h"

#include "common/status.h"

namespace lf::postgres {
namespace {

bool IsPlainIdentifier(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    if (!(alpha || (i > 0 && digit))) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::string> QuoteTableName(std::string_view name, std::string_view flag) {
  auto dot = name.find('.');
  std::string_view schema = dot == std::string_view::npos ? "" : name.substr(0, dot);
  std::string_view table = dot == std::string_view::npos ? name : name.substr(dot + 1);
  if ((dot != std::string_view::npos && !IsPlainIdentifier(schema)) || !IsPlainIdentifier(table)) {
    return InvalidArgument(
        "{}: '{}' is not a valid table name (letters, digits and _, not starting with a digit, "
        "optionally schema.table)",
        flag, name);
  }
  std::string out;
  if (!schema.empty()) out = fmt::format("\"{}\".", schema);
  out += fmt::format("\"{}\"", table);
  return out;
}

std::string DerivedName(std::string_view raw_table, std::string_view suffix) {
  auto dot = raw_table.find('.');
  std::string_view table = dot == std::string_view::npos ? raw_table : raw_table.substr(dot + 1);
  std::string name = fmt::format("{}_{}", table, suffix);
  if (name.size() > 63) name.resize(63);
  return fmt::format("\"{}\"", name);
}

}  // namespace lf::postgres
