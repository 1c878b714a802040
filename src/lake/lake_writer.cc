#include "lake/lake_writer.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <tuple>

#include "common/failpoint.h"
#include "common/status.h"
#include "common/time.h"
#include "lake/layout.h"
#include "spdlog/spdlog.h"

namespace lf::lake {

namespace fs = std::filesystem;

struct LakeWriter::OpenFile {
  int64_t hour_s;
  std::string relative_path, temp_path;
  std::unique_ptr<parquet::ParquetWriter> writer;
};

namespace {

// fsyncs the directory of each of `paths` once, so that their entries survive a crash.
absl::Status SyncParentDirs(Env* env, const std::vector<std::string>& paths) {
  std::vector<std::string> dirs;
  dirs.reserve(paths.size());
  for (const std::string& p : paths) dirs.push_back(fs::path(p).parent_path().string());
  std::sort(dirs.begin(), dirs.end());
  dirs.erase(std::unique(dirs.begin(), dirs.end()), dirs.end());
  for (const std::string& d : dirs) LF_RETURN_IF_ERROR(env->SyncDir(d));
  return absl::OkStatus();
}

}  // namespace

LakeWriter::LakeWriter(LakeWriterOptions options)
    : options_(std::move(options)), env_(Env::Or(options_.env)) {
  options_.parquet.env = env_;
  // A closed file is what a commit records: its bytes must be on disk before the commit.
  options_.parquet.sync_on_close = true;
}

LakeWriter::~LakeWriter() { DiscardAll(); }

absl::StatusOr<std::unique_ptr<LakeWriter>> LakeWriter::Open(const LakeWriterOptions& options) {
  if (options.root.empty()) return InvalidArgument("lake: no storage directory given");
  LF_RETURN_IF_ERROR(CreateDirs(Env::Or(options.env), options.root + "/" + options.dataset));
  return std::unique_ptr<LakeWriter>(new LakeWriter(options));
}

int64_t LakeWriter::rows() const {
  int64_t n = 0;
  for (const auto& [h, f] : open_) n += f->writer->num_rows();
  return n;
}

int64_t LakeWriter::bytes() const {
  int64_t n = 0;
  for (const auto& [h, f] : open_) n += f->writer->file_bytes() + f->writer->buffered_bytes();
  return n;
}

std::vector<int64_t> LakeWriter::open_hours() const {
  std::vector<int64_t> out;
  for (const auto& [h, f] : open_) out.push_back(h);
  return out;
}

absl::Status LakeWriter::Append(const pipeline::EventBatch& batch,
                                const pipeline::KeyDictionaries& keys,
                                std::span<const uint8_t> keep) {
  const size_t n = batch.size();
  if (n == 0) return absl::OkStatus();
  // Group row indexes by hour (a batch usually spans one or two hours).
  std::map<int64_t, std::vector<uint32_t>> by_hour;
  int64_t last_hour = INT64_MIN;
  std::vector<uint32_t>* rows = nullptr;
  for (size_t i = 0; i < n; ++i) {
    if (!keep.empty() && !keep[i]) continue;
    int64_t h = HourOf(batch.timestamp_s[i]);
    if (h != last_hour) {
      rows = &by_hour[h];
      last_hour = h;
    }
    rows->push_back(static_cast<uint32_t>(i));
  }
  const auto& antennas = keys[pipeline::KeyColumn::kAntenna];
  const auto& devices = keys[pipeline::KeyColumn::kDevice];
  const auto& apps = keys[pipeline::KeyColumn::kApp];
  for (auto& [hour, idx] : by_hour) {
    LF_ASSIGN_OR_RETURN(OpenFile * file, FileFor(hour));
    bytes_.clear();
    micros_.clear();
    app_.clear();
    id_.clear();
    antenna_.clear();
    for (uint32_t i : idx) {
      bytes_.push_back(batch.bytes[i]);
      micros_.push_back(batch.timestamp_s[i] * 1'000'000);
      app_.push_back(apps.Name(batch.keys[static_cast<int>(pipeline::KeyColumn::kApp)][i]));
      id_.push_back(devices.Name(batch.keys[static_cast<int>(pipeline::KeyColumn::kDevice)][i]));
      antenna_.push_back(
          antennas.Name(batch.keys[static_cast<int>(pipeline::KeyColumn::kAntenna)][i]));
    }
    // LakeEventSchema order: bytes, timestamp, app, id, antenna_id.
    parquet::ColumnView cols[5];
    cols[0].int64s = bytes_;
    cols[1].int64s = micros_;
    cols[2].strings = app_;
    cols[3].strings = id_;
    cols[4].strings = antenna_;
    LF_RETURN_IF_ERROR(file->writer->WriteBatch(cols));
  }
  return absl::OkStatus();
}

void LakeWriter::FillMetadata(const pipeline::RecordBatch& batch, const RowMetadata& meta,
                              const std::vector<uint32_t>& rows, size_t first,
                              std::vector<parquet::ColumnView>& views) {
  for (size_t c = first; c < first + kMetadataColumns; ++c) {
    ints_[c].clear();
    int32s_[c].clear();
    valid_[c].clear();
    strings_[c].clear();
  }
  const bool files = !meta.files.empty();
  const size_t at = first, file = first + 1, row = first + 2, topic = first + 3, part = first + 4,
               offset = first + 5, schema = first + 6, batch_id = first + 7, rescued = first + 8;
  for (uint32_t i : rows) {
    ints_[at].push_back(meta.ingested_at_us);
    strings_[file].push_back(files ? std::string_view(meta.files[meta.file_index[i]]) : "");
    valid_[file].push_back(files);
    ints_[row].push_back(files ? meta.source_row[i] : 0);
    valid_[row].push_back(files);
    strings_[topic].push_back(meta.topic);
    valid_[topic].push_back(!files);
    int32s_[part].push_back(files ? 0 : batch.partition[i]);
    valid_[part].push_back(!files);
    ints_[offset].push_back(files ? 0 : batch.offset[i]);
    valid_[offset].push_back(!files);
    const bool has_schema = !meta.schema_id.empty() && meta.schema_id[i] >= 0;
    int32s_[schema].push_back(has_schema ? meta.schema_id[i] : 0);
    valid_[schema].push_back(has_schema);
    strings_[batch_id].push_back(meta.batch_id);
    const bool has_rescued = !meta.rescued.empty() && !meta.rescued[i].empty();
    strings_[rescued].push_back(has_rescued ? std::string_view(meta.rescued[i]) : "");
    valid_[rescued].push_back(has_rescued);
  }
  for (size_t c = first; c < first + kMetadataColumns; ++c) views[c] = parquet::ColumnView{};
  views[at].int64s = ints_[at];
  views[row].int64s = ints_[row];
  views[offset].int64s = ints_[offset];
  views[part].int32s = int32s_[part];
  views[schema].int32s = int32s_[schema];
  for (size_t c : {file, topic, batch_id, rescued}) views[c].strings = strings_[c];
  for (size_t c : {file, row, topic, part, offset, schema, rescued}) views[c].valid = valid_[c];
}

absl::StatusOr<LakeWriter::OpenFile*> LakeWriter::FileFor(int64_t hour) {
  auto it = open_.find(hour);
  if (it != open_.end()) return it->second.get();
  auto file = std::make_unique<OpenFile>();
  file->hour_s = hour;
  std::string dir = PartitionDir(options_.dataset, options_.partitioning, hour);
  LF_RETURN_IF_ERROR(CreateDirs(env_, options_.root + "/" + dir));
  std::string name = FinalFileName(options_.writer_id, next_seq_++);
  file->relative_path = dir + "/" + name;
  file->temp_path = dir + "/" + TempFileName(name);
  auto writer = parquet::ParquetWriter::Open(
      options_.root + "/" + file->temp_path,
      options_.schema.empty() ? parquet::LakeEventSchema() : options_.schema, options_.parquet);
  if (!writer.ok()) {
    // Created but not started (a full disk): no writer owns it, so it goes now.
    (void)env_->RemoveFile(options_.root + "/" + file->temp_path);  // best effort
    return writer.status();
  }
  file->writer = *std::move(writer);
  if (open_.empty()) oldest_ = env_->SteadyNow();
  return open_.emplace(hour, std::move(file)).first->second.get();
}

void RowMetadata::ClearRows() {
  file_index.clear();
  source_row.clear();
  schema_id.clear();
  rescued.clear();
}

parquet::Schema LakeSchema(const pipeline::Schema& schema, bool metadata) {
  parquet::Schema out;
  for (const pipeline::FieldDef& f : schema.fields()) {
    parquet::ColumnSpec c;
    c.name = f.name;
    c.required = !f.optional;
    switch (f.type) {
      case pipeline::FieldType::kString:
        c.type = parquet::ColumnType::kString;
        break;
      case pipeline::FieldType::kInt64:
        c.type = parquet::ColumnType::kInt64;
        break;
      case pipeline::FieldType::kFloat64:
        c.type = parquet::ColumnType::kDouble;
        break;
      case pipeline::FieldType::kBool:
        c.type = parquet::ColumnType::kBoolean;
        break;
      case pipeline::FieldType::kTimestamp:
        c.type = parquet::ColumnType::kTimestampMicros;
        break;
    }
    out.push_back(std::move(c));
  }
  if (metadata) {
    using T = parquet::ColumnType;
    for (auto [name, type, required] : {std::tuple{"_ingested_at", T::kTimestampMicros, true},
                                        {"_source_file", T::kString, false},
                                        {"_source_row", T::kInt64, false},
                                        {"_topic", T::kString, false},
                                        {"_partition", T::kInt32, false},
                                        {"_offset", T::kInt64, false},
                                        {"_schema_id", T::kInt32, false},
                                        {"_batch_id", T::kString, true},
                                        {"_rescued_data", T::kString, false}}) {
      out.push_back(parquet::ColumnSpec{name, type, required});
    }
  }
  return out;
}

absl::Status LakeWriter::Append(const pipeline::RecordBatch& batch, int event_time_column,
                                int64_t ingest_time_s, std::span<const uint8_t> keep,
                                const RowMetadata* meta) {
  const size_t n = batch.num_rows();
  if (n == 0) return absl::OkStatus();
  const size_t cols = batch.schema().size();
  const size_t all = cols + (options_.metadata ? kMetadataColumns : 0);
  if (options_.schema.size() != all) {
    return Internal("lake: {} columns in a batch for files of {} columns", all,
                    options_.schema.size());
  }
  if (options_.metadata && meta == nullptr)
    return Internal("lake: metadata columns without metadata");
  const bool by_ingest =
      event_time_column < 0 || options_.partitioning == Partitioning::kIngestDate;
  std::map<int64_t, std::vector<uint32_t>> by_hour;
  for (size_t i = 0; i < n; ++i) {
    if (!keep.empty() && !keep[i]) continue;
    const int64_t t =
        by_ingest ? ingest_time_s : FloorDiv(batch.column(event_time_column).ints[i], 1'000'000);
    by_hour[PartitionStart(options_.partitioning, t)].push_back(static_cast<uint32_t>(i));
  }
  ints_.resize(all);
  doubles_.resize(all);
  bools_.resize(all);
  valid_.resize(all);
  strings_.resize(all);
  int32s_.resize(all);
  std::vector<parquet::ColumnView> views(all);
  for (auto& [hour, idx] : by_hour) {
    LF_ASSIGN_OR_RETURN(OpenFile * file, FileFor(hour));
    for (size_t c = 0; c < cols; ++c) {
      const pipeline::Column& col = batch.column(c);
      const bool optional = batch.schema().field(c).optional;
      ints_[c].clear();
      doubles_[c].clear();
      bools_[c].clear();
      valid_[c].clear();
      strings_[c].clear();
      for (uint32_t i : idx) {
        if (optional) valid_[c].push_back(col.valid[i]);
        switch (col.type) {
          case pipeline::FieldType::kString:
            strings_[c].push_back(batch.String(c, i));
            break;
          case pipeline::FieldType::kFloat64:
            doubles_[c].push_back(col.doubles[i]);
            break;
          case pipeline::FieldType::kBool:
            bools_[c].push_back(static_cast<uint8_t>(col.ints[i]));
            break;
          default:
            ints_[c].push_back(col.ints[i]);
            break;
        }
      }
      parquet::ColumnView& v = views[c];
      v = parquet::ColumnView{};
      switch (col.type) {
        case pipeline::FieldType::kString:
          v.strings = strings_[c];
          break;
        case pipeline::FieldType::kFloat64:
          v.doubles = doubles_[c];
          break;
        case pipeline::FieldType::kBool:
          v.bools = bools_[c];
          break;
        default:
          v.int64s = ints_[c];
          break;
      }
      v.valid = valid_[c];
    }
    if (options_.metadata) FillMetadata(batch, *meta, idx, cols, views);
    LF_RETURN_IF_ERROR(file->writer->WriteBatch(views));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<LakeFile>> LakeWriter::CloseAll() {
  std::vector<LakeFile> out;
  absl::Status failure;
  for (auto& [hour, f] : open_) {
    if (!failure.ok()) break;
    LakeFile lf{hour, f->relative_path, f->temp_path, f->writer->num_rows(), 0};
    failure = f->writer->Close();
    if (failure.ok()) {
      lf.bytes = env_->FileSize(options_.root + "/" + lf.temp_path).value_or(0);
      out.push_back(std::move(lf));
    }
  }
  // The files were synced on close (see the constructor); their names, temporary until Publish
  // renames them, must survive a crash too.
  if (failure.ok()) {
    std::vector<std::string> temps;
    for (const LakeFile& lf : out) temps.push_back(options_.root + "/" + lf.temp_path);
    failure = SyncParentDirs(env_, temps);
  }
  if (!failure.ok()) {
    Discard(options_.root, out, env_);
    DiscardAll();
    return failure;
  }
  open_.clear();
  return out;
}

void LakeWriter::DiscardAll() {
  for (auto& [hour, f] : open_) {
    f->writer.reset();
    (void)env_->RemoveFile(options_.root + "/" + f->temp_path);  // best effort: never published
  }
  open_.clear();
}

absl::Status LakeWriter::Publish(const std::string& root, const std::vector<LakeFile>& files,
                                 Env* env) {
  env = Env::Or(env);
  std::vector<std::string> renamed;
  for (const LakeFile& f : files) {
    std::string temp = root + "/" + f.temp_path, final_path = root + "/" + f.path;
    if (env->FileExists(final_path)) continue;  // already published
    if (absl::Status st = env->RenameFile(temp, final_path); !st.ok()) {
      return Internal("lake: publish {}: {}", final_path, Message(st));
    }
    renamed.push_back(final_path);
    // A crash between two renames leaves a commit half published (rolled forward at start-up).
    Failpoint("lake.publish.after_rename");
  }
  if (absl::Status st = SyncParentDirs(env, renamed); !st.ok()) {
    return Internal("lake: {}", Message(st));
  }
  return absl::OkStatus();
}

void LakeWriter::Discard(const std::string& root, const std::vector<LakeFile>& files, Env* env) {
  env = Env::Or(env);
  for (const LakeFile& f : files) (void)env->RemoveFile(root + "/" + f.temp_path);  // best effort
}

absl::Status LakeWriter::MarkSuccess(const std::string& root, const std::string& dataset,
                                     int64_t hour_s, Env* env) {
  env = Env::Or(env);
  const std::string dir = root + "/" + HourDir(dataset, hour_s);
  LF_RETURN_IF_ERROR(CreateDirs(env, dir));
  const std::string marker = dir + "/" + kSuccessMarker;
  if (env->FileExists(marker)) return absl::OkStatus();
  absl::Status st = [&]() -> absl::Status {
    LF_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, env->NewWritableFile(marker));
    LF_RETURN_IF_ERROR(file->Sync());
    LF_RETURN_IF_ERROR(file->Close());
    return env->SyncDir(dir);
  }();
  if (!st.ok()) return Internal("lake: mark {} done: {}", dir, Message(st));
  return absl::OkStatus();
}

namespace {

std::string HostTag() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  std::string tag;
  for (const char* c = host; *c && tag.size() < 24; ++c)
    if (std::isalnum(static_cast<unsigned char>(*c))) tag.push_back(*c);
  return tag.empty() ? "host" : tag;
}

// True when the writer named in temp file `name` (".part-<host>-<pid>-<ms>-<seq>.parquet...")
// ran on this host and its process is gone.
bool WriterIsDeadHere(const std::string& name) {
  std::string_view n = name;
  if (n.substr(0, 6) != ".part-") return false;
  n.remove_prefix(6);
  size_t a = n.find('-');
  if (a == std::string_view::npos || n.substr(0, a) != HostTag()) return false;
  size_t b = n.find('-', a + 1);
  if (b == std::string_view::npos) return false;
  int64_t pid = std::strtoll(std::string(n.substr(a + 1, b - a - 1)).c_str(), nullptr, 10);
  if (pid <= 0) return false;
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

}  // namespace

std::string MakeWriterId() {
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(WallNow().time_since_epoch()).count();
  return fmt::format("{}-{}-{}", HostTag(), ::getpid(), ms);
}

int LakeWriter::RemoveOrphanTemps(const std::string& root, const std::string& dataset,
                                  const std::vector<std::string>& keep, Env* env) {
  constexpr auto kForeignMaxAge = std::chrono::hours(24);
  env = Env::Or(env);
  auto listing = env->ListFiles(root + "/" + dataset);
  if (!listing.ok()) {
    spdlog::warn("lake: looking for unfinished files of stopped writers: {}",
                 Message(listing.status()));
    return 0;
  }
  const Timestamp now = env->WallNow();
  int removed = 0;
  for (const FileInfo& f : *listing) {
    const std::string name = fs::path(f.path).filename().string();
    if (name.size() < sizeof(kTempSuffix) || name[0] != '.' ||
        name.compare(name.size() - (sizeof(kTempSuffix) - 1), std::string::npos, kTempSuffix) !=
            0) {
      continue;
    }
    const std::string rel = f.path.substr(root.size() + 1);
    if (std::find(keep.begin(), keep.end(), rel) != keep.end()) continue;
    if (!WriterIsDeadHere(name) && now - f.modified < kForeignMaxAge) continue;
    if (env->RemoveFile(f.path).ok()) {
      ++removed;
      spdlog::info("lake: removed unfinished file of a stopped writer: {}", f.path);
    }
  }
  return removed;
}

}  // namespace lf::lake
