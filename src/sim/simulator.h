#pragma once

// The simulate job: drives an EventGenerator into a Kafka producer, optionally paced and with an
// NDJSON copy of every payload sent.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/time.h"
#include "kafka/producer.h"
#include "sim/event_generator.h"

namespace lf::sim {

struct SimulatorOptions {
  std::string topic = "devices";
  GeneratorOptions generator;
  // True: event time is simulated from generator.start (--start). False: event time is the wall
  // clock, advanced `speedup` times faster than real time from the moment the run starts.
  bool simulated_time = false;
  double speedup = 1.0;
  // Stop after this many events; without it, run until shutdown is requested (SIGINT/SIGTERM).
  std::optional<int64_t> events;
  // Events per second. Unset: as fast as possible when `events` is set, otherwise real time,
  // i.e. speedup × devices / interval (one event per device per interval of event time).
  std::optional<double> rate;
  // When not empty, every payload sent is also written here, one per line, byte for byte.
  std::string out_path;
  // How often progress goes to the log (stderr).
  Micros progress_every = std::chrono::seconds(5);
  // How long to wait at the end for the broker to acknowledge everything.
  Micros flush_timeout = std::chrono::seconds(120);
  // ... or this long when stopped by a signal: a broker that went away with us (up's children
  // stop together when up is killed) would otherwise keep the process alive for flush_timeout.
  Micros stop_flush_timeout = std::chrono::seconds(10);
};

// What a simulator sends: the telecom devices (EventGenerator) or another system's messages.
class MessageSource {
 public:
  virtual ~MessageSource() = default;
  // Moves to the next message. `now`: the event time to give it when the source is not
  // self-timed (nullopt: simulated time); a self-timed source (event_time() set) ignores it.
  virtual void Next(std::optional<Timestamp> now) = 0;
  virtual std::string_view key() const = 0;
  virtual std::string_view payload() const = 0;
  // The NDJSON line of --out for the current message.
  virtual std::string_view record() const { return payload(); }
  // The current message's event time when the source keeps its own clock: in real-time mode the
  // simulator then sends each message when its event time comes (scaled by speedup).
  virtual std::optional<Timestamp> event_time() const { return std::nullopt; }
  // True when the source has nothing more to send.
  virtual bool done() const { return false; }
};

struct SimulatorStats {
  int64_t events = 0;  // produced and acknowledged by the broker
  double seconds = 0;  // from the first event to the end of the final flush
  double events_per_second() const { return seconds > 0 ? events / seconds : 0; }
};

// Runs until options.events are sent or lf::ShutdownRequested(), then flushes. Every event counted
// is acknowledged by the broker: a failed delivery ends the run with its error. `producer` is
// not owned and must outlive the call.
// With `source`, its messages are sent instead of the telecom devices' (options.generator is then
// unused).
absl::StatusOr<SimulatorStats> RunSimulator(const SimulatorOptions& options,
                                            kafka::Producer& producer,
                                            MessageSource* source = nullptr);

// The events/s actually used for pacing, or nullopt for "as fast as possible".
std::optional<double> EffectiveRate(const SimulatorOptions& options);

}  // namespace lf::sim
