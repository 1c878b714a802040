// The speed layer's PostgreSQL sinks against a real server: a private cluster (LocalServer) for
// this test binary, a fresh database per test. What is checked is the exactly-once contract of
// pipeline/commit_sink.h as PostgreSQL holds it: a flush applies entirely or not at all, a flush
// whose expected offsets are stale changes nothing (Aborted), a lost connection is survived
// without applying anything twice, and each aggregate kind merges exactly (DESIGN.md).

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/pipeline_loader.h"
#include "fmt/format.h"
#include "postgres/batch_store.h"
#include "postgres/connection.h"
#include "postgres/local_server.h"
#include "postgres/metric_sink.h"
#include "postgres/speed_sink.h"
#include "postgres/sql_array.h"

namespace lf::postgres {
namespace {

namespace fs = std::filesystem;
using pipeline::kNoOffset;
using pipeline::MetricRow;
using pipeline::PartitionProgress;
using pipeline::SpeedFlush;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

using Rows = std::vector<std::vector<std::string>>;

#define ASSERT_OK(expr)           \
  do {                            \
    absl::Status st_ = (expr);    \
    ASSERT_TRUE(st_.ok()) << st_; \
  } while (0)

// One private cluster for the whole binary (gtest runs it in one process, see CMakeLists.txt).
class Cluster : public ::testing::Environment {
 public:
  static Cluster* instance;

  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("lf-sink-test-{}", getpid());
    fs::remove_all(dir_);
    auto server = LocalServer::Start(dir_.string());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  void TearDown() override {
    if (server_) {
      EXPECT_TRUE(server_->Stop().ok());
    }
    server_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // The URI of a new, empty database.
  std::string NewDatabase() {
    if (!server_) return "";
    const std::string& uri = server_->uri();  // …/lambdaflow
    std::string base = uri.substr(0, uri.rfind('/') + 1);
    std::string name = fmt::format("sink_test_{}", ++databases_);
    auto admin = ParseConnTarget(uri);
    EXPECT_TRUE(admin.ok()) << admin.status();
    auto conn = Connect(*admin);
    EXPECT_TRUE(conn.ok()) << conn.status();
    EXPECT_TRUE(Exec(conn->get(), "CREATE DATABASE " + name, "create the test database").ok());
    return base + name;
  }

 private:
  fs::path dir_;
  std::unique_ptr<LocalServer> server_;
  std::atomic<int> databases_{0};
};
Cluster* Cluster::instance = nullptr;

[[maybe_unused]] const auto* const kRegistered =
    ::testing::AddGlobalTestEnvironment(Cluster::instance = new Cluster);

class SinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    uri_ = Cluster::instance->NewDatabase();
    ASSERT_FALSE(uri_.empty()) << "no PostgreSQL server for the test";
    auto target = ParseConnTarget(uri_);
    ASSERT_TRUE(target.ok()) << target.status();
    target_ = *target;
    auto conn = Connect(target_);
    ASSERT_TRUE(conn.ok()) << conn.status();
    check_ = std::move(*conn);
  }

  // Every row of `sql` as text ("NULL" for SQL NULL), through a connection of the test's own.
  Rows Query(const std::string& sql) {
    auto r = postgres::Query(check_.get(), sql, {}, "test query");
    EXPECT_TRUE(r.ok()) << r.status();
    Rows rows;
    if (!r.ok()) return rows;
    for (int i = 0; i < PQntuples(r->get()); ++i) {
      std::vector<std::string> row;
      for (int j = 0; j < PQnfields(r->get()); ++j)
        row.push_back(PQgetisnull(r->get(), i, j) ? "NULL" : PQgetvalue(r->get(), i, j));
      rows.push_back(std::move(row));
    }
    return rows;
  }

  std::string uri_;
  ConnTarget target_;
  PgConn check_;
};

PartitionProgress Progress(int32_t partition, int64_t expected, int64_t next,
                           int64_t max_event_time_s = 0) {
  PartitionProgress p;
  p.partition = partition;
  p.expected_offset = expected;
  p.next_offset = next;
  p.max_event_time_s = max_event_time_s;
  p.events = next - (expected == kNoOffset ? 0 : expected);
  return p;
}

// Opens a sink and loads partitions 0-3, as a process does when they are assigned to it.
std::unique_ptr<PgSpeedSink> OpenSpeedSink(const ConnTarget& target,
                                           const std::string& group = "lambdaflow-speed") {
  SpeedSinkOptions o;
  o.target = target;
  o.pipeline = group;
  auto sink = PgSpeedSink::Open(o);
  EXPECT_TRUE(sink.ok()) << sink.status();
  if (!sink.ok()) return nullptr;
  auto loaded = (*sink)->Load({0, 1, 2, 3});
  EXPECT_TRUE(loaded.ok()) << loaded.status();
  return std::move(*sink);
}

// A flush of the telecom (long-layout) sink: one total for window `w`, device `key`.
SpeedFlush TotalFlush(int64_t w, const char* key, int64_t value, PartitionProgress progress) {
  SpeedFlush f;
  f.rows.push_back({w, "user_bytes_total", key, value});
  f.progress.push_back(progress);
  return f;
}

TEST_F(SinkTest, SpeedSinkAddsTotalsAndAdvancesOffsetsTogether) {
  auto sink = OpenSpeedSink(target_);
  ASSERT_NE(sink, nullptr);
  auto loaded = sink->Load({0, 1});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)[0].next_offset, kNoOffset);
  EXPECT_EQ((*loaded)[0].max_event_time_s, pipeline::kNoEventTime);

  ASSERT_OK(sink->Commit(TotalFlush(1800, "d1", 5, Progress(0, kNoOffset, 10, 1805))));
  ASSERT_OK(sink->Commit(TotalFlush(1800, "d1", 7, Progress(0, 10, 25, 1900))));
  EXPECT_THAT(Query("SELECT \"timestamp\"::text, id, type, value::text FROM bytes"),
              ElementsAre(ElementsAre("1970-01-01 00:30:00", "d1", "user_bytes_total", "12")));

  loaded = sink->Load({0, 1});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)[0].next_offset, 25);
  EXPECT_EQ((*loaded)[0].max_event_time_s, 1900);
  EXPECT_EQ((*loaded)[1].next_offset, kNoOffset);
  // What another process of the group would load.
  auto other = OpenSpeedSink(target_);
  ASSERT_NE(other, nullptr);
  auto seen = other->Load({0});
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ((*seen)[0].next_offset, 25);
  // Another group is another consumer: it starts from the beginning.
  auto stranger = OpenSpeedSink(target_, "another-group");
  ASSERT_NE(stranger, nullptr);
  seen = stranger->Load({0});
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ((*seen)[0].next_offset, kNoOffset);
}

TEST_F(SinkTest, AStaleFlushIsAbortedAndChangesNothing) {
  auto a = OpenSpeedSink(target_);
  auto b = OpenSpeedSink(target_);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_OK(a->Commit(TotalFlush(60, "d1", 5, Progress(0, kNoOffset, 10))));

  // b still believes partition 0 is uncommitted (it was taken over meanwhile); its flush also
  // carries partition 1 and a dead letter: none of it may land.
  SpeedFlush stale = TotalFlush(60, "d1", 100, Progress(0, kNoOffset, 8));
  stale.rows.push_back({60, "user_bytes_total", "d2", 3});
  stale.progress.push_back(Progress(1, kNoOffset, 4));
  stale.dead_letters.push_back({1, 2, "not json", "bad json"});
  absl::Status st = b->Commit(stale);
  EXPECT_TRUE(absl::IsAborted(st)) << st;
  EXPECT_THAT(Query("SELECT id, value::text FROM bytes ORDER BY id"),
              ElementsAre(ElementsAre("d1", "5")));
  EXPECT_THAT(Query("SELECT partition::text, next_offset::text FROM lf_offsets "
                    "WHERE partition IN (0, 1) ORDER BY 1"),
              ElementsAre(ElementsAre("0", "10"), ElementsAre("1", "-1")));
  EXPECT_THAT(Query("SELECT count(*)::text FROM dead_letters"), ElementsAre(ElementsAre("0")));

  // Without the stale partition, b's own partition commits.
  SpeedFlush own = TotalFlush(60, "d2", 3, Progress(1, kNoOffset, 4));
  ASSERT_OK(b->Commit(own));
  EXPECT_THAT(Query("SELECT id, value::text FROM bytes ORDER BY id"),
              ElementsAre(ElementsAre("d1", "5"), ElementsAre("d2", "3")));
}

TEST_F(SinkTest, DeadLettersAndLossesCommitWithTheirOffsets) {
  auto sink = OpenSpeedSink(target_);
  ASSERT_NE(sink, nullptr);
  SpeedFlush f;
  f.progress.push_back(Progress(3, kNoOffset, 50));
  f.dead_letters.push_back({3, 7, std::string("\x00\xff{\"id\":", 8), "line 1: bad json"});
  f.losses.push_back({3, 10, 40});
  ASSERT_OK(sink->Commit(f));
  EXPECT_THAT(
      Query("SELECT topic, partition::text, \"offset\"::text, encode(payload, 'hex'), error "
            "FROM dead_letters"),
      ElementsAre(ElementsAre("devices", "3", "7", "00ff7b226964223a", "line 1: bad json")));
  EXPECT_THAT(Query("SELECT pipeline, topic, partition::text, from_offset::text, to_offset::text "
                    "FROM lf_data_loss"),
              ElementsAre(ElementsAre("lambdaflow-speed", "devices", "3", "10", "40")));
}

TEST_F(SinkTest, SpeedSinkTotalsSaturateAtTheBigintRange) {
  auto sink = OpenSpeedSink(target_);
  ASSERT_NE(sink, nullptr);
  const int64_t max = std::numeric_limits<int64_t>::max();
  ASSERT_OK(sink->Commit(TotalFlush(60, "d1", max - 1, Progress(0, kNoOffset, 1))));
  ASSERT_OK(sink->Commit(TotalFlush(60, "d1", 5, Progress(0, 1, 2))));
  EXPECT_THAT(Query("SELECT value::text FROM bytes"),
              ElementsAre(ElementsAre(std::to_string(max))));
}

TEST_F(SinkTest, ALostConnectionIsRetriedWithoutApplyingAFlushTwice) {
  auto sink = OpenSpeedSink(target_);
  ASSERT_NE(sink, nullptr);
  ASSERT_OK(sink->Commit(TotalFlush(60, "d1", 5, Progress(0, kNoOffset, 10))));
  // The server drops the sink's connection (as a restart or a failover would).
  Query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
      "WHERE datname = current_database() AND pid <> pg_backend_pid()");
  SpeedFlush next = TotalFlush(60, "d1", 7, Progress(0, 10, 20));
  absl::Status st = sink->Commit(next);
  int failures = 0;
  while (!st.ok() && failures < 3) {
    EXPECT_FALSE(absl::IsAborted(st)) << st;
    ++failures;
    st = sink->Commit(next);  // the speed layer retries the same flush
  }
  ASSERT_TRUE(st.ok()) << st;
  // Found lost at BEGIN, before anything was sent: reconnected within the same call (the speed
  // layer's last flush at shutdown has no later retry).
  EXPECT_EQ(failures, 0);
  EXPECT_THAT(Query("SELECT value::text FROM bytes"), ElementsAre(ElementsAre("12")));
  // Retrying a flush that did land is refused: it cannot be applied twice.
  EXPECT_TRUE(absl::IsAborted(sink->Commit(next)));
  EXPECT_THAT(Query("SELECT value::text FROM bytes"), ElementsAre(ElementsAre("12")));
}

TEST_F(SinkTest, APartitionWhoseOffsetsWereNeverLoadedIsNotCommitted) {
  auto sink = OpenSpeedSink(target_);  // loads 0-3
  ASSERT_NE(sink, nullptr);
  absl::Status st = sink->Commit(TotalFlush(60, "d1", 5, Progress(9, kNoOffset, 10)));
  EXPECT_TRUE(absl::IsAborted(st)) << st;
  EXPECT_THAT(st.message(), HasSubstr("partition 9 of topic devices has no row in lf_offsets"));
  EXPECT_THAT(Query("SELECT count(*)::text FROM bytes"), ElementsAre(ElementsAre("0")));
}

TEST_F(SinkTest, AnUnsafeTableNameIsRefused) {
  SpeedSinkOptions o;
  o.target = target_;
  o.table = "bytes; DROP TABLE lf_offsets";
  auto sink = PgSpeedSink::Open(o);
  ASSERT_FALSE(sink.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(sink.status())) << sink.status();
  EXPECT_THAT(sink.status().message(), HasSubstr("--table"));
}

// BinaryArray's bytes as the server reads them: each element's text next to what the server makes
// of the same value given as text (to_timestamp for the times), in order, NULLs kept.
TEST_F(SinkTest, BinaryArraysReadBackAsTheSameValues) {
  auto each = [&](BinaryArray& a, const char* type) {
    const std::string view(a.Finish());
    auto r = QueryBinary(check_.get(),
                         fmt::format("SELECT coalesce(x::text, 'NULL') FROM unnest($1::{}[]) WITH "
                                     "ORDINALITY AS u(x, i) ORDER BY i",
                                     type),
                         {view}, "test binary array");
    EXPECT_TRUE(r.ok()) << r.status();
    std::vector<std::string> out;
    if (!r.ok()) return out;
    for (int i = 0; i < PQntuples(r->get()); ++i) out.push_back(PQgetvalue(r->get(), i, 0));
    return out;
  };
  using T = BinaryArray::Type;
  const int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
  BinaryArray ints(T::kInt8);
  for (int64_t v : {lo, int64_t{-1}, int64_t{0}, int64_t{300}, hi}) ints.AddInt(v);
  ints.AddNull();
  EXPECT_THAT(each(ints, "bigint"),
              ElementsAre(std::to_string(lo), "-1", "0", "300", std::to_string(hi), "NULL"));

  BinaryArray doubles(T::kFloat8);
  for (double v : {0.1, -1e300, -0.0, std::numeric_limits<double>::infinity(),
                   std::numeric_limits<double>::quiet_NaN()})
    doubles.AddDouble(v);
  EXPECT_THAT(each(doubles, "float8"), ElementsAre("0.1", "-1e+300", "-0", "Infinity", "NaN"));

  BinaryArray texts(T::kText);
  const std::string long_text(5000, 'x');
  for (const char* v : {"", "q\"uo\\te, {x}", "NULL",
                        "\xc3\xbcn\xc3\xaf"
                        "code"})
    texts.AddText(v);
  texts.AddText(long_text);
  texts.AddNull();
  EXPECT_THAT(each(texts, "text"), ElementsAre("", "q\"uo\\te, {x}", "NULL",
                                               "\xc3\xbcn\xc3\xaf"
                                               "code",
                                               long_text, "NULL"));

  // Window starts from year 1 to 9999 (the decoders' bounds), before 1970, 2000 and 2038.
  const std::vector<int64_t> seconds = {-62135596800, -1,         0,          946684799,
                                        946684800,    2147483648, 1795132800, 253402300799};
  BinaryArray times(T::kTimestamp), as_seconds(T::kInt8);
  for (int64_t s : seconds) {
    times.AddTimestamp(s);
    as_seconds.AddInt(s);
  }
  const std::string t(times.Finish()), n(as_seconds.Finish());
  auto r = QueryBinary(check_.get(),
                       "SELECT t::text, (t = to_timestamp(s) AT TIME ZONE 'UTC')::text FROM "
                       "unnest($1::timestamp[], $2::bigint[]) AS u(t, s)",
                       {t, n}, "test timestamps");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(PQntuples(r->get()), static_cast<int>(seconds.size()));
  for (int i = 0; i < PQntuples(r->get()); ++i)
    EXPECT_STREQ(PQgetvalue(r->get(), i, 1), "true") << PQgetvalue(r->get(), i, 0);
  EXPECT_STREQ(PQgetvalue(r->get(), 0, 0), "0001-01-01 00:00:00");
  EXPECT_STREQ(PQgetvalue(r->get(), 1, 0), "1969-12-31 23:59:59");
  EXPECT_STREQ(PQgetvalue(r->get(), 7, 0), "9999-12-31 23:59:59");

  BinaryArray empty(T::kInt8);
  EXPECT_THAT(each(empty, "bigint"), ElementsAre());

  // Refused, never wrapped or stored as something else: a time past PostgreSQL's range, text
  // that is not UTF-8, and an element type other than the statement's.
  BinaryArray far(T::kTimestamp);
  far.AddTimestamp(hi);
  const std::string far_bytes(far.Finish());
  auto refused = QueryBinary(check_.get(), "SELECT unnest($1::timestamp[])", {far_bytes}, "far");
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("out of range"));
  BinaryArray latin1(T::kText);
  latin1.AddText("caf\xe9");
  const std::string latin1_bytes(latin1.Finish());
  refused = QueryBinary(check_.get(), "SELECT unnest($1::text[])", {latin1_bytes}, "latin1");
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("UTF8"));
  BinaryArray wrong(T::kText);
  wrong.AddText("1");
  const std::string wrong_bytes(wrong.Finish());
  refused = QueryBinary(check_.get(), "SELECT unnest($1::bigint[])", {wrong_bytes}, "wrong type");
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("instead of expected"));
}

// A flush in no particular order lands in the unique key's order, every total right, in a table
// made to keep half of each page free for the next flushes' updates.
TEST_F(SinkTest, SpeedSinkWritesAFlushInKeyOrder) {
  auto sink = OpenSpeedSink(target_);
  ASSERT_NE(sink, nullptr);
  SpeedFlush f;  // its rows view these strings
  std::vector<std::string> keys;
  for (int k = 0; k < 97; ++k) keys.push_back(fmt::format("d{}", k));
  std::map<std::tuple<int64_t, std::string, std::string>, int64_t> want;
  uint64_t x = 12345;
  for (int i = 0; i < 300; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;  // any scrambled order
    const int64_t w = 300 * static_cast<int64_t>((x >> 33) % 3);
    const std::string& key = keys[(x >> 40) % keys.size()];
    const char* metric = (x >> 20) % 2 ? "user_bytes_total" : "antenna_bytes_total";
    auto [it, added] = want.try_emplace({w, key, metric}, 0);
    if (!added) continue;  // a flush holds each window, key and metric once
    it->second = static_cast<int64_t>(x >> 50);
    f.rows.push_back({w, metric, key, it->second});
  }
  f.progress.push_back(Progress(0, kNoOffset, 300));
  ASSERT_OK(sink->Commit(f));
  Rows got = Query(
      "SELECT extract(epoch FROM \"timestamp\")::bigint::text, id, type, value::text FROM bytes "
      "ORDER BY ctid");
  ASSERT_EQ(got.size(), want.size());
  size_t i = 0;
  for (const auto& [k, v] : want) {
    EXPECT_THAT(got[i], ElementsAre(std::to_string(std::get<0>(k)), std::get<1>(k), std::get<2>(k),
                                    std::to_string(v)))
        << "row " << i;
    ++i;
  }
  EXPECT_THAT(
      Query("SELECT array_to_string(reloptions, ',') FROM pg_class WHERE relname = 'bytes'"),
      ElementsAre(ElementsAre("fillfactor=50")));
}

// Every aggregate kind, grouped by one string field, plus an ungrouped float sum.
constexpr char kDefinition[] = R"(name: sinks
source:
  kafka: {topic: sales}
  format: json
fields:
  - {name: store, type: string}
  - {name: n, type: int64}
  - {name: x, type: float64}
  - {name: buyer, type: string}
  - {name: at, type: timestamp, unit: s}
event_time: at
metrics:
  - {name: sales_count, window: 1m, group_by: [store], aggregate: count()}
  - {name: sales_sum, window: 1m, group_by: [store], aggregate: sum(n)}
  - {name: sales_min, window: 1m, group_by: [store], aggregate: min(n)}
  - {name: sales_max, window: 1m, group_by: [store], aggregate: max(n)}
  - {name: sales_avg, window: 1m, group_by: [store], aggregate: avg(n)}
  - {name: buyers, window: 1m, group_by: [store], aggregate: count_distinct(buyer)}
  - {name: weight, window: 1h, aggregate: sum(x)}
sinks:
  postgres: {layout: wide}
)";

class MetricSinkTest : public SinkTest {
 protected:
  void SetUp() override {
    SinkTest::SetUp();
    auto def = config::ParsePipeline(kDefinition, "sinks.yaml");
    ASSERT_TRUE(def.ok()) << def.status();
    def_ = *def;
  }

  std::unique_ptr<PgMetricSink> Open() {
    MetricSinkOptions o;
    o.target = target_;
    o.definition = &def_;
    o.pipeline = def_.DefaultGroup();
    o.topic = "sales";
    auto sink = PgMetricSink::Open(o);
    EXPECT_TRUE(sink.ok()) << sink.status();
    if (!sink.ok()) return nullptr;
    auto loaded = (*sink)->Load({0, 1});
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    return std::move(*sink);
  }

  uint32_t Index(const std::string& name) const {
    return static_cast<uint32_t>(def_.Metric(name) - def_.metrics.data());
  }

  // One flush's partial aggregates for store `store` in window 120, and 3600 for the float sum.
  SpeedFlush Partials(const std::string& store, int64_t count, int64_t sum, int64_t min,
                      int64_t max, std::vector<std::string> buyers, double weight,
                      PartitionProgress progress) {
    SpeedFlush f;
    auto row = [&](const char* metric) {
      MetricRow r;
      r.metric = Index(metric);
      r.window_start_s = 120;
      r.group = {store};
      return r;
    };
    MetricRow c = row("sales_count");
    c.count = count;
    MetricRow s = row("sales_sum");
    s.i = sum;
    s.count = count;
    MetricRow lo = row("sales_min");
    lo.i = min;
    lo.count = count;
    MetricRow hi = row("sales_max");
    hi.i = max;
    hi.count = count;
    MetricRow avg = row("sales_avg");
    avg.d = static_cast<double>(sum);
    avg.count = count;
    MetricRow distinct = row("buyers");
    distinct.members = std::move(buyers);
    MetricRow w;
    w.metric = Index("weight");
    w.window_start_s = 3600;
    w.d = weight;
    w.count = count;
    f.metric_rows = {c, s, lo, hi, avg, distinct, w};
    f.progress.push_back(progress);
    return f;
  }

  pipeline::Definition def_;
};

TEST_F(MetricSinkTest, EveryAggregateKindMergesExactly) {
  auto sink = Open();
  ASSERT_NE(sink, nullptr);
  // Two flushes of partition 0 and one of partition 1 (another process of the group) into the
  // same window and store.
  ASSERT_OK(
      sink->Commit(Partials("s1", 3, 30, 4, 20, {"ann", "bob"}, 1.5, Progress(0, kNoOffset, 3))));
  ASSERT_OK(sink->Commit(Partials("s1", 2, 12, 2, 9, {"bob", "cy"}, 0.25, Progress(0, 3, 5))));
  auto other = Open();
  ASSERT_NE(other, nullptr);
  ASSERT_OK(
      other->Commit(Partials("s1", 1, 50, 50, 50, {"ann", "dee"}, 2.0, Progress(1, kNoOffset, 1))));

  auto shape = [](const char* table) {
    return fmt::format("SELECT window_start::text, store, value::text FROM {}", table);
  };
  EXPECT_THAT(Query(shape("sales_count")),
              ElementsAre(ElementsAre("1970-01-01 00:02:00", "s1", "6")));
  EXPECT_THAT(Query(shape("sales_sum")),
              ElementsAre(ElementsAre("1970-01-01 00:02:00", "s1", "92")));
  EXPECT_THAT(Query(shape("sales_min")),
              ElementsAre(ElementsAre("1970-01-01 00:02:00", "s1", "2")));
  EXPECT_THAT(Query(shape("sales_max")),
              ElementsAre(ElementsAre("1970-01-01 00:02:00", "s1", "50")));
  EXPECT_THAT(
      Query("SELECT store, value_sum::text, value_count::text, round(value::numeric, 6)::text "
            "FROM sales_avg"),
      ElementsAre(ElementsAre("s1", "92", "6", "15.333333")));
  // ann and bob were sent twice (by two flushes and by two processes): counted once each.
  EXPECT_THAT(Query(shape("buyers")), ElementsAre(ElementsAre("1970-01-01 00:02:00", "s1", "4")));
  EXPECT_THAT(
      Query("SELECT member FROM buyers_members ORDER BY member"),
      ElementsAre(ElementsAre("ann"), ElementsAre("bob"), ElementsAre("cy"), ElementsAre("dee")));
  EXPECT_THAT(Query("SELECT window_start::text, value::text FROM weight"),
              ElementsAre(ElementsAre("1970-01-01 01:00:00", "3.75")));
  // The speed layer's tables keep room on each page for their rows' next versions.
  EXPECT_THAT(Query("SELECT array_to_string(reloptions, ',') FROM pg_class WHERE relname = "
                    "'sales_sum'"),
              ElementsAre(ElementsAre("fillfactor=50")));
  EXPECT_THAT(Query("SELECT partition::text, next_offset::text FROM lf_offsets "
                    "WHERE pipeline = 'lambdaflow-sinks' AND sink = 'pg:sinks' ORDER BY 1"),
              ElementsAre(ElementsAre("0", "5"), ElementsAre("1", "1")));
}

TEST_F(MetricSinkTest, AnAbortedFlushLeavesEveryMetricAndItsMembersUnchanged) {
  auto sink = Open();
  ASSERT_NE(sink, nullptr);
  ASSERT_OK(sink->Commit(Partials("s1", 3, 30, 4, 20, {"ann"}, 1.5, Progress(0, kNoOffset, 3))));
  absl::Status st =
      sink->Commit(Partials("s1", 9, 90, 1, 99, {"zed"}, 9.0, Progress(0, kNoOffset, 12)));
  EXPECT_TRUE(absl::IsAborted(st)) << st;
  EXPECT_THAT(Query("SELECT (SELECT value FROM sales_count)::text, (SELECT value FROM "
                    "sales_sum)::text, (SELECT value FROM sales_min)::text, (SELECT value FROM "
                    "sales_max)::text, (SELECT value_count FROM sales_avg)::text, (SELECT value "
                    "FROM buyers)::text, (SELECT value FROM weight)::text"),
              ElementsAre(ElementsAre("3", "30", "4", "20", "3", "1", "1.5")));
  EXPECT_THAT(Query("SELECT member FROM buyers_members"), ElementsAre(ElementsAre("ann")));
}

TEST_F(MetricSinkTest, IntegerSumsSaturateAtTheBigintRange) {
  auto sink = Open();
  ASSERT_NE(sink, nullptr);
  const int64_t min = std::numeric_limits<int64_t>::min();
  ASSERT_OK(sink->Commit(Partials("s1", 1, min + 3, 0, 0, {}, 0, Progress(0, kNoOffset, 1))));
  ASSERT_OK(sink->Commit(Partials("s1", 1, -10, 0, 0, {}, 0, Progress(0, 1, 2))));
  EXPECT_THAT(Query("SELECT value::text FROM sales_sum"),
              ElementsAre(ElementsAre(std::to_string(min))));
}

TEST_F(MetricSinkTest, TheLongLayoutIsNotItsJob) {
  def_.postgres.layout = pipeline::Layout::kLong;
  MetricSinkOptions o;
  o.target = target_;
  o.definition = &def_;
  o.pipeline = def_.DefaultGroup();
  auto sink = PgMetricSink::Open(o);
  ASSERT_FALSE(sink.ok());
  EXPECT_THAT(sink.status().message(), HasSubstr("wide layout"));
}

// The batch layer's store: an hour's transaction begun early (Prepare, on another thread while
// the lake is aggregated), continued by Replace or rolled back by Abandon.
class BatchStoreTest : public SinkTest {
 protected:
  std::unique_ptr<PgBatchStore> OpenStore() {
    BatchStoreOptions o;
    o.target = target_;
    auto store = PgBatchStore::Open(o);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }
  static pipeline::HourResult Result(std::vector<pipeline::HourlyRow> rows) {
    pipeline::HourResult r;
    r.hour_s = kHour;
    r.events = 1;
    r.rows = std::move(rows);
    return r;
  }
  Rows HourRows() {
    return Query("SELECT type, id, value::text FROM bytes_hourly ORDER BY type, id");
  }
  static constexpr int64_t kHour = 1795338000;  // 2026-11-22T09:00:00Z
};

TEST_F(BatchStoreTest, APreparedHourIsReplacedAndAnAbandonedOneChangesNothing) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->Prepare(kHour));
  ASSERT_OK(
      store->Replace(Result({{"a", "app_bytes_total", 5}, {"b", "app_bytes_total", 7}}), -1, 10));
  EXPECT_THAT(HourRows(), ElementsAre(ElementsAre("app_bytes_total", "a", "5"),
                                      ElementsAre("app_bytes_total", "b", "7")));
  // Abandoned: nothing written, and the connection is out of the transaction (a failure
  // recorded afterwards is committed, not left in an open transaction).
  ASSERT_OK(store->Prepare(kHour));
  store->Abandon();
  ASSERT_OK(store->RecordFailure(kHour, "lake: corrupt file", 3));
  EXPECT_THAT(Query("SELECT status FROM lf_batch_runs ORDER BY finished_at, status"),
              ElementsAre(ElementsAre("ok"), ElementsAre("failed")));
  // Without Prepare, Replace begins the transaction itself; rows not in the result go.
  ASSERT_OK(store->Replace(Result({{"b", "app_bytes_total", 8}}), -1, 10));
  EXPECT_THAT(HourRows(), ElementsAre(ElementsAre("app_bytes_total", "b", "8")));
}

// Two runs of one hour take turns: a prepared hour holds the lock, and the other run's diff is
// computed from the rows the first committed (no duplicate key, no stale delete).
TEST_F(BatchStoreTest, APreparedHourHoldsAnotherRunOfTheHourBack) {
  auto first = OpenStore();
  auto second = OpenStore();
  ASSERT_TRUE(first && second);
  ASSERT_OK(first->Prepare(kHour));
  std::atomic<bool> second_done{false};
  absl::Status second_status;
  std::thread other([&] {
    second_status =
        second->Replace(Result({{"a", "app_bytes_total", 1}, {"c", "app_bytes_total", 3}}), -1, 10);
    second_done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(second_done) << "the second run did not wait for the hour's lock";
  ASSERT_OK(
      first->Replace(Result({{"a", "app_bytes_total", 9}, {"b", "app_bytes_total", 2}}), -1, 10));
  other.join();
  ASSERT_TRUE(second_status.ok()) << second_status;
  EXPECT_THAT(HourRows(), ElementsAre(ElementsAre("app_bytes_total", "a", "1"),
                                      ElementsAre("app_bytes_total", "c", "3")));
}

// A Prepare that fails (here the hour's table is gone) reports the step and the table, and
// leaves no transaction open: the failure can be recorded at once.
TEST_F(BatchStoreTest, AFailedPrepareNamesTheTableAndLeavesNoTransactionOpen) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  Query("DROP TABLE bytes_hourly CASCADE");
  absl::Status prepared = store->Prepare(kHour);
  EXPECT_THAT(prepared.message(), HasSubstr("read the hour's rows of bytes_hourly")) << prepared;
  ASSERT_OK(store->RecordFailure(kHour, "bytes_hourly is gone", 1));
  EXPECT_THAT(Query("SELECT status, error FROM lf_batch_runs"),
              ElementsAre(ElementsAre("failed", "bytes_hourly is gone")));
}

}  // namespace
}  // namespace lf::postgres
