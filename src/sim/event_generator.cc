#include "sim/event_generator.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <string>

#include "common/status.h"

namespace lf::sim {
namespace {

constexpr int64_t kMaxNumber = 999'999'999'999;  // 12 decimal digits

// SplitMix64: seeds the main generator and hashes (seed, device) into a device's profile.
uint64_t SplitMix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

double ToUnit(uint64_t x) { return static_cast<double>((x >> 11) + 1) * 0x1.0p-53; }  // (0, 1]

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

struct DeviceProfile {
  double mean_bytes;
  int app;
  int64_t antenna;  // 1-based
};

// Computed, not stored, so millions of devices cost no memory.
DeviceProfile Profile(uint64_t seed, int64_t device, int64_t antennas) {
  uint64_t h = SplitMix(seed ^ SplitMix(static_cast<uint64_t>(device)));
  uint64_t h2 = SplitMix(h);
  uint64_t h3 = SplitMix(h2);
  // Box-Muller: a standard normal from two uniforms; log-normal mean bytes, median 100.
  double z = std::sqrt(-2.0 * std::log(ToUnit(h))) * std::cos(2.0 * M_PI * ToUnit(h2));
  return {.mean_bytes = 100.0 * std::exp(1.2 * z),
          .app = static_cast<int>(h3 % kApps.size()),
          .antenna = static_cast<int64_t>((h3 >> 8) % static_cast<uint64_t>(antennas)) + 1};
}

// Writes the 12 zero-padded digits of `n` at `out`.
void Put12(int64_t n, char* out) {
  for (int i = 11; i >= 0; --i) {
    out[i] = static_cast<char>('0' + n % 10);
    n /= 10;
  }
}

}  // namespace

std::string FormatId(std::string_view prefix, int64_t number) {
  std::string s(prefix);
  s.resize(prefix.size() + 12);
  Put12(number, s.data() + prefix.size());
  return s;
}

absl::StatusOr<std::unique_ptr<EventGenerator>> EventGenerator::Create(
    const GeneratorOptions& options) {
  if (options.devices < 1 || options.devices > kMaxNumber)
    return InvalidArgument("sim: devices {}: want 1..{}", options.devices, kMaxNumber);
  if (options.antennas < 1 || options.antennas > kMaxNumber)
    return InvalidArgument("sim: antennas {}: want 1..{}", options.antennas, kMaxNumber);
  if (options.interval <= Micros(0))
    return InvalidArgument("sim: interval {}: want a positive duration",
                           FormatDuration(options.interval));
  return std::make_unique<EventGenerator>(options);
}

EventGenerator::EventGenerator(const GeneratorOptions& options) : options_(options) {
  uint64_t x = options.seed;
  for (uint64_t& s : state_) s = x = SplitMix(x);
  std::copy(kDevicePrefix.begin(), kDevicePrefix.end(), id_.begin());
  std::copy(kAntennaPrefix.begin(), kAntennaPrefix.end(), antenna_.begin());
  event_.id = {id_.data(), id_.size()};
  event_.antenna_id = {antenna_.data(), antenna_.size()};
  payload_.reserve(256);
}

uint64_t EventGenerator::NextRandom() {
  const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
  const uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = Rotl(state_[3], 45);
  return result;
}

double EventGenerator::NextUniform() { return ToUnit(NextRandom()); }

double EventGenerator::MeanBytes(int64_t device) const {
  return Profile(options_.seed, device, options_.antennas).mean_bytes;
}

const Event& EventGenerator::Next() {
  int64_t round = count_ / options_.devices;
  Timestamp t = options_.start + round * options_.interval;
  return Generate(ToUnixSeconds(t));
}

const Event& EventGenerator::NextAt(Timestamp time) { return Generate(ToUnixSeconds(time)); }

const Event& EventGenerator::Generate(int64_t timestamp) {
  const int64_t device = count_ % options_.devices + 1;
  ++count_;
  const DeviceProfile p = Profile(options_.seed, device, options_.antennas);
  // Three draws per event, always, so the stream stays aligned whatever branches are taken.
  const uint64_t pick = NextRandom();
  const double u = NextUniform();
  const uint64_t other = NextRandom();

  event_.bytes = static_cast<int64_t>(-p.mean_bytes * std::log(u));
  event_.timestamp = timestamp;
  // Half of a device's events use its favourite app; 80% go through its home antenna.
  const bool favourite_app = (pick & 1) != 0;
  const bool home_antenna = (pick >> 1) % 10 < 8;
  event_.app = kApps[favourite_app ? p.app : (other % kApps.size())];
  const int64_t antenna =
      home_antenna
          ? p.antenna
          : static_cast<int64_t>((other >> 8) % static_cast<uint64_t>(options_.antennas)) + 1;
  Put12(device, id_.data() + kDevicePrefix.size());
  Put12(antenna, antenna_.data() + kAntennaPrefix.size());

  payload_.clear();
  fmt::format_to(std::back_inserter(payload_),
                 R"({{"bytes":{},"timestamp":{},"app":"{}","id":"{}","antenna_id":"{}"}})",
                 event_.bytes, event_.timestamp, event_.app, event_.id, event_.antenna_id);
  return event_;
}

}  // namespace lf::sim
