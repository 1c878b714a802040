#include "ingest/ingest_job.h"

#include <filesystem>

#include "common/failpoint.h"
#include "common/shutdown.h"
#include "common/status.h"
#include "common/time.h"
#include "ingest/file_scan.h"
#include "spdlog/spdlog.h"

namespace lf::ingest {

namespace fs = std::filesystem;

struct IngestJob::Pending {
  std::vector<postgres::IngestedFile> files;
  std::vector<postgres::FileDeadLetter> dead;
  std::vector<std::pair<LandingFile, bool>> moves;  // taken (ok) or refused (to _error)
  int64_t rows = 0, bytes = 0;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

IngestJob::IngestJob(const pipeline::Definition* def, IngestOptions options,
                     std::unique_ptr<postgres::PgIngestStore> store)
    : def_(def),
      options_(std::move(options)),
      store_(std::move(store)),
      schema_(def->fields),
      dictionaries_(schema_),
      batch_(&schema_, &dictionaries_),
      decoder_(&schema_, def->source.format),
      settle_(options_.settle),
      writer_id_(lake::MakeWriterId()) {}

absl::Status IngestJob::Recover() {
  const std::string& root = options_.storage;
  LF_ASSIGN_OR_RETURN(auto pending, store_->Unpublished());
  std::vector<pipeline::LakeFile> published;
  std::vector<std::string> keep;
  for (const auto& f : pending) {
    if (absl::Status st = lake::LakeWriter::Publish(root, {f}); st.ok()) {
      published.push_back(f);
    } else {
      spdlog::error("{}", Message(st));
      keep.push_back(f.temp_path);
    }
  }
  if (!published.empty()) {
    spdlog::info("ingest {}: published {} committed bronze file(s) an earlier run left unrenamed",
                 def_->name, published.size());
    LF_RETURN_IF_ERROR(store_->MarkPublished(published));
  }
  lake::LakeWriter::RemoveOrphanTemps(root, def_->lake.dataset, keep);
  return absl::OkStatus();
}

absl::Status IngestJob::FlushRows() {
  if (batch_.num_rows() == 0) return absl::OkStatus();
  if (!writer_) {
    lake::LakeWriterOptions o;
    o.root = options_.storage;
    o.dataset = def_->lake.dataset;
    o.writer_id = writer_id_;
    o.schema = lake::LakeSchema(schema_, true);
    o.metadata = true;
    o.partitioning = lake::Partitioning::kIngestDate;
    if (def_->lake.partition == pipeline::LakePartition::kEventDate) {
      o.partitioning = lake::Partitioning::kEventDate;
    } else if (def_->lake.partition == pipeline::LakePartition::kEventHour) {
      o.partitioning = lake::Partitioning::kEventHour;
    }
    LF_ASSIGN_OR_RETURN(writer_, lake::LakeWriter::Open(o));
  }
  const int event_column = def_->event_time.empty() ? -1 : schema_.IndexOf(def_->event_time);
  LF_RETURN_IF_ERROR(writer_->Append(batch_, event_column, ingest_time_s_, {}, &meta_));
  batch_.Clear();
  meta_.ClearRows();
  return absl::OkStatus();
}

absl::StatusOr<int64_t> IngestJob::Poll() {
  LF_ASSIGN_OR_RETURN(std::vector<LandingFile> listing,
                      ListLanding(options_.landing, def_->source.landing));
  if (!initial_listed_) {
    initial_listed_ = true;
    if (once_) {
      for (const LandingFile& f : listing) initial_.insert(f.path);
    }
  }
  if (once_) {
    std::set<std::string> present;
    for (const LandingFile& f : listing) present.insert(f.path);
    std::erase_if(initial_, [&](const std::string& p) { return !present.count(p); });
  }
  std::vector<LandingFile> settled = settle_.Settled(listing, std::chrono::steady_clock::now());
  int64_t handled = 0;
  size_t next = 0;
  while (next < settled.size() && !ShutdownRequested()) {
    Pending pending;
    const Timestamp now = WallNow();
    ingest_time_s_ = ToUnixSeconds(now);
    meta_.files.clear();
    meta_.ClearRows();
    meta_.ingested_at_us = now.time_since_epoch().count();
    meta_.batch_id = fmt::format("{}-{}", writer_id_, next_batch_++);
    for (; next < settled.size() && pending.files.size() < options_.batch_files &&
           pending.rows < options_.batch_rows && !ShutdownRequested();
         ++next) {
      const LandingFile& lf = settled[next];
      ++handled;
      initial_.erase(lf.path);
      if (auto k = known_.find(lf.path);
          k != known_.end() && k->second == std::pair(lf.size, lf.mtime_ns)) {
        continue;  // --keep-files: taken before
      }
      const std::string abs = (fs::path(options_.landing) / lf.path).string();
      auto scan = ScanFile(abs);
      if (!scan.ok()) {
        spdlog::warn("ingest {}: {}", def_->name, Message(scan.status()));  // gone meanwhile
        continue;
      }
      LF_ASSIGN_OR_RETURN(auto taken, store_->Taken(lf.path, scan->size, scan->sha256));
      if (taken) {
        ++totals_.skipped;
        spdlog::info("ingest {}: {} was taken before ({}); not again", def_->name, lf.path, *taken);
        pending.moves.emplace_back(lf, *taken == "ok");
        continue;
      }
      postgres::IngestedFile entry;
      entry.path = lf.path;
      entry.size = scan->size;
      entry.mtime_s = lf.mtime_ns / 1'000'000'000;
      entry.sha256 = scan->sha256;
      if (!scan->utf8) {
        entry.status = "error";
        entry.error = fmt::format("not UTF-8 text (invalid byte at offset {})", scan->bad_utf8_at);
      } else {
        const auto index = static_cast<uint32_t>(meta_.files.size());
        meta_.files.push_back(lf.path);
        LF_ASSIGN_OR_RETURN(DecodedFile d,
                            decoder_.Decode(abs, lf.path, index, &batch_, &meta_, &pending.dead,
                                            8192, [this] { return FlushRows(); }));
        if (!d.file_error.empty()) {
          entry.status = "error";
          entry.error = d.file_error;
        }
        entry.rows = d.rows;
        entry.bad_rows = d.bad_rows;
        pending.rows += d.rows;
      }
      pending.bytes += scan->size;
      if (entry.status == "error") {
        spdlog::warn("ingest {}: {} is unreadable as a whole: {}", def_->name, lf.path,
                     entry.error);
      }
      pending.moves.emplace_back(lf, entry.status == "ok");
      pending.files.push_back(std::move(entry));
    }
    LF_RETURN_IF_ERROR(CommitBatch(pending));
  }
  return handled;
}

absl::Status IngestJob::CommitBatch(Pending& p) {
  absl::Status st = FlushRows();
  std::vector<pipeline::LakeFile> files;
  if (st.ok() && writer_) {
    auto closed = writer_->CloseAll();
    if (closed.ok()) {
      files = std::move(*closed);
    } else {
      st = closed.status();
    }
  }
  if (st.ok() && (!p.files.empty() || !files.empty())) {
    st = store_->Commit(meta_.batch_id, files, p.files, p.dead);
  }
  if (!st.ok()) {
    // Nothing of the batch is visible: its files are dropped and taken again next time.
    lake::LakeWriter::Discard(options_.storage, files);
    if (writer_) writer_->DiscardAll();
    batch_.Clear();
    meta_.ClearRows();
    settle_ = SettleTracker(options_.settle);
    return st;
  }
  LF_RETURN_IF_ERROR(lake::LakeWriter::Publish(options_.storage, files));
  LF_RETURN_IF_ERROR(store_->MarkPublished(files));
  for (const auto& [lf, ok] : p.moves) {
    if (options_.keep_files) {
      known_[lf.path] = {lf.size, lf.mtime_ns};
      continue;
    }
    // Committed and published, not yet moved: a restart must skip this file, not take it again.
    Failpoint("ingest.before_move");
    auto moved = MoveLandingFile(options_.landing, lf.path, ok ? "_processed" : "_error");
    if (!moved.ok()) spdlog::warn("ingest {}: {}", def_->name, Message(moved.status()));
  }
  int64_t ok_files = 0, error_files = 0, bad = 0;
  for (const auto& f : p.files) {
    (f.status == "ok" ? ok_files : error_files) += 1;
    bad += f.bad_rows;
  }
  totals_.files += ok_files;
  totals_.error_files += error_files;
  totals_.rows += p.rows;
  totals_.bad_rows += bad;
  totals_.bytes += p.bytes;
  if (!p.files.empty()) ++totals_.batches;
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - p.started).count();
  if (!p.files.empty()) {
    spdlog::info(
        "ingest {}: batch {}: {} file(s) ({} unreadable), {} rows, {} bad rows, {} bytes -> {} "
        "({} Parquet file(s)), {:.0f} rows/s",
        def_->name, meta_.batch_id, p.files.size(), error_files, p.rows, bad, p.bytes,
        def_->lake.dataset, files.size(), secs > 0 ? p.rows / secs : 0.0);
  }
  return absl::OkStatus();
}

}  // namespace lf::ingest
