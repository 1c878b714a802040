// parquet_tool: inspect and produce Parquet files with lf::parquet (tests and debugging).
//
//   parquet_tool meta FILE                      footer as JSON
//   parquet_tool pages FILE                     page headers per column chunk as NDJSON
//   parquet_tool dump FILE [--columns a,b] [--limit N] [--row-group G] [--indexed]
//                                               rows as NDJSON (int64 as numbers, timestamps as
//                                               integers in the file's unit, NaN/Inf as strings);
//                                               --indexed reads strings as table + indices
//   parquet_tool write-ndjson IN OUT [--schema name:type[?],...] [--codec zstd|snappy|gzip|none]
//                [--row-group-rows N] [--page-bytes N] [--no-dictionary] [--v2]
//                                               NDJSON rows to Parquet; types int64, int32,
//                                               double, bool, string, timestamp (micros, UTC);
//                                               '?' marks an optional column; default schema is
//                                               the lake's (bytes, timestamp, app, id, antenna_id)

#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "common/status.h"
#include "fmt/format.h"
#include "parquet/json_format.h"
#include "parquet/reader.h"
#include "parquet/writer.h"
#include "simdjson.h"

namespace lf::parquet {
namespace {

int Meta(const std::string& path) {
  auto r = ParquetReader::Open(path);
  if (!r.ok()) {
    std::cerr << Message(r.status()) << "\n";
    return 1;
  }
  const FileMetaData& md = (*r)->metadata();
  std::string out = fmt::format("{{\"num_rows\":{},\"created_by\":", md.num_rows);
  AppendJsonString(md.created_by.value_or(""), &out);
  out += ",\"columns\":[";
  for (size_t c = 0; c < (*r)->columns().size(); ++c) {
    const auto& d = (*r)->columns()[c];
    if (c) out += ",";
    out += "{\"name\":";
    AppendJsonString(d.name, &out);
    out += fmt::format(",\"physical\":\"{}\",\"logical\":\"{}\",\"optional\":{}}}",
                       TypeName(d.physical), LogicalTypeName(d), d.optional);
  }
  out += "],\"row_groups\":[";
  for (int g = 0; g < (*r)->num_row_groups(); ++g) {
    const RowGroup& rg = md.row_groups[g];
    if (g) out += ",";
    out += fmt::format("{{\"num_rows\":{},\"columns\":[", rg.num_rows);
    for (size_t c = 0; c < rg.columns.size(); ++c) {
      if (c) out += ",";
      if (!rg.columns[c].meta_data) {
        out += "null";
        continue;
      }
      const ColumnMetaData& cm = *rg.columns[c].meta_data;
      out += fmt::format(
          "{{\"codec\":\"{}\",\"num_values\":{},\"compressed\":{},\"uncompressed\":{},"
          "\"encodings\":[",
          CodecName(cm.codec), cm.num_values, cm.total_compressed_size, cm.total_uncompressed_size);
      for (size_t e = 0; e < cm.encodings.size(); ++e) {
        out += fmt::format("{}\"{}\"", e ? "," : "", EncodingName(cm.encodings[e]));
      }
      out += "]";
      if (auto nc = (*r)->NullCount(g, static_cast<int>(c)))
        out += fmt::format(",\"null_count\":{}", *nc);
      if (auto mm = (*r)->Int64MinMax(g, static_cast<int>(c))) {
        out += fmt::format(",\"min\":{},\"max\":{}", mm->first, mm->second);
      }
      out += "}";
    }
    out += "]}";
  }
  out += "]}\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

// One line per column chunk: {"row_group":g,"column":"name","pages":[{"type":..,"encoding":..,
// "num_values":..}]}.
int Pages(const std::string& path) {
  auto r = ParquetReader::Open(path);
  if (!r.ok()) {
    std::cerr << Message(r.status()) << "\n";
    return 1;
  }
  for (int g = 0; g < (*r)->num_row_groups(); ++g) {
    for (size_t c = 0; c < (*r)->columns().size(); ++c) {
      auto headers = (*r)->ReadPageHeaders(g, static_cast<int>(c));
      if (!headers.ok()) {
        std::cerr << Message(headers.status()) << "\n";
        return 1;
      }
      std::string out = fmt::format("{{\"row_group\":{},\"column\":", g);
      AppendJsonString((*r)->columns()[c].name, &out);
      out += ",\"pages\":[";
      for (size_t i = 0; i < headers->size(); ++i) {
        const PageHeader& h = (*headers)[i];
        if (i) out += ",";
        out += fmt::format("{{\"type\":\"{}\"", PageTypeName(h.type));
        if (h.data_page_header) {
          out += fmt::format(",\"encoding\":\"{}\",\"num_values\":{}",
                             EncodingName(h.data_page_header->encoding),
                             h.data_page_header->num_values);
        } else if (h.data_page_header_v2) {
          out += fmt::format(",\"encoding\":\"{}\",\"num_values\":{}",
                             EncodingName(h.data_page_header_v2->encoding),
                             h.data_page_header_v2->num_values);
        } else if (h.dictionary_page_header) {
          out += fmt::format(",\"num_values\":{}", h.dictionary_page_header->num_values);
        }
        out += "}";
      }
      out += "]}\n";
      std::fwrite(out.data(), 1, out.size(), stdout);
    }
  }
  return 0;
}

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) parts.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return parts;
}

int Dump(const std::string& path, const std::string& columns_arg, int64_t limit, int only_group,
         bool indexed) {
  ReaderOptions options;
  options.byte_array_indices = indexed;
  auto r = ParquetReader::Open(path, options);
  if (!r.ok()) {
    std::cerr << Message(r.status()) << "\n";
    return 1;
  }
  std::vector<int> cols;
  if (columns_arg.empty()) {
    for (size_t c = 0; c < (*r)->columns().size(); ++c) cols.push_back(static_cast<int>(c));
  } else {
    for (const auto& name : SplitComma(columns_arg)) {
      int c = (*r)->FindColumn(name);
      if (c < 0) {
        std::cerr << "parquet_tool: dump " << path << ": no column '" << name << "'\n";
        return 1;
      }
      cols.push_back(c);
    }
  }
  int64_t printed = 0;
  std::string out;
  for (int g = 0; g < (*r)->num_row_groups() && (limit < 0 || printed < limit); ++g) {
    if (only_group >= 0 && g != only_group) continue;
    auto data = (*r)->ReadRowGroup(g, cols);
    if (!data.ok()) {
      std::cerr << Message(data.status()) << "\n";
      return 1;
    }
    size_t n = (*r)->row_group_num_rows(g);
    for (size_t i = 0; i < n && (limit < 0 || printed < limit); ++i, ++printed) {
      out.clear();
      out.push_back('{');
      for (size_t k = 0; k < cols.size(); ++k) {
        if (k) out.push_back(',');
        AppendJsonString((*r)->columns()[cols[k]].name, &out);
        out.push_back(':');
        AppendJsonValue((*data)[k], i, &out);
      }
      out += "}\n";
      std::fwrite(out.data(), 1, out.size(), stdout);
    }
  }
  return 0;
}

absl::StatusOr<Schema> ParseSchema(const std::string& arg) {
  if (arg.empty()) return LakeEventSchema();
  Schema schema;
  for (const auto& part : SplitComma(arg)) {
    size_t colon = part.find(':');
    if (colon == std::string::npos) return InvalidArgument("bad column spec '{}'", part);
    ColumnSpec spec;
    spec.name = part.substr(0, colon);
    std::string type = part.substr(colon + 1);
    if (!type.empty() && type.back() == '?') {
      spec.required = false;
      type.pop_back();
    }
    if (type == "int64")
      spec.type = ColumnType::kInt64;
    else if (type == "int32")
      spec.type = ColumnType::kInt32;
    else if (type == "double")
      spec.type = ColumnType::kDouble;
    else if (type == "bool")
      spec.type = ColumnType::kBoolean;
    else if (type == "string")
      spec.type = ColumnType::kString;
    else if (type == "timestamp")
      spec.type = ColumnType::kTimestampMicros;
    else
      return InvalidArgument("unknown column type '{}'", type);
    schema.push_back(spec);
  }
  return schema;
}

// Column buffers for one batch of NDJSON rows.
struct Buffers {
  std::vector<int64_t> i64;
  std::vector<int32_t> i32;
  std::vector<double> dbl;
  std::vector<uint8_t> bools, valid;
  std::vector<std::string> str;
  std::vector<std::string_view> views;
  void Clear() {
    i64.clear(), i32.clear(), dbl.clear(), bools.clear(), valid.clear(), str.clear(), views.clear();
  }
};

absl::Status WriteNdjson(const std::string& in_path, const std::string& out_path,
                         const Schema& schema, const WriterOptions& opts) {
  std::ifstream in(in_path);
  if (!in) return NotFound("parquet_tool: open {}: cannot read", in_path);
  LF_ASSIGN_OR_RETURN(auto writer, ParquetWriter::Open(out_path, schema, opts));
  std::vector<Buffers> bufs(schema.size());
  simdjson::ondemand::parser parser;
  std::string line;
  size_t line_no = 0, batch_rows = 0;
  auto flush = [&]() -> absl::Status {
    std::vector<ColumnView> views(schema.size());
    for (size_t c = 0; c < schema.size(); ++c) {
      Buffers& b = bufs[c];
      switch (schema[c].type) {
        case ColumnType::kInt64:
        case ColumnType::kTimestampMicros:
          views[c].int64s = b.i64;
          break;
        case ColumnType::kInt32:
          views[c].int32s = b.i32;
          break;
        case ColumnType::kDouble:
          views[c].doubles = b.dbl;
          break;
        case ColumnType::kBoolean:
          views[c].bools = b.bools;
          break;
        case ColumnType::kString:
          for (const auto& s : b.str) b.views.push_back(s);
          views[c].strings = b.views;
          break;
      }
      if (!schema[c].required) views[c].valid = b.valid;
    }
    LF_RETURN_IF_ERROR(writer->WriteBatch(views));
    for (auto& b : bufs) b.Clear();
    batch_rows = 0;
    return absl::OkStatus();
  };
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    simdjson::padded_string padded(line);
    simdjson::ondemand::document doc;
    if (parser.iterate(padded).get(doc))
      return InvalidArgument("{}:{}: bad JSON", in_path, line_no);
    for (size_t c = 0; c < schema.size(); ++c) {
      const ColumnSpec& spec = schema[c];
      Buffers& b = bufs[c];
      simdjson::ondemand::value v;
      bool present = !doc.find_field_unordered(spec.name).get(v);
      bool is_null = false;
      if (present && v.is_null().get(is_null)) is_null = false;
      present = present && !is_null;
      if (!present && spec.required) {
        return InvalidArgument("{}:{}: required field '{}' missing or null", in_path, line_no,
                               spec.name);
      }
      b.valid.push_back(present);
      bool bad = false;
      switch (spec.type) {
        case ColumnType::kInt64:
        case ColumnType::kTimestampMicros: {
          int64_t x = 0;
          if (present) bad = v.get_int64().get(x) != simdjson::SUCCESS;
          b.i64.push_back(x);
          break;
        }
        case ColumnType::kInt32: {
          int64_t x = 0;
          if (present) bad = v.get_int64().get(x) != simdjson::SUCCESS;
          b.i32.push_back(static_cast<int32_t>(x));
          break;
        }
        case ColumnType::kDouble: {
          double x = 0;
          if (present) bad = v.get_double().get(x) != simdjson::SUCCESS;
          b.dbl.push_back(x);
          break;
        }
        case ColumnType::kBoolean: {
          bool x = false;
          if (present) bad = v.get_bool().get(x) != simdjson::SUCCESS;
          b.bools.push_back(x);
          break;
        }
        case ColumnType::kString: {
          std::string_view x;
          if (present) bad = v.get_string().get(x) != simdjson::SUCCESS;
          b.str.emplace_back(x);
          break;
        }
      }
      if (bad)
        return InvalidArgument("{}:{}: field '{}' has the wrong type", in_path, line_no, spec.name);
    }
    if (++batch_rows == 8192) LF_RETURN_IF_ERROR(flush());
  }
  if (batch_rows > 0) LF_RETURN_IF_ERROR(flush());
  return writer->Close();
}

int Usage() {
  std::cerr
      << "usage: parquet_tool meta FILE\n"
         "       parquet_tool pages FILE\n"
         "       parquet_tool dump FILE [--columns a,b] [--limit N] [--row-group G] [--indexed]\n"
         "       parquet_tool write-ndjson IN OUT [--schema name:type[?],...] "
         "[--codec zstd|snappy|gzip|none] [--row-group-rows N] [--page-bytes N] "
         "[--no-dictionary] [--v2]\n";
  return 2;
}

int Main(int argc, char** argv) {
  if (argc < 3) return Usage();
  std::string cmd = argv[1];
  std::vector<std::string> pos;
  std::string columns, schema_arg, codec = "zstd";
  int64_t limit = -1, row_group_rows = 1'000'000, page_bytes = 1 << 20;
  int row_group = -1;
  bool dictionary = true, v2 = false, indexed = false;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--columns")
      columns = next();
    else if (a == "--limit")
      limit = std::stoll(next());
    else if (a == "--row-group")
      row_group = std::stoi(next());
    else if (a == "--schema")
      schema_arg = next();
    else if (a == "--codec")
      codec = next();
    else if (a == "--row-group-rows")
      row_group_rows = std::stoll(next());
    else if (a == "--page-bytes")
      page_bytes = std::stoll(next());
    else if (a == "--no-dictionary")
      dictionary = false;
    else if (a == "--v2")
      v2 = true;
    else if (a == "--indexed")
      indexed = true;
    else
      pos.push_back(a);
  }
  if (cmd == "meta" && pos.size() == 1) return Meta(pos[0]);
  if (cmd == "pages" && pos.size() == 1) return Pages(pos[0]);
  if (cmd == "dump" && pos.size() == 1) return Dump(pos[0], columns, limit, row_group, indexed);
  if (cmd == "write-ndjson" && pos.size() == 2) {
    auto schema = ParseSchema(schema_arg);
    if (!schema.ok()) {
      std::cerr << "parquet_tool: " << Message(schema.status()) << "\n";
      return 2;
    }
    WriterOptions opts;
    if (codec == "zstd")
      opts.codec = Codec::kZstd;
    else if (codec == "snappy")
      opts.codec = Codec::kSnappy;
    else if (codec == "gzip")
      opts.codec = Codec::kGzip;
    else if (codec == "none" || codec == "uncompressed")
      opts.codec = Codec::kUncompressed;
    else
      return Usage();
    opts.row_group_rows = row_group_rows;
    opts.page_bytes = page_bytes;
    opts.dictionary = dictionary;
    opts.data_page_v2 = v2;
    absl::Status s = WriteNdjson(pos[0], pos[1], *schema, opts);
    if (!s.ok()) {
      std::cerr << Message(s) << "\n";
      return 1;
    }
    return 0;
  }
  return Usage();
}

}  // namespace
}  // namespace lf::parquet

int main(int argc, char** argv) { return lf::parquet::Main(argc, argv); }
