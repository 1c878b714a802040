#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

namespace lf::pipeline {

// Maps strings to dense ids 0, 1, 2, ... in first-seen order. Views returned by Name() stay
// valid for the interner's lifetime. Not thread-safe.
//
// An open-addressing table of (hash, string, id) slots over an append-only arena of the strings.
// With many keys a lookup is dominated by two cache misses (the slot, then the string to compare),
// so InternAll() looks up a whole span at a time and prefetches both ahead of use.
class StringInterner {
 public:
  StringInterner();
  ~StringInterner();
  StringInterner(StringInterner&&) noexcept;
  StringInterner& operator=(StringInterner&&) noexcept;

  // The id of `s`, adding it if new. Allocates only for a new string (and when the table grows).
  uint32_t Intern(std::string_view s) { return InternHashed(s, Hash(s)); }
  // out[i] = Intern(in[i]) for every i, in order (ids are the same as one-by-one interning).
  void InternAll(std::span<const std::string_view> in, uint32_t* out);
  // The id of `s`, or -1 when unknown.
  int64_t Find(std::string_view s) const;
  std::string_view Name(uint32_t id) const { return names_[id]; }
  size_t size() const { return names_.size(); }

 private:
  struct Slot {
    uint64_t hash = 0;
    const char* data = nullptr;
    uint32_t len = 0;
    uint32_t id_plus_1 = 0;  // 0: empty
  };

  static uint64_t Hash(std::string_view s);
  bool Matches(const Slot& slot, std::string_view s, uint64_t h) const {
    return slot.hash == h && slot.len == s.size() &&
           (s.empty() || std::memcmp(slot.data, s.data(), s.size()) == 0);
  }
  // The slot where the search for hash h starts.
  size_t Home(uint64_t h) const { return static_cast<size_t>(h >> shift_); }
  uint32_t InternHashed(std::string_view s, uint64_t h);
  uint32_t Add(std::string_view s, uint64_t h, size_t slot);
  std::string_view Store(std::string_view s);
  void Grow();

  std::vector<Slot> slots_;  // power-of-two size, at most half full
  size_t mask_ = 0;
  int shift_ = 64;
  std::vector<std::string_view> names_;
  std::vector<std::unique_ptr<char[]>> blocks_;  // the arena; blocks never move
  char* free_ = nullptr;
  size_t free_left_ = 0;
};

}  // namespace lf::pipeline
