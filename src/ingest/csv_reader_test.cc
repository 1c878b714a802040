#include "ingest/csv_reader.h"

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lf::ingest {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<OwnedCsvRecord> Read(std::string_view text, CsvReader::Options options = {}) {
  absl::StatusOr<std::vector<OwnedCsvRecord>> records = ReadAllCsv(text, options);
  EXPECT_TRUE(records.ok()) << records.status();
  return records.ok() ? *std::move(records) : std::vector<OwnedCsvRecord>{};
}

// Everything Next() returns, the file-level error included (as a last record with line -1).
std::vector<OwnedCsvRecord> ReadWith(CsvReader::ReadFn read, CsvReader::Options options) {
  CsvReader reader(std::move(read), options);
  std::vector<OwnedCsvRecord> records;
  CsvRecord record;
  for (;;) {
    absl::StatusOr<bool> more = reader.Next(&record);
    if (!more.ok()) {
      records.push_back({.line = -1, .error = std::string(more.status().message())});
      break;
    }
    if (!*more) break;
    records.push_back(ToOwned(record));
  }
  return records;
}

std::vector<OwnedCsvRecord> ReadChunked(std::string_view text, size_t chunk_bytes,
                                        size_t max_record_bytes = 8 << 20) {
  return ReadWith(ReadFromString(text),
                  {.max_record_bytes = max_record_bytes, .chunk_bytes = chunk_bytes});
}

// A read callback that hands out at most `step` bytes per call whatever it is asked for.
CsvReader::ReadFn ShortReads(std::string_view text, size_t step) {
  return [text, step, pos = size_t{0}](char* buf, size_t n) mutable -> absl::StatusOr<size_t> {
    const size_t k = std::min({n, step, text.size() - pos});
    if (k > 0) std::memcpy(buf, text.data() + pos, k);
    pos += k;
    return k;
  };
}

TEST(CsvReaderTest, ReadsSimpleRecordsWithRawAndLines) {
  auto records = Read("a,b,c\n1,2,3\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_THAT(records[0].fields, ElementsAre("a", "b", "c"));
  EXPECT_THAT(records[0].quoted, ElementsAre(0, 0, 0));
  EXPECT_EQ(records[0].raw, "a,b,c");
  EXPECT_EQ(records[0].line, 1);
  EXPECT_THAT(records[1].fields, ElementsAre("1", "2", "3"));
  EXPECT_EQ(records[1].raw, "1,2,3");
  EXPECT_EQ(records[1].line, 2);
  EXPECT_TRUE(records[0].error.empty());
}

TEST(CsvReaderTest, SkipsBomAtTheStartOnly) {
  auto records = Read("\xEF\xBB\xBFid,name\n\xEF\xBB\xBFx,y\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_THAT(records[0].fields, ElementsAre("id", "name"));
  EXPECT_EQ(records[0].raw, "id,name");
  EXPECT_THAT(records[1].fields, ElementsAre("\xEF\xBB\xBFx", "y"));  // later: data
  // A file holding nothing but a BOM (and blank lines) has no records.
  EXPECT_TRUE(Read("\xEF\xBB\xBF").empty());
  EXPECT_TRUE(Read("\xEF\xBB\xBF\r\n\n").empty());
  // A BOM arriving one byte at a time is still recognised.
  auto one = ReadChunked("\xEF\xBB\xBF\"q\"\n", 1);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_THAT(one[0].fields, ElementsAre("q"));
  EXPECT_THAT(one[0].quoted, ElementsAre(1));
}

TEST(CsvReaderTest, AcceptsLfCrlfAndMixedTerminators) {
  auto records = Read("a,b\r\nc,d\ne,f\r\ng,h");
  ASSERT_EQ(records.size(), 4u);
  EXPECT_THAT(records[0].fields, ElementsAre("a", "b"));
  EXPECT_EQ(records[0].raw, "a,b");
  EXPECT_THAT(records[1].fields, ElementsAre("c", "d"));
  EXPECT_THAT(records[2].fields, ElementsAre("e", "f"));
  EXPECT_EQ(records[2].raw, "e,f");
  EXPECT_THAT(records[3].fields, ElementsAre("g", "h"));
  EXPECT_EQ(records[3].line, 4);
}

TEST(CsvReaderTest, LoneCrIsDataAndCrBeforeLfIsTerminator) {
  auto records = Read("a\rb,c\r\nd\r\r\ne\r");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_THAT(records[0].fields, ElementsAre("a\rb", "c"));
  EXPECT_THAT(records[1].fields, ElementsAre("d\r"));  // CR CR LF: the first CR is data
  EXPECT_EQ(records[1].raw, "d\r");
  EXPECT_THAT(records[2].fields, ElementsAre("e\r"));  // a CR at the end of input is data
  EXPECT_EQ(records[2].line, 3);
  // A lone CR at the start of a record is data too (it is not a blank line).
  auto cr = Read("\rx\n\r");
  ASSERT_EQ(cr.size(), 2u);
  EXPECT_THAT(cr[0].fields, ElementsAre("\rx"));
  EXPECT_THAT(cr[1].fields, ElementsAre("\r"));
}

TEST(CsvReaderTest, QuotedFieldsHoldDelimitersNewlinesAndDoubledQuotes) {
  auto records = Read("\"a,b\",\"line1\nline2\",\"say \"\"hi\"\"\",\"\"\"\"\r\nnext,\"x\r\ny\"\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_THAT(records[0].fields, ElementsAre("a,b", "line1\nline2", "say \"hi\"", "\""));
  EXPECT_THAT(records[0].quoted, ElementsAre(1, 1, 1, 1));
  EXPECT_EQ(records[0].raw, "\"a,b\",\"line1\nline2\",\"say \"\"hi\"\"\",\"\"\"\"");
  EXPECT_EQ(records[0].line, 1);
  EXPECT_THAT(records[1].fields, ElementsAre("next", "x\r\ny"));
  EXPECT_THAT(records[1].quoted, ElementsAre(0, 1));
  EXPECT_EQ(records[1].line, 3);
}

TEST(CsvReaderTest, EmptyQuotedAndEmptyUnquotedDifferInQuotedFlag) {
  auto records = Read("\"\",,x,\n,\n\"\"\n");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_THAT(records[0].fields, ElementsAre("", "", "x", ""));
  EXPECT_THAT(records[0].quoted, ElementsAre(1, 0, 0, 0));
  EXPECT_THAT(records[1].fields, ElementsAre("", ""));
  EXPECT_THAT(records[1].quoted, ElementsAre(0, 0));
  EXPECT_THAT(records[2].fields, ElementsAre(""));
  EXPECT_THAT(records[2].quoted, ElementsAre(1));
  // Trailing delimiter at the end of input: one more empty field.
  auto last = Read("a,");
  ASSERT_EQ(last.size(), 1u);
  EXPECT_THAT(last[0].fields, ElementsAre("a", ""));
}

TEST(CsvReaderTest, SkipsBlankLinesButCountsThem) {
  auto records = Read("\n\r\na\n\n\nb\r\n\r\n\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_THAT(records[0].fields, ElementsAre("a"));
  EXPECT_EQ(records[0].line, 3);
  EXPECT_THAT(records[1].fields, ElementsAre("b"));
  EXPECT_EQ(records[1].line, 6);
  EXPECT_TRUE(Read("").empty());
  EXPECT_TRUE(Read("\n\n\r\n").empty());
}

TEST(CsvReaderTest, LastRecordMayLackTerminator) {
  auto records = Read("a,b\nc,\"d\"");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_THAT(records[1].fields, ElementsAre("c", "d"));
  EXPECT_THAT(records[1].quoted, ElementsAre(0, 1));
  EXPECT_EQ(records[1].raw, "c,\"d\"");
  EXPECT_TRUE(records[1].error.empty());
}

TEST(CsvReaderTest, QuoteInsideUnquotedFieldIsLiteral) {
  auto records = Read("ab\"c,d\"\"e\"\n");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_THAT(records[0].fields, ElementsAre("ab\"c", "d\"\"e\""));
  EXPECT_THAT(records[0].quoted, ElementsAre(0, 0));
  EXPECT_TRUE(records[0].error.empty());
}

TEST(CsvReaderTest, UnterminatedQuoteAtEndIsMalformed) {
  auto records = Read("a,b\nc,\"open\nstill \"\"open");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_TRUE(records[0].error.empty());
  EXPECT_EQ(records[1].error, "unterminated quoted field");
  EXPECT_EQ(records[1].line, 2);
  EXPECT_EQ(records[1].raw, "c,\"open\nstill \"\"open");
  EXPECT_THAT(records[1].fields, ElementsAre("c", "open\nstill \"open"));  // partial
}

TEST(CsvReaderTest, GarbageAfterClosingQuoteThenRecovers) {
  auto records = Read("1,\"ab\"x y,3\n\"q\"\"\"z\n4,5\n");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].error, "unexpected character after closing quote at column 7");
  EXPECT_EQ(records[0].raw, "1,\"ab\"x y,3");
  EXPECT_THAT(records[0].fields, ElementsAre("1", "ab", "3"));
  EXPECT_EQ(records[1].error, "unexpected character after closing quote at column 6");
  EXPECT_EQ(records[1].line, 2);
  EXPECT_TRUE(records[2].error.empty());
  EXPECT_THAT(records[2].fields, ElementsAre("4", "5"));
  EXPECT_EQ(records[2].line, 3);
}

TEST(CsvReaderTest, RecoveryFindsTerminatorOutsideQuotes) {
  // After the bad field, the next field is quoted again and its newline is not a terminator; a
  // quote in the ignored garbage is not an opening quote.
  auto records = Read("\"a\"b\"c,\"x\ny\"\nok\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_THAT(records[0].error, HasSubstr("column 4"));
  EXPECT_THAT(records[0].fields, ElementsAre("a", "x\ny"));
  EXPECT_THAT(records[1].fields, ElementsAre("ok"));
  EXPECT_EQ(records[1].line, 3);
  // A lone CR after a closing quote is garbage too.
  auto cr = Read("\"a\"\rb\nc\n");
  ASSERT_EQ(cr.size(), 2u);
  EXPECT_THAT(cr[0].error, HasSubstr("column 4"));
  EXPECT_THAT(cr[1].fields, ElementsAre("c"));
}

TEST(CsvReaderTest, OverlongRecordIsSkippedAndReadingRecovers) {
  const std::string big(100, 'x');
  const std::string text = "a,b\n" + big + ",\"" + big + "\n" + big + "\"\nc,d\n";
  for (size_t chunk : {size_t{1}, size_t{3}, size_t{16}, size_t{1} << 20}) {
    SCOPED_TRACE(chunk);
    auto records = ReadChunked(text, chunk, 32);
    ASSERT_EQ(records.size(), 3u);
    EXPECT_TRUE(records[0].error.empty());
    EXPECT_EQ(records[1].error, "record longer than 32 bytes");
    EXPECT_TRUE(records[1].fields.empty());
    EXPECT_EQ(records[1].raw, big.substr(0, 32));
    EXPECT_EQ(records[1].line, 2);
    EXPECT_THAT(records[2].fields, ElementsAre("c", "d"));
    EXPECT_EQ(records[2].line, 4);  // the quoted newline in the skipped record still counts
  }
}

TEST(CsvReaderTest, RecordOfExactlyTheLimitIsKept) {
  for (size_t chunk : {size_t{1}, size_t{2}, size_t{64}}) {
    SCOPED_TRACE(chunk);
    auto records = ReadChunked("abcd\r\nabcde\nab\rcd\r\n", chunk, 4);
    ASSERT_EQ(records.size(), 3u);
    EXPECT_TRUE(records[0].error.empty());
    EXPECT_EQ(records[0].raw, "abcd");
    EXPECT_EQ(records[1].error, "record longer than 4 bytes");
    EXPECT_EQ(records[1].raw, "abcd");
    EXPECT_EQ(records[2].error, "record longer than 4 bytes");  // the lone CR is data
  }
}

TEST(CsvReaderTest, OverlongRawIsCutAtACharacterBoundary) {
  // "é" is 2 bytes: a 5-byte limit would split the third one.
  auto records = ReadChunked("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\nz\n", 2, 5);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].raw, "\xC3\xA9\xC3\xA9");
  EXPECT_THAT(records[1].fields, ElementsAre("z"));
}

TEST(CsvReaderTest, InvalidUtf8IsAFileError) {
  // Records that end before the bad byte come first; the error names its offset.
  auto records = ReadChunked("a,b\nc,\xFF\n", 1 << 20);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_THAT(records[0].fields, ElementsAre("a", "b"));
  EXPECT_EQ(records[1].line, -1);
  EXPECT_EQ(records[1].error, "csv: not UTF-8 at byte 6");

  CsvReader reader(ReadFromString("\xC0\xAF"));  // an overlong '/'
  CsvRecord record;
  absl::StatusOr<bool> first = reader.Next(&record);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(first.status().message(), "csv: not UTF-8 at byte 0");
  EXPECT_EQ(reader.Next(&record).status(), first.status());  // sticky

  // A surrogate, a code point above U+10FFFF, a character cut short by the end of input.
  EXPECT_EQ(ReadChunked("ok\n\xED\xA0\x80", 2).back().error, "csv: not UTF-8 at byte 3");
  EXPECT_EQ(ReadChunked("\xF4\x90\x80\x80", 1).back().error, "csv: not UTF-8 at byte 0");
  EXPECT_EQ(ReadChunked("ab\xE2\x82", 1).back().error, "csv: not UTF-8 at byte 2");
  EXPECT_EQ(ReadChunked("ab\xE2\x82", 100).back().error, "csv: not UTF-8 at byte 2");
  // The BOM counts in offsets; characters split across reads are fine.
  EXPECT_EQ(ReadChunked("\xEF\xBB\xBF\xE2\x82\xAC,\x80", 1).back().error,
            "csv: not UTF-8 at byte 7");
  auto euro = ReadChunked("\xE2\x82\xAC,\xF0\x9F\x98\x80\n", 1);
  ASSERT_EQ(euro.size(), 1u);
  EXPECT_THAT(euro[0].fields, ElementsAre("\xE2\x82\xAC", "\xF0\x9F\x98\x80"));
}

TEST(CsvReaderTest, InvalidUtf8InsideSkippedRecordIsStillAnError) {
  const std::string text = std::string(50, 'x') + "\xFF\n";
  EXPECT_EQ(ReadChunked(text, 4, 10).back().error, "csv: not UTF-8 at byte 50");
}

TEST(CsvReaderTest, LineNumbersCountEmbeddedNewlines) {
  auto records = Read("h1,h2\n\"a\nb\nc\",1\r\n\n\"x\r\n\",2\nlast,3");
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0].line, 1);
  EXPECT_EQ(records[1].line, 2);
  EXPECT_EQ(records[2].line, 6);
  EXPECT_THAT(records[2].fields, ElementsAre("x\r\n", "2"));
  EXPECT_EQ(records[3].line, 8);
}

TEST(CsvReaderTest, OtherDelimiters) {
  auto records = Read("a;\"b;c\";d,e\n", {.delimiter = ';'});
  ASSERT_EQ(records.size(), 1u);
  EXPECT_THAT(records[0].fields, ElementsAre("a", "b;c", "d,e"));
  auto tabs = Read("a\t\tb\n", {.delimiter = '\t'});
  ASSERT_EQ(tabs.size(), 1u);
  EXPECT_THAT(tabs[0].fields, ElementsAre("a", "", "b"));

  CsvReader reader(ReadFromString("a\n"), {.delimiter = '"'});
  CsvRecord record;
  EXPECT_EQ(reader.Next(&record).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CsvReaderTest, ReadErrorIsReturnedAsIs) {
  int calls = 0;
  CsvReader reader([&calls](char* buf, size_t n) -> absl::StatusOr<size_t> {
    if (calls++ == 0) {
      std::copy_n("a,b\nc", 5, buf);
      return 5;
    }
    return absl::DataLossError("disk on fire");
  });
  CsvRecord record;
  absl::StatusOr<bool> more = reader.Next(&record);
  ASSERT_TRUE(more.ok() && *more);
  EXPECT_THAT(record.fields, ElementsAre("a", "b"));
  more = reader.Next(&record);
  ASSERT_FALSE(more.ok());
  EXPECT_EQ(more.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(more.status().message(), "disk on fire");
  EXPECT_EQ(reader.Next(&record).status(), more.status());
  EXPECT_EQ(reader.bytes_read(), 5);
}

TEST(CsvReaderTest, CallbackReturningTooMuchIsAnError) {
  CsvReader reader([](char*, size_t n) -> absl::StatusOr<size_t> { return n + 1; });
  CsvRecord record;
  EXPECT_EQ(reader.Next(&record).status().code(), absl::StatusCode::kInternal);
}

TEST(CsvReaderTest, NextAfterEndKeepsReturningFalse) {
  CsvReader reader(ReadFromString("a\n"));
  CsvRecord record;
  ASSERT_TRUE(*reader.Next(&record));
  ASSERT_FALSE(*reader.Next(&record));
  ASSERT_FALSE(*reader.Next(&record));
  EXPECT_EQ(reader.bytes_read(), 2);
}

// Inputs exercising every state at every chunk boundary.
const char* const kTrickyInputs[] = {
    "a,b,c\n1,2,3\n",
    "\xEF\xBB\xBFid,v\r\n1,\"x\"\"y\"\r\n\r\n2,\"multi\r\nline\"\n",
    "\"a\"b,c\r\n\"d\"\"\"\r\rx\nok",
    "\r\r\n\r\n\n\"\"\n,\n\"",
    "x\"y\"z,\"\",,\"q\"\r",
    "\"unterminated,\nline\r\n",
    "long long long long line,with,\"quoted, stuff\"\nshort\n",
    "\xC3\xA9,\xE2\x82\xAC\r\n\"\xF0\x9F\x98\x80\"\"\"\n",
    "a\rb\r\r\r\n\r",
    "abc\n\xE2\x82",
};

TEST(CsvReaderTest, ChunkSizesGiveIdenticalRecords) {
  for (const char* text : kTrickyInputs) {
    SCOPED_TRACE(testing::PrintToString(std::string(text)));
    for (size_t max : {size_t{8}, size_t{8} << 20}) {
      const auto whole = ReadChunked(text, 1 << 20, max);
      EXPECT_EQ(ReadChunked(text, 1, max), whole);
      EXPECT_EQ(ReadChunked(text, 3, max), whole);
      EXPECT_EQ(ReadWith(ShortReads(text, 2), {.max_record_bytes = max, .chunk_bytes = 5}), whole);
    }
  }
}

TEST(CsvReaderTest, StreamsLargeInputInBoundedMemory) {
  // 64 MiB of rows through a 64 KiB chunk; then one 32 MiB record with a 1 KiB limit.
  const std::string row = "2026-01-01T00:00:00Z,antenna-17,\"quoted, with \"\"escapes\"\"\",1234\n";
  const size_t rows = (64 << 20) / row.size();
  size_t produced = 0;
  size_t offset = 0;
  auto generate = [&](char* buf, size_t n) -> absl::StatusOr<size_t> {
    size_t k = 0;
    while (k < n && produced < rows) {
      const size_t take = std::min(n - k, row.size() - offset);
      std::copy_n(row.data() + offset, take, buf + k);
      k += take;
      offset += take;
      if (offset == row.size()) {
        offset = 0;
        ++produced;
      }
    }
    return k;
  };
  CsvReader::Options options{.max_record_bytes = 4096, .chunk_bytes = 64 << 10};
  CsvReader reader(generate, options);
  CsvRecord record;
  size_t count = 0;
  size_t max_buffer = 0;
  for (;;) {
    absl::StatusOr<bool> more = reader.Next(&record);
    ASSERT_TRUE(more.ok()) << more.status();
    if (!*more) break;
    ASSERT_EQ(record.fields.size(), 4u);
    ASSERT_EQ(record.fields[2], "quoted, with \"escapes\"");
    ++count;
    max_buffer = std::max(max_buffer, reader.buffer_bytes());
  }
  EXPECT_EQ(count, rows);
  EXPECT_EQ(record.line, static_cast<int64_t>(rows));
  EXPECT_LE(max_buffer, options.max_record_bytes + options.chunk_bytes + 8);

  const size_t huge = 32 << 20;
  size_t sent = 0;
  auto one_huge_record = [&](char* buf, size_t n) -> absl::StatusOr<size_t> {
    const std::string_view tail = "\nafter\n";
    const size_t total = huge + tail.size();
    const size_t k = std::min(n, total - sent);
    for (size_t j = 0; j < k; ++j) {
      const size_t at = sent + j;
      buf[j] = at < huge ? (at % 7 == 0 ? '"' : 'y') : tail[at - huge];
    }
    sent += k;
    return k;
  };
  CsvReader big(one_huge_record, {.max_record_bytes = 1024, .chunk_bytes = 4096});
  ASSERT_TRUE(*big.Next(&record));
  EXPECT_EQ(record.error, "record longer than 1024 bytes");
  EXPECT_EQ(record.raw.size(), 1024u);
  EXPECT_LE(big.buffer_bytes(), 1024u + 4096u + 8u);
  ASSERT_TRUE(*big.Next(&record));
  EXPECT_THAT(record.fields, ElementsAre("after"));
  EXPECT_EQ(record.line, 2);
  EXPECT_FALSE(*big.Next(&record));
}

// A small encoder for the round trip: quotes a field when it must (or at random when it may).
std::string Encode(const std::string& field, bool quote) {
  if (!quote) return field;
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

TEST(CsvReaderTest, RandomRoundTrip) {
  std::mt19937 rng(20260515);
  const std::vector<std::string> alphabet = {"a",
                                             "b",
                                             "Z",
                                             "0",
                                             " ",
                                             ",",
                                             "\"",
                                             "\n",
                                             "\r",
                                             "\xC3\xA9",
                                             "\xE2\x82\xAC",
                                             "\xF0\x9F\x98\x80"};
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  for (int round = 0; round < 300; ++round) {
    std::string text;
    std::vector<OwnedCsvRecord> expected;
    if (pick(4) == 0) text += "\xEF\xBB\xBF";
    int64_t line = 1;
    const int records = 1 + pick(12);
    for (int r = 0; r < records; ++r) {
      while (pick(5) == 0) {  // blank lines
        text += pick(2) ? "\n" : "\r\n";
        ++line;
      }
      OwnedCsvRecord rec;
      rec.line = line;
      const int fields = 1 + pick(5);
      for (int f = 0; f < fields; ++f) {
        std::string value;
        const int len = pick(7);
        for (int k = 0; k < len; ++k) value += alphabet[pick(static_cast<int>(alphabet.size()))];
        const bool must_quote = value.find_first_of(",\r\n") != std::string::npos ||
                                (!value.empty() && value[0] == '"') ||
                                (fields == 1 && value.empty());  // else a blank line
        const bool quote = must_quote || pick(3) == 0;
        rec.raw += (f > 0 ? "," : "") + Encode(value, quote);
        rec.fields.push_back(value);
        rec.quoted.push_back(quote ? 1 : 0);
      }
      text += rec.raw;
      line += std::count(rec.raw.begin(), rec.raw.end(), '\n');
      const bool last = r == records - 1;
      if (!last || pick(2)) {
        text += pick(2) ? "\n" : "\r\n";
        ++line;
      }
      expected.push_back(std::move(rec));
    }
    SCOPED_TRACE(testing::PrintToString(text));
    for (size_t chunk : {size_t{1}, size_t{3}, size_t{7}, size_t{1} << 20}) {
      ASSERT_EQ(ReadChunked(text, chunk), expected) << "chunk " << chunk;
    }
    ASSERT_EQ(ReadWith(ShortReads(text, 1 + pick(5)), {.chunk_bytes = 16}), expected);
  }
}

TEST(CsvReaderTest, ReusesRecordBuffers) {
  CsvReader reader(ReadFromString("a,b,c\nd,e,f\n"));
  CsvRecord record;
  ASSERT_TRUE(*reader.Next(&record));
  const auto* fields = record.fields.data();
  ASSERT_TRUE(*reader.Next(&record));
  EXPECT_EQ(record.fields.data(), fields);
  EXPECT_THAT(ToOwned(record).fields, ElementsAre("d", "e", "f"));
}

}  // namespace
}  // namespace lf::ingest
