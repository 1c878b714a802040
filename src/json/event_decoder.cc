#include "json/event_decoder.h"

#include <cstring>

#include "fmt/format.h"
#include "json/type_name.h"

namespace lf::json {
namespace {

using simdjson::ondemand::json_type;

constexpr int64_t kMinTimestamp = -62135596800;  // 0001-01-01T00:00:00Z
constexpr int64_t kMaxTimestamp = 253402300799;  // 9999-12-31T23:59:59Z

enum Field { kBytes = 0, kTimestamp, kApp, kId, kAntenna, kFieldCount };
constexpr const char* kFieldNames[kFieldCount] = {"bytes", "timestamp", "app", "id", "antenna_id"};

int FieldIndex(std::string_view key) {
  switch (key.size()) {
    case 2:
      return key == "id" ? kId : -1;
    case 3:
      return key == "app" ? kApp : -1;
    case 5:
      return key == "bytes" ? kBytes : -1;
    case 9:
      return key == "timestamp" ? kTimestamp : -1;
    case 10:
      return key == "antenna_id" ? kAntenna : -1;
    default:
      return -1;
  }
}

}  // namespace

EventDecoder::EventDecoder(pipeline::KeyDictionaries* dictionaries) : dictionaries_(dictionaries) {}

bool EventDecoder::Decode(std::string_view payload, int32_t partition, int64_t offset,
                          pipeline::EventBatch* out, std::string* error) {
  if (payload.empty()) {
    *error = "empty message";
    return false;
  }
  const size_t needed = payload.size() + simdjson::SIMDJSON_PADDING;
  if (buffer_.size() < needed) buffer_.resize(std::max(needed, buffer_.size() * 2));
  std::memcpy(buffer_.data(), payload.data(), payload.size());

  auto doc_result = parser_.iterate(buffer_.data(), payload.size(), buffer_.size());
  if (doc_result.error()) {
    *error = fmt::format("not valid JSON: {}", simdjson::error_message(doc_result.error()));
    return false;
  }
  simdjson::ondemand::document& doc = doc_result.value_unsafe();
  simdjson::ondemand::object obj;
  json_type root_type;
  if (auto e = doc.type().get(root_type); e) {
    *error = fmt::format("not valid JSON: {}", simdjson::error_message(e));
    return false;
  }
  if (root_type != json_type::object) {
    *error = fmt::format("not a JSON object: the message is {}", TypeName(root_type));
    return false;
  }
  if (auto e = doc.get_object().get(obj); e) {
    *error = fmt::format("not valid JSON: {}", simdjson::error_message(e));
    return false;
  }

  int64_t bytes = 0, ts = 0;
  // Views into the parser's string buffer: valid until the next document.
  std::string_view keys[pipeline::kKeyColumns];
  unsigned seen = 0;
  for (auto field_result : obj) {
    simdjson::ondemand::field field;
    if (auto e = std::move(field_result).get(field); e) {
      *error = fmt::format("not valid JSON: {}", simdjson::error_message(e));
      return false;
    }
    std::string_view key;
    if (auto e = field.unescaped_key().get(key); e) {
      *error = fmt::format("not valid JSON: {}", simdjson::error_message(e));
      return false;
    }
    int idx = FieldIndex(key);
    simdjson::ondemand::value value = field.value();
    if (idx < 0) continue;  // unknown fields are ignored (skipped by the iterator)
    if (seen & (1u << idx)) {
      *error = fmt::format("duplicate field '{}'", kFieldNames[idx]);
      return false;
    }
    seen |= 1u << idx;
    json_type type;
    if (auto e = value.type().get(type); e) {
      *error = fmt::format("not valid JSON: {}", simdjson::error_message(e));
      return false;
    }
    if (idx == kBytes || idx == kTimestamp) {
      if (type != json_type::number) {
        *error =
            fmt::format("field '{}' must be an integer, got {}", kFieldNames[idx], TypeName(type));
        return false;
      }
      simdjson::ondemand::number_type nt;
      if (auto e = value.get_number_type().get(nt); e) {
        *error =
            fmt::format("field '{}': bad number: {}", kFieldNames[idx], simdjson::error_message(e));
        return false;
      }
      int64_t v;
      if (nt != simdjson::ondemand::number_type::signed_integer || value.get_int64().get(v)) {
        *error = nt == simdjson::ondemand::number_type::floating_point_number
                     ? fmt::format("field '{}' must be an integer, got a fractional number",
                                   kFieldNames[idx])
                     : fmt::format("field '{}' out of range", kFieldNames[idx]);
        return false;
      }
      if (idx == kBytes) {
        if (v < 0) {
          *error = fmt::format("field 'bytes' out of range: {} (must be >= 0)", v);
          return false;
        }
        bytes = v;
      } else {
        if (v < kMinTimestamp || v > kMaxTimestamp) {
          *error = fmt::format("field 'timestamp' out of range: {} (years 0001 to 9999)", v);
          return false;
        }
        ts = v;
      }
    } else {
      if (type != json_type::string) {
        *error =
            fmt::format("field '{}' must be a string, got {}", kFieldNames[idx], TypeName(type));
        return false;
      }
      std::string_view s;
      if (auto e = value.get_string().get(s); e) {
        *error =
            fmt::format("field '{}': bad string: {}", kFieldNames[idx], simdjson::error_message(e));
        return false;
      }
      if (s.find('\0') != std::string_view::npos) {
        *error = fmt::format("field '{}' contains a NUL character", kFieldNames[idx]);
        return false;
      }
      pipeline::KeyColumn col = idx == kAntenna ? pipeline::KeyColumn::kAntenna
                                : idx == kId    ? pipeline::KeyColumn::kDevice
                                                : pipeline::KeyColumn::kApp;
      keys[static_cast<int>(col)] = s;
    }
  }
  // The loop above stops quietly on some structural errors; at_end() confirms the whole input
  // was one well-formed object with nothing after it.
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    *error = "not valid JSON: trailing content or malformed object";
    return false;
  }
  if (seen != (1u << kFieldCount) - 1) {
    for (int i = 0; i < kFieldCount; ++i) {
      if (!(seen & (1u << i))) {
        *error = fmt::format("missing field '{}'", kFieldNames[i]);
        return false;
      }
    }
  }
  out->bytes.push_back(bytes);
  out->timestamp_s.push_back(ts);
  for (int i = 0; i < pipeline::kKeyColumns; ++i) {
    if (deferred_) {
      pending_text_[i].append(keys[i]);
      pending_lengths_[i].push_back(static_cast<uint32_t>(keys[i].size()));
      out->keys[i].push_back(0);  // InternPending sets it
    } else {
      out->keys[i].push_back(dictionaries_->columns[i].Intern(keys[i]));
    }
  }
  out->partition.push_back(partition);
  out->offset.push_back(offset);
  return true;
}

void EventDecoder::InternPending(pipeline::EventBatch* out) {
  for (int c = 0; c < pipeline::kKeyColumns; ++c) {
    const size_t n = pending_lengths_[c].size();
    if (n == 0) continue;
    pending_views_.clear();
    const char* p = pending_text_[c].data();
    for (uint32_t len : pending_lengths_[c]) {
      pending_views_.emplace_back(p, len);
      p += len;
    }
    std::vector<uint32_t>& ids = out->keys[c];
    dictionaries_->columns[c].InternAll(pending_views_, ids.data() + (ids.size() - n));
    pending_text_[c].clear();
    pending_lengths_[c].clear();
  }
}

}  // namespace lf::json
