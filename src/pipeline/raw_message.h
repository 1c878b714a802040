#pragma once

#include <cstdint>
#include <string_view>

namespace lf::pipeline {

// One message as it came from the source. `payload` is borrowed: it stays valid until the next
// call to the RecordSource::Poll that returned it.
struct RawMessage {
  int32_t partition = 0;
  int64_t offset = 0;
  std::string_view payload;
  std::string_view key;  // the message key (empty when none); borrowed like the payload
};

}  // namespace lf::pipeline
