// libFuzzer target: the streaming CSV reader (ingest/csv_reader). The first byte picks the chunk
// size (1-16 bytes) and, when its high bit is set, a small record limit; the rest is the file.
// Checked: the same records (and the same final status) whether the file arrives in those chunks,
// one byte at a time or whole; every record without error has a field per quoted flag, at least
// one, and re-encodes to its raw text exactly; lines only increase; what comes out of valid
// UTF-8 is valid UTF-8, and valid UTF-8 is never refused.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/csv_reader.h"
#include "simdjson.h"

namespace {

using lf::ingest::CsvReader;
using lf::ingest::OwnedCsvRecord;

struct Outcome {
  std::vector<OwnedCsvRecord> records;
  std::string status;  // empty when reading ended normally

  bool operator==(const Outcome&) const = default;
};

Outcome ReadAll(std::string_view text, CsvReader::Options options) {
  Outcome out;
  CsvReader reader(lf::ingest::ReadFromString(text), options);
  lf::ingest::CsvRecord record;
  for (;;) {
    absl::StatusOr<bool> more = reader.Next(&record);
    if (!more.ok()) {
      out.status = more.status().ToString();
      if (out.status.empty()) __builtin_trap();
      break;
    }
    if (!*more) break;
    out.records.push_back(lf::ingest::ToOwned(record));
    if (out.records.size() > text.size() + 1) __builtin_trap();  // no progress
  }
  if (reader.bytes_read() > static_cast<int64_t>(text.size())) __builtin_trap();
  return out;
}

std::string Reencode(const OwnedCsvRecord& r, char delimiter) {
  std::string s;
  for (size_t i = 0; i < r.fields.size(); ++i) {
    if (i > 0) s += delimiter;
    if (!r.quoted[i]) {
      s += r.fields[i];
      continue;
    }
    s += '"';
    for (char c : r.fields[i]) {
      if (c == '"') s += '"';
      s += c;
    }
    s += '"';
  }
  return s;
}

void Check(const Outcome& out, std::string_view text, const CsvReader::Options& options) {
  const bool valid_utf8 = simdjson::validate_utf8(text.data(), text.size());
  if (valid_utf8 && !out.status.empty()) __builtin_trap();
  int64_t last_line = 0;
  for (const OwnedCsvRecord& r : out.records) {
    if (r.line <= last_line) __builtin_trap();
    last_line = r.line;
    if (r.fields.size() != r.quoted.size()) __builtin_trap();
    if (r.raw.size() > text.size()) __builtin_trap();
    if (!simdjson::validate_utf8(r.raw.data(), r.raw.size())) __builtin_trap();
    if (!r.error.empty()) {
      if (r.raw.size() > options.max_record_bytes) __builtin_trap();
      continue;
    }
    if (r.fields.empty()) __builtin_trap();
    if (r.raw.size() > options.max_record_bytes) __builtin_trap();
    if (Reencode(r, options.delimiter) != r.raw) __builtin_trap();
    for (const std::string& f : r.fields) {
      if (!simdjson::validate_utf8(f.data(), f.size())) __builtin_trap();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t control = data[0];
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  CsvReader::Options options;
  options.chunk_bytes = 1 + (control & 0x0F);
  if (control & 0x80) options.max_record_bytes = 1 + ((control >> 4) & 0x07) * 5;

  const Outcome chunked = ReadAll(text, options);
  Check(chunked, text, options);
  CsvReader::Options bytewise = options;
  bytewise.chunk_bytes = 1;
  CsvReader::Options whole = options;
  whole.chunk_bytes = text.size() + 1;
  if (!(ReadAll(text, bytewise) == chunked)) __builtin_trap();
  if (!(ReadAll(text, whole) == chunked)) __builtin_trap();
  return 0;
}
