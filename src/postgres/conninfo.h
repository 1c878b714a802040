#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace lf::postgres {

// Where and how to connect. Built from `--pg` (a libpq "key=value" string, a postgresql:// URI or
// a jdbc:postgresql:// URI) plus optional user/password (the seeds' positional arguments).
// PGPASSWORD and ~/.pgpass keep working: libpq reads them when no password is given.
struct ConnTarget {
  // libpq keyword/value pairs for PQconnectdbParams(expand_dbname=1); later pairs override earlier.
  std::vector<std::pair<std::string, std::string>> params;
  // For logs and errors: host, port, database and user, never the password.
  std::string display;
  // Every password found in the input, to scrub from places users can see (argv).
  std::vector<std::string> secrets;
};

// Parses `--pg`. `user`/`password` (may be empty) override what the string says.
absl::StatusOr<ConnTarget> ParseConnTarget(std::string_view pg, std::string_view user = "",
                                           std::string_view password = "");

// Converts a jdbc:postgresql:// URI to libpq keyword/value pairs (host, port, dbname, user,
// password, sslmode, ...). JDBC-only properties libpq lacks are dropped and listed in `*ignored`.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseJdbcUri(
    std::string_view uri, std::vector<std::string>* ignored);

}  // namespace lf::postgres
