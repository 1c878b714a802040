#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace lf::ingest {

// One record of a CSV file as CsvReader::Next() returns it. The views point into the reader's
// buffers and stay valid until the next call of Next() on the same reader.
struct CsvRecord {
  // Field values with quoting undone (`"a""b"` → a"b). At least one per record that has no error.
  std::vector<std::string_view> fields;
  // quoted[i] is 1 when fields[i] was written in quotes: `""` is an empty string, while an empty
  // unquoted field means "no value" to callers.
  std::vector<uint8_t> quoted;
  // The record's bytes as in the file, without its line terminator (and without the BOM). For a
  // record longer than Options::max_record_bytes: its first max_record_bytes bytes at most, cut
  // before an incomplete UTF-8 character.
  std::string_view raw;
  // 1-based physical line where the record starts; lines are counted by LF bytes, including those
  // inside quoted fields and the skipped blank lines.
  int64_t line = 0;
  // Non-empty when the record is malformed: the reason, e.g. "unterminated quoted field". Fields
  // may then be partial (none at all for an over-long record).
  std::string error;
};

// Options of CsvReader (as CsvReader::Options; outside the class so it can be a default argument).
struct CsvReaderOptions {
  // Must not be `"`, CR or LF (Next() then fails with InvalidArgument).
  char delimiter = ',';
  // Longest record accepted, in bytes without the terminator.
  size_t max_record_bytes = 8 << 20;
  // Most bytes asked of the read callback at once (0 is taken as 1).
  size_t chunk_bytes = 1 << 20;
};

// A streaming RFC 4180 reader: pulls bytes through a callback in chunks and hands out one record
// at a time. Memory stays bounded by about max_record_bytes + chunk_bytes (plus the field
// offsets of one record) whatever the input's size. Rules (see README.md):
//  - an optional UTF-8 byte order mark at the very start is skipped;
//  - a record ends at LF or CRLF; a CR not followed by LF is data (or an error after a closing
//    quote); the last record may lack a terminator; empty lines produce no record;
//  - a field starting with `"` is quoted and may hold delimiters, CR, LF and `""` (one quote);
//    after its closing quote only the delimiter or the end of the record may follow, otherwise
//    the record is malformed and the rest of the field is ignored; the next fields are read as
//    usual, so reading resumes at the next line terminator outside quotes;
//  - a quote inside an unquoted field is data (`ab"c` is ab"c);
//  - an unterminated quoted field at the end of input makes the last record malformed;
//  - a record longer than max_record_bytes (without its terminator) is malformed and skipped to
//    its end without being buffered whole;
//  - the input must be UTF-8; the first invalid byte ends reading with an error status.
// Not thread-safe; one thread owns a reader.
class CsvReader {
 public:
  using Options = CsvReaderOptions;

  // Fills up to `n` bytes into `buf` and returns how many; 0 means end of input (it is not asked
  // again). An error ends reading: Next() returns it.
  using ReadFn = std::function<absl::StatusOr<size_t>(char* buf, size_t n)>;

  explicit CsvReader(ReadFn read, Options options = {});

  // Reads the next record into *out (its vectors are reused) and returns true, or returns false
  // at the end of input. A malformed record is returned with out->error set and reading goes on
  // after it. Problems of the file as a whole are an error status, returned again by every later
  // call: the read callback's error as it is; InvalidArgument "csv: not UTF-8 at byte OFFSET"
  // (0-based offset in the input, BOM included), after the records that end before that byte;
  // InvalidArgument for a bad delimiter; Internal when the callback claims more bytes than asked.
  absl::StatusOr<bool> Next(CsvRecord* out);

  // Bytes the read callback has delivered so far.
  int64_t bytes_read() const { return bytes_read_; }

  // Size of the read buffer now (for tests of the memory bound and for metrics).
  size_t buffer_bytes() const { return buf_.size(); }

 private:
  enum class State {
    kRecordStart,    // before the first byte of a record; blank lines are skipped here
    kFieldStart,     // after a delimiter
    kUnquoted,       // inside an unquoted field
    kQuoted,         // inside a quoted field
    kQuoteInQuoted,  // after a `"` inside a quoted field: a closing quote or half of `""`
    kBadField,       // after a malformed quoted field: ignoring up to the next delimiter
  };
  // A field of the current record; offsets are relative to rec_start_ so they survive moves of
  // the buffer.
  struct FieldSpan {
    size_t begin = 0;
    size_t end = 0;
    bool quoted = false;
    bool escaped = false;  // holds `""` pairs to be undone
  };
  // What a line-terminator candidate at a position turns out to be.
  enum class Terminator { kNone, kLf, kCrLf, kNeedMore };

  bool Scan();
  Terminator TerminatorAt(size_t i) const;
  void BeginRecord();
  void AddField(size_t begin, size_t end, bool quoted, bool escaped);
  void SetError(std::string reason);
  void EndRecord(size_t end, size_t terminator_bytes);
  void FinishAtEnd();
  void Emit(CsvRecord* out);
  void DropOverlongBytes();
  void Refill();
  void ValidateNew();

  ReadFn read_;
  Options options_;
  size_t capacity_limit_;  // the most the buffer may grow to
  bool special_unquoted_[256] = {};

  // buf_[rec_start_, scan_) is the scanned part of the current record, [scan_, valid_end_) is
  // validated UTF-8 not scanned yet, [valid_end_, end_) an incomplete UTF-8 character waiting for
  // its next bytes.
  std::vector<char> buf_;
  size_t rec_start_ = 0;
  size_t scan_ = 0;
  size_t valid_end_ = 0;
  size_t end_ = 0;
  int64_t bytes_read_ = 0;
  bool eof_ = false;  // the callback returned 0 and every byte is validated
  bool bom_checked_ = false;
  absl::Status status_;  // sticky file-level error

  // The record being scanned.
  State state_ = State::kRecordStart;
  int64_t line_ = 1;  // line of buf_[scan_]
  int64_t record_line_ = 0;
  size_t field_start_ = 0;  // relative to rec_start_
  size_t quote_pos_ = 0;    // relative to rec_start_: the `"` last seen in a quoted field
  bool field_escaped_ = false;
  bool too_long_ = false;  // over max_record_bytes: bytes past the limit are being dropped
  std::vector<FieldSpan> spans_;
  std::string error_;

  // The finished record: where its bytes end and how long its terminator is.
  size_t done_end_ = 0;
  size_t done_terminator_ = 0;
  std::string scratch_;  // unescaped values of fields with `""`
};

// An owning copy of a CsvRecord, for tests and small inputs.
struct OwnedCsvRecord {
  std::vector<std::string> fields;
  std::vector<uint8_t> quoted;
  std::string raw;
  int64_t line = 0;
  std::string error;

  bool operator==(const OwnedCsvRecord&) const = default;
};

OwnedCsvRecord ToOwned(const CsvRecord& record);

// A read callback over `text`, which must outlive it.
CsvReader::ReadFn ReadFromString(std::string_view text);

// Every record of `text`, or the file-level error.
absl::StatusOr<std::vector<OwnedCsvRecord>> ReadAllCsv(std::string_view text,
                                                       CsvReader::Options options = {});

}  // namespace lf::ingest
