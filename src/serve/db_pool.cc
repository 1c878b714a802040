#include "serve/db_pool.h"

#include <string>

namespace lf::serve {

postgres::ConnTarget ReadOnlyTarget(const postgres::ConnTarget& target) {
  postgres::ConnTarget t = target;
  std::string options;
  for (const auto& [key, value] : t.params) {
    if (key == "options") options = value;  // later pairs win, as in libpq
  }
  options += " -c default_transaction_read_only=on -c statement_timeout=15000";
  t.params.emplace_back("options", options);
  t.params.emplace_back("application_name", "lambdaflow-serve");
  return t;
}

absl::Status DbPool::With(const std::function<absl::Status(PGconn*)>& fn) {
  postgres::PgConn conn;
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !idle_.empty() || open_ < max_size_; });
    if (!idle_.empty()) {
      conn = std::move(idle_.back());
      idle_.pop_back();
    } else {
      ++open_;
    }
  }
  if (!conn) {
    auto opened = postgres::Connect(target_);
    if (!opened.ok()) {
      std::lock_guard lock(mu_);
      --open_;
      cv_.notify_one();
      return opened.status();
    }
    conn = std::move(*opened);
  }
  absl::Status st = fn(conn.get());
  // A broken connection is closed; the next caller opens a fresh one.
  bool broken = PQstatus(conn.get()) != CONNECTION_OK;
  std::lock_guard lock(mu_);
  if (broken) {
    --open_;
    conn.reset();
  } else {
    idle_.push_back(std::move(conn));
  }
  cv_.notify_one();
  return st;
}

}  // namespace lf::serve
