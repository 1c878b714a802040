// libFuzzer target: the schema-driven JSON decoder (json/record_decoder) over a schema with every
// field type, bounds, optional fields and a key field. The first byte splits key from payload.
// Whatever it accepts must leave a batch that passes RecordBatch::Validate().

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "json/record_decoder.h"

namespace {

std::vector<lf::pipeline::FieldDef> Fields() {
  using lf::pipeline::FieldType;
  std::vector<lf::pipeline::FieldDef> f(7);
  f[0] = {.name = "id", .type = FieldType::kString};
  f[1] = {.name = "n", .type = FieldType::kInt64, .min = lf::pipeline::Bound{int64_t{-5}}};
  f[2] = {
      .name = "x", .type = FieldType::kFloat64, .optional = true, .max = lf::pipeline::Bound{1e6}};
  f[3] = {.name = "b", .type = FieldType::kBool, .optional = true};
  f[4] = {.name = "t", .type = FieldType::kTimestamp, .unit = lf::pipeline::TimeUnit::kMillis};
  f[5] = {.name = "s", .type = FieldType::kString, .optional = true};
  f[6] = {.name = "k", .type = FieldType::kString, .optional = true, .from_key = true};
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const lf::pipeline::Schema* schema = new lf::pipeline::Schema(Fields());
  static lf::pipeline::Dictionaries* dicts = new lf::pipeline::Dictionaries(*schema);
  static lf::json::JsonRecordDecoder* decoder = new lf::json::JsonRecordDecoder(schema);
  static lf::pipeline::RecordBatch* batch = new lf::pipeline::RecordBatch(schema, dicts);
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.empty() ? 0 : static_cast<uint8_t>(input[0]) % 8;
  std::string_view key = input.substr(input.empty() ? 0 : 1, split);
  std::string_view payload = input.substr(std::min(input.size(), 1 + split));
  lf::pipeline::DecodeError error;
  const size_t before = batch->num_rows();
  const bool ok = decoder->Decode(payload, key, 1, 2, batch, &error);
  if (ok != (batch->num_rows() == before + 1)) __builtin_trap();
  if (!ok && error.message.empty()) __builtin_trap();
  if (!batch->Validate().ok()) __builtin_trap();
  if (batch->num_rows() > 1000) batch->Clear();
  return 0;
}
