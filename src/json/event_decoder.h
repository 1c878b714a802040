#pragma once

#include <string>
#include <string_view>
#include <vector>

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
  // returns false and sets `*error` to the reason when the payload is bad input. When deferred,
  // the key columns of the rows appended hold placeholders until InternPending(out).
  bool Decode(std::string_view payload, int32_t partition, int64_t offset,
              pipeline::EventBatch* out, std::string* error);

  // Deferred: Decode keeps the key strings of the rows it appends, and InternPending interns
  // them a column at a time (StringInterner::InternAll, which prefetches: with 100 000 distinct
  // devices a look-up is two cache misses one by one). `out` must get rows only from this decoder
  // between the two calls.
  void set_deferred(bool deferred) { deferred_ = deferred; }
  void InternPending(pipeline::EventBatch* out);

 private:
  pipeline::KeyDictionaries* dictionaries_;
  bool deferred_ = false;
  // Deferred key strings, per key column: their bytes one after another, and their lengths.
  std::string pending_text_[pipeline::kKeyColumns];
  std::vector<uint32_t> pending_lengths_[pipeline::kKeyColumns];
  std::vector<std::string_view> pending_views_;
  simdjson::ondemand::parser parser_;
  std::string buffer_;  // payload copy with simdjson's required padding
};

}  // namespace lf::json
