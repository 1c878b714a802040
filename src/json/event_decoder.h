#pragma once

#include <string>
#include <string_view>

#include "pipeline/event_batch.h"
#include "simdjson.h"

namespace lf::json {

// Decodes device-event payloads (SPEC §1.1) into an EventBatch. One decoder per pipeline thread;
// not thread-safe. Reuses its buffers: no allocation per event once warm, except for the first
// sight of a new key string.
class EventDecoder {
 public:
  // `dictionaries` must outlive the decoder.
  explicit EventDecoder(pipeline::KeyDictionaries* dictionaries);

  // Appends the event in `payload` to `out` (with `partition`/`offset`) and returns true, or
  // returns false and sets `*error` to the reason when the payload is bad input.
  bool Decode(std::string_view payload, int32_t partition, int64_t offset,
              pipeline::EventBatch* out, std::string* error);

 private:
  pipeline::KeyDictionaries* dictionaries_;
  simdjson::ondemand::parser parser_;
  std::string buffer_;  // payload copy with simdjson's required padding
};

}  // namespace lf::json
