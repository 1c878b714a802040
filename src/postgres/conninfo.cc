#include "postgres/conninfo.h"

#include <libpq-fe.h>

#include <memory>

#include "common/status.h"

namespace lf::postgres {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::StatusOr<std::string> PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) return InvalidArgument("--pg: bad %-escape in jdbc URI");
      int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return InvalidArgument("--pg: bad %-escape in jdbc URI");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

struct ConninfoOptionsDeleter {
  void operator()(PQconninfoOption* o) const { PQconninfoFree(o); }
};

// Fills `display` from the effective parameters (host:port/dbname as user) and collects the
// passwords into `secrets`.
std::string Describe(const std::vector<std::pair<std::string, std::string>>& params,
                     std::vector<std::string>* secrets) {
  std::string host, port, dbname, user;
  for (const auto& [k, v] : params) {
    if (k == "dbname" && (v.find('=') != std::string::npos || v.find("://") != std::string::npos)) {
      // An expanded connection string: parse it for the parts we show.
      char* err = nullptr;
      std::unique_ptr<PQconninfoOption, ConninfoOptionsDeleter> opts(
          PQconninfoParse(v.c_str(), &err));
      if (err) PQfreemem(err);
      if (!opts) continue;
      for (auto* o = opts.get(); o->keyword; ++o) {
        if (!o->val) continue;
        std::string_view kw = o->keyword;
        if (kw == "host" || kw == "hostaddr") host = o->val;
        if (kw == "port") port = o->val;
        if (kw == "dbname") dbname = o->val;
        if (kw == "user") user = o->val;
        if (kw == "password" && *o->val) secrets->push_back(o->val);
      }
      continue;
    }
    if (k == "password" && !v.empty()) secrets->push_back(v);
    if (k == "host") host = v;
    if (k == "port") port = v;
    if (k == "dbname") dbname = v;
    if (k == "user") user = v;
  }
  std::string out = host.empty() ? "(default host)" : host;
  if (!port.empty()) out += ":" + port;
  out += "/" + (dbname.empty() ? std::string("(default db)") : dbname);
  if (!user.empty()) out += " as " + user;
  return out;
}

}  // namespace

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseJdbcUri(
    std::string_view uri, std::vector<std::string>* ignored) {
  constexpr std::string_view kPrefix = "jdbc:postgresql:";
  if (uri.substr(0, kPrefix.size()) != kPrefix)
    return InvalidArgument("--pg: not a jdbc:postgresql: URI");
  std::string_view rest = uri.substr(kPrefix.size());
  std::vector<std::pair<std::string, std::string>> out;
  std::string_view query;
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  if (rest.substr(0, 2) == "//") {
    rest = rest.substr(2);
    auto slash = rest.find('/');
    std::string_view hosts = rest.substr(0, slash);
    std::string_view db = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
    // host[:port][,host[:port]...]; IPv6 in brackets.
    std::string host_list, port_list;
    size_t start = 0;
    while (start <= hosts.size() && !hosts.empty()) {
      size_t comma = hosts.find(',', start);
      std::string_view hp = hosts.substr(
          start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
      std::string_view h = hp, p;
      if (!hp.empty() && hp[0] == '[') {
        auto close = hp.find(']');
        if (close == std::string_view::npos)
          return InvalidArgument("--pg: bad IPv6 host in jdbc URI");
        h = hp.substr(1, close - 1);
        if (close + 1 < hp.size() && hp[close + 1] == ':') p = hp.substr(close + 2);
      } else if (auto colon = hp.rfind(':'); colon != std::string_view::npos) {
        h = hp.substr(0, colon);
        p = hp.substr(colon + 1);
      }
      for (char c : p) {
        if (c < '0' || c > '9') return InvalidArgument("--pg: bad port '{}' in jdbc URI", p);
      }
      if (!host_list.empty()) {
        host_list += ",";
        port_list += ",";
      }
      host_list += std::string(h.empty() ? "localhost" : h);
      port_list += std::string(p.empty() ? "5432" : p);
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    if (!host_list.empty()) {
      out.emplace_back("host", host_list);
      out.emplace_back("port", port_list);
    }
    if (!db.empty()) {
      LF_ASSIGN_OR_RETURN(std::string dbname, PercentDecode(db));
      out.emplace_back("dbname", dbname);
    }
  } else if (!rest.empty()) {
    LF_ASSIGN_OR_RETURN(std::string dbname, PercentDecode(rest));
    out.emplace_back("dbname", dbname);
  }
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (kv.empty()) continue;
    auto eq = kv.find('=');
    std::string_view k = kv.substr(0, eq);
    LF_ASSIGN_OR_RETURN(std::string v,
                        PercentDecode(eq == std::string_view::npos ? "" : kv.substr(eq + 1)));
    if (k == "user" || k == "password" || k == "sslmode" || k == "sslcert" || k == "sslkey" ||
        k == "sslrootcert" || k == "options") {
      out.emplace_back(std::string(k), v);
    } else if (k == "ssl") {
      if (v == "true" || v.empty()) out.emplace_back("sslmode", "require");
    } else if (k == "connectTimeout" || k == "loginTimeout") {
      out.emplace_back("connect_timeout", v);
    } else if (k == "ApplicationName" || k == "applicationName") {
      out.emplace_back("application_name", v);
    } else if (k == "currentSchema") {
      out.emplace_back("options", "-csearch_path=" + v);
    } else if (k == "targetServerType") {
      out.emplace_back("target_session_attrs",
                       v == "primary" || v == "master" ? "read-write" : "any");
    } else {
      ignored->emplace_back(k);
    }
  }
  return out;
}

absl::StatusOr<ConnTarget> ParseConnTarget(std::string_view pg, std::string_view user,
                                           std::string_view password) {
  ConnTarget target;
  if (pg.substr(0, 5) == "jdbc:") {
    std::vector<std::string> ignored;
    LF_ASSIGN_OR_RETURN(target.params, ParseJdbcUri(pg, &ignored));
  } else {
    // libpq validates it; check early so the error names --pg (and never echoes the string,
    // which may hold a password).
    char* err = nullptr;
    std::unique_ptr<PQconninfoOption, ConninfoOptionsDeleter> opts(
        PQconninfoParse(std::string(pg).c_str(), &err));
    if (!opts) {
      std::string why = err ? err : "unparseable";
      if (err) PQfreemem(err);
      while (!why.empty() && why.back() == '\n') why.pop_back();
      return InvalidArgument("--pg: not a valid PostgreSQL connection string or URI: {}", why);
    }
    target.params.emplace_back("dbname", std::string(pg));
  }
  if (!user.empty()) target.params.emplace_back("user", std::string(user));
  if (!password.empty()) target.params.emplace_back("password", std::string(password));
  target.params.emplace_back("application_name", "lambdaflow");
  target.display = Describe(target.params, &target.secrets);
  return target;
}

}  // namespace lf::postgres
