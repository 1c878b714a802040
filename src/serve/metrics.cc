#include "serve/metrics.h"

#include <cmath>

#include "fmt/format.h"

namespace lf::serve {

std::string MetricsWriter::EscapeLabel(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

void MetricsWriter::Family(std::string_view name, std::string_view type, std::string_view help) {
  // HELP text escapes only backslash and newline.
  std::string h;
  for (char c : help) {
    if (c == '\\')
      h += "\\\\";
    else if (c == '\n')
      h += "\\n";
    else
      h += c;
  }
  text_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, h, name, type);
}

void MetricsWriter::Sample(std::string_view name, const Labels& labels, double value) {
  text_ += name;
  if (!labels.empty()) {
    text_ += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      text_ +=
          fmt::format("{}{}=\"{}\"", i ? "," : "", labels[i].first, EscapeLabel(labels[i].second));
    }
    text_ += '}';
  }
  if (std::isnan(value))
    text_ += " NaN\n";
  else if (std::isinf(value))
    text_ += value > 0 ? " +Inf\n" : " -Inf\n";
  else if (value == std::floor(value) && std::fabs(value) < 9e15)
    text_ += fmt::format(" {}\n", static_cast<int64_t>(value));
  else
    text_ += fmt::format(" {}\n", value);
}

void EventRate::Add(std::chrono::steady_clock::time_point now, int64_t total) {
  std::lock_guard lock(mu_);
  if (!samples_.empty() && total < samples_.back().second) samples_.clear();
  samples_.emplace_back(now, total);
  // Keep one sample older than the window so the slope covers the whole window.
  while (samples_.size() > 2 && now - samples_[1].first >= window_) samples_.pop_front();
}

std::optional<double> EventRate::Rate() const {
  std::lock_guard lock(mu_);
  if (samples_.size() < 2) return std::nullopt;
  const auto& [t0, n0] = samples_.front();
  const auto& [t1, n1] = samples_.back();
  double secs = std::chrono::duration<double>(t1 - t0).count();
  if (secs < 1.0) return std::nullopt;
  return static_cast<double>(n1 - n0) / secs;
}

}  // namespace lf::serve
