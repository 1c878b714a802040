#include "sim/simulator.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>

#include "common/shutdown.h"
#include "common/status.h"
#include "common/time.h"
#include "spdlog/spdlog.h"

namespace lf::sim {
namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

// Buffered NDJSON copy of the payloads.
class NdjsonWriter {
 public:
  static absl::StatusOr<NdjsonWriter> Open(const std::string& path) {
    NdjsonWriter w;
    w.path_ = path;
    w.file_.reset(std::fopen(path.c_str(), "wb"));
    if (!w.file_) return Unavailable("sim: open {}: {}", path, std::strerror(errno));
    std::setvbuf(w.file_.get(), nullptr, _IOFBF, 1 << 20);
    return w;
  }
  void Write(std::string_view line) {
    std::fwrite(line.data(), 1, line.size(), file_.get());
    std::fputc('\n', file_.get());
  }
  absl::Status Close() {
    std::FILE* f = file_.release();
    bool failed = std::ferror(f) != 0;
    failed = (std::fclose(f) != 0) || failed;
    if (failed) return Unavailable("sim: write {}: {}", path_, std::strerror(errno));
    return absl::OkStatus();
  }

 private:
  std::string path_;
  File file_;
};

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

std::optional<double> EffectiveRate(const SimulatorOptions& options) {
  if (options.rate) return options.rate;
  if (options.events) return std::nullopt;
  const double interval_s = std::chrono::duration<double>(options.generator.interval).count();
  return options.speedup * static_cast<double>(options.generator.devices) / interval_s;
}

namespace {

// The telecom devices as a MessageSource.
class DeviceMessages : public MessageSource {
 public:
  explicit DeviceMessages(std::unique_ptr<EventGenerator> gen) : gen_(std::move(gen)) {}
  void Next(std::optional<Timestamp> now) override {
    if (now) {
      gen_->NextAt(*now);
    } else {
      gen_->Next();
    }
  }
  std::string_view key() const override { return gen_->key(); }
  std::string_view payload() const override { return gen_->payload(); }

 private:
  std::unique_ptr<EventGenerator> gen_;
};

}  // namespace

absl::StatusOr<SimulatorStats> RunSimulator(const SimulatorOptions& options,
                                            kafka::Producer& producer, MessageSource* source) {
  if (options.speedup <= 0) return InvalidArgument("sim: speedup {}: want > 0", options.speedup);
  if (options.rate && *options.rate <= 0)
    return InvalidArgument("sim: rate {}: want > 0 events/s", *options.rate);
  if (options.events && *options.events < 0)
    return InvalidArgument("sim: events {}: want >= 0", *options.events);
  std::unique_ptr<MessageSource> devices;
  if (source == nullptr) {
    LF_ASSIGN_OR_RETURN(std::unique_ptr<EventGenerator> gen,
                        EventGenerator::Create(options.generator));
    devices = std::make_unique<DeviceMessages>(std::move(gen));
    source = devices.get();
  }
  std::optional<NdjsonWriter> out;
  if (!options.out_path.empty()) {
    LF_ASSIGN_OR_RETURN(NdjsonWriter w, NdjsonWriter::Open(options.out_path));
    out.emplace(std::move(w));
  }
  // A self-timed source in real time is paced by its event times, not by a rate.
  const std::optional<double> rate = devices ? EffectiveRate(options) : options.rate;
  const int64_t limit = options.events.value_or(INT64_MAX);
  if (devices == nullptr) {
    spdlog::info("sim: producing {} messages to {} ({}, {})",
                 options.events ? std::to_string(*options.events) : "unbounded", options.topic,
                 rate ? fmt::format("{:.0f} messages/s", *rate) : "as fast as possible",
                 options.simulated_time ? "simulated event time"
                                        : fmt::format("real time x{}", options.speedup));
  } else
    spdlog::info("sim: producing {} events to {} ({} devices, {} antennas, seed {}, {}, {})",
                 options.events ? std::to_string(*options.events) : "unbounded", options.topic,
                 options.generator.devices, options.generator.antennas, options.generator.seed,
                 rate ? fmt::format("{:.0f} events/s", *rate) : "as fast as possible",
                 options.simulated_time
                     ? "event time from " + FormatTime(options.generator.start) + " every " +
                           FormatDuration(options.generator.interval) + " per device"
                     : fmt::format("wall-clock event time x{}", options.speedup));

  const Clock::time_point begin = Clock::now();
  const Timestamp wall_begin = WallNow();
  Clock::time_point next_progress = begin + options.progress_every;
  int64_t last_progress_count = 0;
  Clock::time_point last_progress = begin;
  int64_t n = 0;
  std::optional<Timestamp> first_event;
  while (n < limit && !ShutdownRequested() && !source->done()) {
    if (rate) {
      // Pace against the schedule, not the previous event, so rounding never accumulates.
      const auto due = begin + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(n / *rate));
      const auto now = Clock::now();
      if (due > now) {
        producer.Poll();
        std::this_thread::sleep_for(
            std::min<Clock::duration>(due - now, std::chrono::milliseconds(100)));
        continue;
      }
    }
    if (options.simulated_time || source->event_time()) {
      source->Next(std::nullopt);
    } else {
      const auto now = WallNow();
      const auto elapsed = std::chrono::duration_cast<Micros>(now.time_since_epoch()) -
                           wall_begin.time_since_epoch();
      source->Next(wall_begin + Micros(static_cast<int64_t>(elapsed.count() * options.speedup)));
    }
    if (source->payload().empty()) break;  // a source with an end has nothing more
    if (auto t = source->event_time(); t && !options.simulated_time && !rate) {
      // A self-timed source in real time: send each message when its event time comes.
      if (!first_event) first_event = *t;
      const auto due =
          begin +
          std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::micro>(
              static_cast<double>((*t - *first_event).count()) / options.speedup));
      while (Clock::now() < due && !ShutdownRequested()) {
        producer.Poll();
        std::this_thread::sleep_for(
            std::min<Clock::duration>(due - Clock::now(), std::chrono::milliseconds(100)));
      }
    }
    LF_RETURN_IF_ERROR(producer.Produce(options.topic, source->key(), source->payload()));
    if (out) out->Write(source->record());
    ++n;
    if ((n & 1023) == 0 || rate) {
      const auto now = Clock::now();
      if (now >= next_progress) {
        spdlog::info("sim: {} events, {:.0f} events/s", n,
                     (n - last_progress_count) / Seconds(now - last_progress));
        last_progress_count = n;
        last_progress = now;
        next_progress = now + options.progress_every;
      }
    }
  }
  Micros flush_timeout = options.flush_timeout;
  if (ShutdownRequested()) {
    flush_timeout = std::min(flush_timeout, options.stop_flush_timeout);
    spdlog::info("sim: stop requested after {} events; flushing (at most {})", n,
                 FormatDuration(flush_timeout));
  }
  absl::Status flushed =
      producer.Flush(std::chrono::duration_cast<std::chrono::milliseconds>(flush_timeout));
  if (out) {
    absl::Status closed = out->Close();
    LF_RETURN_IF_ERROR(flushed);
    LF_RETURN_IF_ERROR(closed);
  }
  LF_RETURN_IF_ERROR(flushed);
  if (producer.delivered() != n)
    return Internal("sim: {} events produced but {} acknowledged by the broker", n,
                    producer.delivered());
  return SimulatorStats{.events = n, .seconds = Seconds(Clock::now() - begin)};
}

}  // namespace lf::sim
