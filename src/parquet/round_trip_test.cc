// Writer -> reader round trips for every column type, codec and nullability, plus row groups,
// dictionary fallback, statistics and row-group skipping.

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "fmt/format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "parquet/reader.h"
#include "parquet/test_util.h"
#include "parquet/writer.h"

namespace lf::parquet {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using ::lf::parquet::testing::TempPath;

// Column-major test rows with every writer type; row i is null in optional columns when
// i % 3 == 1.
struct TestRows {
  std::vector<int64_t> i64, ts;
  std::vector<int32_t> i32;
  std::vector<double> dbl;
  std::vector<uint8_t> bools, valid;
  std::vector<std::string> str_storage;
  std::vector<std::string_view> str;

  explicit TestRows(size_t n, uint32_t seed = 1) {
    std::mt19937_64 rng(seed);
    for (size_t i = 0; i < n; ++i) {
      i64.push_back(static_cast<int64_t>(rng()) >> (i % 40));
      ts.push_back(1'763'800'000'000'000 + static_cast<int64_t>(i) * 1000);
      i32.push_back(static_cast<int32_t>(rng()));
      dbl.push_back(static_cast<double>(static_cast<int64_t>(rng() % 2000000) - 1000000) / 7.0);
      bools.push_back(rng() % 2);
      valid.push_back(i % 3 != 1);
      // Low-cardinality strings (dictionary friendly) with the occasional unique one.
      str_storage.push_back(i % 10 == 0 ? "unique-" + std::to_string(rng())
                                        : "app-" + std::to_string(i % 7));
    }
    for (const auto& s : str_storage) str.push_back(s);
  }
};

Schema AllTypesSchema(bool required) {
  return {{"i64", ColumnType::kInt64, required},  {"i32", ColumnType::kInt32, required},
          {"dbl", ColumnType::kDouble, required}, {"flag", ColumnType::kBoolean, required},
          {"str", ColumnType::kString, required}, {"ts", ColumnType::kTimestampMicros, required}};
}

std::vector<ColumnView> Views(const TestRows& r, bool with_nulls) {
  std::span<const uint8_t> valid =
      with_nulls ? std::span<const uint8_t>(r.valid) : std::span<const uint8_t>();
  std::vector<ColumnView> v(6);
  v[0].int64s = r.i64;
  v[1].int32s = r.i32;
  v[2].doubles = r.dbl;
  v[3].bools = r.bools;
  v[4].strings = r.str;
  v[5].int64s = r.ts;
  for (auto& c : v) c.valid = valid;
  return v;
}

void ExpectColumnsEqual(ParquetReader& reader, const TestRows& r, bool with_nulls,
                        size_t first_row) {
  size_t row = first_row;
  for (int g = 0; g < reader.num_row_groups(); ++g) {
    std::vector<int> all = {0, 1, 2, 3, 4, 5};
    auto cols = reader.ReadRowGroup(g, all);
    ASSERT_TRUE(cols.ok()) << cols.status();
    size_t n = reader.row_group_num_rows(g);
    for (const auto& c : *cols) ASSERT_EQ(c.num_rows, n);
    for (size_t i = 0; i < n; ++i, ++row) {
      bool null = with_nulls && !r.valid[row];
      for (const auto& c : *cols) ASSERT_EQ(c.IsNull(i), null) << "row " << row;
      if (null) continue;
      ASSERT_EQ((*cols)[0].int64s[i], r.i64[row]);
      ASSERT_EQ((*cols)[1].int32s[i], r.i32[row]);
      ASSERT_EQ((*cols)[2].doubles[i], r.dbl[row]);
      ASSERT_EQ((*cols)[3].bools[i], r.bools[row]);
      ASSERT_EQ((*cols)[4].StringAt(i), r.str[row]);
      ASSERT_EQ((*cols)[5].int64s[i], r.ts[row]);
    }
  }
  EXPECT_EQ(row, r.i64.size());

  // The strings again as a table plus indices, read into one reused ColumnData.
  ReaderOptions options;
  options.byte_array_indices = true;
  auto indexed = ParquetReader::Open(reader.path(), options);
  ASSERT_TRUE(indexed.ok()) << indexed.status();
  ColumnData col;
  row = first_row;
  for (int g = 0; g < (*indexed)->num_row_groups(); ++g) {
    ASSERT_TRUE((*indexed)->ReadColumn(g, 4, &col).ok());
    ASSERT_TRUE(col.indexed);
    ASSERT_EQ(col.indices.size(), col.num_rows);
    EXPECT_EQ(col.Entry(0), "");  // what null rows point at
    for (size_t i = 0; i < col.num_rows; ++i, ++row) {
      ASSERT_LT(col.indices[i], col.EntryCount());
      bool null = with_nulls && !r.valid[row];
      ASSERT_EQ(col.IsNull(i), null) << "row " << row;
      ASSERT_EQ(col.StringAt(i), null ? std::string_view() : r.str[row]) << "row " << row;
    }
  }
  EXPECT_EQ(row, r.i64.size());
}

struct Param {
  Codec codec;
  bool nullable;
  bool v2 = false;
};

class RoundTripTest : public ::testing::TestWithParam<Param> {};

TEST_P(RoundTripTest, EveryTypeSurvives) {
  const Param p = GetParam();
  const std::string path = TempPath(
      fmt::format("rt_{}_{}_{}.parquet", CodecName(p.codec), p.nullable ? "opt" : "req", p.v2));
  TestRows rows(25'000, 7);
  WriterOptions opts;
  opts.codec = p.codec;
  opts.data_page_v2 = p.v2;
  opts.row_group_rows = 10'000;  // three row groups
  opts.page_bytes = 16 << 10;    // many pages per chunk
  {
    auto w = ParquetWriter::Open(path, AllTypesSchema(!p.nullable), opts);
    ASSERT_TRUE(w.ok()) << w.status();
    // Two batches, the second crossing a row-group boundary.
    auto views = Views(rows, p.nullable);
    std::vector<ColumnView> first(6), second(6);
    for (int c = 0; c < 6; ++c) {
      auto cut = [](auto span, size_t a, size_t b) {
        return span.empty() ? span : span.subspan(a, b);
      };
      first[c] = {cut(views[c].int64s, 0, 7000),  cut(views[c].int32s, 0, 7000),
                  cut(views[c].doubles, 0, 7000), cut(views[c].bools, 0, 7000),
                  cut(views[c].strings, 0, 7000), cut(views[c].valid, 0, 7000)};
      second[c] = {cut(views[c].int64s, 7000, 18000),  cut(views[c].int32s, 7000, 18000),
                   cut(views[c].doubles, 7000, 18000), cut(views[c].bools, 7000, 18000),
                   cut(views[c].strings, 7000, 18000), cut(views[c].valid, 7000, 18000)};
    }
    ASSERT_TRUE((*w)->WriteBatch(first).ok());
    ASSERT_TRUE((*w)->WriteBatch(second).ok());
    EXPECT_EQ((*w)->num_rows(), 25'000);
    ASSERT_TRUE((*w)->Close().ok());
  }
  auto r = ParquetReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->num_rows(), 25'000);
  ASSERT_EQ((*r)->num_row_groups(), 3);
  EXPECT_EQ((*r)->row_group_num_rows(0), 10'000);
  EXPECT_EQ((*r)->row_group_num_rows(2), 5'000);
  for (const auto& rg : (*r)->metadata().row_groups) {
    for (const auto& cc : rg.columns) EXPECT_EQ(cc.meta_data->codec, p.codec);
  }
  auto pages = (*r)->ReadPageHeaders(1, 0);
  ASSERT_TRUE(pages.ok()) << pages.status();
  EXPECT_GT(pages->size(), 2u);
  EXPECT_EQ(pages->front().type, p.v2 ? PageType::kDataPageV2 : PageType::kDataPage);
  const auto& cols = (*r)->columns();
  ASSERT_EQ(cols.size(), 6u);
  EXPECT_EQ(cols[4].logical.kind, LogicalType::Kind::kString);
  EXPECT_EQ(cols[5].logical.kind, LogicalType::Kind::kTimestamp);
  EXPECT_TRUE(cols[5].logical.is_adjusted_to_utc);
  EXPECT_EQ(cols[5].logical.unit, TimeUnit::kMicros);
  EXPECT_EQ(cols[0].optional, p.nullable);
  ExpectColumnsEqual(**r, rows, p.nullable, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Codecs, RoundTripTest,
    ::testing::Values(Param{Codec::kZstd, false}, Param{Codec::kZstd, true},
                      Param{Codec::kSnappy, false}, Param{Codec::kSnappy, true},
                      Param{Codec::kGzip, false}, Param{Codec::kGzip, true},
                      Param{Codec::kUncompressed, false}, Param{Codec::kUncompressed, true},
                      Param{Codec::kZstd, true, true}, Param{Codec::kSnappy, false, true},
                      Param{Codec::kUncompressed, true, true}),
    [](const auto& info) {
      return std::string(CodecName(info.param.codec)) +
             (info.param.nullable ? "_Nullable" : "_Required") + (info.param.v2 ? "_V2" : "");
    });

TEST(WriterTest, StatisticsAndRowGroupSkipping) {
  const std::string path = TempPath("stats.parquet");
  Schema schema = {{"t", ColumnType::kTimestampMicros, true},
                   {"s", ColumnType::kString, false},
                   {"d", ColumnType::kDouble, true}};
  WriterOptions opts;
  opts.row_group_rows = 100;
  auto w = ParquetWriter::Open(path, schema, opts);
  ASSERT_TRUE(w.ok());
  std::vector<int64_t> t;
  std::vector<std::string> s_store;
  std::vector<std::string_view> s;
  std::vector<uint8_t> valid;
  std::vector<double> d;
  for (int i = 0; i < 300; ++i) {
    t.push_back(1000 + i);
    s_store.push_back(i % 2 ? "b" + std::to_string(i) : "a" + std::to_string(i));
    valid.push_back(i % 4 != 0);
    d.push_back(i == 5 ? -0.0 : i - 50.5);
  }
  for (auto& x : s_store) s.push_back(x);
  std::vector<ColumnView> views(3);
  views[0].int64s = t;
  views[1].strings = s;
  views[1].valid = valid;
  views[2].doubles = d;
  ASSERT_TRUE((*w)->WriteBatch(views).ok());
  ASSERT_TRUE((*w)->Close().ok());

  auto r = ParquetReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ((*r)->num_row_groups(), 3);
  auto mm = (*r)->Int64MinMax(1, 0);
  ASSERT_TRUE(mm.has_value());
  EXPECT_EQ(mm->first, 1100);
  EXPECT_EQ(mm->second, 1199);
  EXPECT_EQ((*r)->NullCount(0, 1), 25);
  EXPECT_EQ((*r)->NullCount(0, 0), 0);
  const auto& st = *(*r)->metadata().row_groups[0].columns[1].meta_data->statistics;
  EXPECT_EQ(st.min_value, "a10");  // "a0" is null (row 0)
  EXPECT_EQ(st.max_value, "b99");
  EXPECT_FALSE((*r)->RowGroupMayContain(0, 0, 1100, 1500));
  EXPECT_TRUE((*r)->RowGroupMayContain(1, 0, 1150, 1150));
  EXPECT_FALSE((*r)->RowGroupMayContain(2, 0, 0, 1199));
  EXPECT_TRUE((*r)->RowGroupMayContain(2, 0, 1299, 5000));
}

TEST(WriterTest, DictionaryFallsBackToPlain) {
  const std::string path = TempPath("fallback.parquet");
  WriterOptions opts;
  opts.dictionary_bytes = 2000;  // overflows after ~100 distinct values
  opts.page_bytes = 1000;
  auto w = ParquetWriter::Open(path, {{"s", ColumnType::kString, true}}, opts);
  ASSERT_TRUE(w.ok());
  std::vector<std::string> store;
  for (int i = 0; i < 5000; ++i) store.push_back("value-" + std::to_string(i * 7919 % 5000));
  std::vector<std::string_view> sv(store.begin(), store.end());
  ColumnView v;
  v.strings = sv;
  ASSERT_TRUE((*w)->WriteBatch({&v, 1}).ok());
  ASSERT_TRUE((*w)->Close().ok());
  auto r = ParquetReader::Open(path);
  ASSERT_TRUE(r.ok());
  const auto& md = *(*r)->metadata().row_groups[0].columns[0].meta_data;
  EXPECT_THAT(md.encodings,
              ElementsAre(Encoding::kPlain, Encoding::kRle, Encoding::kRleDictionary));
  EXPECT_TRUE(md.dictionary_page_offset.has_value());
  auto col = (*r)->ReadColumn(0, 0);
  ASSERT_TRUE(col.ok()) << col.status();
  ASSERT_EQ(col->num_rows, 5000u);
  for (size_t i = 0; i < store.size(); ++i) ASSERT_EQ(col->StringAt(i), store[i]);

  // Indexed: the dictionary's entries follow entry 0, then the values of the PLAIN pages.
  ReaderOptions options;
  options.byte_array_indices = true;
  auto ri = ParquetReader::Open(path, options);
  ASSERT_TRUE(ri.ok());
  auto ci = (*ri)->ReadColumn(0, 0);
  ASSERT_TRUE(ci.ok()) << ci.status();
  ASSERT_TRUE(ci->indexed);
  ASSERT_EQ(ci->num_rows, 5000u);
  for (size_t i = 0; i < store.size(); ++i) ASSERT_EQ(ci->StringAt(i), store[i]);
  EXPECT_EQ(ci->indices[0], 1u);  // the dictionary's first entry
  // All 5000 values are distinct: entry 0, the dictionary's rows, then one entry per PLAIN row.
  EXPECT_EQ(ci->EntryCount(), 5001u);
  EXPECT_EQ(ci->indices.back(), ci->EntryCount() - 1);  // the last PLAIN value
}

// Found by the ingest tests: an empty string as the first value of a dictionary (no storage
// block allocated yet) crashed the writer.
TEST(WriterTest, EmptyStringFirstInTheDictionary) {
  const std::string path = TempPath("empty_first.parquet");
  auto w = ParquetWriter::Open(path, {{"s", ColumnType::kString, true}});
  ASSERT_TRUE(w.ok());
  std::vector<std::string_view> sv = {"", "a", "", "bb"};
  ColumnView v;
  v.strings = sv;
  ASSERT_TRUE((*w)->WriteBatch({&v, 1}).ok());
  ASSERT_TRUE((*w)->Close().ok());
  auto r = ParquetReader::Open(path);
  ASSERT_TRUE(r.ok());
  auto col = (*r)->ReadColumn(0, 0);
  ASSERT_TRUE(col.ok()) << col.status();
  ASSERT_EQ(col->num_rows, 4u);
  for (size_t i = 0; i < sv.size(); ++i) EXPECT_EQ(col->StringAt(i), sv[i]);
}

TEST(WriterTest, LakeSchemaAndEmptyFile) {
  const std::string path = TempPath("lake.parquet");
  auto w = ParquetWriter::Open(path, LakeEventSchema());
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Close().ok());
  auto r = ParquetReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->num_rows(), 0);
  EXPECT_EQ((*r)->num_row_groups(), 0);
  ASSERT_EQ((*r)->columns().size(), 5u);
  EXPECT_EQ((*r)->columns()[1].name, "timestamp");
  EXPECT_EQ((*r)->columns()[1].logical.kind, LogicalType::Kind::kTimestamp);
}

TEST(WriterTest, RejectsBadBatches) {
  const std::string path = TempPath("bad_batch.parquet");
  auto w = ParquetWriter::Open(path,
                               {{"a", ColumnType::kInt64, true}, {"b", ColumnType::kInt32, false}});
  ASSERT_TRUE(w.ok());
  std::vector<int64_t> a = {1, 2, 3};
  std::vector<int32_t> b = {1, 2};
  std::vector<ColumnView> v(2);
  v[0].int64s = a;
  v[1].int32s = b;
  absl::Status s = (*w)->WriteBatch(v);
  EXPECT_THAT(std::string(s.message()), HasSubstr("column 'b' has 2 rows"));
  std::vector<uint8_t> valid = {1, 0, 1};
  std::vector<int32_t> b3 = {1, 2, 3};
  v[1].int32s = b3;
  v[0].valid = valid;
  s = (*w)->WriteBatch(v);
  EXPECT_THAT(std::string(s.message()), HasSubstr("required column 'a' is null at row 1"));
  EXPECT_THAT(std::string(s.message()), HasSubstr(path));
  EXPECT_FALSE(
      ParquetWriter::Open(path, {{"x", ColumnType::kInt64}, {"x", ColumnType::kInt64}}).ok());
  EXPECT_FALSE(ParquetWriter::Open("/nonexistent-dir/x.parquet", LakeEventSchema()).ok());
}

TEST(WriterTest, AllNullAndSpecialDoubles) {
  const std::string path = TempPath("special.parquet");
  auto w = ParquetWriter::Open(
      path, {{"d", ColumnType::kDouble, false}, {"s", ColumnType::kString, false}});
  ASSERT_TRUE(w.ok());
  std::vector<double> d = {std::numeric_limits<double>::quiet_NaN(),
                           std::numeric_limits<double>::infinity(), -1.5, 0.0};
  std::vector<std::string_view> s = {"", "", "", ""};
  std::vector<uint8_t> none = {0, 0, 0, 0};
  std::vector<ColumnView> v(2);
  v[0].doubles = d;
  v[1].strings = s;
  v[1].valid = none;
  ASSERT_TRUE((*w)->WriteBatch(v).ok());
  ASSERT_TRUE((*w)->Close().ok());
  auto r = ParquetReader::Open(path);
  ASSERT_TRUE(r.ok());
  auto cols = (*r)->ReadRowGroup(0, std::vector<int>{0, 1});
  ASSERT_TRUE(cols.ok()) << cols.status();
  EXPECT_TRUE(std::isnan((*cols)[0].doubles[0]));
  EXPECT_EQ((*cols)[0].doubles[1], std::numeric_limits<double>::infinity());
  EXPECT_EQ((*cols)[0].doubles[2], -1.5);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE((*cols)[1].IsNull(i));
  EXPECT_EQ((*r)->NullCount(0, 1), 4);
}

}  // namespace
}  // namespace lf::parquet
