#pragma once

// Aggregate functions as state + update + combine + finalize (DuckDB's aggregate_function.hpp
// shape), one implementation for the speed windows, the batch recompute and the PostgreSQL merge
// (postgres/ merges exactly what Combine does: counts and sums add, min/max take the least and
// greatest, avg adds its sum and count). count_distinct keeps members, not a state: its state
// counts members new to the window.

#include <algorithm>
#include <cstdint>
#include <limits>

#include "pipeline/definition.h"

namespace lf::window {

struct AggregateState {
  int64_t count = 0;  // rows (count, avg) or new members (count_distinct)
  int64_t i = 0;      // integer sum / min / max
  double d = 0;       // float sum / min / max, avg's sum
  bool has = false;   // min/max: a value was seen
};

// What a finalized state is worth: integer or float, or NULL (min/max/avg of nothing).
struct AggregateValue {
  bool is_null = false;
  bool is_float = false;
  int64_t i = 0;
  double d = 0;
};

// Integer sums saturate at the BIGINT range instead of wrapping (as the PostgreSQL merge does).
inline int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) {
    return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return r;
}

class AggregateFunction {
 public:
  // `is_float`: the argument is float64 (sum/min/max are then doubles; avg always is).
  AggregateFunction(pipeline::AggregateKind kind, bool is_float) : kind_(kind), float_(is_float) {}

  pipeline::AggregateKind kind() const { return kind_; }
  bool float_values() const { return float_ || kind_ == pipeline::AggregateKind::kAvg; }

  // One input value (ignored by count and count_distinct; `v`/`d` by the argument's type).
  void Update(AggregateState* s, int64_t v, double d) const {
    switch (kind_) {
      case pipeline::AggregateKind::kCount:
      case pipeline::AggregateKind::kCountDistinct:
        ++s->count;
        break;
      case pipeline::AggregateKind::kSum:
        if (float_) {
          s->d += d;
        } else {
          s->i = SaturatingAdd(s->i, v);
        }
        break;
      case pipeline::AggregateKind::kMin:
        if (float_) {
          s->d = s->has ? std::min(s->d, d) : d;
        } else {
          s->i = s->has ? std::min(s->i, v) : v;
        }
        s->has = true;
        break;
      case pipeline::AggregateKind::kMax:
        if (float_) {
          s->d = s->has ? std::max(s->d, d) : d;
        } else {
          s->i = s->has ? std::max(s->i, v) : v;
        }
        s->has = true;
        break;
      case pipeline::AggregateKind::kAvg:
        ++s->count;
        s->d += float_ ? d : static_cast<double>(v);
        break;
    }
  }

  void Combine(AggregateState* into, const AggregateState& from) const {
    switch (kind_) {
      case pipeline::AggregateKind::kCount:
      case pipeline::AggregateKind::kCountDistinct:
        into->count = SaturatingAdd(into->count, from.count);
        break;
      case pipeline::AggregateKind::kSum:
        into->i = SaturatingAdd(into->i, from.i);
        into->d += from.d;
        break;
      case pipeline::AggregateKind::kMin:
      case pipeline::AggregateKind::kMax: {
        if (!from.has) break;
        const bool min = kind_ == pipeline::AggregateKind::kMin;
        if (!into->has) {
          into->i = from.i;
          into->d = from.d;
        } else {
          into->i = min ? std::min(into->i, from.i) : std::max(into->i, from.i);
          into->d = min ? std::min(into->d, from.d) : std::max(into->d, from.d);
        }
        into->has = true;
        break;
      }
      case pipeline::AggregateKind::kAvg:
        into->count = SaturatingAdd(into->count, from.count);
        into->d += from.d;
        break;
    }
  }

  AggregateValue Finalize(const AggregateState& s) const {
    AggregateValue v;
    v.is_float = float_values();
    switch (kind_) {
      case pipeline::AggregateKind::kCount:
      case pipeline::AggregateKind::kCountDistinct:
        v.i = s.count;
        break;
      case pipeline::AggregateKind::kSum:
        v.i = s.i;
        v.d = s.d;
        break;
      case pipeline::AggregateKind::kMin:
      case pipeline::AggregateKind::kMax:
        v.is_null = !s.has;
        v.i = s.i;
        v.d = s.d;
        break;
      case pipeline::AggregateKind::kAvg:
        v.is_null = s.count == 0;
        v.d = s.count == 0 ? 0 : s.d / static_cast<double>(s.count);
        break;
    }
    return v;
  }

 private:
  pipeline::AggregateKind kind_;
  bool float_;
};

}  // namespace lf::window
