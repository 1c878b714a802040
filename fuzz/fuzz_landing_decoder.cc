// libFuzzer target: landing files (ingest/landing_decoder) — CSV with a header row mapped to a
// schema by name, NDJSON and JSON arrays split element by element — over a schema with every field
// type. The first byte picks the format and how often rows are flushed. Checks: every row is
// accounted for (valid rows + bad rows = the per-row metadata + dead letters), the batch passes
// RecordBatch::Validate() and every _rescued_data value is a JSON object.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "ingest/landing_decoder.h"
#include "simdjson.h"

namespace {

std::vector<lf::pipeline::FieldDef> Fields() {
  using lf::pipeline::FieldType;
  std::vector<lf::pipeline::FieldDef> f(6);
  f[0] = {.name = "id", .type = FieldType::kString};
  f[1] = {.name = "n", .type = FieldType::kInt64, .optional = true};
  f[2] = {.name = "x", .type = FieldType::kFloat64, .optional = true};
  f[3] = {.name = "b", .type = FieldType::kBool, .optional = true};
  f[4] = {.name = "t", .type = FieldType::kTimestamp, .optional = true};
  f[5] = {.name = "s", .type = FieldType::kString, .optional = true};
  return f;
}

std::string TempPath() {
  const char* dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  return std::string(dir) + "/lf-fuzz-landing-" + std::to_string(getpid());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const lf::pipeline::Schema* schema = new lf::pipeline::Schema(Fields());
  static const std::string* path = new std::string(TempPath());
  if (size == 0) return 0;
  const bool csv = data[0] & 1;
  const size_t flush_rows = 1 + (data[0] >> 1) % 8;
  FILE* f = std::fopen(path->c_str(), "wb");
  if (!f) std::abort();
  std::fwrite(data + 1, 1, size - 1, f);
  std::fclose(f);

  lf::pipeline::Dictionaries dicts(*schema);
  lf::pipeline::RecordBatch batch(schema, &dicts);
  lf::lake::RowMetadata meta;
  meta.files = {"f"};
  std::vector<lf::postgres::FileDeadLetter> dead;
  lf::ingest::LandingDecoder decoder(
      schema, csv ? lf::pipeline::Format::kCsv : lf::pipeline::Format::kJson);
  int64_t flushed = 0;
  auto flush = [&]() -> absl::Status {
    if (!batch.Validate().ok()) std::abort();
    if (meta.source_row.size() != batch.num_rows() || meta.rescued.size() != batch.num_rows()) {
      std::abort();
    }
    for (const std::string& r : meta.rescued) {
      if (r.empty()) continue;
      simdjson::dom::parser p;
      simdjson::dom::element e;
      if (r.front() != '{' || p.parse(r).get(e) || !e.is_object()) std::abort();
    }
    flushed += static_cast<int64_t>(batch.num_rows());
    batch.Clear();
    meta.ClearRows();
    return absl::OkStatus();
  };
  auto result = decoder.Decode(*path, "f", 0, &batch, &meta, &dead, flush_rows, flush);
  if (!result.ok()) return 0;  // the file is not UTF-8 (CSV refuses it) or unreadable
  if (!flush().ok()) std::abort();
  if (flushed != result->rows || static_cast<int64_t>(dead.size()) != result->bad_rows)
    std::abort();
  if (!result->file_error.empty() && (result->rows != 0 || result->bad_rows != 0)) std::abort();
  return 0;
}
