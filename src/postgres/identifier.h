#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace lf::postgres {

// Validates a table name from a flag: `name` or `schema.name`, each part a plain SQL identifier
// ([A-Za-z_][A-Za-z0-9_]*, at most 63 bytes). Returns it quoted ("schema"."name") for use in
// SQL, or an error naming `flag`. Anything else (spaces, quotes, semicolons) is refused rather
// than escaped, so a typo cannot silently address another table.
absl::StatusOr<std::string> QuoteTableName(std::string_view name, std::string_view flag);

// `table` (already quoted by QuoteTableName) with `suffix` appended to its last part, quoted:
// used to name indexes after their table.
std::string DerivedName(std::string_view raw_table, std::string_view suffix);

}  // namespace lf::postgres
