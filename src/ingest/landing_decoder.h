#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "json/record_decoder.h"
#include "lake/lake_writer.h"
#include "pipeline/definition.h"
#include "pipeline/record_batch.h"
#include "postgres/ingest_store.h"

namespace lf::ingest {

// What decoding one landing file gave.
struct DecodedFile {
  int64_t rows = 0;      // valid rows delivered
  int64_t bad_rows = 0;  // rows sent to dead letters
  // Non-empty when the file as a whole is unreadable (no header, a duplicate column …): nothing
  // of it was delivered.
  std::string file_error;
};

// Decodes landing files (SPEC §6: CSV with a header row, NDJSON, or one JSON array) into rows of
// one schema, in bounded memory. Each valid row goes to a RecordBatch with its metadata (source
// file and row, the unknown columns or members as _rescued_data); each bad row to dead letters
// with its text and the reason. Not thread-safe.
class LandingDecoder {
 public:
  // `schema` must outlive the decoder.
  LandingDecoder(const pipeline::Schema* schema, pipeline::Format format);

  // Decodes the file at `path`, named `name` (relative to the landing root) in the rows'
  // metadata, where it is file number `file_index` of meta->files. Calls `flush` whenever the
  // batch holds `flush_rows` rows (flush empties the batch and the per-row metadata). An error
  // status only when the file cannot be read.
  absl::StatusOr<DecodedFile> Decode(const std::string& path, const std::string& name,
                                     uint32_t file_index, pipeline::RecordBatch* batch,
                                     lake::RowMetadata* meta,
                                     std::vector<postgres::FileDeadLetter>* dead, size_t flush_rows,
                                     const std::function<absl::Status()>& flush);

  // The longest record (CSV row, NDJSON line, array element) accepted.
  static constexpr size_t kMaxRecordBytes = 8 << 20;

 private:
  struct Context;
  absl::StatusOr<DecodedFile> DecodeCsv(Context& c);
  absl::StatusOr<DecodedFile> DecodeJson(Context& c);
  // One JSON record's text (a line or an array element) into the batch or the dead letters.
  absl::Status JsonRecord(Context& c, std::string_view text);

  const pipeline::Schema* schema_;
  pipeline::Format format_;
  json::JsonRecordDecoder json_;
  std::string rescued_;
};

// Parses a CSV field's text as a value of `field`'s type (numbers and booleans may have spaces
// around them; timestamps are numbers in the field's unit or ISO-8601). On success sets *i (int64,
// bool 0/1, timestamp µs) or *d (float64); strings are not parsed here.
bool ParseTextValue(const pipeline::FieldDef& field, std::string_view text, int64_t* i, double* d,
                    pipeline::DecodeError* error);

}  // namespace lf::ingest
