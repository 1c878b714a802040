#include "ingest/landing_decoder.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#include "common/json_text.h"
#include "common/status.h"
#include "common/time.h"
#include "fmt/format.h"
#include "ingest/csv_reader.h"

namespace lf::ingest {
namespace {

using pipeline::DecodeError;
using pipeline::FieldType;

constexpr int64_t kMinMicros = pipeline::kMinTimestampMicros;
constexpr int64_t kMaxMicros = pipeline::kMaxTimestampMicros;
constexpr auto Fail = pipeline::Refuse;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool Lower(std::string_view s, std::string_view want) {
  if (s.size() != want.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != want[i]) return false;
  }
  return true;
}

std::string Preview(std::string_view s) {
  return std::string(s.substr(0, 64)) + (s.size() > 64 ? "…" : "");
}

// A FILE* read callback for CsvReader and the JSON readers.
struct File {
  std::unique_ptr<FILE, int (*)(FILE*)> f{nullptr, &std::fclose};
  std::string path;
  absl::StatusOr<size_t> Read(char* buf, size_t n) {
    size_t got = std::fread(buf, 1, n, f.get());
    if (got == 0 && std::ferror(f.get())) {
      return Unavailable("ingest: read {}: {}", path, std::strerror(errno));
    }
    return got;
  }
};

}  // namespace

bool ParseTextValue(const pipeline::FieldDef& f, std::string_view raw, int64_t* i, double* d,
                    DecodeError* error) {
  const std::string_view text = Trim(raw);
  auto wrong = [&](const char* want) {
    return Fail(error, DecodeError::Code::kWrongType, f.name,
                fmt::format("field '{}' must be {}, got '{}'", f.name, want, Preview(raw)));
  };
  auto bounds = [&]() {
    pipeline::FieldSlot slot;
    slot.i = *i;
    slot.d = *d;
    return pipeline::CheckBounds(f, slot, error);
  };
  const char* b = text.data();
  const char* e = text.data() + text.size();
  if (!text.empty() && *b == '+') ++b;
  switch (f.type) {
    case FieldType::kString:
      return true;
    case FieldType::kBool:
      if (Lower(text, "true") || text == "1") {
        *i = 1;
      } else if (Lower(text, "false") || text == "0") {
        *i = 0;
      } else {
        return wrong("true or false");
      }
      return true;
    case FieldType::kInt64: {
      auto [p, ec] = std::from_chars(b, e, *i);
      if (ec == std::errc::result_out_of_range) {
        return Fail(error, DecodeError::Code::kOutOfRange, f.name,
                    fmt::format("field '{}' is outside int64: '{}'", f.name, Preview(raw)));
      }
      if (ec != std::errc() || p != e || text.empty()) return wrong("an integer");
      return bounds();
    }
    case FieldType::kFloat64: {
      auto [p, ec] = std::from_chars(b, e, *d);
      if (ec != std::errc() || p != e || text.empty()) return wrong("a number");
      if (!std::isfinite(*d)) {
        return Fail(error, DecodeError::Code::kOutOfRange, f.name,
                    fmt::format("field '{}' is not a finite number", f.name));
      }
      return bounds();
    }
    case FieldType::kTimestamp: {
      int64_t n = 0;
      auto [p, ec] = std::from_chars(b, e, n);
      if (ec == std::errc() && p == e && !text.empty()) {
        if (__builtin_mul_overflow(n, pipeline::TimeUnitMicros(f.unit), i)) *i = INT64_MAX;
      } else {
        double v = 0;
        auto [q, ec2] = std::from_chars(b, e, v);
        if (ec2 == std::errc() && q == e && !text.empty() && std::isfinite(v)) {
          const double us = std::round(v * static_cast<double>(pipeline::TimeUnitMicros(f.unit)));
          *i = std::fabs(us) < 9.2e18 ? static_cast<int64_t>(us) : INT64_MAX;
        } else {
          auto t = ParseTime(text);
          if (!t.ok()) {
            return Fail(
                error, DecodeError::Code::kWrongType, f.name,
                fmt::format("field '{}' is not an ISO-8601 time: '{}'", f.name, Preview(raw)));
          }
          *i = t->time_since_epoch().count();
        }
      }
      if (*i < kMinMicros || *i > kMaxMicros) {
        return Fail(error, DecodeError::Code::kOutOfRange, f.name,
                    fmt::format("field '{}' is outside the years 1-9999", f.name));
      }
      return true;
    }
  }
  return true;
}

struct LandingDecoder::Context {
  File file;
  std::string name;
  uint32_t file_index = 0;
  pipeline::RecordBatch* batch = nullptr;
  lake::RowMetadata* meta = nullptr;
  std::vector<postgres::FileDeadLetter>* dead = nullptr;
  size_t flush_rows = 0;
  const std::function<absl::Status()>* flush = nullptr;
  DecodedFile out;
  int64_t row = 0;  // 1-based data row of the record at hand

  void Bad(std::string_view payload, std::string error) {
    dead->push_back({name, row, std::string(payload), std::move(error)});
    ++out.bad_rows;
  }
  // After a row was appended to the batch: its metadata, and a flush when the batch is full.
  absl::Status Added(std::string rescued) {
    batch->partition.push_back(0);
    batch->offset.push_back(row);
    meta->file_index.push_back(file_index);
    meta->source_row.push_back(row);
    meta->rescued.push_back(std::move(rescued));
    ++out.rows;
    if (batch->num_rows() >= flush_rows) return (*flush)();
    return absl::OkStatus();
  }
};

LandingDecoder::LandingDecoder(const pipeline::Schema* schema, pipeline::Format format)
    : schema_(schema), format_(format), json_(schema) {
  json_.set_rescue(&rescued_);
}

absl::StatusOr<DecodedFile> LandingDecoder::Decode(const std::string& path, const std::string& name,
                                                   uint32_t file_index,
                                                   pipeline::RecordBatch* batch,
                                                   lake::RowMetadata* meta,
                                                   std::vector<postgres::FileDeadLetter>* dead,
                                                   size_t flush_rows,
                                                   const std::function<absl::Status()>& flush) {
  Context c;
  c.file.f.reset(std::fopen(path.c_str(), "rb"));
  c.file.path = path;
  if (!c.file.f) return Unavailable("ingest: cannot open {}: {}", path, std::strerror(errno));
  c.name = name;
  c.file_index = file_index;
  c.batch = batch;
  c.meta = meta;
  c.dead = dead;
  c.flush_rows = std::max<size_t>(1, flush_rows);
  c.flush = &flush;
  if (format_ == pipeline::Format::kCsv) return DecodeCsv(c);
  return DecodeJson(c);
}

absl::StatusOr<DecodedFile> LandingDecoder::DecodeCsv(Context& c) {
  CsvReader::Options options;
  options.max_record_bytes = kMaxRecordBytes;
  CsvReader reader([&c](char* buf, size_t n) { return c.file.Read(buf, n); }, options);
  CsvRecord rec;
  LF_ASSIGN_OR_RETURN(bool any, reader.Next(&rec));
  if (!any) {
    c.out.file_error = "empty file: no header row";
    return c.out;
  }
  if (!rec.error.empty()) {
    c.out.file_error = fmt::format("header row: {}", rec.error);
    return c.out;
  }
  // Columns by name, in any order: the schema field each feeds, or -1 for one the schema lacks.
  const size_t columns = rec.fields.size();
  std::vector<int> field_of(columns, -1);
  std::vector<std::string> header(rec.fields.begin(), rec.fields.end());
  std::vector<int> column_of(schema_->size(), -1);
  for (size_t i = 0; i < columns; ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (header[j] == header[i]) {
        c.out.file_error = fmt::format("header row: column '{}' appears twice", Preview(header[i]));
        return c.out;
      }
    }
    const int f = schema_->IndexOf(header[i]);
    if (f >= 0 && !schema_->field(f).from_key) {
      field_of[i] = f;
      column_of[f] = static_cast<int>(i);
    }
  }
  for (size_t f = 0; f < schema_->size(); ++f) {
    if (column_of[f] < 0 && !schema_->field(f).optional) {
      c.out.file_error =
          fmt::format("header row: no column for the required field '{}'", schema_->field(f).name);
      return c.out;
    }
  }
  std::vector<int64_t> ints(schema_->size());
  std::vector<double> doubles(schema_->size());
  std::vector<uint8_t> valid(schema_->size());
  std::string rescued;
  while (true) {
    auto next = reader.Next(&rec);
    if (!next.ok()) {
      // Rows before an invalid byte were read; the file was checked for UTF-8 before, so this
      // is a read error.
      return next.status();
    }
    if (!*next) break;
    ++c.row;
    if (!rec.error.empty()) {
      c.Bad(rec.raw, rec.error);
      continue;
    }
    if (rec.fields.size() != columns) {
      c.Bad(rec.raw, fmt::format("{} field(s), the header has {}", rec.fields.size(), columns));
      continue;
    }
    DecodeError error;
    bool ok = true;
    std::fill(valid.begin(), valid.end(), 0);
    for (size_t f = 0; f < schema_->size() && ok; ++f) {
      const pipeline::FieldDef& def = schema_->field(f);
      const int col = column_of[f];
      const bool present = col >= 0 && (rec.quoted[col] || !rec.fields[col].empty());
      if (!present) {
        if (!def.optional) {
          ok = Fail(&error, DecodeError::Code::kMissing, def.name,
                    fmt::format("field '{}' is empty", def.name));
        }
        continue;
      }
      if (def.type == FieldType::kString) {
        if (rec.fields[col].find('\0') != std::string_view::npos) {
          ok = Fail(&error, DecodeError::Code::kWrongType, def.name,
                    fmt::format("field '{}' contains a NUL character", def.name));
        }
        valid[f] = 1;
        continue;
      }
      ok = ParseTextValue(def, rec.fields[col], &ints[f], &doubles[f], &error);
      valid[f] = 1;
    }
    if (!ok) {
      c.Bad(rec.raw, error.message);
      continue;
    }
    rescued.clear();
    for (size_t i = 0; i < columns; ++i) {
      if (field_of[i] >= 0) continue;
      rescued.push_back(rescued.empty() ? '{' : ',');
      AppendJsonString(header[i], &rescued);
      rescued.push_back(':');
      if (!rec.quoted[i] && rec.fields[i].empty()) {
        rescued += "null";
      } else {
        AppendJsonString(rec.fields[i], &rescued);
      }
    }
    if (!rescued.empty()) rescued.push_back('}');
    for (size_t f = 0; f < schema_->size(); ++f) {
      pipeline::Column& col = c.batch->column(f);
      col.valid.push_back(valid[f]);
      switch (col.type) {
        case FieldType::kString:
          col.ids.push_back(
              valid[f] ? c.batch->dictionaries().column(f).Intern(rec.fields[column_of[f]]) : 0);
          break;
        case FieldType::kFloat64:
          col.doubles.push_back(valid[f] ? doubles[f] : 0);
          break;
        default:
          col.ints.push_back(valid[f] ? ints[f] : 0);
          break;
      }
    }
    LF_RETURN_IF_ERROR(c.Added(rescued));
  }
  return c.out;
}

absl::Status LandingDecoder::JsonRecord(Context& c, std::string_view text) {
  ++c.row;
  DecodeError error;
  if (!json_.Decode(text, "", 0, c.row, c.batch, &error)) {
    c.Bad(text, error.message);
    return absl::OkStatus();
  }
  // Decode pushed partition/offset: Added pushes them again, so take them back.
  c.batch->partition.pop_back();
  c.batch->offset.pop_back();
  return c.Added(rescued_);
}

// NDJSON (one object per line; blank lines skipped) or one JSON array of objects, told apart by
// the first non-blank character, read in chunks: a line or an array element is buffered whole
// (up to kMaxRecordBytes), never the file.
absl::StatusOr<DecodedFile> LandingDecoder::DecodeJson(Context& c) {
  constexpr size_t kChunk = 1 << 20;
  std::vector<char> buf(kChunk);
  std::string record;
  bool started = false, array = false, closed = false, too_long = false;
  int depth = 0;  // array: nesting inside the current element
  bool in_string = false, escape = false;
  std::string after;  // array: non-blank text after the closing bracket
  auto finish_element = [&]() -> absl::Status {
    std::string_view t = Trim(record);
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.remove_suffix(1);
    while (!t.empty() && (t.front() == '\n' || t.front() == '\r')) t.remove_prefix(1);
    t = Trim(t);
    if (too_long) {
      ++c.row;
      c.Bad(std::string_view(record).substr(0, 1024),
            fmt::format("record longer than {} bytes", kMaxRecordBytes));
    } else if (!t.empty()) {
      LF_RETURN_IF_ERROR(JsonRecord(c, t));
    }
    record.clear();
    too_long = false;
    return absl::OkStatus();
  };
  auto keep = [&](char ch) {
    if (record.size() < kMaxRecordBytes) {
      record.push_back(ch);
    } else {
      too_long = true;
    }
  };
  bool first_chunk = true;
  while (true) {
    LF_ASSIGN_OR_RETURN(size_t n, c.file.Read(buf.data(), buf.size()));
    if (n == 0) break;
    size_t i = 0;
    if (first_chunk) {
      first_chunk = false;
      if (n >= 3 && std::memcmp(buf.data(), "\xEF\xBB\xBF", 3) == 0) i = 3;  // a UTF-8 BOM
    }
    for (; i < n; ++i) {
      const char ch = buf[i];
      if (!started) {
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') continue;
        started = true;
        if (ch == '[') {
          array = true;
          continue;
        }
      }
      if (!array) {
        if (ch == '\n') {
          LF_RETURN_IF_ERROR(finish_element());
        } else {
          keep(ch);
        }
        continue;
      }
      if (closed) {
        if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r' && after.size() < 1024) {
          after.push_back(ch);
        }
        continue;
      }
      if (in_string) {
        keep(ch);
        if (escape) {
          escape = false;
        } else if (ch == '\\') {
          escape = true;
        } else if (ch == '"') {
          in_string = false;
        }
        continue;
      }
      if (ch == '"') {
        in_string = true;
      } else if (ch == '{' || ch == '[') {
        ++depth;
      } else if (ch == '}' || ch == ']') {
        if (depth == 0 && ch == ']') {
          closed = true;
          LF_RETURN_IF_ERROR(finish_element());
          continue;
        }
        if (depth > 0) --depth;
      } else if (ch == ',' && depth == 0) {
        LF_RETURN_IF_ERROR(finish_element());
        continue;
      }
      keep(ch);
    }
  }
  if (!array) {
    LF_RETURN_IF_ERROR(finish_element());
  } else if (!closed) {
    ++c.row;
    c.Bad(std::string_view(record).substr(0, 1024),
          "the JSON array is not closed: truncated file?");
  } else if (!after.empty()) {
    ++c.row;
    c.Bad(after, "content after the JSON array");
  }
  return c.out;
}

}  // namespace lf::ingest
