// `lambdaflow lake ls|schema|head|count`: inspect the Parquet lake and single files.

#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "common/status.h"
#include "common/time.h"
#include "lake/inspect.h"
#include "lake/layout.h"
#include "parquet/reader.h"
#include "spdlog/spdlog.h"

namespace lf::cli {
namespace {

struct LakeFlags {
  std::string storage;
  std::string hour;
  std::string file;
  int64_t limit = 10;
};

absl::StatusOr<std::vector<lake::HourInfo>> Hours(const LakeFlags& f) {
  if (f.storage.empty()) return InvalidArgument("lake: --storage is required");
  std::optional<int64_t> hour;
  if (!f.hour.empty()) {
    auto t = ParseTime(f.hour);
    if (!t.ok()) return Annotate(t.status(), "--hour");
    hour = lake::HourOf(ToUnixSeconds(*t));
  }
  return lake::ListHours(f.storage, lake::kDataset, hour);
}

// The files named by --file, or every file of --storage [--hour].
absl::StatusOr<std::vector<std::string>> Files(const LakeFlags& f) {
  if (!f.file.empty()) return std::vector<std::string>{f.file};
  LF_ASSIGN_OR_RETURN(auto hours, Hours(f));
  std::vector<std::string> out;
  for (const auto& h : hours)
    for (const auto& file : h.files) out.push_back(file.path);
  return out;
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      out += fmt::format("\\u{:04x}", c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out + "\"";
}

int RunLs(const LakeFlags& f) {
  auto hours = Hours(f);
  if (!hours.ok()) return Fail(hours.status());
  int64_t total_rows = 0, total_files = 0, total_bytes = 0;
  for (const auto& h : *hours) {
    int64_t bytes = 0;
    for (const auto& file : h.files) bytes += file.bytes;
    std::printf("%s  %-8s %4zu files %10lld events %10lld bytes  %s\n",
                FormatTime(FromUnixSeconds(h.hour_s)).c_str(), h.success ? "_SUCCESS" : "open",
                h.files.size(), static_cast<long long>(h.rows()), static_cast<long long>(bytes),
                h.dir.c_str());
    total_rows += h.rows();
    total_files += static_cast<int64_t>(h.files.size());
    total_bytes += bytes;
  }
  std::printf("%zu hours, %lld files, %lld events, %lld bytes\n", hours->size(),
              static_cast<long long>(total_files), static_cast<long long>(total_rows),
              static_cast<long long>(total_bytes));
  return 0;
}

int RunCount(const LakeFlags& f) {
  auto files = Files(f);
  if (!files.ok()) return Fail(files.status());
  int64_t rows = 0;
  for (const auto& path : *files) {
    auto r = parquet::ParquetReader::Open(path);
    if (!r.ok()) return Fail(r.status());
    rows += (*r)->num_rows();
  }
  std::printf("%lld\n", static_cast<long long>(rows));
  return 0;
}

int RunSchema(const LakeFlags& f) {
  auto files = Files(f);
  if (!files.ok()) return Fail(files.status());
  if (files->empty()) return Fail(NotFound("lake: no files"));
  auto r = parquet::ParquetReader::Open(files->front());
  if (!r.ok()) return Fail(r.status());
  std::printf("%s: %lld rows in %d row group(s)\n", files->front().c_str(),
              static_cast<long long>((*r)->num_rows()), (*r)->num_row_groups());
  for (const auto& c : (*r)->columns()) {
    std::string logical;
    switch (c.logical.kind) {
      case parquet::LogicalType::Kind::kString:
        logical = " STRING";
        break;
      case parquet::LogicalType::Kind::kTimestamp:
        logical = " TIMESTAMP";
        break;
      case parquet::LogicalType::Kind::kInteger:
        logical = " INTEGER";
        break;
      default:
        break;
    }
    static const char* kPhysical[] = {"BOOLEAN", "INT32",  "INT64",      "INT96",
                                      "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
    int t = static_cast<int>(c.physical);
    std::printf("  %-12s %s%s %s\n", c.name.c_str(), t >= 0 && t < 8 ? kPhysical[t] : "?",
                logical.c_str(), c.optional ? "OPTIONAL" : "REQUIRED");
  }
  return 0;
}

int RunHead(const LakeFlags& f) {
  auto files = Files(f);
  if (!files.ok()) return Fail(files.status());
  int64_t left = f.limit;
  for (const auto& path : *files) {
    auto r = parquet::ParquetReader::Open(path);
    if (!r.ok()) return Fail(r.status());
    const auto& cols = (*r)->columns();
    std::vector<int> all;
    for (size_t i = 0; i < cols.size(); ++i)
      if (cols[i].supported) all.push_back(static_cast<int>(i));
    for (int g = 0; g < (*r)->num_row_groups() && left > 0; ++g) {
      auto data = (*r)->ReadRowGroup(g, all);
      if (!data.ok()) return Fail(data.status());
      size_t rows = data->empty() ? 0 : (*data)[0].num_rows;
      for (size_t row = 0; row < rows && left > 0; ++row, --left) {
        std::string line = "{";
        for (size_t k = 0; k < all.size(); ++k) {
          const auto& c = cols[all[k]];
          const auto& d = (*data)[k];
          line += (k ? "," : "") + JsonString(c.name) + ":";
          if (d.IsNull(row)) {
            line += "null";
          } else if (c.physical == parquet::Type::kInt64 &&
                     c.logical.kind == parquet::LogicalType::Kind::kTimestamp) {
            line += JsonString(FormatTime(Timestamp(Micros(d.int64s[row]))));
          } else if (c.physical == parquet::Type::kInt64) {
            line += std::to_string(d.int64s[row]);
          } else if (c.physical == parquet::Type::kInt32) {
            line += std::to_string(d.int32s[row]);
          } else if (c.physical == parquet::Type::kDouble || c.physical == parquet::Type::kFloat) {
            line += fmt::format("{}", d.doubles[row]);
          } else if (c.physical == parquet::Type::kBoolean) {
            line += d.bools[row] ? "true" : "false";
          } else {
            line += JsonString(d.StringAt(row));
          }
        }
        std::printf("%s}\n", line.c_str());
      }
    }
    if (left <= 0) break;
  }
  return 0;
}

}  // namespace

void AddLakeCommand(CLI::App& app, Runner* run) {
  auto* lake = app.add_subcommand(
      "lake", "Inspect the Parquet lake (like parquet-tools): ls, count, schema, head.");
  lake->require_subcommand(1);
  auto add = [&](const char* name, const char* help, int (*fn)(const LakeFlags&),
                 bool needs_limit) {
    auto f = std::make_shared<LakeFlags>();
    auto* cmd = lake->add_subcommand(name, help);
    cmd->add_option("--storage", f->storage, "lake root directory");
    cmd->add_option("--hour", f->hour,
                    "only this event-time hour (ISO-8601, e.g. 2026-11-22T09:00:00Z)");
    cmd->add_option("--file", f->file, "a single Parquet file instead of --storage");
    if (needs_limit)
      cmd->add_option("-n,--limit", f->limit, "rows to print")->capture_default_str();
    cmd->callback([run, f, fn] { *run = [f, fn] { return fn(*f); }; });
  };
  add("ls", "hours with their files, events, bytes and _SUCCESS state", RunLs, false);
  add("count", "number of events (from the Parquet footers)", RunCount, false);
  add("schema", "the Parquet schema of the first file", RunSchema, false);
  add("head", "the first rows as NDJSON", RunHead, true);
}

}  // namespace lf::cli
