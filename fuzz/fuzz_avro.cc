// libFuzzer target: the Avro schema parser, canonical form, resolution check and record decoder
// (src/avro). The first byte picks a writer schema: one of three fixed ones (every type and
// logical type, recursion, unions of many kinds) or, for the fourth, the input's first line is
// parsed as the schema. The rest is a record body. Invariants: a refusal always says why; an
// accepted record leaves a batch that passes RecordBatch::Validate() and a rescue that is valid
// JSON; a parsed schema's canonical form parses to the same canonical form and the schema can
// read itself.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "avro/binary_decoder.h"
#include "avro/compatibility.h"
#include "avro/schema.h"
#include "simdjson.h"

namespace {

using lf::pipeline::FieldDef;
using lf::pipeline::FieldType;

constexpr const char* kSchemas[] = {
    R"({"type":"record","name":"Order","namespace":"shop","fields":[
      {"name":"order_id","type":"string"},
      {"name":"customer_id","type":{"type":"string","logicalType":"uuid"}},
      {"name":"quantity","type":"int"},
      {"name":"unit_price","type":"double"},
      {"name":"currency","type":{"type":"enum","name":"Currency","symbols":["EUR","USD"]}},
      {"name":"order_ts","type":{"type":"long","logicalType":"timestamp-millis"}},
      {"name":"channel","type":["null","string"],"default":null},
      {"name":"discount","type":{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}},
      {"name":"tags","type":{"type":"array","items":"string"}},
      {"name":"attrs","type":{"type":"map","values":"long"}},
      {"name":"shipping","type":{"type":"record","name":"Address","fields":[
        {"name":"city","type":"string"},{"name":"zip","type":["null","int"]}]}},
      {"name":"checksum","type":{"type":"fixed","name":"Md5","size":4}},
      {"name":"ship_date","type":{"type":"int","logicalType":"date"}},
      {"name":"weight","type":"float"},
      {"name":"price_fx","type":{"type":"fixed","name":"Dec8","size":8,"logicalType":"decimal",
        "precision":10,"scale":3}},
      {"name":"paid","type":"boolean"},
      {"name":"micros_ts","type":{"type":"long","logicalType":"timestamp-micros"}},
      {"name":"when","type":["null",{"type":"long","logicalType":"timestamp-millis"},"Address"]}
    ]})",
    R"({"type":"record","name":"Tree","fields":[
      {"name":"a","type":"string"},
      {"name":"children","type":{"type":"array","items":"Tree"}},
      {"name":"next","type":["null","Tree"]},
      {"name":"index","type":{"type":"map","values":["null","Tree",{"type":"array","items":"null"}]}}
    ]})",
    R"({"type":"record","name":"U","fields":[
      {"name":"a","type":["null","string","long","bytes"]},
      {"name":"b","type":["null",{"type":"long","logicalType":"timestamp-micros"},"double"]},
      {"name":"c","type":{"type":"bytes","logicalType":"decimal","precision":40,"scale":5}},
      {"name":"d","type":["boolean","null"]},
      {"name":"e","type":{"type":"int","logicalType":"date"}},
      {"name":"f","type":{"type":"fixed","name":"D3","size":3,"logicalType":"decimal",
        "precision":6,"scale":6}},
      {"name":"rest","type":{"type":"map","values":{"type":"array","items":
        ["null","float",{"type":"enum","name":"K","symbols":["X","Y","Z"]},
         {"type":"record","name":"Empty","fields":[]}]}}}
    ]})",
};

std::vector<FieldDef> Fields() {
  std::vector<FieldDef> f = {
      {.name = "order_id", .type = FieldType::kString},
      {.name = "customer_id", .type = FieldType::kString, .optional = true},
      {.name = "quantity",
       .type = FieldType::kInt64,
       .optional = true,
       .min = lf::pipeline::Bound{int64_t{0}}},
      {.name = "unit_price", .type = FieldType::kFloat64, .optional = true},
      {.name = "currency", .type = FieldType::kString, .optional = true},
      {.name = "order_ts", .type = FieldType::kTimestamp, .optional = true},
      {.name = "channel", .type = FieldType::kString, .optional = true},
      {.name = "discount", .type = FieldType::kString, .optional = true},
      {.name = "price_fx", .type = FieldType::kFloat64, .optional = true},
      {.name = "ship_date", .type = FieldType::kTimestamp, .optional = true},
      {.name = "when", .type = FieldType::kTimestamp, .optional = true},
      {.name = "a", .type = FieldType::kString, .optional = true},
      {.name = "b", .type = FieldType::kTimestamp, .optional = true},
      {.name = "c", .type = FieldType::kFloat64, .optional = true},
      {.name = "d", .type = FieldType::kBool, .optional = true},
      {.name = "e", .type = FieldType::kTimestamp, .optional = true},
      {.name = "f", .type = FieldType::kString, .optional = true},
      {.name = "k", .type = FieldType::kString, .optional = true, .from_key = true},
  };
  return f;
}

struct Fixture {
  lf::pipeline::Schema schema{Fields()};
  lf::pipeline::Dictionaries dicts{schema};
  lf::pipeline::RecordBatch batch{&schema, &dicts};
  std::vector<lf::avro::Schema> writers;
  std::vector<std::unique_ptr<lf::avro::AvroRecordDecoder>> decoders;
  simdjson::dom::parser json;
  std::string rescue;

  Fixture() {
    for (const char* s : kSchemas) writers.push_back(std::move(lf::avro::Schema::Parse(s).value()));
    for (const auto& w : writers) {
      decoders.push_back(std::move(lf::avro::AvroRecordDecoder::Make(&w, &schema).value()));
    }
  }
};

void Run(Fixture& f, lf::avro::AvroRecordDecoder& decoder, std::string_view body) {
  f.batch.Clear();
  lf::pipeline::DecodeError error;
  decoder.set_rescue(&f.rescue);
  if (!decoder.Decode(body, "key", 0, 0, &f.batch, &error)) {
    if (error.message.empty() || f.batch.num_rows() != 0) __builtin_trap();
    return;
  }
  if (f.batch.num_rows() != 1 || !f.batch.Validate().ok()) __builtin_trap();
  if (!f.rescue.empty() && f.json.parse(f.rescue).error()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* f = new Fixture();
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (input.empty()) return 0;
  const size_t which = static_cast<uint8_t>(input[0]) % (std::size(kSchemas) + 1);
  input.remove_prefix(1);
  if (which < std::size(kSchemas)) {
    Run(*f, *f->decoders[which], input);
    return 0;
  }
  const size_t eol = input.find('\n');
  if (eol == std::string_view::npos) return 0;
  auto schema = lf::avro::Schema::Parse(input.substr(0, eol));
  if (!schema.ok()) {
    if (schema.status().message().empty()) __builtin_trap();
    return 0;
  }
  const std::string canonical = lf::avro::CanonicalForm(*schema);
  auto again = lf::avro::Schema::Parse(canonical);
  if (!again.ok() || lf::avro::CanonicalForm(*again) != canonical) __builtin_trap();
  if (!lf::avro::CanRead(*schema, *again).ok()) __builtin_trap();
  (void)lf::avro::Fingerprint64(*schema);
  auto decoder = lf::avro::AvroRecordDecoder::Make(&*schema, &f->schema);
  if (decoder.ok()) Run(*f, **decoder, input.substr(eol + 1));
  return 0;
}
