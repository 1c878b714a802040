// libFuzzer target: the speed layer's JSON event decoder (SPEC §1.1 payloads from Kafka). Any
// bytes either decode into the batch or are refused with a reason; never a crash.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "json/event_decoder.h"
#include "pipeline/event_batch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static lf::pipeline::KeyDictionaries dictionaries;
  static lf::json::EventDecoder decoder(&dictionaries);
  lf::pipeline::EventBatch batch;
  std::string error;
  std::string_view payload(reinterpret_cast<const char*>(data), size);
  bool ok = decoder.Decode(payload, 0, 0, &batch, &error);
  if (!ok && error.empty()) __builtin_trap();  // a refusal always says why
  return 0;
}
