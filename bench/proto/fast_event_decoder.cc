#include "proto/fast_event_decoder.h"

#include <cstring>

namespace lf::bench::proto {
namespace {

constexpr int64_t kMaxBytes = (int64_t{1} << 53) - 1;
constexpr int64_t kMinTimestamp = -62135596800;  // 0001-01-01T00:00:00Z
constexpr int64_t kMaxTimestamp = 253402300799;  // 9999-12-31T23:59:59Z

enum Field { kBytes = 0, kTimestamp, kApp, kId, kAntenna, kFieldCount };

// The field a raw key names, by its first byte and one comparison; -1 for anything else.
int MatchRawKey(simdjson::ondemand::raw_json_string key) {
  const char* r = key.raw();
  switch (r[0]) {
    case 'b':
      return key.unsafe_is_equal("bytes") ? kBytes : -1;
    case 't':
      return key.unsafe_is_equal("timestamp") ? kTimestamp : -1;
    case 'a':
      return key.unsafe_is_equal("app") ? kApp : key.unsafe_is_equal("antenna_id") ? kAntenna : -1;
    case 'i':
      return key.unsafe_is_equal("id") ? kId : -1;
    default:
      return -1;
  }
}

// True when the raw key holds an escape, so a raw comparison may have missed a known field.
bool HasEscape(simdjson::ondemand::raw_json_string key) {
  for (const char* p = key.raw(); *p != '"'; ++p) {
    if (*p == '\\') return true;
  }
  return false;
}

}  // namespace

FastEventDecoder::FastEventDecoder(pipeline::KeyDictionaries* dictionaries)
    : dictionaries_(dictionaries), slow_(dictionaries) {}

bool FastEventDecoder::Decode(std::string_view payload, int32_t partition, int64_t offset,
                              pipeline::EventBatch* out, std::string* error) {
  if (TryFast(payload, partition, offset, out)) return true;
  return slow_.Decode(payload, partition, offset, out, error);
}

bool FastEventDecoder::TryFast(std::string_view payload, int32_t partition, int64_t offset,
                               pipeline::EventBatch* out) {
  if (payload.empty()) return false;
  const size_t needed = payload.size() + simdjson::SIMDJSON_PADDING;
  if (buffer_.size() < needed) buffer_.resize(std::max(needed, buffer_.size() * 2));
  std::memcpy(buffer_.data(), payload.data(), payload.size());
  simdjson::ondemand::document doc;
  if (parser_.iterate(buffer_.data(), payload.size(), buffer_.size()).get(doc)) return false;
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj)) return false;
  int64_t bytes = 0, ts = 0;
  uint32_t key_ids[pipeline::kKeyColumns] = {0, 0, 0};
  unsigned seen = 0;
  for (auto field_result : obj) {
    simdjson::ondemand::field field;
    if (std::move(field_result).get(field)) return false;
    const int idx = MatchRawKey(field.key());
    if (idx < 0) {
      if (HasEscape(field.key())) return false;
      continue;  // unknown field: skipped by the iterator
    }
    if (seen & (1u << idx)) return false;
    seen |= 1u << idx;
    simdjson::ondemand::value value = field.value();
    if (idx == kBytes || idx == kTimestamp) {
      int64_t v;
      if (value.get_int64().get(v)) return false;
      if (idx == kBytes) {
        if (v < 0 || v > kMaxBytes) return false;
        bytes = v;
      } else {
        if (v < kMinTimestamp || v > kMaxTimestamp) return false;
        ts = v;
      }
    } else {
      std::string_view s;
      if (value.get_string().get(s)) return false;
      if (std::memchr(s.data(), 0, s.size()) != nullptr) return false;
      const auto col = idx == kAntenna ? pipeline::KeyColumn::kAntenna
                       : idx == kId    ? pipeline::KeyColumn::kDevice
                                       : pipeline::KeyColumn::kApp;
      key_ids[static_cast<int>(col)] = (*dictionaries_)[col].Intern(s);
    }
  }
  if (seen != (1u << kFieldCount) - 1) return false;
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) return false;
  out->bytes.push_back(bytes);
  out->timestamp_s.push_back(ts);
  for (int i = 0; i < pipeline::kKeyColumns; ++i) out->keys[i].push_back(key_ids[i]);
  out->partition.push_back(partition);
  out->offset.push_back(offset);
  return true;
}

}  // namespace lf::bench::proto
