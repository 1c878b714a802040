// parquet_write_bench: how fast lf::parquet writes lake events, and how large the file is.
//
//   parquet_write_bench [--events N] [--out FILE] [--devices N] [--antennas N] [--codec zstd]
//                       [--level L]
//
// Generates N events shaped like the simulator's (SPEC.md §1.1: UUID device and antenna ids, a
// handful of apps, event time in whole seconds), keeps them in memory as columns, then times only
// ParquetWriter (batches of 8192 rows, Close() included). Prints one JSON object: events,
// seconds (wall), cpu_seconds (process CPU time: robust when the machine is shared),
// events_per_s, input_mb_per_s (bytes of the raw column values per second), file_bytes.
// bench/parquet_write_bench.mjs runs it next to DuckDB's COPY of the same events.

#include <time.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "fmt/format.h"
#include "parquet/writer.h"

namespace {

std::string Uuid(uint64_t n) { return fmt::format("00000000-0000-0000-0000-{:012d}", n); }

}  // namespace

int main(int argc, char** argv) {
  int64_t events = 2'000'000, devices = 100'000, antennas = 1'000;
  std::string out = "/tmp/lf_parquet_write_bench.parquet", codec = "zstd";
  int level = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--events")
      events = std::stoll(v);
    else if (a == "--out")
      out = v;
    else if (a == "--devices")
      devices = std::stoll(v);
    else if (a == "--antennas")
      antennas = std::stoll(v);
    else if (a == "--codec")
      codec = v;
  }
  const std::vector<std::string> apps = {"SKYPE",    "FACEBOOK", "WHATSAPP", "FACETIME",
                                         "TELEGRAM", "NETFLIX",  "YOUTUBE",  "SPOTIFY"};
  std::vector<std::string> device_ids, antenna_ids;
  for (int64_t d = 0; d < devices; ++d) device_ids.push_back(Uuid(d + 1));
  for (int64_t a = 0; a < antennas; ++a) antenna_ids.push_back(Uuid(1'000'000'000 + a));

  // Columns; the strings are views into the id tables (no per-event allocation).
  std::vector<int64_t> bytes(events), ts(events);
  std::vector<std::string_view> app(events), id(events), antenna(events);
  std::mt19937_64 rng(42);
  int64_t t = 1'795'338'000;  // 2026-11-22T09:00:00Z, seconds
  uint64_t input_bytes = 0;
  for (int64_t i = 0; i < events; ++i) {
    if (rng() % 10'000 == 0) ++t;  // about 10,000 events per second of event time
    int64_t jitter = static_cast<int64_t>(rng() % 3);
    bytes[i] = static_cast<int64_t>(rng() % 100'000);
    ts[i] = (t - jitter) * 1'000'000;
    int64_t dev = static_cast<int64_t>(rng() % devices);
    id[i] = device_ids[dev];
    antenna[i] = antenna_ids[dev % antennas];  // a device mostly stays on one antenna
    app[i] = apps[rng() % apps.size()];
    input_bytes += 16 + app[i].size() + id[i].size() + antenna[i].size();
  }

  lf::parquet::WriterOptions opts;
  opts.compression_level = level;
  if (codec == "snappy")
    opts.codec = lf::parquet::Codec::kSnappy;
  else if (codec == "none")
    opts.codec = lf::parquet::Codec::kUncompressed;
  auto cpu_seconds = [] {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
  };
  const double cpu_start = cpu_seconds();
  auto start = std::chrono::steady_clock::now();
  auto writer = lf::parquet::ParquetWriter::Open(out, lf::parquet::LakeEventSchema(), opts);
  if (!writer.ok()) {
    std::fprintf(stderr, "%s\n", lf::Message(writer.status()).c_str());
    return 1;
  }
  constexpr int64_t kBatch = 8192;
  for (int64_t off = 0; off < events; off += kBatch) {
    size_t n = static_cast<size_t>(std::min(kBatch, events - off));
    std::vector<lf::parquet::ColumnView> cols(5);
    cols[0].int64s = std::span<const int64_t>(bytes).subspan(off, n);
    cols[1].int64s = std::span<const int64_t>(ts).subspan(off, n);
    cols[2].strings = std::span<const std::string_view>(app).subspan(off, n);
    cols[3].strings = std::span<const std::string_view>(id).subspan(off, n);
    cols[4].strings = std::span<const std::string_view>(antenna).subspan(off, n);
    if (absl::Status s = (*writer)->WriteBatch(cols); !s.ok()) {
      std::fprintf(stderr, "%s\n", lf::Message(s).c_str());
      return 1;
    }
  }
  if (absl::Status s = (*writer)->Close(); !s.ok()) {
    std::fprintf(stderr, "%s\n", lf::Message(s).c_str());
    return 1;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double cpu = cpu_seconds() - cpu_start;
  auto file_bytes = std::filesystem::file_size(out);
  std::printf(
      "{\"events\":%lld,\"seconds\":%.4f,\"cpu_seconds\":%.4f,\"events_per_s\":%.0f,"
      "\"input_mb_per_s\":%.2f,\"file_bytes\":%llu,\"file\":\"%s\"}\n",
      static_cast<long long>(events), secs, cpu, events / secs, input_bytes / secs / 1e6,
      static_cast<unsigned long long>(file_bytes), out.c_str());
  return 0;
}
