#include "window/metric_aggregator.h"

#include <map>
#include <random>
#include <set>

#include "fmt/format.h"
#include "gtest/gtest.h"
#include "json/record_decoder.h"

namespace lf::window {
namespace {

using pipeline::AggregateKind;
using pipeline::FieldType;

pipeline::MetricDef Metric(std::string name, int64_t window_s, std::vector<std::string> group,
                           AggregateKind kind, std::string arg,
                           std::vector<pipeline::Condition> where = {}) {
  pipeline::MetricDef m;
  m.name = std::move(name);
  m.window = std::chrono::seconds(window_s);
  m.group_by = std::move(group);
  m.aggregate = kind;
  m.argument = std::move(arg);
  m.where = std::move(where);
  m.table = m.name;
  return m;
}

pipeline::Definition ShopDefinition() {
  pipeline::Definition def;
  def.name = "shop";
  def.fields = {
      {.name = "store", .type = FieldType::kString},
      {.name = "region", .type = FieldType::kInt64},
      {.name = "vip", .type = FieldType::kBool, .optional = true},
      {.name = "amount", .type = FieldType::kInt64},
      {.name = "price", .type = FieldType::kFloat64},
      {.name = "coupon", .type = FieldType::kString, .optional = true},
      {.name = "at", .type = FieldType::kTimestamp},
      {.name = "kind", .type = FieldType::kString, .from_key = true},
  };
  def.event_time = "at";
  def.lateness = std::chrono::seconds(30);
  pipeline::Condition is_order{.field = "kind", .values = {"order"}};
  pipeline::Condition order_or_refund{
      .field = "kind", .kind = pipeline::Condition::Kind::kIn, .values = {"order", "refund"}};
  pipeline::Condition has_coupon{
      .field = "coupon", .kind = pipeline::Condition::Kind::kPresent, .present = true};
  pipeline::Condition vip_true{.field = "vip", .values = {"true"}};
  def.metrics = {
      Metric("orders_1m", 60, {"store"}, AggregateKind::kCount, "", {is_order}),
      Metric("amount_15m", 900, {"store", "vip"}, AggregateKind::kSum, "amount", {is_order}),
      Metric("max_price_1h", 3600, {"region"}, AggregateKind::kMax, "price"),
      Metric("min_amount_1h", 3600, {"region"}, AggregateKind::kMin, "amount"),
      Metric("avg_amount_1d", 86400, {"store"}, AggregateKind::kAvg, "amount", {order_or_refund}),
      Metric("coupons_1d", 86400, {}, AggregateKind::kCountDistinct, "coupon", {has_coupon}),
      Metric("vip_sum_price_1d", 86400, {"region"}, AggregateKind::kSum, "price", {vip_true}),
  };
  return def;
}

struct Event {
  std::string store;
  int64_t region;
  std::optional<bool> vip;
  int64_t amount;
  double price;
  std::optional<std::string> coupon;
  int64_t at_s;
  std::string kind;
};

// The expected value of each (metric, window, group text) computed directly from the events.
struct Expected {
  int64_t count = 0, isum = 0, imin = INT64_MAX, imax = INT64_MIN;
  double dsum = 0, dmax = -1e300;
  std::set<std::string> members;
};

class MetricAggregatorTest : public ::testing::Test {
 protected:
  void Feed(const std::vector<Event>& events) {
    for (const Event& e : events) {
      std::string json = fmt::format(R"({{"store":"{}","region":{},"amount":{},"price":{},"at":{})",
                                     e.store, e.region, e.amount, e.price, e.at_s);
      if (e.vip) json += fmt::format(R"(,"vip":{})", *e.vip ? "true" : "false");
      if (e.coupon) json += fmt::format(R"(,"coupon":"{}")", *e.coupon);
      json += "}";
      pipeline::DecodeError error;
      ASSERT_TRUE(
          decoder_.Decode(json, e.kind, static_cast<int32_t>(e.region % 3), 0, &batch_, &error))
          << error.message;
    }
    agg_.Add(batch_, {}, 0, &late_);
    batch_.Clear();
  }
  // Merges deltas as the PostgreSQL sink does, keyed "metric|window|group values".
  void Collect() {
    for (MetricDelta& d : agg_.TakeDeltas()) {
      std::string key = fmt::format("{}|{}|{}", def_.metrics[d.metric].name, d.window_start_s,
                                    fmt::join(agg_.GroupValues(d.metric, d.group), ","));
      auto [it, added] = merged_.try_emplace(key, d.state);
      if (!added) agg_.function(d.metric).Combine(&it->second, d.state);
      for (std::string& m : d.members) {
        EXPECT_TRUE(members_[key].insert(m).second) << "member sent twice: " << key << " " << m;
      }
    }
  }

  pipeline::Definition def_ = ShopDefinition();
  pipeline::Schema schema_{def_.fields};
  pipeline::Dictionaries dicts_{schema_};
  pipeline::RecordBatch batch_{&schema_, &dicts_};
  json::JsonRecordDecoder decoder_{&schema_};
  MetricAggregator agg_{&def_};
  std::vector<int64_t> late_ = std::vector<int64_t>(3, 0);
  std::map<std::string, AggregateState> merged_;
  std::map<std::string, std::set<std::string>> members_;
};

TEST_F(MetricAggregatorTest, EveryAggregateEqualsADirectComputation) {
  std::mt19937_64 rng(42);
  std::vector<Event> events;
  const int64_t start = 1795338000 - 7200;  // crosses a UTC midnight
  for (int i = 0; i < 20000; ++i) {
    Event e;
    e.store = fmt::format("s{}", rng() % 7);
    e.region = static_cast<int64_t>(rng() % 5) + 1;
    if (rng() % 4 != 0) e.vip = rng() % 2 == 0;
    e.amount = static_cast<int64_t>(rng() % 1000) - 100;
    e.price = static_cast<double>(rng() % 100000) / 100.0;
    if (rng() % 3 == 0) e.coupon = fmt::format("c{}", rng() % 50);
    e.at_s = start + static_cast<int64_t>(rng() % (4 * 3600));
    e.kind = rng() % 5 == 0 ? "refund" : (rng() % 10 == 0 ? "other" : "order");
    events.push_back(std::move(e));
  }
  // In chunks, taking deltas between them, as flushes do.
  for (size_t i = 0; i < events.size(); i += 1500) {
    Feed(
        std::vector<Event>(events.begin() + i, events.begin() + std::min(events.size(), i + 1500)));
    Collect();
  }

  std::map<std::string, Expected> want;
  auto floor = [](int64_t t, int64_t w) { return (t >= 0 ? t / w : (t - w + 1) / w) * w; };
  for (const Event& e : events) {
    const bool order = e.kind == "order";
    auto at = [&](const char* metric, int64_t w, const std::string& group) -> Expected& {
      return want[fmt::format("{}|{}|{}", metric, floor(e.at_s, w), group)];
    };
    if (order) ++at("orders_1m", 60, e.store).count;
    if (order && e.vip) {
      at("amount_15m", 900, e.store + (*e.vip ? ",true" : ",false")).isum += e.amount;
    }
    Expected& mx = at("max_price_1h", 3600, std::to_string(e.region));
    mx.dmax = std::max(mx.dmax, e.price);
    Expected& mn = at("min_amount_1h", 3600, std::to_string(e.region));
    mn.imin = std::min(mn.imin, e.amount);
    if (order || e.kind == "refund") {
      Expected& avg = at("avg_amount_1d", 86400, e.store);
      ++avg.count;
      avg.dsum += static_cast<double>(e.amount);
    }
    if (e.coupon) at("coupons_1d", 86400, "").members.insert(*e.coupon);
    if (e.vip && *e.vip) at("vip_sum_price_1d", 86400, std::to_string(e.region)).dsum += e.price;
  }
  ASSERT_EQ(merged_.size(), want.size());
  for (const auto& [key, w] : want) {
    auto it = merged_.find(key);
    ASSERT_NE(it, merged_.end()) << key;
    const AggregateState& s = it->second;
    const std::string metric = key.substr(0, key.find('|'));
    if (metric == "orders_1m") {
      EXPECT_EQ(s.count, w.count) << key;
    }
    if (metric == "amount_15m") {
      EXPECT_EQ(s.i, w.isum) << key;
    }
    if (metric == "max_price_1h") {
      EXPECT_EQ(s.d, w.dmax) << key;
    }
    if (metric == "min_amount_1h") {
      EXPECT_EQ(s.i, w.imin) << key;
    }
    if (metric == "avg_amount_1d") {
      EXPECT_EQ(s.count, w.count) << key;
      EXPECT_NEAR(s.d / static_cast<double>(s.count), w.dsum / static_cast<double>(w.count), 1e-9);
    }
    if (metric == "coupons_1d") {
      EXPECT_EQ(s.count, static_cast<int64_t>(w.members.size())) << key;
      EXPECT_EQ(members_[key], w.members) << key;
    }
    if (metric == "vip_sum_price_1d") {
      EXPECT_NEAR(s.d, w.dsum, 1e-6) << key;
    }
  }
}

TEST_F(MetricAggregatorTest, LateEventsAreCountedAndStillAdded) {
  Feed({{"a", 1, true, 5, 1.0, std::nullopt, 1000, "order"}});
  agg_.AdvanceWatermark(agg_.WatermarkFor({1000 + 3600}));  // 1000's minute is long final
  Feed({{"a", 1, true, 7, 1.0, std::nullopt, 1001, "order"},
        {"a", 1, true, 7, 1.0, std::nullopt, 4590, "order"}});  // ends after the watermark
  EXPECT_EQ(agg_.late_events(), 1);
  EXPECT_EQ(late_[1], 1);
  Collect();
  EXPECT_EQ(merged_["orders_1m|960|a"].count, 2);
}

TEST_F(MetricAggregatorTest, DiscardForgetsDeltasAndMembers) {
  Feed({{"a", 1, std::nullopt, 1, 1.0, "x", 100, "order"}});
  agg_.DiscardDeltas();
  EXPECT_TRUE(agg_.TakeDeltas().empty());
  Feed({{"a", 1, std::nullopt, 1, 1.0, "x", 100, "order"}});
  Collect();
  EXPECT_EQ(members_["coupons_1d|0|"], std::set<std::string>{"x"});
  // A null group field leaves the row out of that metric only.
  EXPECT_EQ(merged_.count("amount_15m|0|a,true") + merged_.count("amount_15m|0|a,false"), 0u);
  EXPECT_EQ(merged_["orders_1m|60|a"].count, 1);
}

TEST(AggregateFunctionTest, FinalizeAndSaturation) {
  AggregateFunction sum(AggregateKind::kSum, false);
  AggregateState s;
  sum.Update(&s, INT64_MAX - 1, 0);
  sum.Update(&s, 5, 0);
  EXPECT_EQ(sum.Finalize(s).i, INT64_MAX);
  AggregateFunction min(AggregateKind::kMin, true);
  AggregateState empty;
  EXPECT_TRUE(min.Finalize(empty).is_null);
  AggregateFunction avg(AggregateKind::kAvg, false);
  AggregateState a, b;
  avg.Update(&a, 1, 0);
  avg.Update(&b, 4, 0);
  avg.Update(&b, 4, 0);
  avg.Combine(&a, b);
  EXPECT_EQ(avg.Finalize(a).d, 3.0);
  EXPECT_TRUE(avg.Finalize(a).is_float);
}

}  // namespace
}  // namespace lf::window
