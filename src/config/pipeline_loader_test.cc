#include "config/pipeline_loader.h"

#include <map>

#include "common/status.h"
#include "config/explain.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lf::config {
namespace {

using pipeline::AggregateKind;
using ::testing::HasSubstr;

const std::string kSourceDir = LF_SOURCE_DIR;

// A small valid definition the error tests break one line at a time.
constexpr char kBase[] = R"(name: shop
source:
  kafka: {topic: orders, key_as: kind}
fields:
  - {name: amount, type: int64, min: 0}
  - {name: price, type: float64}
  - {name: at, type: timestamp, unit: ms}
  - {name: store, type: string}
  - {name: vip, type: bool, optional: true}
event_time: at
metrics:
  - {name: orders_1m, window: 1m, group_by: [store], aggregate: count()}
  - {name: amount_15m, window: 15m, group_by: [store, vip], aggregate: sum(amount), where: {kind: {in: [a, b]}}}
  - {name: price_1h, window: 1h, aggregate: avg(price), where: {vip: {present: true}}}
  - {name: stores_1d, window: 1d, aggregate: count_distinct(store), where: {vip: true}}
sinks:
  postgres: {layout: wide}
  lake: {dataset: shop, partition: event_date}
)";

absl::StatusOr<pipeline::Definition> Parse(const std::string& text) {
  LoadOptions options;
  options.getenv = [](const std::string& name) -> std::optional<std::string> {
    static const std::map<std::string, std::string> env = {{"TOPIC", "from_env"}};
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  return ParsePipeline(text, "t.yaml", options);
}

// The text with `from` (which must occur) replaced by `to`.
std::string With(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

std::string ErrorOf(const std::string& text) {
  auto def = Parse(text);
  EXPECT_FALSE(def.ok()) << text;
  return def.ok() ? "" : std::string(def.status().message());
}

TEST(PipelineLoaderTest, LoadsTheBaseDefinition) {
  auto def = Parse(kBase);
  ASSERT_TRUE(def.ok()) << def.status();
  EXPECT_EQ(def->name, "shop");
  EXPECT_EQ(def->source.topic, "orders");
  ASSERT_EQ(def->fields.size(), 6u);  // the key field is added last
  EXPECT_EQ(def->fields[5].name, "kind");
  EXPECT_TRUE(def->fields[5].from_key);
  EXPECT_EQ(def->fields[2].unit, pipeline::TimeUnit::kMillis);
  EXPECT_EQ(std::get<int64_t>(*def->fields[0].min), 0);
  ASSERT_EQ(def->metrics.size(), 4u);
  EXPECT_EQ(def->metrics[1].group_by, (std::vector<std::string>{"store", "vip"}));
  EXPECT_EQ(def->metrics[1].where[0].values, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(def->metrics[2].aggregate, AggregateKind::kAvg);
  EXPECT_EQ(def->metrics[3].window, std::chrono::hours(24));
  EXPECT_EQ(def->metrics[3].where[0].values[0], "true");
  EXPECT_EQ(def->lake.partition, pipeline::LakePartition::kEventDate);
  EXPECT_EQ(def->DefaultGroup(), "lambdaflow-shop");
}

TEST(PipelineLoaderTest, ShippedDefinitionsLoad) {
  for (const char* file : {"pipelines/telecom.yaml", "pipelines/production_line.yaml",
                           "pipelines/farmia/iot_sensors.yaml", "pipelines/farmia/inventory.yaml",
                           "pipelines/farmia/suppliers.yaml", "pipelines/farmia/weather.yaml",
                           "pipelines/farmia/sales_orders.yaml"}) {
    auto def = LoadPipeline(kSourceDir + "/" + file);
    EXPECT_TRUE(def.ok()) << file << ": " << def.status();
  }
}

TEST(PipelineLoaderTest, TelecomIsTheSpecsPipeline) {
  auto def = LoadPipeline(kSourceDir + "/pipelines/telecom.yaml");
  ASSERT_TRUE(def.ok()) << def.status();
  EXPECT_EQ(def->source.topic, "devices");
  EXPECT_EQ(def->postgres.layout, pipeline::Layout::kLong);
  EXPECT_EQ(def->postgres.table, "bytes");
  EXPECT_EQ(def->lake.dataset, "devices");
  EXPECT_EQ(def->batch.table, "bytes_hourly");
  ASSERT_EQ(def->batch.metrics.size(), 4u);
  EXPECT_EQ(def->batch.metrics[2].group_by[0], "user_metadata.email");
  ASSERT_EQ(def->batch.limits.size(), 1u);
  EXPECT_EQ(def->batch.limits[0].table, "user_quota_limit");
  std::string explain = ExplainPipeline(*def);
  EXPECT_THAT(explain, HasSubstr("SUM(`bytes`) AS value"));
  EXPECT_THAT(explain, HasSubstr("window(CAST(`timestamp` AS TIMESTAMP), '5 minutes')"));
  EXPECT_THAT(explain, HasSubstr("JOIN `user_metadata` AS `user_metadata`"));
}

TEST(PipelineLoaderTest, ProductionLineDerivedAndBatch) {
  auto def = LoadPipeline(kSourceDir + "/pipelines/production_line.yaml");
  ASSERT_TRUE(def.ok()) << def.status();
  ASSERT_EQ(def->derived.size(), 1u);
  EXPECT_EQ(def->derived[0].metrics,
            (std::vector<std::string>{"daily_production", "defective_units_daily"}));
  EXPECT_EQ(def->derived[0].window, std::chrono::hours(24));
  EXPECT_EQ(def->batch.every, std::chrono::hours(24));
  ASSERT_EQ(def->batch.metrics.size(), 4u);
  EXPECT_EQ(def->batch.metrics[0].table, "units_per_zone_daily_batch");
  EXPECT_TRUE(def->Field("kind")->from_key);
  std::string explain = ExplainPipeline(*def);
  EXPECT_THAT(explain, HasSubstr("CREATE OR REPLACE VIEW \"throughput_pct\""));
  EXPECT_THAT(explain, HasSubstr("CREATE OR REPLACE VIEW \"daily_production_lambda\""));
  EXPECT_THAT(explain, HasSubstr("COUNT(DISTINCT `qls_unit_id`)"));
  EXPECT_THAT(explain, HasSubstr("`collection_point_id` = 'CP10'"));
}

TEST(PipelineLoaderTest, EnvironmentVariables) {
  auto def = Parse(With(kBase, "topic: orders", "topic: \"${TOPIC}\""));
  ASSERT_TRUE(def.ok()) << def.status();
  EXPECT_EQ(def->source.topic, "from_env");
  EXPECT_THAT(ErrorOf(With(kBase, "topic: orders", "topic: \"${NOPE}\"")),
              HasSubstr("t.yaml:3:18: source.kafka.topic: environment variable NOPE is not set"));
}

TEST(PipelineLoaderTest, NoImplicitYamlTyping) {
  // `no` is a string, not false; 010 is ten, not octal eight.
  auto def =
      Parse(With(With(kBase, "where: {vip: true}", "where: {store: no}"), "min: 0", "min: 010"));
  ASSERT_TRUE(def.ok()) << def.status();
  EXPECT_EQ(def->metrics[3].where[0].values[0], "no");
  EXPECT_EQ(std::get<int64_t>(*def->fields[0].min), 10);
  EXPECT_THAT(ErrorOf(With(kBase, "optional: true", "optional: yes")),
              HasSubstr("t.yaml:9:39: optional must be true or false, not 'yes'"));
}

// One test per kind of mistake the issue names, each with its file:line:column.
TEST(PipelineLoaderTest, UnknownKey) {
  EXPECT_THAT(ErrorOf(With(kBase, "event_time: at", "event_time: at\nwindows: 5m")),
              HasSubstr("t.yaml:11:1: unknown key 'windows' in the definition"));
  EXPECT_THAT(ErrorOf(With(kBase, "{name: orders_1m, window: 1m,", "{name: orders_1m, windw: 1m,")),
              HasSubstr("t.yaml:12:23: unknown key 'windw' in a metric"));
}

TEST(PipelineLoaderTest, UnknownField) {
  EXPECT_THAT(ErrorOf(With(kBase, "group_by: [store], aggregate: count()",
                           "group_by: [shop], aggregate: count()")),
              HasSubstr("t.yaml:12:46: metric 'orders_1m': group_by names unknown field 'shop'"));
  EXPECT_THAT(ErrorOf(With(kBase, "aggregate: sum(amount)", "aggregate: sum(amt)")),
              HasSubstr("metric 'amount_15m': aggregate names unknown field 'amt'"));
  EXPECT_THAT(ErrorOf(With(kBase, "where: {vip: true}", "where: {vp: true}")),
              HasSubstr("t.yaml:15:77: metric 'stores_1d': where names unknown field 'vp'"));
  EXPECT_THAT(ErrorOf(With(kBase, "event_time: at", "event_time: when")),
              HasSubstr("t.yaml:10:13: event_time names unknown field 'when'"));
}

TEST(PipelineLoaderTest, WrongType) {
  EXPECT_THAT(ErrorOf(With(kBase, "type: int64, min: 0", "type: integer, min: 0")),
              HasSubstr("t.yaml:5:26: field 'amount': unknown type 'integer'"));
  EXPECT_THAT(ErrorOf(With(kBase, "type: int64, min: 0", "type: integer, min: 0")),
              ::testing::Not(HasSubstr("unknown field 'amount'")));
  EXPECT_THAT(ErrorOf(With(kBase, "aggregate: avg(price)", "aggregate: avg(store)")),
              HasSubstr("avg needs an int64 or float64 field; 'store' is string"));
  EXPECT_THAT(ErrorOf(With(kBase, "where: {vip: true}", "where: {vip: maybe}")),
              HasSubstr("'maybe' is not a bool (the type of field 'vip')"));
  EXPECT_THAT(ErrorOf(With(kBase, "group_by: [store], aggregate: count()",
                           "group_by: [price], aggregate: count()")),
              HasSubstr("cannot group by float64 field 'price'"));
  EXPECT_THAT(ErrorOf(With(kBase, "fields:\n", "fields: 3\nx:\n")),
              HasSubstr("t.yaml:4:9: fields must be a non-empty list"));
}

TEST(PipelineLoaderTest, BadDuration) {
  EXPECT_THAT(ErrorOf(With(kBase, "window: 1m", "window: 1 minute")),
              HasSubstr("t.yaml:12:31: metric 'orders_1m': window: bad duration '1 minute'"));
  EXPECT_THAT(ErrorOf(With(kBase, "event_time: at", "event_time: at\nlateness: soon")),
              HasSubstr("t.yaml:11:11: lateness: bad duration 'soon'"));
}

TEST(PipelineLoaderTest, WindowThatDoesNotDivideADay) {
  EXPECT_THAT(ErrorOf(With(kBase, "window: 15m", "window: 7m")),
              HasSubstr("t.yaml:13:32: metric 'amount_15m': window: '7m' does not divide a day"));
  EXPECT_THAT(ErrorOf(With(kBase, "window: 1d", "window: 2d")), HasSubstr("does not divide a day"));
}

TEST(PipelineLoaderTest, UnsafeTableName) {
  EXPECT_THAT(
      ErrorOf(With(kBase, "aggregate: count()}", "aggregate: count(), table: 'x; DROP TABLE y'}")),
      HasSubstr("metric 'orders_1m': table 'x; DROP TABLE y' is not a plain SQL name"));
  EXPECT_THAT(ErrorOf(With(kBase, "name: shop", "name: Shop-1")),
              HasSubstr("t.yaml:1:7: name 'Shop-1' must match [a-z][a-z0-9_]{0,40}"));
  EXPECT_THAT(ErrorOf(With(kBase, "{name: orders_1m,", "{name: \"orders\\\"1m\",")),
              HasSubstr("metric name 'orders\"1m' must match"));
  EXPECT_THAT(ErrorOf(With(kBase, "dataset: shop", "dataset: ../../etc")),
              HasSubstr("sinks.lake.dataset '../../etc' must be a relative path"));
}

TEST(PipelineLoaderTest, DuplicateMetric) {
  EXPECT_THAT(ErrorOf(With(kBase, "name: amount_15m", "name: orders_1m")),
              HasSubstr("t.yaml:13:5: metric 'orders_1m' is declared twice"));
  EXPECT_THAT(ErrorOf(With(kBase, "name: price,", "name: amount,")),
              HasSubstr("t.yaml:6:12: field 'amount' is declared twice"));
  EXPECT_THAT(ErrorOf(With(kBase, "event_time: at", "event_time: at\nevent_time: at")),
              HasSubstr("t.yaml:11:1: key 'event_time' appears twice in the definition"));
}

TEST(PipelineLoaderTest, DerivedOverDifferentWindows) {
  std::string text =
      std::string(kBase) + "derived:\n  - {name: ratio, expr: orders_1m / amount_15m}\n";
  EXPECT_THAT(ErrorOf(text), HasSubstr("t.yaml:20:25: derived 'ratio': metrics 'orders_1m' (1m by "
                                       "[store]) and 'amount_15m' (15m by [store, vip]) have "
                                       "different windows or group_by"));
  EXPECT_THAT(ErrorOf(std::string(kBase) + "derived:\n  - {name: r, expr: orders_1m / nope}\n"),
              HasSubstr("derived 'r': 'nope' is not a metric of this pipeline"));
  EXPECT_THAT(ErrorOf(std::string(kBase) + "derived:\n  - {name: r, expr: orders_1m +}\n"),
              HasSubstr("derived 'r': expression ends early at character 12"));
  auto ok = Parse(std::string(kBase) + "derived:\n  - {name: r, expr: 2 * orders_1m}\n");
  EXPECT_TRUE(ok.ok()) << ok.status();
}

TEST(PipelineLoaderTest, ManyErrorsAreAllReportedInOrder) {
  std::string text =
      With(With(kBase, "window: 15m", "window: 7m"), "type: int64, min: 0", "type: int65, min: 0");
  std::string error = ErrorOf(text);
  size_t first = error.find("t.yaml:5:");
  size_t second = error.find("t.yaml:13:");
  EXPECT_NE(first, std::string::npos) << error;
  EXPECT_NE(second, std::string::npos) << error;
  EXPECT_LT(first, second);
}

TEST(PipelineLoaderTest, LongLayoutNeedsOneGroupAndIntegers) {
  std::string text = With(kBase, "postgres: {layout: wide}", "postgres: {layout: long, table: m}");
  EXPECT_THAT(ErrorOf(text), HasSubstr("metric 'amount_15m': the long layout needs exactly one "
                                       "group_by field and integer values"));
  EXPECT_THAT(ErrorOf(With(kBase, "postgres: {layout: wide}", "postgres: {layout: long}")),
              HasSubstr("the long layout needs 'table'"));
}

TEST(PipelineLoaderTest, NotYamlAndHostileInput) {
  EXPECT_THAT(ErrorOf("name: [unclosed"), HasSubstr("t.yaml:"));
  EXPECT_THAT(ErrorOf("name: x\n---\nname: y\n"), HasSubstr("one pipeline per file"));
  EXPECT_THAT(ErrorOf(""), HasSubstr("t.yaml:1:1: the file is empty"));
  EXPECT_THAT(ErrorOf("- a\n- b\n"), HasSubstr("the definition must be a map"));
  EXPECT_THAT(ErrorOf(std::string(10000, '[')), HasSubstr("nested more than 64 levels"));
  std::string dashes;
  for (int i = 0; i < 5000; ++i) dashes += "- ";
  EXPECT_THAT(ErrorOf(dashes + "x"), HasSubstr("nested more than 64 levels"));
}

TEST(PipelineLoaderTest, BatchSection) {
  std::string text = std::string(kBase) +
                     "batch:\n  every: 1d\n  metrics:\n    - orders_1m\n"
                     "    - {name: amount_15m, window: 1h, group_by: [store, vip], aggregate: "
                     "sum(amount)}\n";
  auto def = Parse(text);
  ASSERT_TRUE(def.ok()) << def.status();
  ASSERT_EQ(def->batch.metrics.size(), 2u);
  EXPECT_EQ(def->batch.metrics[1].window, std::chrono::hours(1));
  EXPECT_THAT(ErrorOf(With(text, "every: 1d", "every: 2h")),
              HasSubstr("batch.every must be 1h or 1d, not '2h'"));
  EXPECT_THAT(
      ErrorOf(With(text, "window: 1h, group_by: [store, vip]", "window: 1h, group_by: [store]")),
      HasSubstr("has the name of a speed metric but not its group_by"));
  EXPECT_THAT(ErrorOf(std::string(kBase) +
                      "batch:\n  metrics: [price_1h]\n  every: 1h\n"
                      "  limits:\n    - {name: l, metric: price_1h, limit: x.y, label: x.z}\n"),
              HasSubstr("'limit' must name a numeric lookup column"));
}

TEST(PipelineLoaderTest, MissingFile) {
  auto def = LoadPipeline("/nonexistent/p.yaml");
  ASSERT_FALSE(def.ok());
  EXPECT_THAT(std::string(def.status().message()),
              HasSubstr("cannot read definition /nonexistent/p.yaml"));
}

}  // namespace
}  // namespace lf::config
