#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/interner.h"

namespace lf::pipeline {

// The key columns of a device event, in the order EventBatch::keys holds them.
enum class KeyColumn : uint8_t { kAntenna = 0, kDevice = 1, kApp = 2 };
inline constexpr int kKeyColumns = 3;

// The event field (and lake column) holding a key column.
inline const char* KeyColumnName(KeyColumn c) {
  static constexpr const char* kNames[kKeyColumns] = {"antenna_id", "id", "app"};
  return kNames[static_cast<int>(c)];
}

// Interned values of the key columns; one interner per column, shared by a decoder and every
// consumer of its batches (aggregation, lake) for the life of the pipeline.
struct KeyDictionaries {
  StringInterner columns[kKeyColumns];
  StringInterner& operator[](KeyColumn c) { return columns[static_cast<int>(c)]; }
  const StringInterner& operator[](KeyColumn c) const { return columns[static_cast<int>(c)]; }
};

// Valid device events in columns (SPEC §1.1). Strings are ids in KeyDictionaries, so a batch
// never allocates per event once its vectors have grown. Row i of every vector is one event.
struct EventBatch {
  std::vector<int64_t> bytes;
  std::vector<int64_t> timestamp_s;  // event time, Unix seconds UTC
  std::vector<uint32_t> keys[kKeyColumns];
  std::vector<int32_t> partition;
  std::vector<int64_t> offset;

  size_t size() const { return bytes.size(); }
  void clear() {
    bytes.clear();
    timestamp_s.clear();
    for (auto& k : keys) k.clear();
    partition.clear();
    offset.clear();
  }
};

// A message that could not be decoded, with everything needed to find and replay it.
struct DeadLetter {
  int32_t partition = 0;
  int64_t offset = 0;
  std::string payload;  // the raw bytes, unchanged
  std::string error;    // why it was rejected
};

}  // namespace lf::pipeline
