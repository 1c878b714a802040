#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace lf::pipeline {

// Maps strings to dense ids 0, 1, 2, ... in first-seen order. Views returned by Name() stay
// valid for the interner's lifetime. Not thread-safe.
class StringInterner {
 public:
  // The id of `s`, adding it if new. Allocates only for a new string.
  uint32_t Intern(std::string_view s) {
    auto it = ids_.find(s);
    if (it != ids_.end()) return it->second;
    return Add(s);
  }
  // The id of `s`, or -1 when unknown.
  int64_t Find(std::string_view s) const {
    auto it = ids_.find(s);
    return it == ids_.end() ? int64_t{-1} : static_cast<int64_t>(it->second);
  }
  std::string_view Name(uint32_t id) const { return names_[id]; }
  size_t size() const { return names_.size(); }

 private:
  uint32_t Add(std::string_view s);

  std::deque<std::string> storage_;  // deque: stable addresses for the views below
  std::vector<std::string_view> names_;
  absl::flat_hash_map<std::string_view, uint32_t> ids_;
};

}  // namespace lf::pipeline
