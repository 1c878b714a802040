#include "sim/farmia.h"

#include <filesystem>
#include <fstream>
#include <random>
#include <vector>

#include "common/status.h"
#include "fmt/format.h"

namespace lf::sim {
namespace {

namespace fs = std::filesystem;

class Writer {
 public:
  Writer(std::string landing, FarmiaSummary* summary)
      : landing_(std::move(landing)), summary_(summary) {}

  absl::Status Write(const std::string& rel, const std::string& content) {
    const fs::path final_path = fs::path(landing_) / rel;
    const fs::path temp =
        final_path.parent_path() / ("." + final_path.filename().string() + ".tmp");
    std::error_code ec;
    fs::create_directories(final_path.parent_path(), ec);
    if (ec)
      return Unavailable("generate: create {}: {}", final_path.parent_path().string(),
                         ec.message());
    {
      std::ofstream out(temp, std::ios::binary);
      out << content;
      if (!out) return Unavailable("generate: write {}", temp.string());
    }
    fs::rename(temp, final_path, ec);
    if (ec) return Unavailable("generate: rename to {}: {}", final_path.string(), ec.message());
    ++summary_->files;
    return absl::OkStatus();
  }

 private:
  std::string landing_;
  FarmiaSummary* summary_;
};

std::string Num(double v, int decimals) { return fmt::format("{:.{}f}", v, decimals); }

}  // namespace

absl::StatusOr<FarmiaSummary> GenerateFarmia(const FarmiaOptions& o) {
  if (o.landing.empty()) return InvalidArgument("generate: --landing is required");
  if (o.files < 1 || o.rows < 1)
    return InvalidArgument("generate: --files and --rows must be positive");
  for (const std::string& d : o.datasets) {
    if ((d != "iot_sensors" && d != "inventory" && d != "suppliers" && d != "weather")) {
      return InvalidArgument(
          "generate: --datasets: no dataset '{}' (iot_sensors, inventory, suppliers, weather)", d);
    }
  }
  FarmiaSummary summary;
  Writer w(o.landing, &summary);
  std::mt19937_64 rng(o.seed);
  auto uniform = [&](double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng);
  };
  auto pick = [&](int n) {
    return static_cast<int>(std::uniform_int_distribution<int>(0, n - 1)(rng));
  };
  auto fault = [&](double p) { return o.faults && uniform(0, 1) < p; };
  const int64_t t0 = ToUnixSeconds(o.start);
  auto iso = [](int64_t s) { return FormatTime(FromUnixSeconds(s)); };

  if (o.Wants("iot_sensors")) {
    // IoT sensor readings: one file per batch of readings, every sensor every minute.
    for (int f = 0; f < o.files; ++f) {
      const bool crlf = o.faults && f % 2 == 1;
      const char* eol = crlf ? "\r\n" : "\n";
      const bool extra = o.faults && f == 0;
      std::string csv = o.faults && f == 1 ? "\xEF\xBB\xBF" : "";
      csv += "sensor_id,farm_id,ts,temperature_c,humidity_pct,soil_moisture_pct";
      csv += extra ? ",firmware" : "";
      csv += eol;
      for (int r = 0; r < o.rows; ++r) {
        const int sensor = pick(24);
        const int64_t ts = t0 + (static_cast<int64_t>(f) * o.rows + r) * 60;
        std::string moisture = pick(10) == 0 ? "" : Num(uniform(10, 45), 1);  // optional
        std::string temperature = Num(uniform(-5, 38), 2);
        std::string row = fmt::format("S{:03d},F{:02d},{},{},{},{}", sensor, sensor / 6 + 1,
                                      iso(ts), temperature, Num(uniform(20, 95), 1), moisture);
        if (fault(0.02)) {
          row = fmt::format("S{:03d},F{:02d},{},warm,{},{}", sensor, sensor / 6 + 1, iso(ts),
                            Num(uniform(20, 95), 1), moisture);
          ++summary.bad_rows;
        } else if (fault(0.01)) {
          row = fmt::format("S{:03d},F{:02d},{}", sensor, sensor / 6 + 1, iso(ts));
          ++summary.bad_rows;
        } else {
          ++summary.rows;
        }
        if (extra) row += fmt::format(",\"v{}.{}, build {}\"", pick(3) + 1, pick(10), pick(500));
        csv += row + eol;
      }
      LF_RETURN_IF_ERROR(w.Write(fmt::format("iot_sensors/iot_sensors_{:03d}.csv", f + 1), csv));
    }
    if (o.faults) {
      LF_RETURN_IF_ERROR(w.Write("iot_sensors/iot_sensors_empty.csv", ""));
      LF_RETURN_IF_ERROR(w.Write("iot_sensors/iot_sensors_latin1.csv",
                                 "sensor_id,farm_id,ts,temperature_c,humidity_pct\nS001,F01,"
                                 "2026-11-22T00:00:00Z,21.0,50.0 \xB0"
                                 "C\n"));
    }
  }
  if (o.Wants("inventory")) {
    // Inventory snapshots: NDJSON and JSON arrays in turn.
    const char* warehouses[] = {"W-NORTE", "W-SUR", "W-CENTRO"};
    for (int f = 0; f < o.files; ++f) {
      const bool array = f % 2 == 1;
      std::string out = array ? "[\n" : "";
      for (int r = 0; r < o.rows; ++r) {
        std::string rec = fmt::format(
            R"({{"product_id":"P{:04d}","warehouse_id":"{}","quantity":{},"updated_at":"{}"{}}})",
            pick(500), warehouses[pick(3)], pick(1000), iso(t0 + f * 3600 + r * 7),
            o.faults && r % 50 == 7 ? R"(,"lot":{"code":"L-7","expires":"2027-01-31"})" : "");
        if (fault(0.02)) {
          rec = fmt::format(R"({{"product_id":"P{:04d}","quantity":"many"}})", pick(500));
          ++summary.bad_rows;
        } else {
          ++summary.rows;
        }
        out += array ? fmt::format("{}  {}", r ? ",\n" : "", rec) : rec + "\n";
      }
      out += array ? "\n]\n" : "";
      LF_RETURN_IF_ERROR(w.Write(fmt::format("inventory/inventory_{:03d}.json", f + 1), out));
    }
  }
  if (o.Wants("suppliers")) {
    // Suppliers: one CSV, with names that need quoting.
    {
      const char* countries[] = {"ES", "PT", "FR", "MA"};
      std::string csv = "supplier_id,name,country,rating\n";
      for (int r = 0; r < o.rows; ++r) {
        std::string name = fmt::format("Cooperativa {} ", r + 1);
        name += r % 7 == 3 ? "\"\"La Huerta\"\", S.L." : r % 11 == 5 ? "Riegos,\nSur" : "Agrícola";
        std::string rating = r % 9 == 0 ? "" : Num(uniform(1, 5), 1);
        csv += fmt::format("SUP{:04d},\"{}\",{},{}\n", r + 1, name, countries[pick(4)], rating);
        ++summary.rows;
      }
      LF_RETURN_IF_ERROR(w.Write("suppliers/suppliers.csv", csv));
    }
  }
  if (o.Wants("weather")) {
    // Weather: JSON arrays of hourly observations per station.
    for (int f = 0; f < o.files; ++f) {
      std::string out = "[";
      for (int r = 0; r < o.rows; ++r) {
        out += fmt::format(
            R"({}{{"station_id":"AEMET-{}","ts":{},"temp_c":{},"rain_mm":{},"wind_kmh":{}}})",
            r ? ",\n " : "\n ", 3000 + pick(8), t0 + (static_cast<int64_t>(f) * o.rows + r) * 3600,
            Num(uniform(-2, 36), 1), Num(pick(4) == 0 ? uniform(0, 12) : 0, 1),
            Num(uniform(0, 60), 1));
        ++summary.rows;
      }
      out += "\n]\n";
      LF_RETURN_IF_ERROR(w.Write(fmt::format("weather/weather_{:03d}.json", f + 1), out));
    }
  }
  return summary;
}

}  // namespace lf::sim
