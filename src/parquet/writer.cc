#include "parquet/writer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <unordered_set>

#include "common/status.h"
#include "parquet/compression.h"
#include "parquet/encoding.h"

namespace lf::parquet {

Schema LakeEventSchema() {
  return {{"bytes", ColumnType::kInt64, true},
          {"timestamp", ColumnType::kTimestampMicros, true},
          {"app", ColumnType::kString, true},
          {"id", ColumnType::kString, true},
          {"antenna_id", ColumnType::kString, true}};
}

namespace {

Type PhysicalOf(ColumnType t) {
  switch (t) {
    case ColumnType::kBoolean:
      return Type::kBoolean;
    case ColumnType::kInt32:
      return Type::kInt32;
    case ColumnType::kInt64:
    case ColumnType::kTimestampMicros:
      return Type::kInt64;
    case ColumnType::kDouble:
      return Type::kDouble;
    case ColumnType::kString:
      return Type::kByteArray;
  }
  return Type::kInt64;
}

template <typename T>
void AppendLe(std::string* out, T v) {
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));  // little-endian host
  out->append(buf, sizeof(T));
}

template <typename T>
std::string LeBytes(T v) {
  std::string s;
  AppendLe(&s, v);
  return s;
}

// Statistics with a longer min or max are not written (they would bloat the footer).
constexpr size_t kMaxStatBytes = 1024;

// Interns the distinct strings of one column chunk: stable copies in an arena, an open-addressing
// table from string to index, and the PLAIN encoding of the entries (the dictionary page body).
class StringDictionary {
 public:
  // The index of `s`, adding it if new (*inserted tells which).
  uint32_t Insert(std::string_view s, bool* inserted) {
    if ((entries_.size() + 1) * 2 > slots_.size()) Grow();
    uint64_t h = std::hash<std::string_view>{}(s);
    size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      uint32_t slot = slots_[i];
      if (slot == 0) {
        uint32_t idx = static_cast<uint32_t>(entries_.size());
        entries_.push_back(Store(s));
        hashes_.push_back(h);
        slots_[i] = idx + 1;
        AppendLe<uint32_t>(&plain_, static_cast<uint32_t>(s.size()));
        plain_.append(s.data(), s.size());
        *inserted = true;
        return idx;
      }
      if (hashes_[slot - 1] == h && entries_[slot - 1] == s) {
        *inserted = false;
        return slot - 1;
      }
    }
  }

  size_t size() const { return entries_.size(); }
  const std::string& plain() const { return plain_; }

  void Clear() {
    entries_.clear();
    hashes_.clear();
    std::fill(slots_.begin(), slots_.end(), 0u);
    plain_.clear();
    blocks_.clear();
    block_used_ = block_size_ = 0;
  }

 private:
  std::string_view Store(std::string_view s) {
    if (s.empty()) return std::string_view();  // nothing to keep (and maybe no block yet)
    if (s.size() > block_size_ - block_used_) {
      size_t size = std::max<size_t>(64 << 10, s.size());
      blocks_.push_back(std::make_unique<char[]>(size));
      block_size_ = size;
      block_used_ = 0;
    }
    char* p = blocks_.back().get() + block_used_;
    std::memcpy(p, s.data(), s.size());
    block_used_ += s.size();
    return std::string_view(p, s.size());
  }

  void Grow() {
    size_t n = std::max<size_t>(1024, slots_.size() * 2);
    slots_.assign(n, 0);
    size_t mask = n - 1;
    for (uint32_t idx = 0; idx < entries_.size(); ++idx) {
      size_t i = hashes_[idx] & mask;
      while (slots_[i] != 0) i = (i + 1) & mask;
      slots_[i] = idx + 1;
    }
  }

  std::vector<std::string_view> entries_;
  std::vector<uint64_t> hashes_;
  std::vector<uint32_t> slots_;
  std::string plain_;
  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t block_used_ = 0, block_size_ = 0;
};

}  // namespace

// Buffers and encodes one column of the open row group.
class ColumnChunkWriter {
 public:
  ColumnChunkWriter(const ColumnSpec& spec, const WriterOptions& options)
      : spec_(spec),
        options_(options),
        physical_(PhysicalOf(spec.type)),
        dict_mode_(options.dictionary && spec.type == ColumnType::kString) {}

  // Adds rows [off, off + n) of `view`. The view was validated by the caller.
  absl::Status Append(const ColumnView& view, size_t off, size_t n) {
    const bool optional = !spec_.required;
    for (size_t i = off; i < off + n;) {
      // Process a run of rows that stays within the current page target.
      size_t end = std::min(off + n, i + 4096);
      if (optional) {
        for (size_t r = i; r < end; ++r) {
          bool present = view.valid.empty() || view.valid[r] != 0;
          def_levels_.push_back(present ? 1 : 0);
          if (present) {
            AppendValues(view, r, 1);
          } else {
            ++page_nulls_;
          }
        }
      } else {
        AppendValues(view, i, end - i);
      }
      page_values_ += end - i;
      i = end;
      if (dict_mode_ && static_cast<int64_t>(dict_.plain().size()) > options_.dictionary_bytes) {
        // The dictionary is too large to pay off: close the page (still dictionary encoded)
        // and write the rest of this chunk PLAIN.
        LF_RETURN_IF_ERROR(FinishPage());
        dict_mode_ = false;
      } else if (PageEstimate() >= options_.page_bytes) {
        LF_RETURN_IF_ERROR(FinishPage());
      }
    }
    return absl::OkStatus();
  }

  int64_t BufferedEstimate() const {
    return static_cast<int64_t>(pages_.size()) + PageEstimate() +
           static_cast<int64_t>(dict_.plain().size());
  }

  // Ends the chunk, which will start at file offset `file_offset`: puts its dictionary page (if
  // any) in *out and describes the chunk in *chunk. The chunk's bytes are *out followed by
  // data_pages(); call Reset() once they are written.
  absl::Status Finish(int64_t file_offset, std::string* out, ColumnChunk* chunk) {
    if (page_values_ > 0 || pages_.empty()) LF_RETURN_IF_ERROR(FinishPage());
    ColumnMetaData md;
    md.type = physical_;
    md.path_in_schema = {spec_.name};
    md.codec = options_.codec;
    md.num_values = chunk_values_;
    int64_t start = file_offset;
    out->clear();
    if (used_dict_) {
      std::string body;
      LF_RETURN_IF_ERROR(CompressPage(dict_.plain(), &body));
      if (dict_.plain().size() > INT32_MAX || body.size() > INT32_MAX) {
        return InvalidArgument("dictionary page of column '{}' exceeds 2 GiB", spec_.name);
      }
      PageHeader h;
      h.type = PageType::kDictionaryPage;
      h.uncompressed_page_size = static_cast<int32_t>(dict_.plain().size());
      h.compressed_page_size = static_cast<int32_t>(body.size());
      h.dictionary_page_header =
          DictionaryPageHeader{static_cast<int32_t>(dict_.size()), Encoding::kPlain, std::nullopt};
      if (options_.page_checksums) {
        h.crc = static_cast<int32_t>(
            PageCrc(reinterpret_cast<const uint8_t*>(body.data()), body.size()));
      }
      SerializePageHeader(h, out);
      chunk_uncompressed_ += static_cast<int64_t>(out->size() + dict_.plain().size());
      out->append(body);
      md.dictionary_page_offset = start;
    }
    md.data_page_offset = start + static_cast<int64_t>(out->size());
    md.total_compressed_size = static_cast<int64_t>(out->size() + pages_.size());
    md.total_uncompressed_size = chunk_uncompressed_;
    // Encodings: levels are RLE; PLAIN for the dictionary page or plain pages.
    if (used_dict_ || used_plain_) md.encodings.push_back(Encoding::kPlain);
    md.encodings.push_back(Encoding::kRle);
    if (used_dict_) md.encodings.push_back(Encoding::kRleDictionary);
    md.statistics = BuildStatistics();
    chunk->file_offset = 0;
    chunk->meta_data = std::move(md);
    return absl::OkStatus();
  }

  const std::string& data_pages() const { return pages_; }

  void Reset() {
    pages_.clear();
    dict_.Clear();
    dict_mode_ = options_.dictionary && spec_.type == ColumnType::kString;
    used_dict_ = used_plain_ = false;
    chunk_values_ = chunk_nulls_ = chunk_uncompressed_ = 0;
    has_minmax_ = false;
    min_s_.clear();
    max_s_.clear();
  }

 private:
  void AppendValues(const ColumnView& v, size_t i, size_t n) {
    switch (spec_.type) {
      case ColumnType::kInt64:
      case ColumnType::kTimestampMicros: {
        const int64_t* p = v.int64s.data() + i;
        plain_.append(reinterpret_cast<const char*>(p), n * 8);
        for (size_t k = 0; k < n; ++k) {
          if (!has_minmax_ || p[k] < min_i64_) min_i64_ = p[k];
          if (!has_minmax_ || p[k] > max_i64_) max_i64_ = p[k];
          has_minmax_ = true;
        }
        break;
      }
      case ColumnType::kInt32: {
        const int32_t* p = v.int32s.data() + i;
        plain_.append(reinterpret_cast<const char*>(p), n * 4);
        for (size_t k = 0; k < n; ++k) {
          if (!has_minmax_ || p[k] < min_i64_) min_i64_ = p[k];
          if (!has_minmax_ || p[k] > max_i64_) max_i64_ = p[k];
          has_minmax_ = true;
        }
        break;
      }
      case ColumnType::kDouble: {
        const double* p = v.doubles.data() + i;
        plain_.append(reinterpret_cast<const char*>(p), n * 8);
        for (size_t k = 0; k < n; ++k) {
          if (std::isnan(p[k])) continue;  // NaN is excluded from min/max (parquet.thrift)
          if (!has_minmax_ || p[k] < min_d_) min_d_ = p[k];
          if (!has_minmax_ || p[k] > max_d_) max_d_ = p[k];
          has_minmax_ = true;
        }
        break;
      }
      case ColumnType::kBoolean: {
        const uint8_t* p = v.bools.data() + i;
        for (size_t k = 0; k < n; ++k) {
          bool b = p[k] != 0;
          bools_.push_back(b);
          if (!has_minmax_ || b < min_b_) min_b_ = b;
          if (!has_minmax_ || b > max_b_) max_b_ = b;
          has_minmax_ = true;
        }
        break;
      }
      case ColumnType::kString: {
        const std::string_view* p = v.strings.data() + i;
        if (dict_mode_) {
          for (size_t k = 0; k < n; ++k) {
            bool inserted;
            indices_.push_back(dict_.Insert(p[k], &inserted));
            if (inserted) UpdateStringStats(p[k]);
          }
        } else {
          for (size_t k = 0; k < n; ++k) {
            AppendLe<uint32_t>(&plain_, static_cast<uint32_t>(p[k].size()));
            plain_.append(p[k].data(), p[k].size());
            UpdateStringStats(p[k]);
          }
        }
        break;
      }
    }
  }

  void UpdateStringStats(std::string_view s) {
    if (!has_minmax_ || s < min_s_) min_s_.assign(s.data(), s.size());
    if (!has_minmax_ || s > max_s_) max_s_.assign(s.data(), s.size());
    has_minmax_ = true;
  }

  int64_t PageEstimate() const {
    int64_t bytes =
        static_cast<int64_t>(plain_.size() + bools_.size() / 8 + def_levels_.size() / 8);
    if (!indices_.empty()) {
      bytes += static_cast<int64_t>(indices_.size()) * BitWidth(dict_.size()) / 8;
    }
    return bytes;
  }

  absl::Status CompressPage(const std::string& raw, std::string* out) {
    absl::Status s = Compress(options_.codec, reinterpret_cast<const uint8_t*>(raw.data()),
                              raw.size(), options_.compression_level, out);
    if (!s.ok()) return Annotate(s, fmt::format("column '{}'", spec_.name));
    return absl::OkStatus();
  }

  absl::Status FinishPage() {
    const bool v2 = options_.data_page_v2;
    raw_.clear();
    level_buf_.clear();
    if (!spec_.required) {
      EncodeRleBitPacked(std::span<const uint8_t>(def_levels_), 1, &level_buf_);
      if (!v2) {
        // v1: the levels are part of the compressed body, with a 4-byte length prefix.
        AppendLe<uint32_t>(&raw_, static_cast<uint32_t>(level_buf_.size()));
        raw_.append(level_buf_);
      }
    }
    Encoding encoding = Encoding::kPlain;
    const std::string* payload = &raw_;
    if (!indices_.empty() || (dict_mode_ && spec_.type == ColumnType::kString)) {
      encoding = Encoding::kRleDictionary;
      // Width 0 is legal but some readers reject it; use at least 1.
      int bw = std::max(1, BitWidth(dict_.size() > 0 ? dict_.size() - 1 : 0));
      raw_.push_back(static_cast<char>(bw));
      EncodeRleBitPacked(std::span<const uint32_t>(indices_), bw, &raw_);
      used_dict_ = true;
    } else if (spec_.type == ColumnType::kBoolean) {
      size_t base = raw_.size();
      raw_.resize(base + (bools_.size() + 7) / 8, '\0');
      for (size_t k = 0; k < bools_.size(); ++k) {
        if (bools_[k]) raw_[base + k / 8] |= static_cast<char>(1 << (k % 8));
      }
      used_plain_ = true;
    } else if (raw_.empty()) {
      payload = &plain_;  // nothing precedes the values: compress them in place, saving a copy
      used_plain_ = true;
    } else {
      raw_.append(plain_);
      used_plain_ = true;
    }
    body_.clear();
    if (v2) body_.append(level_buf_);  // v2 levels stay uncompressed, ahead of the values
    LF_RETURN_IF_ERROR(CompressPage(*payload, &body_));
    const size_t uncompressed = payload->size() + (v2 ? level_buf_.size() : 0);
    if (uncompressed > INT32_MAX || body_.size() > INT32_MAX) {
      return InvalidArgument("page of column '{}' exceeds 2 GiB", spec_.name);
    }
    PageHeader h;
    h.uncompressed_page_size = static_cast<int32_t>(uncompressed);
    h.compressed_page_size = static_cast<int32_t>(body_.size());
    if (options_.page_checksums) {
      h.crc = static_cast<int32_t>(
          PageCrc(reinterpret_cast<const uint8_t*>(body_.data()), body_.size()));
    }
    if (v2) {
      h.type = PageType::kDataPageV2;
      h.data_page_header_v2 = DataPageHeaderV2{static_cast<int32_t>(page_values_),
                                               static_cast<int32_t>(page_nulls_),
                                               static_cast<int32_t>(page_values_),
                                               encoding,
                                               static_cast<int32_t>(level_buf_.size()),
                                               0,
                                               true,
                                               std::nullopt};
    } else {
      h.type = PageType::kDataPage;
      h.data_page_header = DataPageHeader{static_cast<int32_t>(page_values_), encoding,
                                          Encoding::kRle, Encoding::kRle, std::nullopt};
    }
    size_t before = pages_.size();
    SerializePageHeader(h, &pages_);
    chunk_uncompressed_ += static_cast<int64_t>(pages_.size() - before + uncompressed);
    pages_.append(body_);
    chunk_values_ += page_values_;
    chunk_nulls_ += page_nulls_;
    page_values_ = page_nulls_ = 0;
    plain_.clear();
    bools_.clear();
    indices_.clear();
    def_levels_.clear();
    return absl::OkStatus();
  }

  Statistics BuildStatistics() const {
    Statistics st;
    st.null_count = chunk_nulls_;
    if (!has_minmax_) return st;
    switch (spec_.type) {
      case ColumnType::kInt64:
      case ColumnType::kTimestampMicros:
        st.min_value = LeBytes<int64_t>(min_i64_);
        st.max_value = LeBytes<int64_t>(max_i64_);
        break;
      case ColumnType::kInt32:
        st.min_value = LeBytes<int32_t>(static_cast<int32_t>(min_i64_));
        st.max_value = LeBytes<int32_t>(static_cast<int32_t>(max_i64_));
        break;
      case ColumnType::kDouble:
        // parquet.thrift: a zero min is written as -0.0, a zero max as +0.0.
        st.min_value = LeBytes<double>(min_d_ == 0.0 ? -0.0 : min_d_);
        st.max_value = LeBytes<double>(max_d_ == 0.0 ? 0.0 : max_d_);
        break;
      case ColumnType::kBoolean:
        st.min_value = std::string(1, static_cast<char>(min_b_));
        st.max_value = std::string(1, static_cast<char>(max_b_));
        break;
      case ColumnType::kString:
        if (min_s_.size() <= kMaxStatBytes && max_s_.size() <= kMaxStatBytes) {
          st.min_value = min_s_;
          st.max_value = max_s_;
        }
        break;
    }
    return st;
  }

  const ColumnSpec spec_;
  const WriterOptions& options_;
  const Type physical_;
  bool dict_mode_;
  // Current page.
  std::vector<uint8_t> def_levels_;
  std::string plain_;
  std::vector<uint8_t> bools_;
  std::vector<uint32_t> indices_;
  int64_t page_values_ = 0, page_nulls_ = 0;
  // Current chunk.
  StringDictionary dict_;
  std::string pages_;
  bool used_dict_ = false, used_plain_ = false;
  int64_t chunk_values_ = 0, chunk_nulls_ = 0, chunk_uncompressed_ = 0;
  bool has_minmax_ = false;
  int64_t min_i64_ = 0, max_i64_ = 0;
  double min_d_ = 0, max_d_ = 0;
  bool min_b_ = false, max_b_ = false;
  std::string min_s_, max_s_;
  // Scratch buffers reused across pages.
  std::string raw_, body_, level_buf_;
};

// ---------------------------------------------------------------------------------------------

namespace {
constexpr char kMagic[4] = {'P', 'A', 'R', '1'};
}

ParquetWriter::ParquetWriter(Key, std::string path, std::unique_ptr<WritableFile> file,
                             Schema schema, WriterOptions options)
    : path_(std::move(path)),
      file_(std::move(file)),
      schema_(std::move(schema)),
      options_(std::move(options)) {
  for (const auto& spec : schema_) {
    columns_.push_back(std::make_unique<ColumnChunkWriter>(spec, options_));
  }
}

ParquetWriter::~ParquetWriter() {
  if (file_) (void)file_->Close();  // the file stays without a footer: invalid, as documented
}

absl::StatusOr<std::unique_ptr<ParquetWriter>> ParquetWriter::Open(const std::string& path,
                                                                   const Schema& schema,
                                                                   const WriterOptions& options) {
  if (schema.empty()) return InvalidArgument("parquet: open {} for writing: empty schema", path);
  std::unordered_set<std::string> names;
  for (const auto& c : schema) {
    if (c.name.empty() || !names.insert(c.name).second) {
      return InvalidArgument("parquet: open {} for writing: empty or duplicate column name '{}'",
                             path, c.name);
    }
  }
  if (!IsSupportedCodec(options.codec)) {
    return InvalidArgument("parquet: open {} for writing: unsupported codec {}", path,
                           CodecName(options.codec));
  }
  if (options.row_group_rows <= 0 || options.page_bytes <= 0) {
    return InvalidArgument(
        "parquet: open {} for writing: row_group_rows and page_bytes must be > 0", path);
  }
  auto file = Env::Or(options.env)->NewWritableFile(path);
  if (!file.ok()) return Unavailable("parquet: {}", Message(file.status()));
  auto w = std::make_unique<ParquetWriter>(Key(), path, *std::move(file), schema, options);
  LF_RETURN_IF_ERROR(w->WriteAll(kMagic, 4));
  return w;
}

absl::Status ParquetWriter::Fail(absl::Status s) {
  if (failed_.ok()) failed_ = s;
  return s;
}

absl::Status ParquetWriter::WriteAll(const char* data, size_t size) {
  if (!file_) return Fail(FailedPrecondition("parquet: write {}: file is closed", path_));
  absl::Status st = file_->Append(std::string_view(data, size));
  if (!st.ok()) return Fail(Unavailable("parquet: {}", Message(st)));
  offset_ += static_cast<int64_t>(size);
  return absl::OkStatus();
}

int64_t ParquetWriter::buffered_bytes() const {
  int64_t total = 0;
  for (const auto& c : columns_) total += c->BufferedEstimate();
  return total;
}

absl::Status ParquetWriter::WriteBatch(std::span<const ColumnView> columns) {
  if (closed_) return FailedPrecondition("parquet: write {}: writer is closed", path_);
  LF_RETURN_IF_ERROR(failed_);
  if (columns.size() != schema_.size()) {
    return InvalidArgument("parquet: write {}: batch has {} columns, schema has {}", path_,
                           columns.size(), schema_.size());
  }
  size_t rows = 0;
  for (size_t c = 0; c < columns.size(); ++c) {
    const ColumnSpec& spec = schema_[c];
    const ColumnView& v = columns[c];
    size_t n = 0;
    switch (spec.type) {
      case ColumnType::kInt64:
      case ColumnType::kTimestampMicros:
        n = v.int64s.size();
        break;
      case ColumnType::kInt32:
        n = v.int32s.size();
        break;
      case ColumnType::kDouble:
        n = v.doubles.size();
        break;
      case ColumnType::kBoolean:
        n = v.bools.size();
        break;
      case ColumnType::kString:
        n = v.strings.size();
        break;
    }
    if (c == 0) rows = n;
    if (n != rows) {
      return InvalidArgument("parquet: write {}: column '{}' has {} rows, column '{}' has {}",
                             path_, spec.name, n, schema_[0].name, rows);
    }
    if (!v.valid.empty()) {
      if (v.valid.size() != rows) {
        return InvalidArgument("parquet: write {}: column '{}' has {} validity entries for {} rows",
                               path_, spec.name, v.valid.size(), rows);
      }
      if (spec.required) {
        auto it = std::find(v.valid.begin(), v.valid.end(), uint8_t{0});
        if (it != v.valid.end()) {
          return InvalidArgument("parquet: write {}: required column '{}' is null at row {}", path_,
                                 spec.name, it - v.valid.begin());
        }
      }
    }
  }
  size_t off = 0;
  while (off < rows) {
    size_t n = std::min<size_t>(rows - off, options_.row_group_rows - rows_buffered_);
    n = std::min<size_t>(n, 65536);
    for (size_t c = 0; c < columns.size(); ++c) {
      LF_RETURN_IF_ERROR(Fail(columns_[c]->Append(columns[c], off, n)));
    }
    rows_buffered_ += n;
    off += n;
    if (rows_buffered_ >= options_.row_group_rows || buffered_bytes() >= options_.row_group_bytes) {
      LF_RETURN_IF_ERROR(FlushRowGroup());
    }
  }
  return absl::OkStatus();
}

absl::Status ParquetWriter::FlushRowGroup() {
  LF_RETURN_IF_ERROR(failed_);
  if (rows_buffered_ == 0) return absl::OkStatus();
  RowGroup rg;
  rg.num_rows = rows_buffered_;
  rg.file_offset = offset_;
  rg.ordinal = static_cast<int16_t>(std::min<size_t>(row_groups_.size(), INT16_MAX));
  int64_t compressed = 0, uncompressed = 0;
  std::string chunk_bytes;
  for (auto& col : columns_) {
    ColumnChunk chunk;
    absl::Status s = col->Finish(offset_, &chunk_bytes, &chunk);
    if (!s.ok()) return Fail(Annotate(s, fmt::format("parquet: write {}", path_)));
    LF_RETURN_IF_ERROR(WriteAll(chunk_bytes.data(), chunk_bytes.size()));
    LF_RETURN_IF_ERROR(WriteAll(col->data_pages().data(), col->data_pages().size()));
    col->Reset();
    compressed += chunk.meta_data->total_compressed_size;
    uncompressed += chunk.meta_data->total_uncompressed_size;
    rg.columns.push_back(std::move(chunk));
  }
  rg.total_byte_size = uncompressed;
  rg.total_compressed_size = compressed;
  row_groups_.push_back(std::move(rg));
  rows_flushed_ += rows_buffered_;
  rows_buffered_ = 0;
  return absl::OkStatus();
}

absl::Status ParquetWriter::Sync() {
  LF_RETURN_IF_ERROR(failed_);
  if (!file_) return FailedPrecondition("parquet: sync {}: file is closed", path_);
  absl::Status st = file_->Sync();
  if (!st.ok()) return Fail(Unavailable("parquet: {}", Message(st)));
  return absl::OkStatus();
}

absl::Status ParquetWriter::Close() {
  if (closed_) return FailedPrecondition("parquet: close {}: already closed", path_);
  LF_RETURN_IF_ERROR(FlushRowGroup());
  FileMetaData md;
  md.version = 1;
  SchemaElement root;
  root.name = "schema";
  root.num_children = static_cast<int32_t>(schema_.size());
  md.schema.push_back(root);
  for (const auto& spec : schema_) {
    SchemaElement e;
    e.name = spec.name;
    e.type = PhysicalOf(spec.type);
    e.repetition_type = spec.required ? Repetition::kRequired : Repetition::kOptional;
    if (spec.type == ColumnType::kString) {
      e.converted_type = static_cast<int32_t>(ConvertedType::kUtf8);
      e.logical_type = LogicalType{.kind = LogicalType::Kind::kString};
    } else if (spec.type == ColumnType::kTimestampMicros) {
      e.converted_type = static_cast<int32_t>(ConvertedType::kTimestampMicros);
      e.logical_type = LogicalType{.kind = LogicalType::Kind::kTimestamp,
                                   .is_adjusted_to_utc = true,
                                   .unit = TimeUnit::kMicros};
    }
    md.schema.push_back(std::move(e));
    md.column_orders.push_back(1);  // TYPE_ORDER
  }
  md.num_rows = rows_flushed_;
  md.row_groups = std::move(row_groups_);
  md.created_by = options_.created_by;
  std::string footer;
  SerializeFileMetaData(md, &footer);
  AppendLe<uint32_t>(&footer, static_cast<uint32_t>(footer.size()));
  footer.append(kMagic, 4);
  LF_RETURN_IF_ERROR(WriteAll(footer.data(), footer.size()));
  if (options_.sync_on_close) LF_RETURN_IF_ERROR(Sync());
  closed_ = true;
  std::unique_ptr<WritableFile> file = std::move(file_);
  absl::Status st = file->Close();
  if (!st.ok()) return Fail(Unavailable("parquet: {}", Message(st)));
  return absl::OkStatus();
}

}  // namespace lf::parquet
