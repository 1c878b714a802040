#pragma once

// PROTOTYPE (bench only): EventDecoder with a fast path for valid events. Proposed for
// src/json/event_decoder.cc; see bench/README.md "Proposed changes".

#include <string>
#include <string_view>

#include "json/event_decoder.h"
#include "pipeline/event_batch.h"
#include "simdjson.h"

namespace lf::bench::proto {

// Same contract and same results as json::EventDecoder. A valid event is decoded by a short path
// that compares raw (still escaped) keys in place and reads integers with one get_int64(); any
// surprise (an error, an escaped key, a duplicate, a missing field) hands the payload to
// json::EventDecoder, so bad input gets exactly the same error text.
class FastEventDecoder {
 public:
  explicit FastEventDecoder(pipeline::KeyDictionaries* dictionaries);

  bool Decode(std::string_view payload, int32_t partition, int64_t offset,
              pipeline::EventBatch* out, std::string* error);

 private:
  bool TryFast(std::string_view payload, int32_t partition, int64_t offset,
               pipeline::EventBatch* out);

  pipeline::KeyDictionaries* dictionaries_;
  simdjson::ondemand::parser parser_;
  std::string buffer_;
  json::EventDecoder slow_;
};

}  // namespace lf::bench::proto
