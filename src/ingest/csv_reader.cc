#include "ingest/csv_reader.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include "common/status.h"
#include "fmt/format.h"
#include "simdjson.h"

namespace lf::ingest {
namespace {

constexpr char kBom[] = "\xEF\xBB\xBF";
constexpr size_t kBomBytes = 3;
// Room beyond max_record_bytes + chunk_bytes: a CR whose meaning waits on the next byte and the
// first bytes of a UTF-8 character whose last bytes are still to be read.
constexpr size_t kBufferSlack = 8;
constexpr size_t kMaxUtf8Bytes = 4;

size_t SaturatingAdd(size_t a, size_t b) {
  return a > std::numeric_limits<size_t>::max() - b ? std::numeric_limits<size_t>::max() : a + b;
}

bool IsContinuation(uint8_t c) { return (c & 0xC0) == 0x80; }

// The length a UTF-8 lead byte announces (1 for bytes that cannot lead; validation rejects them).
size_t SequenceLength(uint8_t c) {
  if ((c & 0xE0) == 0xC0) return 2;
  if ((c & 0xF0) == 0xE0) return 3;
  if ((c & 0xF8) == 0xF0) return 4;
  return 1;
}

// The length of p[0, n) without a UTF-8 character cut short at its end.
size_t CompletePrefix(const char* p, size_t n) {
  for (size_t k = 1; k < kMaxUtf8Bytes && k <= n; ++k) {
    const auto c = static_cast<uint8_t>(p[n - k]);
    if (IsContinuation(c)) continue;
    return SequenceLength(c) > k ? n - k : n;
  }
  return n;
}

// Index of the first byte of p[0, n) that starts no valid UTF-8 character (RFC 3629: no
// overlong forms, surrogates or code points above U+10FFFF), or n when all of it is valid. Only
// run once the fast validator has said no, to say where.
size_t FirstInvalidUtf8(const char* p, size_t n) {
  size_t i = 0;
  while (i < n) {
    const auto c = static_cast<uint8_t>(p[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    uint8_t lo = 0x80;  // bounds of the second byte
    uint8_t hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c == 0xE0) {
      len = 3;
      lo = 0xA0;
    } else if (c == 0xED) {
      len = 3;
      hi = 0x9F;
    } else if (c >= 0xE1 && c <= 0xEF) {
      len = 3;
    } else if (c == 0xF0) {
      len = 4;
      lo = 0x90;
    } else if (c >= 0xF1 && c <= 0xF3) {
      len = 4;
    } else if (c == 0xF4) {
      len = 4;
      hi = 0x8F;
    } else {
      return i;
    }
    if (n - i < len) return i;
    const auto second = static_cast<uint8_t>(p[i + 1]);
    if (second < lo || second > hi) return i;
    for (size_t k = 2; k < len; ++k) {
      if (!IsContinuation(static_cast<uint8_t>(p[i + k]))) return i;
    }
    i += len;
  }
  return n;
}

}  // namespace

CsvReader::CsvReader(ReadFn read, Options options) : read_(std::move(read)), options_(options) {
  options_.chunk_bytes = std::max<size_t>(options_.chunk_bytes, 1);
  capacity_limit_ =
      SaturatingAdd(SaturatingAdd(options_.max_record_bytes, options_.chunk_bytes), kBufferSlack);
  const char d = options_.delimiter;
  if (d == '"' || d == '\n' || d == '\r') {
    // Constructors do not fail: the first Next() reports it.
    status_ = InvalidArgument("csv: the delimiter must not be a quote, CR or LF");
  }
  special_unquoted_[static_cast<uint8_t>('\n')] = true;
  special_unquoted_[static_cast<uint8_t>('\r')] = true;
  special_unquoted_[static_cast<uint8_t>(d)] = true;
}

absl::StatusOr<bool> CsvReader::Next(CsvRecord* out) {
  for (;;) {
    if (!bom_checked_ && (valid_end_ > 0 || eof_)) {
      // The first character is complete once anything is validated, so a BOM is whole here.
      bom_checked_ = true;
      if (valid_end_ >= kBomBytes && std::memcmp(buf_.data(), kBom, kBomBytes) == 0) {
        rec_start_ = scan_ = kBomBytes;
      }
    }
    if (bom_checked_ && Scan()) {
      Emit(out);
      return true;
    }
    if (!status_.ok()) return status_;
    if (eof_) {
      if (state_ == State::kRecordStart) return false;
      FinishAtEnd();
      Emit(out);
      return true;
    }
    DropOverlongBytes();
    Refill();
  }
}

CsvReader::Terminator CsvReader::TerminatorAt(size_t i) const {
  if (buf_[i] == '\n') return Terminator::kLf;
  if (i + 1 < valid_end_) return buf_[i + 1] == '\n' ? Terminator::kCrLf : Terminator::kNone;
  // A CR as the last byte known: what it is depends on the next one, if any.
  return eof_ ? Terminator::kNone : Terminator::kNeedMore;
}

// Runs the state machine over buf_[scan_, valid_end_). Returns true when a record (and its
// terminator) is complete; false when it needs more bytes, with everything up to scan_ consumed
// so the next call resumes there.
bool CsvReader::Scan() {
  const char* b = buf_.data();
  const size_t n = valid_end_;
  const char delimiter = options_.delimiter;
  size_t i = scan_;
  while (i < n) {
    switch (state_) {
      case State::kRecordStart: {
        if (b[i] == '\n' || b[i] == '\r') {
          const Terminator t = TerminatorAt(i);
          if (t == Terminator::kNeedMore) {
            scan_ = i;
            return false;
          }
          if (t != Terminator::kNone) {  // a blank line: no record
            i += t == Terminator::kLf ? 1 : 2;
            ++line_;
            rec_start_ = i;
            break;
          }
        }
        BeginRecord();
        state_ = State::kFieldStart;
        break;
      }
      case State::kFieldStart:
        if (b[i] == '"') {
          field_start_ = i + 1 - rec_start_;
          field_escaped_ = false;
          state_ = State::kQuoted;
          ++i;
        } else {
          field_start_ = i - rec_start_;
          state_ = State::kUnquoted;
        }
        break;
      case State::kUnquoted:
      case State::kBadField: {
        while (i < n && !special_unquoted_[static_cast<uint8_t>(b[i])]) ++i;
        if (i == n) break;
        const bool keep = state_ == State::kUnquoted;
        if (b[i] == delimiter) {
          if (keep) AddField(field_start_, i - rec_start_, false, false);
          state_ = State::kFieldStart;
          ++i;
          break;
        }
        const Terminator t = TerminatorAt(i);
        if (t == Terminator::kNeedMore) {
          scan_ = i;
          return false;
        }
        if (t == Terminator::kNone) {  // a CR that is data
          ++i;
          break;
        }
        if (keep) AddField(field_start_, i - rec_start_, false, false);
        EndRecord(i, t == Terminator::kLf ? 1 : 2);
        return true;
      }
      case State::kQuoted: {
        // LFs inside quotes still start physical lines.
        while (i < n && b[i] != '"') {
          if (b[i] == '\n') ++line_;
          ++i;
        }
        if (i == n) break;
        quote_pos_ = i - rec_start_;
        state_ = State::kQuoteInQuoted;
        ++i;
        break;
      }
      case State::kQuoteInQuoted: {
        const char c = b[i];
        if (c == '"') {  // `""`: one quote in the value
          field_escaped_ = true;
          state_ = State::kQuoted;
          ++i;
          break;
        }
        if (c == delimiter) {
          AddField(field_start_, quote_pos_, true, field_escaped_);
          state_ = State::kFieldStart;
          ++i;
          break;
        }
        if (c == '\n' || c == '\r') {
          const Terminator t = TerminatorAt(i);
          if (t == Terminator::kNeedMore) {
            scan_ = i;
            return false;
          }
          if (t != Terminator::kNone) {
            AddField(field_start_, quote_pos_, true, field_escaped_);
            EndRecord(i, t == Terminator::kLf ? 1 : 2);
            return true;
          }
        }
        SetError(fmt::format("unexpected character after closing quote at column {}",
                             i - rec_start_ + 1));
        // The field keeps its quoted part; the rest up to the next delimiter is ignored.
        AddField(field_start_, quote_pos_, true, field_escaped_);
        state_ = State::kBadField;
        ++i;
        break;
      }
    }
  }
  scan_ = i;
  return false;
}

void CsvReader::BeginRecord() {
  record_line_ = line_;
  spans_.clear();
  error_.clear();
  too_long_ = false;
}

void CsvReader::AddField(size_t begin, size_t end, bool quoted, bool escaped) {
  // An over-long record has no fields: not keeping them keeps memory bounded.
  if (too_long_) return;
  spans_.push_back({.begin = begin, .end = end, .quoted = quoted, .escaped = escaped});
}

void CsvReader::SetError(std::string reason) {
  if (error_.empty()) error_ = std::move(reason);
}

void CsvReader::EndRecord(size_t end, size_t terminator_bytes) {
  done_end_ = end;
  done_terminator_ = terminator_bytes;
  if (terminator_bytes > 0) ++line_;
  scan_ = end + terminator_bytes;
  state_ = State::kRecordStart;
  if (too_long_ || end - rec_start_ > options_.max_record_bytes) {
    too_long_ = true;
    spans_.clear();
    error_ = fmt::format("record longer than {} bytes", options_.max_record_bytes);
  }
}

void CsvReader::FinishAtEnd() {
  const size_t end = valid_end_ - rec_start_;
  switch (state_) {
    case State::kRecordStart:
    case State::kBadField:
      break;
    case State::kFieldStart:  // after a trailing delimiter: one more, empty field
      AddField(end, end, false, false);
      break;
    case State::kUnquoted:
      AddField(field_start_, end, false, false);
      break;
    case State::kQuoted:
      SetError("unterminated quoted field");
      AddField(field_start_, end, true, field_escaped_);
      break;
    case State::kQuoteInQuoted:
      AddField(field_start_, quote_pos_, true, field_escaped_);
      break;
  }
  EndRecord(valid_end_, 0);
}

void CsvReader::Emit(CsvRecord* out) {
  const char* base = buf_.data() + rec_start_;
  size_t raw_bytes = done_end_ - rec_start_;
  if (too_long_) {
    raw_bytes = CompletePrefix(base, std::min(raw_bytes, options_.max_record_bytes));
  }
  out->raw = std::string_view(base, raw_bytes);
  out->line = record_line_;
  out->error = error_;
  out->fields.clear();
  out->quoted.clear();
  if (!too_long_) {
    // Values with `""` are unescaped into scratch_, sized first so the views stay put.
    size_t scratch_bytes = 0;
    for (const FieldSpan& s : spans_) {
      if (s.escaped) scratch_bytes += s.end - s.begin;
    }
    scratch_.resize(scratch_bytes);
    char* w = scratch_.data();
    for (const FieldSpan& s : spans_) {
      if (!s.escaped) {
        out->fields.emplace_back(base + s.begin, s.end - s.begin);
      } else {
        char* start = w;
        for (size_t j = s.begin; j < s.end; ++j) {
          *w++ = base[j];
          if (base[j] == '"') ++j;  // the second quote of the pair
        }
        out->fields.emplace_back(start, static_cast<size_t>(w - start));
      }
      out->quoted.push_back(s.quoted ? 1 : 0);
    }
  }
  rec_start_ = scan_;
  too_long_ = false;
}

void CsvReader::DropOverlongBytes() {
  if (state_ == State::kRecordStart || scan_ - rec_start_ <= options_.max_record_bytes) return;
  if (!too_long_) {
    too_long_ = true;
    spans_.clear();
  }
  // Keep the first max_record_bytes bytes for CsvRecord::raw and forget the rest of what has
  // been scanned; the state machine goes on from its state to find where the record ends.
  const size_t keep_end = rec_start_ + options_.max_record_bytes;
  const size_t dropped = scan_ - keep_end;
  std::memmove(buf_.data() + keep_end, buf_.data() + scan_, end_ - scan_);
  scan_ -= dropped;
  valid_end_ -= dropped;
  end_ -= dropped;
}

void CsvReader::Refill() {
  const size_t want = options_.chunk_bytes;
  if (buf_.size() - end_ < want && rec_start_ > 0) {
    // Records before rec_start_ have been handed out (and their views invalidated by this call).
    std::memmove(buf_.data(), buf_.data() + rec_start_, end_ - rec_start_);
    scan_ -= rec_start_;
    valid_end_ -= rec_start_;
    end_ -= rec_start_;
    rec_start_ = 0;
  }
  if (buf_.size() - end_ < want) {
    buf_.resize(std::min(capacity_limit_, std::max(buf_.size() * 2, SaturatingAdd(end_, want))));
  }
  const size_t room = std::min(want, buf_.size() - end_);
  if (room == 0) {  // cannot happen while DropOverlongBytes() keeps records short
    status_ = Internal("csv: read buffer full at byte {}", bytes_read_);
    return;
  }
  absl::StatusOr<size_t> got = read_(buf_.data() + end_, room);
  if (!got.ok()) {
    status_ = got.status();  // as is: the callback names its resource
    return;
  }
  if (*got > room) {
    status_ = Internal("csv: read callback returned {} bytes for a buffer of {}", *got, room);
    return;
  }
  if (*got == 0) {
    if (end_ > valid_end_) {
      status_ = InvalidArgument("csv: not UTF-8 at byte {}", bytes_read_ - (end_ - valid_end_));
    } else {
      eof_ = true;
    }
    return;
  }
  end_ += *got;
  bytes_read_ += static_cast<int64_t>(*got);
  ValidateNew();
}

void CsvReader::ValidateNew() {
  const size_t begin = valid_end_;
  // An incomplete character at the end waits for the rest of its bytes.
  const size_t stop = begin + CompletePrefix(buf_.data() + begin, end_ - begin);
  const char* p = buf_.data() + begin;
  if (stop > begin && !simdjson::validate_utf8(p, stop - begin)) {
    size_t bad = FirstInvalidUtf8(p, stop - begin);
    if (bad == stop - begin) bad = 0;  // the validators disagree: blame the start of the chunk
    valid_end_ = begin + bad;
    // buf_[valid_end_, end_) are the last bytes read, so their offsets count back from the end.
    status_ = InvalidArgument("csv: not UTF-8 at byte {}", bytes_read_ - (end_ - valid_end_));
    return;
  }
  valid_end_ = stop;
}

OwnedCsvRecord ToOwned(const CsvRecord& record) {
  OwnedCsvRecord owned;
  owned.fields.assign(record.fields.begin(), record.fields.end());
  owned.quoted = record.quoted;
  owned.raw = std::string(record.raw);
  owned.line = record.line;
  owned.error = record.error;
  return owned;
}

CsvReader::ReadFn ReadFromString(std::string_view text) {
  return [text, pos = size_t{0}](char* buf, size_t n) mutable -> absl::StatusOr<size_t> {
    const size_t k = std::min(n, text.size() - pos);
    if (k > 0) std::memcpy(buf, text.data() + pos, k);
    pos += k;
    return k;
  };
}

absl::StatusOr<std::vector<OwnedCsvRecord>> ReadAllCsv(std::string_view text,
                                                       CsvReader::Options options) {
  CsvReader reader(ReadFromString(text), options);
  std::vector<OwnedCsvRecord> records;
  CsvRecord record;
  for (;;) {
    LF_ASSIGN_OR_RETURN(const bool more, reader.Next(&record));
    if (!more) break;
    records.push_back(ToOwned(record));
  }
  return records;
}

}  // namespace lf::ingest
