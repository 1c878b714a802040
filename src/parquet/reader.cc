#include "parquet/reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/status.h"
#include "parquet/compression.h"
#include "parquet/encoding.h"

namespace lf::parquet {

namespace {

constexpr char kMagic[4] = {'P', 'A', 'R', '1'};

uint32_t LoadLe32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Size in bytes of one PLAIN value of a fixed-width type, 0 for BYTE_ARRAY and BOOLEAN.
size_t FixedWidth(Type t, int32_t type_length) {
  switch (t) {
    case Type::kInt32:
    case Type::kFloat:
      return 4;
    case Type::kInt64:
    case Type::kDouble:
      return 8;
    case Type::kInt96:
      return 12;
    case Type::kFixedLenByteArray:
      return static_cast<size_t>(type_length);
    default:
      return 0;
  }
}

bool IsByteType(Type t) {
  return t == Type::kByteArray || t == Type::kFixedLenByteArray || t == Type::kInt96;
}

// Number of values held by a ColumnData of physical type t.
size_t ValueCount(const ColumnData& c) {
  switch (c.physical) {
    case Type::kBoolean:
      return c.bools.size();
    case Type::kInt32:
      return c.int32s.size();
    case Type::kInt64:
      return c.int64s.size();
    case Type::kFloat:
    case Type::kDouble:
      return c.doubles.size();
    default:
      return c.offsets.size() - 1;
  }
}

// Appends `count` fixed-width values from raw little-endian bytes.
void AppendFixed(const uint8_t* p, size_t count, const ColumnDescriptor& d, ColumnData* out) {
  if (count == 0) return;  // p may be null then (an empty page), and memcpy must not see it
  switch (d.physical) {
    case Type::kInt32: {
      size_t base = out->int32s.size();
      out->int32s.resize(base + count);
      std::memcpy(out->int32s.data() + base, p, count * 4);
      break;
    }
    case Type::kInt64: {
      size_t base = out->int64s.size();
      out->int64s.resize(base + count);
      std::memcpy(out->int64s.data() + base, p, count * 8);
      break;
    }
    case Type::kFloat: {
      for (size_t i = 0; i < count; ++i) {
        float f;
        std::memcpy(&f, p + 4 * i, 4);
        out->doubles.push_back(f);
      }
      break;
    }
    case Type::kDouble: {
      size_t base = out->doubles.size();
      out->doubles.resize(base + count);
      std::memcpy(out->doubles.data() + base, p, count * 8);
      break;
    }
    default: {  // FIXED_LEN_BYTE_ARRAY, INT96
      size_t w = FixedWidth(d.physical, d.type_length);
      out->bytes.append(reinterpret_cast<const char*>(p), count * w);
      uint64_t off = out->offsets.back();
      for (size_t i = 0; i < count; ++i) out->offsets.push_back(off += w);
      break;
    }
  }
}

absl::Status DecodePlain(const uint8_t* p, size_t size, size_t count, const ColumnDescriptor& d,
                         ColumnData* out) {
  if (d.physical == Type::kBoolean) {
    if ((count + 7) / 8 > size) {
      return DataLoss("PLAIN booleans: {} values need {} bytes, page has {}", count,
                      (count + 7) / 8, size);
    }
    for (size_t i = 0; i < count; ++i) out->bools.push_back((p[i / 8] >> (i % 8)) & 1);
    return absl::OkStatus();
  }
  if (d.physical == Type::kByteArray) {
    size_t pos = 0;
    uint64_t off = out->offsets.back();
    for (size_t i = 0; i < count; ++i) {
      if (size - pos < 4) return DataLoss("PLAIN byte array {} of {}: length truncated", i, count);
      uint32_t len = LoadLe32(p + pos);
      pos += 4;
      if (len > size - pos) {
        return DataLoss("PLAIN byte array {} of {}: length {} exceeds the {} bytes left", i, count,
                        len, size - pos);
      }
      out->bytes.append(reinterpret_cast<const char*>(p + pos), len);
      out->offsets.push_back(off += len);
      pos += len;
    }
    return absl::OkStatus();
  }
  size_t w = FixedWidth(d.physical, d.type_length);
  if (w == 0) return DataLoss("fixed-length column with width 0");
  if (count > size / w) {
    return DataLoss("PLAIN: {} values of {} bytes but page has {} bytes", count, w, size);
  }
  AppendFixed(p, count, d, out);
  return absl::OkStatus();
}

// Appends dict[indices[i]] for each i; byte arrays may bring out->bytes to at most max_bytes.
absl::Status GatherDictionary(const ColumnData& dict, const std::vector<uint32_t>& idx,
                              uint64_t max_bytes, ColumnData* out) {
  const size_t n = ValueCount(dict);
  for (uint32_t i : idx) {
    if (i >= n) return DataLoss("dictionary index {} out of range (dictionary has {})", i, n);
  }
  if (IsByteType(dict.physical)) {
    uint64_t total = out->bytes.size();
    for (uint32_t i : idx) total += dict.offsets[i + 1] - dict.offsets[i];
    if (total > max_bytes) {
      return ResourceExhausted("dictionary-encoded values expand beyond {} bytes", max_bytes);
    }
  }
  switch (dict.physical) {
    case Type::kBoolean:
      for (uint32_t i : idx) out->bools.push_back(dict.bools[i]);
      break;
    case Type::kInt32:
      for (uint32_t i : idx) out->int32s.push_back(dict.int32s[i]);
      break;
    case Type::kInt64:
      for (uint32_t i : idx) out->int64s.push_back(dict.int64s[i]);
      break;
    case Type::kFloat:
    case Type::kDouble:
      for (uint32_t i : idx) out->doubles.push_back(dict.doubles[i]);
      break;
    default: {
      uint64_t off = out->offsets.back();
      for (uint32_t i : idx) {
        uint64_t b = dict.offsets[i], e = dict.offsets[i + 1];
        out->bytes.append(dict.bytes, b, e - b);
        out->offsets.push_back(off += e - b);
      }
      break;
    }
  }
  return absl::OkStatus();
}

// Decodes `count` dictionary indices (bit width byte, then RLE/bit-packed runs) into out[0..count).
absl::Status DecodeDictionaryIndices(const uint8_t* p, size_t size, size_t count, uint32_t* out) {
  if (count == 0) return absl::OkStatus();
  if (size < 1) return DataLoss("dictionary indices: missing bit width");
  int bw = p[0];
  if (bw > 32) return DataLoss("dictionary indices: bit width {} > 32", bw);
  RleBitPackedDecoder dec(p + 1, size - 1, bw);
  absl::Status s = dec.Get(out, count);
  return s.ok() ? s : Annotate(s, "dictionary indices");
}

absl::Status DecodeValues(Encoding enc, const uint8_t* p, size_t size, size_t count,
                          const ColumnDescriptor& d, const ColumnData* dict, uint64_t max_bytes,
                          ColumnData* out) {
  switch (enc) {
    case Encoding::kPlain:
      return DecodePlain(p, size, count, d, out);
    case Encoding::kPlainDictionary:
    case Encoding::kRleDictionary: {
      if (dict == nullptr) return DataLoss("dictionary-encoded page but no dictionary page");
      std::vector<uint32_t> idx(count);
      LF_RETURN_IF_ERROR(DecodeDictionaryIndices(p, size, count, idx.data()));
      return GatherDictionary(*dict, idx, max_bytes, out);
    }
    case Encoding::kRle: {
      if (d.physical != Type::kBoolean) {
        return Unimplemented("RLE encoding for {} values", TypeName(d.physical));
      }
      if (size < 4) return DataLoss("RLE booleans: length prefix truncated");
      uint32_t len = LoadLe32(p);
      if (len > size - 4) return DataLoss("RLE booleans: length {} exceeds page", len);
      std::vector<uint32_t> v(count);
      RleBitPackedDecoder dec(p + 4, len, 1);
      absl::Status s = dec.Get(v.data(), count);
      if (!s.ok()) return Annotate(s, "RLE booleans");
      for (uint32_t b : v) out->bools.push_back(static_cast<uint8_t>(b));
      return absl::OkStatus();
    }
    case Encoding::kDeltaBinaryPacked: {
      if (d.physical != Type::kInt32 && d.physical != Type::kInt64) {
        return DataLoss("DELTA_BINARY_PACKED for {} column", TypeName(d.physical));
      }
      std::vector<int64_t> v;
      size_t used;
      absl::Status s = DecodeDeltaBinaryPacked(p, size, count, &v, &used);
      if (!s.ok()) return Annotate(s, "DELTA_BINARY_PACKED");
      if (v.size() != count) {
        return DataLoss("DELTA_BINARY_PACKED holds {} values, {} expected", v.size(), count);
      }
      if (d.physical == Type::kInt64) {
        out->int64s.insert(out->int64s.end(), v.begin(), v.end());
      } else {
        for (int64_t x : v) out->int32s.push_back(static_cast<int32_t>(x));
      }
      return absl::OkStatus();
    }
    case Encoding::kDeltaLengthByteArray: {
      if (d.physical != Type::kByteArray) {
        return DataLoss("DELTA_LENGTH_BYTE_ARRAY for {} column", TypeName(d.physical));
      }
      size_t used;
      absl::Status s =
          DecodeDeltaLengthByteArray(p, size, count, {&out->offsets, &out->bytes}, &used);
      return s.ok() ? s : Annotate(s, "DELTA_LENGTH_BYTE_ARRAY");
    }
    case Encoding::kDeltaByteArray: {
      if (!IsByteType(d.physical)) {
        return DataLoss("DELTA_BYTE_ARRAY for {} column", TypeName(d.physical));
      }
      uint64_t budget = max_bytes > out->bytes.size() ? max_bytes - out->bytes.size() : 0;
      absl::Status s = DecodeDeltaByteArray(p, size, count, {&out->offsets, &out->bytes}, budget);
      return s.ok() ? s : Annotate(s, "DELTA_BYTE_ARRAY");
    }
    case Encoding::kByteStreamSplit: {
      size_t w = FixedWidth(d.physical, d.type_length);
      if (w == 0) return DataLoss("BYTE_STREAM_SPLIT for {} column", TypeName(d.physical));
      if (count > size / w)
        return DataLoss("BYTE_STREAM_SPLIT: page too small for {} values", count);
      std::vector<uint8_t> tmp(count * w);
      absl::Status s = DecodeByteStreamSplit(p, size, count, w, tmp.data());
      if (!s.ok()) return Annotate(s, "BYTE_STREAM_SPLIT");
      AppendFixed(tmp.data(), count, d, out);
      return absl::OkStatus();
    }
    default:
      return Unimplemented("value encoding {} ({})", EncodingName(enc), static_cast<int>(enc));
  }
}

// The indexed form of DecodeValues (ColumnData::indexed): dictionary indices become indices of
// the table entries from dict_base on (the dictionary's dict_size entries); other encodings append
// their values to the table and index them.
absl::Status DecodeIndexed(Encoding enc, const uint8_t* p, size_t size, size_t count,
                           const ColumnDescriptor& d, const ColumnData* dict, size_t dict_base,
                           uint64_t max_bytes, ColumnData* out) {
  const size_t at = out->indices.size();
  if (enc == Encoding::kPlainDictionary || enc == Encoding::kRleDictionary) {
    if (dict == nullptr) return DataLoss("dictionary-encoded page but no dictionary page");
    const size_t n = dict->EntryCount();
    out->indices.resize(at + count);
    uint32_t* idx = out->indices.data() + at;
    LF_RETURN_IF_ERROR(DecodeDictionaryIndices(p, size, count, idx));
    uint32_t worst = 0;
    for (size_t i = 0; i < count; ++i) worst = std::max(worst, idx[i]);
    if (count > 0 && worst >= n) {
      return DataLoss("dictionary index {} out of range (dictionary has {})", worst, n);
    }
    const auto base = static_cast<uint32_t>(dict_base);
    for (size_t i = 0; i < count; ++i) idx[i] += base;
    return absl::OkStatus();
  }
  const size_t before = out->EntryCount();
  LF_RETURN_IF_ERROR(DecodeValues(enc, p, size, count, d, nullptr, max_bytes, out));
  const size_t after = out->EntryCount();
  if (after - before != count) {
    return DataLoss("page decoded to {} values, {} expected", after - before, count);
  }
  if (after > UINT32_MAX) return ResourceExhausted("more than 2^32 distinct byte-array values");
  out->indices.reserve(at + count);
  for (size_t k = before; k < after; ++k) out->indices.push_back(static_cast<uint32_t>(k));
  return absl::OkStatus();
}

template <typename T>
void ExpandFixed(std::vector<T>& v, size_t base, const uint8_t* valid, size_t n, size_t present) {
  v.resize(base + n);
  size_t c = present;
  for (size_t i = n; i-- > 0;) {
    if (valid[i]) {
      v[base + i] = v[base + --c];
    } else {
      v[base + i] = T{};
    }
  }
}

// Spreads the `present` values appended after row `base` over n rows according to valid[0..n).
void ExpandNulls(ColumnData* out, size_t base, const uint8_t* valid, size_t n, size_t present) {
  switch (out->physical) {
    case Type::kBoolean:
      ExpandFixed(out->bools, base, valid, n, present);
      break;
    case Type::kInt32:
      ExpandFixed(out->int32s, base, valid, n, present);
      break;
    case Type::kInt64:
      ExpandFixed(out->int64s, base, valid, n, present);
      break;
    case Type::kFloat:
    case Type::kDouble:
      ExpandFixed(out->doubles, base, valid, n, present);
      break;
    default: {
      auto& off = out->offsets;
      off.resize(base + n + 1);
      size_t c = present;
      for (size_t i = n; i-- > 0;) {
        off[base + i + 1] = off[base + c];
        if (valid[i]) --c;
      }
      break;
    }
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------

ParquetReader::~ParquetReader() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status ParquetReader::ReadAt(int64_t offset, size_t size, uint8_t* out) const {
  if (offset < 0 || offset > file_size_ || size > static_cast<uint64_t>(file_size_ - offset)) {
    return DataLoss("range [{}, +{}) lies outside the file of {} bytes", offset, size, file_size_);
  }
  while (size > 0) {
    ssize_t n = ::pread(fd_, out, size, offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Unavailable("read at offset {}: {}", offset, std::strerror(errno));
    }
    if (n == 0) return DataLoss("unexpected end of file at offset {}", offset);
    out += n;
    size -= static_cast<size_t>(n);
    offset += n;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ParquetReader>> ParquetReader::Open(const std::string& path,
                                                                   const ReaderOptions& options) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFound("parquet: open {}: no such file", path);
    return Unavailable("parquet: open {}: {}", path, std::strerror(errno));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return Unavailable("parquet: stat {}: {}", path, std::strerror(e));
  }
  auto r = std::make_unique<ParquetReader>(Key(), path, fd, st.st_size, options);
  absl::Status s = r->Init();
  if (!s.ok()) return Annotate(s, fmt::format("parquet: open {}", path));
  return r;
}

absl::Status ParquetReader::Init() {
  if (file_size_ < 12) {
    return DataLoss("file of {} bytes is too small to be Parquet (truncated?)", file_size_);
  }
  uint8_t head[4], tail[8];
  LF_RETURN_IF_ERROR(ReadAt(0, 4, head));
  LF_RETURN_IF_ERROR(ReadAt(file_size_ - 8, 8, tail));
  if (std::memcmp(tail + 4, kMagic, 4) != 0) {
    return DataLoss("bad footer magic (not Parquet, or truncated)");
  }
  if (std::memcmp(head, kMagic, 4) != 0) return DataLoss("bad header magic");
  uint32_t footer_len = LoadLe32(tail);
  if (static_cast<int64_t>(footer_len) > file_size_ - 12) {
    return DataLoss("footer length {} exceeds the file size {}", footer_len, file_size_);
  }
  if (static_cast<int64_t>(footer_len) > options_.max_footer_bytes) {
    return ResourceExhausted("footer length {} exceeds the limit {}", footer_len,
                             options_.max_footer_bytes);
  }
  data_end_ = file_size_ - 8 - footer_len;
  std::vector<uint8_t> footer(footer_len);
  LF_RETURN_IF_ERROR(ReadAt(data_end_, footer_len, footer.data()));
  auto md = ParseFileMetaData(footer.data(), footer.size());
  if (!md.ok()) return Annotate(md.status(), "footer");
  metadata_ = std::move(*md);

  // Walk the schema tree depth first to find the leaves.
  const auto& schema = metadata_.schema;
  if (schema.empty()) return DataLoss("footer: empty schema");
  struct Frame {
    int remaining;
    int def, rep;
    std::string prefix;
  };
  std::vector<Frame> stack;
  int root_children = schema[0].num_children.value_or(0);
  if (root_children < 0 || static_cast<size_t>(root_children) >= schema.size() + 1) {
    return DataLoss("footer: schema root has {} children but {} elements follow", root_children,
                    schema.size() - 1);
  }
  stack.push_back({root_children, 0, 0, ""});
  size_t i = 1;
  while (!stack.empty()) {
    if (stack.back().remaining == 0) {
      stack.pop_back();
      continue;
    }
    if (i >= schema.size()) return DataLoss("footer: schema ends inside a group");
    --stack.back().remaining;
    const SchemaElement& e = schema[i++];
    const Frame& parent = stack.back();
    int def = parent.def, rep = parent.rep;
    Repetition r = e.repetition_type.value_or(Repetition::kRequired);
    if (r == Repetition::kOptional) ++def;
    if (r == Repetition::kRepeated) ++def, ++rep;
    std::string name = parent.prefix.empty() ? e.name : parent.prefix + "." + e.name;
    if (e.num_children && *e.num_children > 0) {
      if (stack.size() >= 32) return DataLoss("footer: schema nested deeper than 32 levels");
      if (static_cast<size_t>(*e.num_children) > schema.size() - i) {
        return DataLoss("footer: group '{}' claims {} children, {} elements remain", name,
                        *e.num_children, schema.size() - i);
      }
      stack.push_back({*e.num_children, def, rep, name});
      continue;
    }
    if (!e.type) return DataLoss("footer: leaf column '{}' has no type", name);
    ColumnDescriptor d;
    d.name = name;
    d.physical = *e.type;
    if (static_cast<int32_t>(d.physical) < 0 || static_cast<int32_t>(d.physical) > 7) {
      return DataLoss("footer: column '{}' has unknown physical type {}", name,
                      static_cast<int32_t>(d.physical));
    }
    d.type_length = e.type_length.value_or(0);
    if (d.physical == Type::kFixedLenByteArray &&
        (d.type_length <= 0 || d.type_length > (1 << 20))) {
      return DataLoss("footer: column '{}' has invalid type_length {}", name, d.type_length);
    }
    d.optional = r == Repetition::kOptional;
    if (e.logical_type) d.logical = *e.logical_type;
    d.converted_type = e.converted_type;
    d.max_definition_level = def;
    d.max_repetition_level = rep;
    d.supported = rep == 0 && def <= 1 && parent.prefix.empty();
    columns_.push_back(std::move(d));
  }
  if (i != schema.size()) {
    return DataLoss("footer: schema has {} elements but the tree covers {}", schema.size(), i);
  }
  for (size_t g = 0; g < metadata_.row_groups.size(); ++g) {
    const RowGroup& rg = metadata_.row_groups[g];
    if (rg.columns.size() != columns_.size()) {
      return DataLoss("footer: row group {} has {} column chunks, the schema {} leaf columns", g,
                      rg.columns.size(), columns_.size());
    }
    if (rg.num_rows < 0) return DataLoss("footer: row group {} has num_rows {}", g, rg.num_rows);
  }
  return absl::OkStatus();
}

int ParquetReader::FindColumn(std::string_view name) const {
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

std::optional<std::pair<int64_t, int64_t>> ParquetReader::Int64MinMax(int row_group,
                                                                      int column) const {
  const ColumnDescriptor& d = columns_[column];
  const ColumnChunk& cc = metadata_.row_groups[row_group].columns[column];
  if (!cc.meta_data || !cc.meta_data->statistics) return std::nullopt;
  if (d.physical != Type::kInt64 && d.physical != Type::kInt32) return std::nullopt;
  // Unsigned integers do not order like their signed storage.
  if (d.logical.kind == LogicalType::Kind::kInteger && !d.logical.is_signed) return std::nullopt;
  const Statistics& s = *cc.meta_data->statistics;
  const std::optional<std::string>* lo = &s.min_value;
  const std::optional<std::string>* hi = &s.max_value;
  if (!*lo || !*hi) {
    lo = &s.min;  // deprecated fields are signed order: right for signed integers
    hi = &s.max;
  }
  if (!*lo || !*hi) return std::nullopt;
  size_t w = d.physical == Type::kInt64 ? 8 : 4;
  if ((*lo)->size() != w || (*hi)->size() != w) return std::nullopt;
  auto decode = [&](const std::string& b) -> int64_t {
    if (w == 8) {
      int64_t v;
      std::memcpy(&v, b.data(), 8);
      return v;
    }
    int32_t v;
    std::memcpy(&v, b.data(), 4);
    return v;
  };
  return std::make_pair(decode(**lo), decode(**hi));
}

std::optional<int64_t> ParquetReader::NullCount(int row_group, int column) const {
  const ColumnChunk& cc = metadata_.row_groups[row_group].columns[column];
  if (!cc.meta_data || !cc.meta_data->statistics) return std::nullopt;
  return cc.meta_data->statistics->null_count;
}

bool ParquetReader::RowGroupMayContain(int row_group, int column, int64_t lo, int64_t hi) const {
  auto mm = Int64MinMax(row_group, column);
  if (!mm) return true;
  return !(mm->second < lo || mm->first > hi);
}

absl::StatusOr<std::vector<ColumnData>> ParquetReader::ReadRowGroup(int row_group,
                                                                    std::span<const int> columns) {
  std::vector<ColumnData> out;
  LF_RETURN_IF_ERROR(ReadRowGroup(row_group, columns, &out));
  return out;
}

absl::Status ParquetReader::ReadRowGroup(int row_group, std::span<const int> columns,
                                         std::vector<ColumnData>* out) {
  out->resize(columns.size());
  for (size_t i = 0; i < columns.size(); ++i) {
    LF_RETURN_IF_ERROR(ReadColumn(row_group, columns[i], &(*out)[i]));
  }
  return absl::OkStatus();
}

absl::Status ParquetReader::ChunkRange(int row_group, int column, int64_t* start_out,
                                       int64_t* end_out) const {
  const ColumnDescriptor& d = columns_[column];
  const RowGroup& rg = metadata_.row_groups[row_group];
  const ColumnChunk& cc = rg.columns[column];
  if (!d.supported) return Unimplemented("nested or repeated columns are not supported");
  if (!cc.meta_data) return DataLoss("column chunk has no metadata");
  if (cc.file_path) return Unimplemented("column data in another file ({})", *cc.file_path);
  const ColumnMetaData& cm = *cc.meta_data;
  if (cm.type != d.physical) {
    return DataLoss("chunk type {} differs from schema type {}", TypeName(cm.type),
                    TypeName(d.physical));
  }
  if (!IsSupportedCodec(cm.codec))
    return Unimplemented("compression codec {}", CodecName(cm.codec));
  const int64_t rows = rg.num_rows;
  if (rows > options_.max_row_group_rows) {
    return ResourceExhausted("row group has {} rows, more than the limit {}", rows,
                             options_.max_row_group_rows);
  }
  if (cm.num_values != rows) {
    return DataLoss("chunk has {} values but the row group {} rows", cm.num_values, rows);
  }
  int64_t start = cm.data_page_offset;
  if (cm.dictionary_page_offset && *cm.dictionary_page_offset > 0 &&
      *cm.dictionary_page_offset < start) {
    start = *cm.dictionary_page_offset;
  }
  if (start < 4 || cm.total_compressed_size < 0 || start > data_end_ ||
      cm.total_compressed_size > data_end_ - start) {
    return DataLoss("chunk range [{}, +{}) lies outside the data section [4, {})", start,
                    cm.total_compressed_size, data_end_);
  }
  *start_out = start;
  *end_out = start + cm.total_compressed_size;
  return absl::OkStatus();
}

absl::Status ParquetReader::ReadPageHeader(int64_t pos, int64_t end, PageHeader* ph,
                                           size_t* header_len, std::vector<uint8_t>* buf) const {
  // Widen the window if the header is larger than the first guess (large statistics).
  for (size_t window = 16 << 10;; window *= 4) {
    size_t n = static_cast<size_t>(std::min<int64_t>(window, end - pos));
    buf->resize(n);
    LF_RETURN_IF_ERROR(ReadAt(pos, n, buf->data()));
    auto h = ParsePageHeader(buf->data(), n, header_len);
    if (h.ok()) {
      *ph = std::move(*h);
      break;
    }
    bool truncated = h.status().code() == absl::StatusCode::kOutOfRange;
    if (!truncated || static_cast<int64_t>(n) == end - pos || window >= (16u << 20)) {
      return DataLoss("corrupt page header: {}", Message(h.status()));
    }
  }
  if (ph->compressed_page_size < 0 || ph->uncompressed_page_size < 0) {
    return DataLoss("negative page size in header");
  }
  if (ph->compressed_page_size > end - pos - static_cast<int64_t>(*header_len)) {
    return DataLoss("compressed page size {} exceeds the {} bytes left in the chunk",
                    ph->compressed_page_size, end - pos - static_cast<int64_t>(*header_len));
  }
  if (ph->compressed_page_size > options_.max_page_bytes ||
      ph->uncompressed_page_size > options_.max_page_bytes) {
    return ResourceExhausted("page of {} bytes exceeds the limit {}", ph->uncompressed_page_size,
                             options_.max_page_bytes);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<PageHeader>> ParquetReader::ReadPageHeaders(int row_group, int column) {
  const std::string where = fmt::format("parquet: read {}: row group {}, column '{}'", path_,
                                        row_group, columns_[column].name);
  int64_t pos, end;
  if (absl::Status s = ChunkRange(row_group, column, &pos, &end); !s.ok())
    return Annotate(s, where);
  std::vector<PageHeader> headers;
  std::vector<uint8_t> buf;
  while (pos < end) {
    PageHeader ph;
    size_t len;
    if (absl::Status s = ReadPageHeader(pos, end, &ph, &len, &buf); !s.ok()) {
      return Annotate(s, fmt::format("{}, page {} at offset {}", where, headers.size(), pos));
    }
    pos += static_cast<int64_t>(len) + ph.compressed_page_size;
    headers.push_back(std::move(ph));
  }
  return headers;
}

absl::StatusOr<ColumnData> ParquetReader::ReadColumn(int row_group, int column) {
  ColumnData out;
  LF_RETURN_IF_ERROR(ReadColumn(row_group, column, &out));
  return out;
}

absl::Status ParquetReader::ReadColumn(int row_group, int column, ColumnData* out_data) {
  const ColumnDescriptor& d = columns_[column];
  const RowGroup& rg = metadata_.row_groups[row_group];
  const std::string where =
      fmt::format("parquet: read {}: row group {}, column '{}'", path_, row_group, d.name);
  auto fail = [&](const absl::Status& s) { return Annotate(s, where); };
  int64_t start, end;
  if (absl::Status s = ChunkRange(row_group, column, &start, &end); !s.ok()) return fail(s);
  const ColumnMetaData& cm = *rg.columns[column].meta_data;
  const int64_t rows = rg.num_rows;

  ColumnData& out = *out_data;
  out.physical = d.physical == Type::kFloat ? Type::kDouble : d.physical;
  out.int32s.clear();
  out.int64s.clear();
  out.doubles.clear();
  out.bools.clear();
  out.offsets.assign(1, 0);
  out.bytes.clear();
  out.valid.clear();
  out.indexed = false;
  out.indices.clear();
  out.num_rows = 0;
  const bool indexed = options_.byte_array_indices && IsByteType(out.physical);
  size_t dict_base = 0;  // the dictionary's first table entry when indexed
  if (indexed) {
    out.indexed = true;
    out.offsets.push_back(0);  // entry 0: the empty string, for null rows
  }
  std::optional<ColumnData> dict;
  std::vector<uint8_t>&header_buf = header_buf_, &body = body_, &page = page_;
  std::vector<uint32_t>& levels = levels_;
  int64_t pos = start, values_read = 0;
  for (int page_no = 0; values_read < rows; ++page_no) {
    auto page_fail = [&](const absl::Status& s) {
      return Annotate(s, fmt::format("{}, page {} at offset {}", where, page_no, pos));
    };
    if (pos >= end) {
      return fail(DataLoss("chunk ends after {} of {} values", values_read, rows));
    }
    PageHeader ph;
    size_t header_len = 0;
    if (absl::Status st = ReadPageHeader(pos, end, &ph, &header_len, &header_buf); !st.ok()) {
      return page_fail(st);
    }
    const int64_t body_pos = pos + static_cast<int64_t>(header_len);
    pos = body_pos + ph.compressed_page_size;  // next page
    auto body_fail = [&](const absl::Status& s) {
      return Annotate(s, fmt::format("{}, page {} at offset {}", where, page_no,
                                     body_pos - static_cast<int64_t>(header_len)));
    };
    if (ph.type != PageType::kDictionaryPage && ph.type != PageType::kDataPage &&
        ph.type != PageType::kDataPageV2) {
      continue;  // index pages and unknown page types carry nothing we need
    }
    body.resize(ph.compressed_page_size);
    if (absl::Status s = ReadAt(body_pos, body.size(), body.data()); !s.ok()) return body_fail(s);
    if (ph.crc && options_.verify_checksums) {
      uint32_t crc = PageCrc(body.data(), body.size());
      if (crc != static_cast<uint32_t>(*ph.crc)) {
        return body_fail(DataLoss("page checksum mismatch: header says {:08x}, data has {:08x}",
                                  static_cast<uint32_t>(*ph.crc), crc));
      }
    }

    if (ph.type == PageType::kDictionaryPage) {
      if (!ph.dictionary_page_header) return body_fail(DataLoss("dictionary page without header"));
      if (dict) return body_fail(DataLoss("second dictionary page in the chunk"));
      int32_t nv = ph.dictionary_page_header->num_values;
      page.resize(ph.uncompressed_page_size);
      if (absl::Status s = Decompress(cm.codec, body.data(), body.size(), page.data(), page.size());
          !s.ok()) {
        return body_fail(Annotate(s, "dictionary page"));
      }
      // Each PLAIN value takes at least one bit (booleans) and usually more, so more values than
      // bits in the page cannot be honest.
      if (nv < 0 || static_cast<uint64_t>(nv) > page.size() * 8 + 8) {
        return body_fail(DataLoss("dictionary page claims {} values in {} bytes", nv, page.size()));
      }
      dict.emplace();
      dict->physical = out.physical;
      if (absl::Status s = DecodePlain(page.data(), page.size(), nv, d, &*dict); !s.ok()) {
        return body_fail(Annotate(s, "dictionary page"));
      }
      if (indexed) {
        dict_base = out.EntryCount();
        const uint64_t shift = out.bytes.size();
        out.bytes += dict->bytes;
        for (size_t k = 1; k < dict->offsets.size(); ++k) {
          out.offsets.push_back(shift + dict->offsets[k]);
        }
      }
      continue;
    }

    // Data page, v1 or v2.
    int64_t nv;
    Encoding encoding;
    const uint8_t* levels_data = nullptr;
    size_t levels_size = 0;
    const uint8_t* values = nullptr;
    size_t values_size = 0;
    if (ph.type == PageType::kDataPage) {
      if (!ph.data_page_header) return body_fail(DataLoss("data page without header"));
      const DataPageHeader& h = *ph.data_page_header;
      nv = h.num_values;
      encoding = h.encoding;
      page.resize(ph.uncompressed_page_size);
      if (absl::Status s = Decompress(cm.codec, body.data(), body.size(), page.data(), page.size());
          !s.ok()) {
        return body_fail(s);
      }
      values = page.data();
      values_size = page.size();
      if (d.optional) {
        if (h.definition_level_encoding != Encoding::kRle) {
          return body_fail(Unimplemented("definition level encoding {}",
                                         EncodingName(h.definition_level_encoding)));
        }
        if (values_size < 4) return body_fail(DataLoss("definition levels truncated"));
        uint32_t len = LoadLe32(values);
        if (len > values_size - 4) {
          return body_fail(DataLoss("definition levels length {} exceeds the page", len));
        }
        levels_data = values + 4;
        levels_size = len;
        values += 4 + len;
        values_size -= 4 + len;
      }
    } else {
      if (!ph.data_page_header_v2) return body_fail(DataLoss("data page v2 without header"));
      const DataPageHeaderV2& h = *ph.data_page_header_v2;
      nv = h.num_values;
      encoding = h.encoding;
      int64_t def_len = h.definition_levels_byte_length, rep_len = h.repetition_levels_byte_length;
      if (def_len < 0 || rep_len < 0 || def_len + rep_len > ph.compressed_page_size ||
          def_len + rep_len > ph.uncompressed_page_size) {
        return body_fail(DataLoss("level lengths {} + {} exceed the page", def_len, rep_len));
      }
      if (rep_len != 0 && d.max_repetition_level == 0) {
        return body_fail(DataLoss("repetition levels in a non-repeated column"));
      }
      levels_data = body.data() + rep_len;
      levels_size = def_len;
      const uint8_t* section = body.data() + rep_len + def_len;
      size_t section_size = body.size() - rep_len - def_len;
      size_t raw_size = ph.uncompressed_page_size - rep_len - def_len;
      if (h.is_compressed && cm.codec != Codec::kUncompressed) {
        page.resize(raw_size);
        if (absl::Status s = Decompress(cm.codec, section, section_size, page.data(), raw_size);
            !s.ok()) {
          return body_fail(s);
        }
        values = page.data();
        values_size = raw_size;
      } else {
        values = section;
        values_size = section_size;
      }
      if (!d.optional) levels_data = nullptr;
    }
    if (nv < 0 || nv > rows - values_read) {
      return body_fail(DataLoss("page claims {} values but only {} of the row group's {} remain",
                                nv, rows - values_read, rows));
    }
    size_t n = static_cast<size_t>(nv), present = n;
    size_t base = out.num_rows;
    if (d.optional) {
      levels.resize(n);
      RleBitPackedDecoder dec(levels_data, levels_size, 1);
      if (absl::Status s = dec.Get(levels.data(), n); !s.ok()) {
        return body_fail(Annotate(s, "definition levels"));
      }
      present = 0;
      for (uint32_t l : levels) {
        out.valid.push_back(l == 1);
        present += l == 1;
      }
    }
    const auto max_bytes = static_cast<uint64_t>(options_.max_column_bytes);
    absl::Status s = indexed ? DecodeIndexed(encoding, values, values_size, present, d,
                                             dict ? &*dict : nullptr, dict_base, max_bytes, &out)
                             : DecodeValues(encoding, values, values_size, present, d,
                                            dict ? &*dict : nullptr, max_bytes, &out);
    if (!s.ok()) return body_fail(s);
    if (d.optional && present != n) {
      if (indexed) {
        ExpandFixed(out.indices, base, out.valid.data() + base, n, present);
      } else {
        ExpandNulls(&out, base, out.valid.data() + base, n, present);
      }
    }
    out.num_rows += n;
    values_read += nv;
  }
  return absl::OkStatus();
}

}  // namespace lf::parquet
