// Files written by DuckDB (tests/data/parquet, see its README): our reader must reproduce the
// aggregates DuckDB computed on them, and random corruption of them must never crash the reader.

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "parquet/reader.h"
#include "parquet/test_util.h"

namespace lf::parquet {
namespace {

std::string DataPath(const std::string& name) {
  return std::string(LF_PARQUET_TEST_DATA) + "/" + name;
}

class DuckDbFileTest : public ::testing::TestWithParam<const char*> {};

TEST_P(DuckDbFileTest, AggregatesMatchDuckDb) {
  auto r = ParquetReader::Open(DataPath(GetParam()));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->num_rows(), 1500);
  const std::vector<std::string> names = {"big",  "small", "dbl",  "flt",
                                          "flag", "app",   "uniq", "ts"};
  std::vector<int> cols;
  for (const auto& n : names) {
    cols.push_back((*r)->FindColumn(n));
    ASSERT_GE(cols.back(), 0) << n;
  }
  EXPECT_EQ((*r)->columns()[cols[7]].logical.kind, LogicalType::Kind::kTimestamp);
  int64_t n = 0, big = 0, small = 0, nsmall = 0, ntrue = 0, nflag = 0, napp = 0, lapp = 0,
          luniq = 0;
  __int128 ts = 0;
  double dbl = 0, flt = 0;
  for (int g = 0; g < (*r)->num_row_groups(); ++g) {
    auto data = (*r)->ReadRowGroup(g, cols);
    ASSERT_TRUE(data.ok()) << data.status();
    const auto& c = *data;
    for (size_t i = 0; i < c[0].num_rows; ++i, ++n) {
      big += c[0].int64s[i];
      if (!c[1].IsNull(i)) small += c[1].int32s[i], ++nsmall;
      if (!c[2].IsNull(i)) dbl += c[2].doubles[i];
      flt += c[3].doubles[i];
      if (!c[4].IsNull(i)) ntrue += c[4].bools[i], ++nflag;
      if (!c[5].IsNull(i)) lapp += c[5].StringAt(i).size(), ++napp;
      luniq += c[6].StringAt(i).size();
      ts += c[7].int64s[i];
    }
  }
  EXPECT_EQ(n, 1500);
  EXPECT_EQ(big, 7402935750);
  EXPECT_EQ(small, -3799);
  EXPECT_EQ(nsmall, 1286);
  EXPECT_DOUBLE_EQ(dbl, -40289.25);
  EXPECT_DOUBLE_EQ(flt, 2245);
  EXPECT_EQ(ntrue, 400);
  EXPECT_EQ(nflag, 1200);
  EXPECT_EQ(napp, 1333);
  EXPECT_EQ(lapp, 7212);
  EXPECT_EQ(luniq, 48000);
  EXPECT_TRUE(ts == static_cast<__int128>(2693007001120877250LL));
}

TEST_P(DuckDbFileTest, RandomCorruptionNeverCrashes) {
  std::ifstream in(DataPath(GetParam()), std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string valid = ss.str();
  ASSERT_GT(valid.size(), 1000u);
  const std::string path = testing::TempPath(std::string("fuzz_") + GetParam());
  const char* seed = std::getenv("LF_PARQUET_FUZZ_SEED");
  const char* iters = std::getenv("LF_PARQUET_FUZZ_ITERS");
  std::mt19937 rng(seed ? std::atoi(seed) : 99);
  int errors = 0;
  for (int iter = 0; iter < (iters ? std::atoi(iters) : 400); ++iter) {
    std::string file = valid;
    int flips = 1 + rng() % 6;
    for (int k = 0; k < flips; ++k) file[rng() % file.size()] = static_cast<char>(rng());
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out.write(file.data(), static_cast<std::streamsize>(file.size()));
    }
    auto r = ParquetReader::Open(path);
    if (!r.ok()) {
      ++errors;
      continue;
    }
    for (int g = 0; g < (*r)->num_row_groups(); ++g) {
      for (int c = 0; c < static_cast<int>((*r)->columns().size()); ++c) {
        auto col = (*r)->ReadColumn(g, c);
        if (!col.ok()) {
          ++errors;
          EXPECT_THAT(std::string(col.status().message()), ::testing::HasSubstr(path));
        }
      }
    }
  }
  EXPECT_GT(errors, 20);  // flips in uncompressed values often decode to other valid values
}

INSTANTIATE_TEST_SUITE_P(Files, DuckDbFileTest,
                         ::testing::Values("duckdb_v1_gzip.parquet", "duckdb_v2_snappy.parquet",
                                           "duckdb_v2_zstd_nodict.parquet",
                                           "duckdb_v2_uncompressed.parquet"),
                         [](const auto& info) {
                           std::string s = info.param;
                           return s.substr(0, s.find('.'));
                         });

}  // namespace
}  // namespace lf::parquet
