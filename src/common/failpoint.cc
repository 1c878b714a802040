#include "common/failpoint.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

#include <absl/strings/numbers.h>
#include <absl/strings/str_split.h>
#include <fmt/format.h>

namespace lf {
namespace {

enum class Action { kKill, kSleep };

struct Point {
  std::string name;
  Action action = Action::kKill;
  int64_t at_hit = 1;
  int64_t sleep_ms = 0;
  std::atomic<int64_t> hits{0};
};

// Writes straight to fd 2: the message must be out before a SIGKILL, whatever logging buffers.
void Announce(const std::string& text) {
  const char* p = text.data();
  size_t left = text.size();
  while (left > 0) {
    ssize_t n = ::write(2, p, left);
    if (n <= 0) return;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

// "kill@3" or "sleep@2:5000".
bool ParseAction(std::string_view text, Point* point) {
  auto at = text.find('@');
  if (at == std::string_view::npos) return false;
  std::string_view verb = text.substr(0, at);
  std::string_view rest = text.substr(at + 1);
  if (verb == "kill") {
    point->action = Action::kKill;
    return absl::SimpleAtoi(absl::string_view(rest.data(), rest.size()), &point->at_hit) &&
           point->at_hit >= 1;
  }
  if (verb == "sleep") {
    auto colon = rest.find(':');
    if (colon == std::string_view::npos) return false;
    point->action = Action::kSleep;
    std::string_view hit = rest.substr(0, colon), ms = rest.substr(colon + 1);
    return absl::SimpleAtoi(absl::string_view(hit.data(), hit.size()), &point->at_hit) &&
           point->at_hit >= 1 &&
           absl::SimpleAtoi(absl::string_view(ms.data(), ms.size()), &point->sleep_ms) &&
           point->sleep_ms >= 0;
  }
  return false;
}

// Parsed once; the list never changes afterwards, only the atomic hit counters do.
const std::vector<std::unique_ptr<Point>>& Points() {
  static const auto* points = [] {
    auto* out = new std::vector<std::unique_ptr<Point>>();
    const char* env = std::getenv("LF_FAILPOINTS");
    if (env == nullptr || *env == '\0') return out;
    for (absl::string_view piece : absl::StrSplit(env, ',', absl::SkipEmpty())) {
      std::string_view item(piece.data(), piece.size());
      auto eq = item.find('=');
      auto point = std::make_unique<Point>();
      if (eq == std::string_view::npos || eq == 0 ||
          !ParseAction(item.substr(eq + 1), point.get())) {
        Announce(
            fmt::format("failpoint: ignoring malformed LF_FAILPOINTS entry '{}' (want "
                        "NAME=kill@N or NAME=sleep@N:MS)\n",
                        item));
        continue;
      }
      point->name = std::string(item.substr(0, eq));
      out->push_back(std::move(point));
    }
    return out;
  }();
  return *points;
}

std::atomic<int> g_armed{-1};  // -1: not looked at yet, 0: none armed, 1: some armed

}  // namespace

void Failpoint(std::string_view name) {
  int armed = g_armed.load(std::memory_order_relaxed);
  if (armed == 0) return;
  if (armed < 0) {
    armed = Points().empty() ? 0 : 1;
    g_armed.store(armed, std::memory_order_relaxed);
    if (armed == 0) return;
  }
  for (const auto& p : Points()) {
    if (p->name != name) continue;
    const int64_t hit = p->hits.fetch_add(1) + 1;
    if (hit != p->at_hit) continue;
    if (p->action == Action::kKill) {
      Announce(fmt::format("failpoint {}: kill (hit {})\n", p->name, hit));
      ::kill(::getpid(), SIGKILL);
      ::_exit(137);  // not reached
    }
    Announce(fmt::format("failpoint {}: sleep {} ms (hit {})\n", p->name, p->sleep_ms, hit));
    std::this_thread::sleep_for(std::chrono::milliseconds(p->sleep_ms));
    Announce(fmt::format("failpoint {}: awake\n", p->name));
  }
}

std::string FailpointName(std::string_view what, std::string_view step) {
  std::string out;
  out.reserve(what.size() + step.size() + 1);
  for (char c : what) out.push_back(c == ' ' || c == ':' ? '_' : c);
  // "registry: register" → "registry__register": one underscore per run of separators.
  std::string squeezed;
  for (char c : out)
    if (!(c == '_' && !squeezed.empty() && squeezed.back() == '_')) squeezed.push_back(c);
  squeezed.push_back('.');
  squeezed.append(step);
  return squeezed;
}

}  // namespace lf
