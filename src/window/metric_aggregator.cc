#include "window/metric_aggregator.h"

#include <cstring>

#include "common/time.h"
#include "fmt/format.h"
#include "window/window_aggregator.h"

namespace lf::window {
namespace {

using pipeline::FieldType;

int64_t DoubleBits(double d) {
  if (d == 0) d = 0;  // -0.0 and 0.0 are one member
  int64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  return bits;
}

}  // namespace

MetricAggregator::MetricAggregator(const pipeline::Definition* def)
    : def_(def),
      lateness_s_(std::chrono::duration_cast<std::chrono::seconds>(def->lateness).count()),
      watermark_s_(kNoWatermark) {
  auto column = [&](std::string_view name) {
    for (size_t i = 0; i < def->fields.size(); ++i) {
      if (def->fields[i].name == name) return static_cast<int>(i);
    }
    return -1;
  };
  event_time_column_ = def->event_time.empty() ? -1 : column(def->event_time);
  for (const pipeline::MetricDef& m : def->metrics) {
    Compiled c;
    c.window_s = m.window.count();
    finest_window_s_ = finest_window_s_ == 0 ? c.window_s : std::min(finest_window_s_, c.window_s);
    for (const std::string& g : m.group_by) c.group_columns.push_back(column(g));
    c.argument = m.argument.empty() ? -1 : column(m.argument);
    const bool is_float = c.argument >= 0 && def->fields[c.argument].type == FieldType::kFloat64;
    c.fn = AggregateFunction(m.aggregate, is_float);
    for (const pipeline::Condition& w : m.where) {
      Condition cond;
      cond.column = column(w.field);
      cond.kind = w.kind;
      cond.present = w.present;
      cond.text = w.values;
      const FieldType type = def->fields[cond.column].type;
      for (const std::string& v : w.values) {
        switch (type) {
          case FieldType::kInt64:
            cond.ints.push_back(std::stoll(v));
            break;
          case FieldType::kBool:
            cond.ints.push_back(v == "true" ? 1 : 0);
            break;
          case FieldType::kFloat64:
            cond.doubles.push_back(std::stod(v));
            break;
          case FieldType::kTimestamp: {
            auto t = ParseTime(v);
            cond.ints.push_back(t.ok() ? t->time_since_epoch().count() : INT64_MIN);
            break;
          }
          case FieldType::kString:
            break;
        }
      }
      c.where.push_back(std::move(cond));
    }
    metrics_.push_back(std::move(c));
  }
}

int64_t MetricAggregator::EventTimeS(const pipeline::RecordBatch& batch, size_t row,
                                     int64_t ingest_time_s) const {
  if (event_time_column_ < 0) return ingest_time_s;
  return FloorDiv(batch.column(event_time_column_).ints[row], 1'000'000);
}

bool MetricAggregator::Matches(const Compiled& m, const pipeline::RecordBatch& batch,
                               size_t row) const {
  for (const Condition& c : m.where) {
    const pipeline::Column& col = batch.column(c.column);
    const bool valid = col.valid[row] != 0;
    if (c.kind == pipeline::Condition::Kind::kPresent) {
      if (valid != c.present) return false;
      continue;
    }
    if (!valid) return false;
    bool any = false;
    switch (col.type) {
      case FieldType::kString:
        for (int64_t id : c.ids) any = any || (id >= 0 && static_cast<int64_t>(col.ids[row]) == id);
        break;
      case FieldType::kFloat64:
        for (double d : c.doubles) any = any || col.doubles[row] == d;
        break;
      default:
        for (int64_t v : c.ints) any = any || col.ints[row] == v;
        break;
    }
    if (!any) return false;
  }
  return true;
}

std::string MetricAggregator::ValueText(const pipeline::RecordBatch& batch, int col,
                                        size_t row) const {
  const pipeline::Column& c = batch.column(col);
  switch (c.type) {
    case FieldType::kString:
      return std::string(batch.String(col, row));
    case FieldType::kInt64:
      return std::to_string(c.ints[row]);
    case FieldType::kBool:
      return c.ints[row] ? "true" : "false";
    case FieldType::kFloat64:
      return fmt::format("{}", c.doubles[row]);
    case FieldType::kTimestamp:
      return FormatTime(Timestamp(Micros(c.ints[row])));
  }
  return {};
}

uint32_t MetricAggregator::GroupId(Compiled* m, const pipeline::RecordBatch& batch, size_t row) {
  std::array<int64_t, 4> key{};
  for (size_t g = 0; g < m->group_columns.size(); ++g) {
    const pipeline::Column& c = batch.column(m->group_columns[g]);
    key[g] = c.type == FieldType::kString ? static_cast<int64_t>(c.ids[row]) : c.ints[row];
  }
  auto [it, added] = m->group_ids.try_emplace(key, static_cast<uint32_t>(m->group_text.size()));
  if (added) {
    std::vector<std::string> text;
    for (int col : m->group_columns) text.push_back(ValueText(batch, col, row));
    m->group_text.push_back(std::move(text));
  }
  return it->second;
}

void MetricAggregator::Add(const pipeline::RecordBatch& batch, std::span<const uint8_t> keep,
                           int64_t ingest_time_s, std::vector<int64_t>* late_by_partition) {
  const size_t n = batch.num_rows();
  // String conditions compare dictionary ids, looked up once per batch (a value never seen yet
  // has no id and matches nothing).
  for (Compiled& m : metrics_) {
    for (Condition& c : m.where) {
      if (batch.column(c.column).type != FieldType::kString) continue;
      c.ids.clear();
      for (const std::string& v : c.text) {
        c.ids.push_back(batch.dictionaries().column(c.column).Find(v));
      }
    }
  }
  for (size_t row = 0; row < n; ++row) {
    if (!keep.empty() && !keep[row]) continue;
    const int64_t t = EventTimeS(batch, row, ingest_time_s);
    if (watermark_s_ != kNoWatermark && finest_window_s_ > 0 &&
        (FloorDiv(t, finest_window_s_) + 1) * finest_window_s_ <= watermark_s_) {
      ++late_events_;
      if (late_by_partition) ++(*late_by_partition)[batch.partition[row]];
    }
    for (uint32_t mi = 0; mi < metrics_.size(); ++mi) {
      Compiled& m = metrics_[mi];
      if (!Matches(m, batch, row)) continue;
      bool null_group = false;
      for (int col : m.group_columns) null_group = null_group || !batch.column(col).valid[row];
      if (null_group) continue;
      int64_t v = 0;
      double d = 0;
      if (m.argument >= 0) {
        const pipeline::Column& arg = batch.column(m.argument);
        if (!arg.valid[row]) continue;  // aggregates skip nulls (count() has no argument)
        if (arg.type == FieldType::kFloat64) {
          d = arg.doubles[row];
        } else if (arg.type == FieldType::kString) {
          v = arg.ids[row];
        } else {
          v = arg.ints[row];
        }
      }
      const WindowGroup wg{FloorDiv(t, m.window_s) * m.window_s, GroupId(&m, batch, row)};
      auto [it, added] = m.delta_index.try_emplace(wg, static_cast<uint32_t>(m.deltas.size()));
      if (added) m.deltas.push_back(MetricDelta{mi, wg.window_start_s, wg.group, {}, {}});
      MetricDelta& delta = m.deltas[it->second];
      if (m.fn.kind() == pipeline::AggregateKind::kCountDistinct) {
        const pipeline::Column& arg = batch.column(m.argument);
        const int64_t member = arg.type == FieldType::kFloat64 ? DoubleBits(d) : v;
        if (!m.seen[wg].insert(member).second) continue;
        delta.members.push_back(ValueText(batch, m.argument, row));
      }
      m.fn.Update(&delta.state, v, d);
    }
  }
}

std::vector<MetricDelta> MetricAggregator::TakeDeltas() {
  std::vector<MetricDelta> out;
  for (Compiled& m : metrics_) {
    for (MetricDelta& d : m.deltas) out.push_back(std::move(d));
    m.deltas.clear();
    m.delta_index.clear();
  }
  return out;
}

void MetricAggregator::TakeRows(std::vector<pipeline::MetricRow>* out) {
  for (MetricDelta& d : TakeDeltas()) {
    pipeline::MetricRow row;
    row.metric = d.metric;
    row.window_start_s = d.window_start_s;
    row.group = GroupValues(d.metric, d.group);
    row.count = d.state.count;
    row.i = d.state.i;
    row.d = d.state.d;
    row.members = std::move(d.members);
    out->push_back(std::move(row));
  }
}

void MetricAggregator::DiscardDeltas() {
  for (Compiled& m : metrics_) {
    m.deltas.clear();
    m.delta_index.clear();
    m.seen.clear();
  }
}

void MetricAggregator::ResetWatermark() { watermark_s_ = kNoWatermark; }

void MetricAggregator::AdvanceWatermark(int64_t watermark_s) {
  if (watermark_s <= watermark_s_) return;
  watermark_s_ = watermark_s;
  // Members of windows final for a whole window length are forgotten: a member arriving later
  // is sent again and the sink, which keeps them all, still counts it once.
  for (Compiled& m : metrics_) {
    absl::erase_if(m.seen, [&](const auto& entry) {
      return entry.first.window_start_s + 2 * m.window_s <= watermark_s_;
    });
  }
}

int64_t MetricAggregator::WatermarkFor(const std::vector<int64_t>& max_event_times) const {
  if (max_event_times.empty()) return kNoWatermark;
  const int64_t low = *std::min_element(max_event_times.begin(), max_event_times.end());
  return low == kNoWatermark ? kNoWatermark : low - lateness_s_;
}

}  // namespace lf::window
