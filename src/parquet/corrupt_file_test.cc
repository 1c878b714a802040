// The broken-file corpus: each file is derived from a valid one in the test (truncated, bad magic,
// footer length too large, corrupt page header, wrong compressed size, absurd value counts) and
// must give a clear error naming the file and the part at fault. A random byte-flipping pass
// checks that no corruption crashes the reader (run it under ASan).

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "parquet/reader.h"
#include "parquet/test_util.h"
#include "parquet/writer.h"

namespace lf::parquet {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

using ::lf::parquet::testing::TempPath;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

// A small valid file: one required int64, one optional string, two row groups.
std::string ValidFile() {
  static const std::string bytes = [] {
    std::string path = TempPath("valid.parquet");
    WriterOptions opts;
    opts.row_group_rows = 500;
    auto w = ParquetWriter::Open(
        path, {{"n", ColumnType::kInt64, true}, {"s", ColumnType::kString, false}}, opts);
    std::vector<int64_t> n;
    std::vector<std::string> store;
    std::vector<uint8_t> valid;
    for (int i = 0; i < 1000; ++i) {
      n.push_back(i * 3);
      store.push_back("s" + std::to_string(i % 13));
      valid.push_back(i % 5 != 0);
    }
    std::vector<std::string_view> sv(store.begin(), store.end());
    std::vector<ColumnView> v(2);
    v[0].int64s = n;
    v[1].strings = sv;
    v[1].valid = valid;
    EXPECT_TRUE((*w)->WriteBatch(v).ok());
    EXPECT_TRUE((*w)->Close().ok());
    return ReadFile(path);
  }();
  return bytes;
}

// Opens and reads every column of every row group, once as values and once with strings as a
// table plus indices (ReaderOptions::byte_array_indices); returns the first error. Both readings
// must fail or succeed alike (but for the materializing one's size limit), and agree on every
// string when they succeed.
absl::Status ReadAll(const std::string& path, const ReaderOptions& options = {}) {
  ReaderOptions indexed_options = options;
  indexed_options.byte_array_indices = true;
  auto r = ParquetReader::Open(path, options);
  if (!r.ok()) return r.status();
  auto ri = ParquetReader::Open(path, indexed_options);
  EXPECT_TRUE(ri.ok()) << ri.status();
  if (!ri.ok()) return ri.status();
  ColumnData indexed;
  for (int g = 0; g < (*r)->num_row_groups(); ++g) {
    for (int c = 0; c < static_cast<int>((*r)->columns().size()); ++c) {
      auto col = (*r)->ReadColumn(g, c);
      absl::Status si = (*ri)->ReadColumn(g, c, &indexed);
      // Only materializing can exceed max_column_bytes; otherwise both fail alike.
      EXPECT_TRUE(col.ok() == si.ok() || absl::IsResourceExhausted(col.status()))
          << "row group " << g << " column " << c << ": " << col.status() << " / indexed: " << si;
      if (!col.ok()) return col.status();
      if (!si.ok()) return si;
      EXPECT_EQ(col->num_rows, indexed.num_rows);
      if (!indexed.indexed || col->num_rows != indexed.num_rows) continue;
      for (size_t i = 0; i < col->num_rows; ++i) {
        if (col->StringAt(i) != indexed.StringAt(i)) {
          ADD_FAILURE() << "row group " << g << " column " << c << " row " << i << " differs";
          break;
        }
      }
    }
  }
  return absl::OkStatus();
}

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

// LF_PARQUET_FUZZ_ITERS and LF_PARQUET_FUZZ_SEED scale the random-corruption passes up for a
// long one-off run (e.g. under ASan); the defaults keep the unit tests quick and deterministic.
int FuzzIterations(int fallback) {
  const char* v = std::getenv("LF_PARQUET_FUZZ_ITERS");
  return v ? std::atoi(v) : fallback;
}
unsigned FuzzSeed(unsigned fallback) {
  const char* v = std::getenv("LF_PARQUET_FUZZ_SEED");
  return v ? static_cast<unsigned>(std::atoi(v)) : fallback;
}

// Splits a file into data section and parsed footer, for editing the metadata.
struct Split {
  std::string data;
  FileMetaData md;
};
Split SplitFile(const std::string& file) {
  uint32_t len;
  std::memcpy(&len, file.data() + file.size() - 8, 4);
  Split s;
  s.data = file.substr(0, file.size() - 8 - len);
  auto md = ParseFileMetaData(reinterpret_cast<const uint8_t*>(file.data() + s.data.size()), len);
  EXPECT_TRUE(md.ok());
  s.md = *md;
  return s;
}
std::string Join(const Split& s) {
  std::string footer;
  SerializeFileMetaData(s.md, &footer);
  std::string out = s.data + footer;
  uint32_t len = static_cast<uint32_t>(footer.size());
  out.append(reinterpret_cast<const char*>(&len), 4);
  out += "PAR1";
  return out;
}

TEST(CorruptFileTest, ValidFileReads) {
  std::string path = TempPath("ok.parquet");
  WriteFile(path, ValidFile());
  EXPECT_TRUE(ReadAll(path).ok());
}

TEST(CorruptFileTest, MissingFile) {
  absl::Status s = ReadAll("/nonexistent/file.parquet");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Msg(s), HasSubstr("/nonexistent/file.parquet"));
}

TEST(CorruptFileTest, TooSmall) {
  std::string path = TempPath("tiny.parquet");
  WriteFile(path, "PAR1");
  EXPECT_THAT(Msg(ReadAll(path)), AllOf(HasSubstr(path), HasSubstr("too small")));
}

TEST(CorruptFileTest, TruncatedFile) {
  std::string file = ValidFile();
  std::string path = TempPath("truncated.parquet");
  WriteFile(path, file.substr(0, file.size() / 2));
  absl::Status s = ReadAll(path);
  EXPECT_THAT(Msg(s), AllOf(HasSubstr(path), HasSubstr("bad footer magic")));
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
}

TEST(CorruptFileTest, BadHeaderMagic) {
  std::string file = ValidFile();
  file[0] = 'X';
  std::string path = TempPath("badmagic.parquet");
  WriteFile(path, file);
  EXPECT_THAT(Msg(ReadAll(path)), AllOf(HasSubstr(path), HasSubstr("bad header magic")));
}

TEST(CorruptFileTest, FooterLengthTooLarge) {
  std::string file = ValidFile();
  uint32_t len = 0x7FFFFFF0;
  std::memcpy(file.data() + file.size() - 8, &len, 4);
  std::string path = TempPath("footerlen.parquet");
  WriteFile(path, file);
  EXPECT_THAT(Msg(ReadAll(path)),
              AllOf(HasSubstr(path), HasSubstr("footer length 2147483632 exceeds")));
}

TEST(CorruptFileTest, CorruptFooter) {
  std::string file = ValidFile();
  uint32_t len;
  std::memcpy(&len, file.data() + file.size() - 8, 4);
  // Garbage over the first bytes of the footer.
  std::memset(file.data() + file.size() - 8 - len, 0xEE, 6);
  std::string path = TempPath("badfooter.parquet");
  WriteFile(path, file);
  EXPECT_THAT(Msg(ReadAll(path)), AllOf(HasSubstr(path), HasSubstr("footer")));
}

TEST(CorruptFileTest, CorruptPageHeader) {
  std::string file = ValidFile();
  std::memset(file.data() + 4, 0xFF, 8);  // first page header of row group 0, column 'n'
  std::string path = TempPath("badpage.parquet");
  WriteFile(path, file);
  EXPECT_THAT(Msg(ReadAll(path)),
              AllOf(HasSubstr(path), HasSubstr("row group 0, column 'n', page 0"),
                    HasSubstr("corrupt page header")));
}

// Rewrites the first page header of the file (at offset 4) with `edit` applied.
std::string EditFirstPageHeader(const std::string& file,
                                const std::function<void(PageHeader&)>& edit) {
  size_t used;
  auto h =
      ParsePageHeader(reinterpret_cast<const uint8_t*>(file.data() + 4), file.size() - 4, &used);
  EXPECT_TRUE(h.ok());
  PageHeader ph = *h;
  edit(ph);
  std::string header;
  SerializePageHeader(ph, &header);
  EXPECT_EQ(header.size(), used) << "edit changed the header length";
  return file.substr(0, 4) + header + file.substr(4 + used);
}

TEST(CorruptFileTest, CompressedSizeTooLarge) {
  std::string file =
      EditFirstPageHeader(ValidFile(), [](PageHeader& h) { h.compressed_page_size += 4000; });
  std::string path = TempPath("bigpage.parquet");
  WriteFile(path, file);
  EXPECT_THAT(Msg(ReadAll(path)),
              AllOf(HasSubstr(path), HasSubstr("column 'n', page 0"), HasSubstr("exceeds the"),
                    HasSubstr("bytes left in the chunk")));
}

TEST(CorruptFileTest, CompressedSizeTooSmall) {
  std::string file =
      EditFirstPageHeader(ValidFile(), [](PageHeader& h) { h.compressed_page_size -= 5; });
  std::string path = TempPath("smallpage.parquet");
  WriteFile(path, file);
  EXPECT_THAT(Msg(ReadAll(path)), AllOf(HasSubstr(path), HasSubstr("page checksum mismatch")));
  ReaderOptions no_crc;
  no_crc.verify_checksums = false;  // then the codec notices
  EXPECT_THAT(Msg(ReadAll(path, no_crc)),
              AllOf(HasSubstr(path), HasSubstr("column 'n', page 0"), HasSubstr("zstd")));
}

TEST(CorruptFileTest, AbsurdPageValueCount) {
  std::string file = EditFirstPageHeader(ValidFile(), [](PageHeader& h) {
    h.data_page_header->num_values = 5000;  // same varint length as 500
  });
  std::string path = TempPath("absurdpage.parquet");
  WriteFile(path, file);
  EXPECT_THAT(Msg(ReadAll(path)),
              AllOf(HasSubstr(path), HasSubstr("page claims 5000 values but only 500")));
}

TEST(CorruptFileTest, AbsurdRowGroupRowCount) {
  Split s = SplitFile(ValidFile());
  s.md.row_groups[0].num_rows = int64_t{1} << 40;
  std::string path = TempPath("absurdrows.parquet");
  WriteFile(path, Join(s));
  EXPECT_THAT(Msg(ReadAll(path)),
              AllOf(HasSubstr(path), HasSubstr("row group 0"), HasSubstr("more than the limit")));
}

TEST(CorruptFileTest, ChunkOutsideFile) {
  Split s = SplitFile(ValidFile());
  s.md.row_groups[1].columns[1].meta_data->data_page_offset = 1 << 30;
  s.md.row_groups[1].columns[1].meta_data->dictionary_page_offset = std::nullopt;
  std::string path = TempPath("chunkoutside.parquet");
  WriteFile(path, Join(s));
  EXPECT_THAT(Msg(ReadAll(path)), AllOf(HasSubstr(path), HasSubstr("row group 1, column 's'"),
                                        HasSubstr("outside the data section")));
}

TEST(CorruptFileTest, SchemaDisagreesWithRowGroups) {
  Split s = SplitFile(ValidFile());
  s.md.row_groups[0].columns.pop_back();
  std::string path = TempPath("schemamismatch.parquet");
  WriteFile(path, Join(s));
  EXPECT_THAT(Msg(ReadAll(path)),
              AllOf(HasSubstr(path), HasSubstr("row group 0 has 1 column chunks")));
}

TEST(CorruptFileTest, FlippedPageByteFailsTheChecksum) {
  std::string file = ValidFile();
  size_t used;
  auto h =
      ParsePageHeader(reinterpret_cast<const uint8_t*>(file.data() + 4), file.size() - 4, &used);
  ASSERT_TRUE(h.ok());
  ASSERT_TRUE(h->crc.has_value());
  file[4 + used + h->compressed_page_size / 2] ^= 0x10;  // inside the first page's data
  std::string path = TempPath("crc.parquet");
  WriteFile(path, file);
  EXPECT_THAT(Msg(ReadAll(path)), AllOf(HasSubstr(path), HasSubstr("column 'n', page 0"),
                                        HasSubstr("page checksum mismatch")));
  // With verification off the damage surfaces (or not) in decoding, but never as a crash.
  ReaderOptions opts;
  opts.verify_checksums = false;
  auto r = ParquetReader::Open(path, opts);
  ASSERT_TRUE(r.ok());
  (void)(*r)->ReadColumn(0, 0);
}

TEST(CorruptFileTest, DictionaryExpansionIsCapped) {
  // 300 rows of one 100 KB string: a few hundred bytes of indices expand to 30 MB.
  std::string path = TempPath("bomb.parquet");
  {
    auto w = ParquetWriter::Open(path, {{"s", ColumnType::kString, true}});
    ASSERT_TRUE(w.ok());
    std::string big(100'000, 'x');
    std::vector<std::string_view> sv(300, big);
    ColumnView v;
    v.strings = sv;
    ASSERT_TRUE((*w)->WriteBatch({&v, 1}).ok());
    ASSERT_TRUE((*w)->Close().ok());
  }
  ReaderOptions opts;
  opts.max_column_bytes = 1 << 20;
  auto r = ParquetReader::Open(path, opts);
  ASSERT_TRUE(r.ok());
  auto col = (*r)->ReadColumn(0, 0);
  ASSERT_FALSE(col.ok());
  EXPECT_EQ(col.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(Msg(col.status()),
              AllOf(HasSubstr(path), HasSubstr("column 's'"), HasSubstr("expand beyond")));
  // With the default limit the same file reads.
  auto r2 = ParquetReader::Open(path);
  ASSERT_TRUE(r2.ok());
  auto col2 = (*r2)->ReadColumn(0, 0);
  ASSERT_TRUE(col2.ok()) << col2.status();
  EXPECT_EQ(col2->StringAt(299).size(), 100'000u);
}

TEST(CorruptFileTest, RandomCorruptionNeverCrashes) {
  const std::string valid = ValidFile();
  std::mt19937 rng(FuzzSeed(1234));
  std::string path = TempPath("fuzz.parquet");
  int errors = 0;
  for (int iter = 0; iter < FuzzIterations(1500); ++iter) {
    std::string file = valid;
    int flips = 1 + rng() % 4;
    for (int k = 0; k < flips; ++k) {
      // Bias towards the footer and page headers, where structure lives.
      size_t pos = rng() % 2 ? file.size() - 1 - rng() % std::min<size_t>(file.size(), 400)
                             : rng() % file.size();
      file[pos] = static_cast<char>(rng());
    }
    if (rng() % 10 == 0) file.resize(rng() % file.size());
    WriteFile(path, file);
    absl::Status s = ReadAll(path);
    if (!s.ok()) {
      ++errors;
      EXPECT_THAT(Msg(s), HasSubstr(path));
    }
  }
  EXPECT_GT(errors, 100);
}

}  // namespace
}  // namespace lf::parquet
