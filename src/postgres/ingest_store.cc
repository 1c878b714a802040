#include "postgres/ingest_store.h"

#include "common/status.h"
#include "postgres/lake_sink.h"
#include "postgres/schema.h"
#include "postgres/sql_array.h"

namespace lf::postgres {

absl::StatusOr<std::unique_ptr<PgIngestStore>> PgIngestStore::Open(const ConnTarget& target,
                                                                   std::string pipeline,
                                                                   std::string dataset) {
  LF_ASSIGN_OR_RETURN(PgConn conn, Connect(target));
  LF_RETURN_IF_ERROR(EnsureLakeTables(conn.get()));
  return std::unique_ptr<PgIngestStore>(
      new PgIngestStore(target, std::move(pipeline), std::move(dataset), std::move(conn)));
}

PgIngestStore::PgIngestStore(ConnTarget target, std::string pipeline, std::string dataset,
                             PgConn conn)
    : target_(std::move(target)),
      pipeline_(std::move(pipeline)),
      dataset_(std::move(dataset)),
      conn_(std::move(conn)) {}

absl::StatusOr<std::optional<std::string>> PgIngestStore::Taken(const std::string& path,
                                                                int64_t size,
                                                                const std::string& sha256) {
  LF_RETURN_IF_ERROR(EnsureConnected(conn_.get(), target_));
  const std::string size_text = std::to_string(size);
  LF_ASSIGN_OR_RETURN(PgResult r,
                      Query(conn_.get(),
                            "SELECT status FROM lf_ingested_files WHERE pipeline = $1 "
                            "AND path = $2 AND size = $3 AND sha256 = $4",
                            {pipeline_.c_str(), path.c_str(), size_text.c_str(), sha256.c_str()},
                            "ingest: look the file up in lf_ingested_files"));
  if (PQntuples(r.get()) == 0) return std::optional<std::string>();
  return std::optional<std::string>(PQgetvalue(r.get(), 0, 0));
}

absl::Status PgIngestStore::Commit(const std::string& batch_id,
                                   const std::vector<pipeline::LakeFile>& lake,
                                   const std::vector<IngestedFile>& files,
                                   const std::vector<FileDeadLetter>& dead_letters) {
  LF_RETURN_IF_ERROR(EnsureConnected(conn_.get(), target_));
  PGconn* c = conn_.get();
  return InTransaction(c, "ingest commit", [&]() -> absl::Status {
    LF_RETURN_IF_ERROR(RecordLakeFiles(c, dataset_, pipeline_, lake));
    if (!files.empty()) {
      SqlArray paths, sizes, mtimes, shas, rows, bad, statuses, errors;
      for (const IngestedFile& f : files) {
        paths.AddText(f.path);
        sizes.AddInt(f.size);
        mtimes.AddInt(f.mtime_s);
        shas.AddText(f.sha256);
        rows.AddInt(f.rows);
        bad.AddInt(f.bad_rows);
        statuses.AddText(f.status);
        if (f.error.empty()) {
          errors.AddNull();
        } else {
          errors.AddText(f.error);
        }
      }
      std::string a = paths.Finish(), b = sizes.Finish(), m = mtimes.Finish(), s = shas.Finish(),
                  r = rows.Finish(), x = bad.Finish(), st = statuses.Finish(), e = errors.Finish();
      LF_RETURN_IF_ERROR(
          Query(c,
                "INSERT INTO lf_ingested_files (pipeline, path, size, mtime, sha256, batch_id, "
                "rows, bad_rows, status, error) SELECT $1, u.p, u.sz, to_timestamp(u.m), u.sh, "
                "$2, u.r, u.x, u.st, u.e FROM unnest($3::text[], $4::bigint[], $5::bigint[], "
                "$6::text[], $7::bigint[], $8::bigint[], $9::text[], $10::text[]) AS u(p, sz, m, "
                "sh, r, x, st, e)",
                {pipeline_.c_str(), batch_id.c_str(), a.c_str(), b.c_str(), m.c_str(), s.c_str(),
                 r.c_str(), x.c_str(), st.c_str(), e.c_str()},
                "ingest commit: insert into lf_ingested_files")
              .status());
    }
    if (!dead_letters.empty()) {
      SqlArray sources, rows, payloads, errors;
      for (const FileDeadLetter& d : dead_letters) {
        sources.AddText(d.source_file);
        rows.AddInt(d.source_row);
        payloads.AddBytea(d.payload);
        errors.AddText(d.error);
      }
      std::string f = sources.Finish(), r = rows.Finish(), p = payloads.Finish(),
                  e = errors.Finish();
      LF_RETURN_IF_ERROR(
          Query(c,
                "INSERT INTO dead_letters (received_at, pipeline, source_file, source_row, "
                "payload, error) SELECT now(), $1, u.f, u.r, u.p, u.e FROM unnest($2::text[], "
                "$3::bigint[], $4::bytea[], $5::text[]) AS u(f, r, p, e)",
                {pipeline_.c_str(), f.c_str(), r.c_str(), p.c_str(), e.c_str()},
                "ingest commit: insert into dead_letters")
              .status());
    }
    return Query(c, "SELECT pg_notify('lf_ingest', $1)", {pipeline_.c_str()},
                 "ingest commit: notify lf_ingest")
        .status();
  });
}

absl::Status PgIngestStore::MarkPublished(const std::vector<pipeline::LakeFile>& files) {
  if (files.empty()) return absl::OkStatus();
  LF_RETURN_IF_ERROR(EnsureConnected(conn_.get(), target_));
  return MarkLakeFilesPublished(conn_.get(), files);
}

absl::StatusOr<std::vector<pipeline::LakeFile>> PgIngestStore::Unpublished() {
  LF_RETURN_IF_ERROR(EnsureConnected(conn_.get(), target_));
  return UnpublishedLakeFiles(conn_.get(), dataset_);
}

}  // namespace lf::postgres
