#include "parquet/metadata.h"

#include "common/status.h"
#include "parquet/thrift_compact.h"

namespace lf::parquet {

// ---------------------------------------------------------------------------------------------
// Serialization. Field ids follow parquet.thrift.

namespace {

void WriteStatistics(const Statistics& s, CompactWriter& w) {
  w.StructBegin();
  if (s.max) w.FieldBinary(1, *s.max);
  if (s.min) w.FieldBinary(2, *s.min);
  if (s.null_count) w.FieldI64(3, *s.null_count);
  if (s.distinct_count) w.FieldI64(4, *s.distinct_count);
  if (s.max_value) w.FieldBinary(5, *s.max_value);
  if (s.min_value) w.FieldBinary(6, *s.min_value);
  w.StructEnd();
}

void WriteEmptyStructField(int16_t id, CompactWriter& w) {
  w.FieldBegin(id, CType::kStruct);
  w.StructBegin();
  w.StructEnd();
}

void WriteLogicalType(const LogicalType& lt, CompactWriter& w) {
  w.StructBegin();
  using K = LogicalType::Kind;
  switch (lt.kind) {
    case K::kTimestamp:
    case K::kTime:
      w.FieldBegin(static_cast<int16_t>(lt.kind), CType::kStruct);
      w.StructBegin();
      w.FieldBool(1, lt.is_adjusted_to_utc);
      w.FieldBegin(2, CType::kStruct);
      w.StructBegin();
      WriteEmptyStructField(static_cast<int16_t>(lt.unit), w);
      w.StructEnd();
      w.StructEnd();
      break;
    case K::kInteger:
      w.FieldBegin(10, CType::kStruct);
      w.StructBegin();
      w.FieldBegin(1, CType::kByte);
      w.Byte(lt.bit_width);
      w.FieldBool(2, lt.is_signed);
      w.StructEnd();
      break;
    case K::kDecimal:
      w.FieldBegin(5, CType::kStruct);
      w.StructBegin();
      w.FieldI32(1, lt.scale);
      w.FieldI32(2, lt.precision);
      w.StructEnd();
      break;
    case K::kNone:
    case K::kOther:
      break;
    default:
      WriteEmptyStructField(static_cast<int16_t>(lt.kind), w);
      break;
  }
  w.StructEnd();
}

void WriteSchemaElement(const SchemaElement& e, CompactWriter& w) {
  w.StructBegin();
  if (e.type) w.FieldI32(1, static_cast<int32_t>(*e.type));
  if (e.type_length) w.FieldI32(2, *e.type_length);
  if (e.repetition_type) w.FieldI32(3, static_cast<int32_t>(*e.repetition_type));
  w.FieldBinary(4, e.name);
  if (e.num_children) w.FieldI32(5, *e.num_children);
  if (e.converted_type) w.FieldI32(6, *e.converted_type);
  if (e.scale) w.FieldI32(7, *e.scale);
  if (e.precision) w.FieldI32(8, *e.precision);
  if (e.field_id) w.FieldI32(9, *e.field_id);
  if (e.logical_type) {
    w.FieldBegin(10, CType::kStruct);
    WriteLogicalType(*e.logical_type, w);
  }
  w.StructEnd();
}

void WriteColumnMetaData(const ColumnMetaData& m, CompactWriter& w) {
  w.StructBegin();
  w.FieldI32(1, static_cast<int32_t>(m.type));
  w.FieldBegin(2, CType::kList);
  w.ListBegin(CType::kI32, m.encodings.size());
  for (Encoding e : m.encodings) w.I32(static_cast<int32_t>(e));
  w.FieldBegin(3, CType::kList);
  w.ListBegin(CType::kBinary, m.path_in_schema.size());
  for (const auto& p : m.path_in_schema) w.Binary(p);
  w.FieldI32(4, static_cast<int32_t>(m.codec));
  w.FieldI64(5, m.num_values);
  w.FieldI64(6, m.total_uncompressed_size);
  w.FieldI64(7, m.total_compressed_size);
  w.FieldI64(9, m.data_page_offset);
  if (m.index_page_offset) w.FieldI64(10, *m.index_page_offset);
  if (m.dictionary_page_offset) w.FieldI64(11, *m.dictionary_page_offset);
  if (m.statistics) {
    w.FieldBegin(12, CType::kStruct);
    WriteStatistics(*m.statistics, w);
  }
  w.StructEnd();
}

void WriteRowGroup(const RowGroup& rg, CompactWriter& w) {
  w.StructBegin();
  w.FieldBegin(1, CType::kList);
  w.ListBegin(CType::kStruct, rg.columns.size());
  for (const auto& c : rg.columns) {
    w.StructBegin();
    if (c.file_path) w.FieldBinary(1, *c.file_path);
    w.FieldI64(2, c.file_offset);
    if (c.meta_data) {
      w.FieldBegin(3, CType::kStruct);
      WriteColumnMetaData(*c.meta_data, w);
    }
    w.StructEnd();
  }
  w.FieldI64(2, rg.total_byte_size);
  w.FieldI64(3, rg.num_rows);
  if (rg.file_offset) w.FieldI64(5, *rg.file_offset);
  if (rg.total_compressed_size) w.FieldI64(6, *rg.total_compressed_size);
  if (rg.ordinal) {
    w.FieldBegin(7, CType::kI16);
    w.I16(*rg.ordinal);
  }
  w.StructEnd();
}

}  // namespace

void SerializeFileMetaData(const FileMetaData& md, std::string* out) {
  CompactWriter w(out);
  w.StructBegin();
  w.FieldI32(1, md.version);
  w.FieldBegin(2, CType::kList);
  w.ListBegin(CType::kStruct, md.schema.size());
  for (const auto& e : md.schema) WriteSchemaElement(e, w);
  w.FieldI64(3, md.num_rows);
  w.FieldBegin(4, CType::kList);
  w.ListBegin(CType::kStruct, md.row_groups.size());
  for (const auto& rg : md.row_groups) WriteRowGroup(rg, w);
  if (!md.key_value_metadata.empty()) {
    w.FieldBegin(5, CType::kList);
    w.ListBegin(CType::kStruct, md.key_value_metadata.size());
    for (const auto& kv : md.key_value_metadata) {
      w.StructBegin();
      w.FieldBinary(1, kv.key);
      if (kv.value) w.FieldBinary(2, *kv.value);
      w.StructEnd();
    }
  }
  if (md.created_by) w.FieldBinary(6, *md.created_by);
  if (!md.column_orders.empty()) {
    w.FieldBegin(7, CType::kList);
    w.ListBegin(CType::kStruct, md.column_orders.size());
    for (int16_t member : md.column_orders) {
      w.StructBegin();
      WriteEmptyStructField(member, w);
      w.StructEnd();
    }
  }
  w.StructEnd();
}

void SerializePageHeader(const PageHeader& h, std::string* out) {
  CompactWriter w(out);
  w.StructBegin();
  w.FieldI32(1, static_cast<int32_t>(h.type));
  w.FieldI32(2, h.uncompressed_page_size);
  w.FieldI32(3, h.compressed_page_size);
  if (h.crc) w.FieldI32(4, *h.crc);
  if (h.data_page_header) {
    const auto& d = *h.data_page_header;
    w.FieldBegin(5, CType::kStruct);
    w.StructBegin();
    w.FieldI32(1, d.num_values);
    w.FieldI32(2, static_cast<int32_t>(d.encoding));
    w.FieldI32(3, static_cast<int32_t>(d.definition_level_encoding));
    w.FieldI32(4, static_cast<int32_t>(d.repetition_level_encoding));
    if (d.statistics) {
      w.FieldBegin(5, CType::kStruct);
      WriteStatistics(*d.statistics, w);
    }
    w.StructEnd();
  }
  if (h.dictionary_page_header) {
    const auto& d = *h.dictionary_page_header;
    w.FieldBegin(7, CType::kStruct);
    w.StructBegin();
    w.FieldI32(1, d.num_values);
    w.FieldI32(2, static_cast<int32_t>(d.encoding));
    if (d.is_sorted) w.FieldBool(3, *d.is_sorted);
    w.StructEnd();
  }
  if (h.data_page_header_v2) {
    const auto& d = *h.data_page_header_v2;
    w.FieldBegin(8, CType::kStruct);
    w.StructBegin();
    w.FieldI32(1, d.num_values);
    w.FieldI32(2, d.num_nulls);
    w.FieldI32(3, d.num_rows);
    w.FieldI32(4, static_cast<int32_t>(d.encoding));
    w.FieldI32(5, d.definition_levels_byte_length);
    w.FieldI32(6, d.repetition_levels_byte_length);
    w.FieldBool(7, d.is_compressed);
    if (d.statistics) {
      w.FieldBegin(8, CType::kStruct);
      WriteStatistics(*d.statistics, w);
    }
    w.StructEnd();
  }
  w.StructEnd();
}

// ---------------------------------------------------------------------------------------------
// Parsing. Each struct parser reads fields until stop, dispatching on (id, wire type); a known id
// with an unexpected wire type is skipped like an unknown field.

namespace {

// Required-field bookkeeping: bit i set when field id i was seen.
class Seen {
 public:
  void Set(int16_t id) {
    if (id >= 0 && id < 64) bits_ |= uint64_t{1} << id;
  }
  bool Has(int16_t id) const { return (bits_ >> id) & 1; }

 private:
  uint64_t bits_ = 0;
};

absl::Status Missing(const char* structure, const char* field) {
  return InvalidArgument("thrift {} is missing required field {}", structure, field);
}

// Iterates the fields of a struct: `fn(const FieldHeader&) -> StatusOr<bool>` returns true when
// it consumed the value, false to have it skipped.
template <typename Fn>
absl::Status ReadStruct(CompactReader& r, Fn&& fn) {
  LF_RETURN_IF_ERROR(r.StructBegin());
  while (true) {
    FieldHeader h;
    LF_RETURN_IF_ERROR(r.ReadFieldHeader(&h));
    if (h.type == CType::kStop) break;
    absl::StatusOr<bool> used = fn(h);
    if (!used.ok()) return used.status();
    if (!*used) LF_RETURN_IF_ERROR(r.Skip(h.type));
  }
  return r.StructEnd();
}

template <typename E>
absl::Status ReadEnum(CompactReader& r, E* out) {
  int32_t v;
  LF_RETURN_IF_ERROR(r.ReadI32(&v));
  *out = static_cast<E>(v);
  return absl::OkStatus();
}

template <typename E>
absl::Status ReadEnum(CompactReader& r, std::optional<E>* out) {
  E v;
  LF_RETURN_IF_ERROR(ReadEnum(r, &v));
  *out = v;
  return absl::OkStatus();
}

absl::Status ReadOptI32(CompactReader& r, std::optional<int32_t>* out) {
  int32_t v;
  LF_RETURN_IF_ERROR(r.ReadI32(&v));
  *out = v;
  return absl::OkStatus();
}

absl::Status ReadOptI64(CompactReader& r, std::optional<int64_t>* out) {
  int64_t v;
  LF_RETURN_IF_ERROR(r.ReadI64(&v));
  *out = v;
  return absl::OkStatus();
}

absl::Status ReadOptBinary(CompactReader& r, std::optional<std::string>* out) {
  std::string v;
  LF_RETURN_IF_ERROR(r.ReadBinary(&v));
  *out = std::move(v);
  return absl::OkStatus();
}

bool IsBool(CType t) { return t == CType::kBoolTrue || t == CType::kBoolFalse; }

absl::Status ParseStatistics(CompactReader& r, Statistics* s) {
  return ReadStruct(r, [&](const FieldHeader& h) -> absl::StatusOr<bool> {
    bool bin = h.type == CType::kBinary, i64 = h.type == CType::kI64;
    switch (h.id) {
      case 1:
        if (!bin) return false;
        LF_RETURN_IF_ERROR(ReadOptBinary(r, &s->max));
        return true;
      case 2:
        if (!bin) return false;
        LF_RETURN_IF_ERROR(ReadOptBinary(r, &s->min));
        return true;
      case 3:
        if (!i64) return false;
        LF_RETURN_IF_ERROR(ReadOptI64(r, &s->null_count));
        return true;
      case 4:
        if (!i64) return false;
        LF_RETURN_IF_ERROR(ReadOptI64(r, &s->distinct_count));
        return true;
      case 5:
        if (!bin) return false;
        LF_RETURN_IF_ERROR(ReadOptBinary(r, &s->max_value));
        return true;
      case 6:
        if (!bin) return false;
        LF_RETURN_IF_ERROR(ReadOptBinary(r, &s->min_value));
        return true;
      default:
        return false;
    }
  });
}

// TimeUnit union: the id of the member that is set.
absl::Status ParseTimeUnit(CompactReader& r, TimeUnit* unit) {
  return ReadStruct(r, [&](const FieldHeader& h) -> absl::StatusOr<bool> {
    if (h.id >= 1 && h.id <= 3) *unit = static_cast<TimeUnit>(h.id);
    return false;  // member structs are empty; skip them
  });
}

absl::Status ParseLogicalType(CompactReader& r, LogicalType* lt) {
  using K = LogicalType::Kind;
  return ReadStruct(r, [&](const FieldHeader& h) -> absl::StatusOr<bool> {
    if (h.type != CType::kStruct) return false;
    switch (h.id) {
      case 7:
      case 8:
        lt->kind = static_cast<K>(h.id);
        LF_RETURN_IF_ERROR(ReadStruct(r, [&](const FieldHeader& f) -> absl::StatusOr<bool> {
          if (f.id == 1 && IsBool(f.type)) {
            lt->is_adjusted_to_utc = f.bool_value;
            return true;
          }
          if (f.id == 2 && f.type == CType::kStruct) {
            LF_RETURN_IF_ERROR(ParseTimeUnit(r, &lt->unit));
            return true;
          }
          return false;
        }));
        return true;
      case 10:
        lt->kind = K::kInteger;
        LF_RETURN_IF_ERROR(ReadStruct(r, [&](const FieldHeader& f) -> absl::StatusOr<bool> {
          if (f.id == 1 && f.type == CType::kByte) {
            LF_RETURN_IF_ERROR(r.ReadByte(&lt->bit_width));
            return true;
          }
          if (f.id == 2 && IsBool(f.type)) {
            lt->is_signed = f.bool_value;
            return true;
          }
          return false;
        }));
        return true;
      case 5:
        lt->kind = K::kDecimal;
        LF_RETURN_IF_ERROR(ReadStruct(r, [&](const FieldHeader& f) -> absl::StatusOr<bool> {
          if (f.id == 1 && f.type == CType::kI32) {
            LF_RETURN_IF_ERROR(r.ReadI32(&lt->scale));
            return true;
          }
          if (f.id == 2 && f.type == CType::kI32) {
            LF_RETURN_IF_ERROR(r.ReadI32(&lt->precision));
            return true;
          }
          return false;
        }));
        return true;
      case 1:
      case 2:
      case 3:
      case 4:
      case 6:
      case 11:
      case 12:
      case 13:
      case 14:
      case 15:
        lt->kind = static_cast<K>(h.id);
        return false;  // empty struct: skip its body
      default:
        lt->kind = K::kOther;
        return false;
    }
  });
}

absl::Status ParseSchemaElement(CompactReader& r, SchemaElement* e) {
  Seen seen;
  LF_RETURN_IF_ERROR(ReadStruct(r, [&](const FieldHeader& h) -> absl::StatusOr<bool> {
    bool i32 = h.type == CType::kI32;
    switch (h.id) {
      case 1:
        if (!i32) return false;
        LF_RETURN_IF_ERROR(ReadEnum(r, &e->type));
        return true;
      case 2:
        if (!i32) return false;
        LF_RETURN_IF_ERROR(ReadOptI32(r, &e->type_length));
        return true;
      case 3:
        if (!i32) return false;
        LF_RETURN_IF_ERROR(ReadEnum(r, &e->repetition_type));
        return true;
      case 4:
        if (h.type != CType::kBinary) return false;
        LF_RETURN_IF_ERROR(r.ReadBinary(&e->name));
        seen.Set(4);
        return true;
      case 5:
        if (!i32) return false;
        LF_RETURN_IF_ERROR(ReadOptI32(r, &e->num_children));
        return true;
      case 6:
        if (!i32) return false;
        LF_RETURN_IF_ERROR(ReadOptI32(r, &e->converted_type));
        return true;
      case 7:
        if (!i32) return false;
        LF_RETURN_IF_ERROR(ReadOptI32(r, &e->scale));
        return true;
      case 8:
        if (!i32) return false;
        LF_RETURN_IF_ERROR(ReadOptI32(r, &e->precision));
        return true;
      case 9:
        if (!i32) return false;
        LF_RETURN_IF_ERROR(ReadOptI32(r, &e->field_id));
        return true;
      case 10:
        if (h.type != CType::kStruct) return false;
        e->logical_type.emplace();
        LF_RETURN_IF_ERROR(ParseLogicalType(r, &*e->logical_type));
        return true;
      default:
        return false;
    }
  }));
  if (!seen.Has(4)) return Missing("SchemaElement", "name");
  return absl::OkStatus();
}

template <typename T, typename Fn>
absl::Status ReadList(CompactReader& r, CType want, const char* what, std::vector<T>* out,
                      Fn&& read_one) {
  CType elem;
  uint32_t n;
  LF_RETURN_IF_ERROR(r.ReadListHeader(&elem, &n));
  if (n > 0 && elem != want) {
    return InvalidArgument("thrift list {} has elements of wire type {}, expected {}", what,
                           static_cast<int>(elem), static_cast<int>(want));
  }
  out->clear();
  out->reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    out->emplace_back();
    LF_RETURN_IF_ERROR(read_one(&out->back()));
  }
  return absl::OkStatus();
}

absl::Status ParseColumnMetaData(CompactReader& r, ColumnMetaData* m) {
  Seen seen;
  LF_RETURN_IF_ERROR(ReadStruct(r, [&](const FieldHeader& h) -> absl::StatusOr<bool> {
    bool i32 = h.type == CType::kI32, i64 = h.type == CType::kI64;
    switch (h.id) {
      case 1:
        if (!i32) return false;
        LF_RETURN_IF_ERROR(ReadEnum(r, &m->type));
        break;
      case 2:
        if (h.type != CType::kList) return false;
        LF_RETURN_IF_ERROR(ReadList(r, CType::kI32, "encodings", &m->encodings,
                                    [&](Encoding* e) { return ReadEnum(r, e); }));
        break;
      case 3:
        if (h.type != CType::kList) return false;
        LF_RETURN_IF_ERROR(ReadList(r, CType::kBinary, "path_in_schema", &m->path_in_schema,
                                    [&](std::string* s) { return r.ReadBinary(s); }));
        break;
      case 4:
        if (!i32) return false;
        LF_RETURN_IF_ERROR(ReadEnum(r, &m->codec));
        break;
      case 5:
        if (!i64) return false;
        LF_RETURN_IF_ERROR(r.ReadI64(&m->num_values));
        break;
      case 6:
        if (!i64) return false;
        LF_RETURN_IF_ERROR(r.ReadI64(&m->total_uncompressed_size));
        break;
      case 7:
        if (!i64) return false;
        LF_RETURN_IF_ERROR(r.ReadI64(&m->total_compressed_size));
        break;
      case 9:
        if (!i64) return false;
        LF_RETURN_IF_ERROR(r.ReadI64(&m->data_page_offset));
        break;
      case 10:
        if (!i64) return false;
        LF_RETURN_IF_ERROR(ReadOptI64(r, &m->index_page_offset));
        break;
      case 11:
        if (!i64) return false;
        LF_RETURN_IF_ERROR(ReadOptI64(r, &m->dictionary_page_offset));
        break;
      case 12:
        if (h.type != CType::kStruct) return false;
        m->statistics.emplace();
        LF_RETURN_IF_ERROR(ParseStatistics(r, &*m->statistics));
        break;
      default:
        return false;
    }
    seen.Set(h.id);
    return true;
  }));
  static constexpr struct {
    int16_t id;
    const char* name;
  } kRequired[] = {{1, "type"},
                   {2, "encodings"},
                   {3, "path_in_schema"},
                   {4, "codec"},
                   {5, "num_values"},
                   {6, "total_uncompressed_size"},
                   {7, "total_compressed_size"},
                   {9, "data_page_offset"}};
  for (const auto& f : kRequired) {
    if (!seen.Has(f.id)) return Missing("ColumnMetaData", f.name);
  }
  return absl::OkStatus();
}

absl::Status ParseColumnChunk(CompactReader& r, ColumnChunk* c) {
  return ReadStruct(r, [&](const FieldHeader& h) -> absl::StatusOr<bool> {
    switch (h.id) {
      case 1:
        if (h.type != CType::kBinary) return false;
        LF_RETURN_IF_ERROR(ReadOptBinary(r, &c->file_path));
        return true;
      case 2:
        if (h.type != CType::kI64) return false;
        LF_RETURN_IF_ERROR(r.ReadI64(&c->file_offset));
        return true;
      case 3:
        if (h.type != CType::kStruct) return false;
        c->meta_data.emplace();
        LF_RETURN_IF_ERROR(ParseColumnMetaData(r, &*c->meta_data));
        return true;
      default:
        return false;
    }
  });
}

absl::Status ParseRowGroup(CompactReader& r, RowGroup* rg) {
  Seen seen;
  LF_RETURN_IF_ERROR(ReadStruct(r, [&](const FieldHeader& h) -> absl::StatusOr<bool> {
    bool i64 = h.type == CType::kI64;
    switch (h.id) {
      case 1:
        if (h.type != CType::kList) return false;
        LF_RETURN_IF_ERROR(ReadList(r, CType::kStruct, "columns", &rg->columns,
                                    [&](ColumnChunk* c) { return ParseColumnChunk(r, c); }));
        break;
      case 2:
        if (!i64) return false;
        LF_RETURN_IF_ERROR(r.ReadI64(&rg->total_byte_size));
        break;
      case 3:
        if (!i64) return false;
        LF_RETURN_IF_ERROR(r.ReadI64(&rg->num_rows));
        break;
      case 5:
        if (!i64) return false;
        LF_RETURN_IF_ERROR(ReadOptI64(r, &rg->file_offset));
        break;
      case 6:
        if (!i64) return false;
        LF_RETURN_IF_ERROR(ReadOptI64(r, &rg->total_compressed_size));
        break;
      case 7: {
        if (h.type != CType::kI16) return false;
        int16_t v;
        LF_RETURN_IF_ERROR(r.ReadI16(&v));
        rg->ordinal = v;
        break;
      }
      default:
        return false;
    }
    seen.Set(h.id);
    return true;
  }));
  if (!seen.Has(1)) return Missing("RowGroup", "columns");
  if (!seen.Has(3)) return Missing("RowGroup", "num_rows");
  return absl::OkStatus();
}

absl::Status ParseStatsField(CompactReader& r, const FieldHeader& h, std::optional<Statistics>* s) {
  s->emplace();
  return ParseStatistics(r, &**s);
}

}  // namespace

absl::StatusOr<FileMetaData> ParseFileMetaData(const uint8_t* data, size_t size) {
  CompactReader r(data, size);
  FileMetaData md;
  Seen seen;
  LF_RETURN_IF_ERROR(ReadStruct(r, [&](const FieldHeader& h) -> absl::StatusOr<bool> {
    switch (h.id) {
      case 1:
        if (h.type != CType::kI32) return false;
        LF_RETURN_IF_ERROR(r.ReadI32(&md.version));
        break;
      case 2:
        if (h.type != CType::kList) return false;
        LF_RETURN_IF_ERROR(ReadList(r, CType::kStruct, "schema", &md.schema,
                                    [&](SchemaElement* e) { return ParseSchemaElement(r, e); }));
        break;
      case 3:
        if (h.type != CType::kI64) return false;
        LF_RETURN_IF_ERROR(r.ReadI64(&md.num_rows));
        break;
      case 4:
        if (h.type != CType::kList) return false;
        LF_RETURN_IF_ERROR(ReadList(r, CType::kStruct, "row_groups", &md.row_groups,
                                    [&](RowGroup* rg) { return ParseRowGroup(r, rg); }));
        break;
      case 5:
        if (h.type != CType::kList) return false;
        LF_RETURN_IF_ERROR(ReadList(
            r, CType::kStruct, "key_value_metadata", &md.key_value_metadata, [&](KeyValue* kv) {
              return ReadStruct(r, [&](const FieldHeader& f) -> absl::StatusOr<bool> {
                if (f.type != CType::kBinary) return false;
                if (f.id == 1)
                  LF_RETURN_IF_ERROR(r.ReadBinary(&kv->key));
                else if (f.id == 2)
                  LF_RETURN_IF_ERROR(ReadOptBinary(r, &kv->value));
                else
                  return false;
                return true;
              });
            }));
        break;
      case 6:
        if (h.type != CType::kBinary) return false;
        LF_RETURN_IF_ERROR(ReadOptBinary(r, &md.created_by));
        break;
      case 7:
        if (h.type != CType::kList) return false;
        LF_RETURN_IF_ERROR(
            ReadList(r, CType::kStruct, "column_orders", &md.column_orders, [&](int16_t* member) {
              return ReadStruct(r, [&](const FieldHeader& f) -> absl::StatusOr<bool> {
                *member = f.id;
                return false;
              });
            }));
        break;
      default:
        return false;
    }
    seen.Set(h.id);
    return true;
  }));
  if (!seen.Has(1)) return Missing("FileMetaData", "version");
  if (!seen.Has(2)) return Missing("FileMetaData", "schema");
  if (!seen.Has(3)) return Missing("FileMetaData", "num_rows");
  if (!seen.Has(4)) return Missing("FileMetaData", "row_groups");
  return md;
}

absl::StatusOr<PageHeader> ParsePageHeader(const uint8_t* data, size_t size, size_t* consumed) {
  CompactReader r(data, size);
  PageHeader ph;
  Seen seen;
  LF_RETURN_IF_ERROR(ReadStruct(r, [&](const FieldHeader& h) -> absl::StatusOr<bool> {
    bool i32 = h.type == CType::kI32, st = h.type == CType::kStruct;
    switch (h.id) {
      case 1:
        if (!i32) return false;
        LF_RETURN_IF_ERROR(ReadEnum(r, &ph.type));
        break;
      case 2:
        if (!i32) return false;
        LF_RETURN_IF_ERROR(r.ReadI32(&ph.uncompressed_page_size));
        break;
      case 3:
        if (!i32) return false;
        LF_RETURN_IF_ERROR(r.ReadI32(&ph.compressed_page_size));
        break;
      case 4:
        if (!i32) return false;
        LF_RETURN_IF_ERROR(ReadOptI32(r, &ph.crc));
        break;
      case 5: {
        if (!st) return false;
        auto& d = ph.data_page_header.emplace();
        Seen s;
        LF_RETURN_IF_ERROR(ReadStruct(r, [&](const FieldHeader& f) -> absl::StatusOr<bool> {
          if (f.id >= 1 && f.id <= 4 && f.type != CType::kI32) return false;
          switch (f.id) {
            case 1:
              LF_RETURN_IF_ERROR(r.ReadI32(&d.num_values));
              break;
            case 2:
              LF_RETURN_IF_ERROR(ReadEnum(r, &d.encoding));
              break;
            case 3:
              LF_RETURN_IF_ERROR(ReadEnum(r, &d.definition_level_encoding));
              break;
            case 4:
              LF_RETURN_IF_ERROR(ReadEnum(r, &d.repetition_level_encoding));
              break;
            case 5:
              if (f.type != CType::kStruct) return false;
              LF_RETURN_IF_ERROR(ParseStatsField(r, f, &d.statistics));
              break;
            default:
              return false;
          }
          s.Set(f.id);
          return true;
        }));
        if (!s.Has(1)) return Missing("DataPageHeader", "num_values");
        if (!s.Has(2)) return Missing("DataPageHeader", "encoding");
        break;
      }
      case 7: {
        if (!st) return false;
        auto& d = ph.dictionary_page_header.emplace();
        Seen s;
        LF_RETURN_IF_ERROR(ReadStruct(r, [&](const FieldHeader& f) -> absl::StatusOr<bool> {
          switch (f.id) {
            case 1:
              if (f.type != CType::kI32) return false;
              LF_RETURN_IF_ERROR(r.ReadI32(&d.num_values));
              break;
            case 2:
              if (f.type != CType::kI32) return false;
              LF_RETURN_IF_ERROR(ReadEnum(r, &d.encoding));
              break;
            case 3:
              if (!IsBool(f.type)) return false;
              d.is_sorted = f.bool_value;
              break;
            default:
              return false;
          }
          s.Set(f.id);
          return true;
        }));
        if (!s.Has(1)) return Missing("DictionaryPageHeader", "num_values");
        break;
      }
      case 8: {
        if (!st) return false;
        auto& d = ph.data_page_header_v2.emplace();
        Seen s;
        LF_RETURN_IF_ERROR(ReadStruct(r, [&](const FieldHeader& f) -> absl::StatusOr<bool> {
          if (f.id >= 1 && f.id <= 6 && f.type != CType::kI32) return false;
          switch (f.id) {
            case 1:
              LF_RETURN_IF_ERROR(r.ReadI32(&d.num_values));
              break;
            case 2:
              LF_RETURN_IF_ERROR(r.ReadI32(&d.num_nulls));
              break;
            case 3:
              LF_RETURN_IF_ERROR(r.ReadI32(&d.num_rows));
              break;
            case 4:
              LF_RETURN_IF_ERROR(ReadEnum(r, &d.encoding));
              break;
            case 5:
              LF_RETURN_IF_ERROR(r.ReadI32(&d.definition_levels_byte_length));
              break;
            case 6:
              LF_RETURN_IF_ERROR(r.ReadI32(&d.repetition_levels_byte_length));
              break;
            case 7:
              if (!IsBool(f.type)) return false;
              d.is_compressed = f.bool_value;
              break;
            case 8:
              if (f.type != CType::kStruct) return false;
              LF_RETURN_IF_ERROR(ParseStatsField(r, f, &d.statistics));
              break;
            default:
              return false;
          }
          s.Set(f.id);
          return true;
        }));
        for (int16_t id : {1, 2, 3, 4, 5, 6}) {
          if (!s.Has(id))
            return Missing("DataPageHeaderV2",
                           "num_values/num_nulls/num_rows/encoding/levels lengths");
        }
        break;
      }
      default:
        return false;
    }
    seen.Set(h.id);
    return true;
  }));
  if (!seen.Has(1)) return Missing("PageHeader", "type");
  if (!seen.Has(2)) return Missing("PageHeader", "uncompressed_page_size");
  if (!seen.Has(3)) return Missing("PageHeader", "compressed_page_size");
  *consumed = r.position();
  return ph;
}

const char* TypeName(Type t) {
  switch (t) {
    case Type::kBoolean:
      return "BOOLEAN";
    case Type::kInt32:
      return "INT32";
    case Type::kInt64:
      return "INT64";
    case Type::kInt96:
      return "INT96";
    case Type::kFloat:
      return "FLOAT";
    case Type::kDouble:
      return "DOUBLE";
    case Type::kByteArray:
      return "BYTE_ARRAY";
    case Type::kFixedLenByteArray:
      return "FIXED_LEN_BYTE_ARRAY";
  }
  return "UNKNOWN_TYPE";
}

const char* CodecName(Codec c) {
  switch (c) {
    case Codec::kUncompressed:
      return "UNCOMPRESSED";
    case Codec::kSnappy:
      return "SNAPPY";
    case Codec::kGzip:
      return "GZIP";
    case Codec::kLzo:
      return "LZO";
    case Codec::kBrotli:
      return "BROTLI";
    case Codec::kLz4:
      return "LZ4";
    case Codec::kZstd:
      return "ZSTD";
    case Codec::kLz4Raw:
      return "LZ4_RAW";
  }
  return "UNKNOWN_CODEC";
}

const char* EncodingName(Encoding e) {
  switch (e) {
    case Encoding::kPlain:
      return "PLAIN";
    case Encoding::kPlainDictionary:
      return "PLAIN_DICTIONARY";
    case Encoding::kRle:
      return "RLE";
    case Encoding::kBitPacked:
      return "BIT_PACKED";
    case Encoding::kDeltaBinaryPacked:
      return "DELTA_BINARY_PACKED";
    case Encoding::kDeltaLengthByteArray:
      return "DELTA_LENGTH_BYTE_ARRAY";
    case Encoding::kDeltaByteArray:
      return "DELTA_BYTE_ARRAY";
    case Encoding::kRleDictionary:
      return "RLE_DICTIONARY";
    case Encoding::kByteStreamSplit:
      return "BYTE_STREAM_SPLIT";
  }
  return "UNKNOWN_ENCODING";
}

const char* PageTypeName(PageType t) {
  switch (t) {
    case PageType::kDataPage:
      return "DATA_PAGE";
    case PageType::kIndexPage:
      return "INDEX_PAGE";
    case PageType::kDictionaryPage:
      return "DICTIONARY_PAGE";
    case PageType::kDataPageV2:
      return "DATA_PAGE_V2";
  }
  return "UNKNOWN_PAGE_TYPE";
}

}  // namespace lf::parquet
