#include "pipeline/interner.h"

#include <algorithm>
#include <bit>
#include <functional>

namespace lf::pipeline {
namespace {

constexpr size_t kInitialSlots = 64;
constexpr size_t kBlockBytes = 64 << 10;
// Strings at least this long get a block of their own, so blocks waste little.
constexpr size_t kOwnBlockBytes = kBlockBytes / 8;
// How far ahead InternAll prefetches: slots kSlotAhead strings ahead, the candidate string
// kDataAhead strings ahead.
constexpr size_t kSlotAhead = 16;
constexpr size_t kDataAhead = 8;

}  // namespace

StringInterner::StringInterner()
    : slots_(kInitialSlots),
      mask_(kInitialSlots - 1),
      shift_(64 - std::countr_zero(kInitialSlots)) {}
StringInterner::~StringInterner() = default;
StringInterner::StringInterner(StringInterner&&) noexcept = default;
StringInterner& StringInterner::operator=(StringInterner&&) noexcept = default;

uint64_t StringInterner::Hash(std::string_view s) {
  // Slots are found by the top bits of this product (Fibonacci hashing), which mixes every bit
  // of the string hash in.
  return std::hash<std::string_view>{}(s)*0x9E3779B97F4A7C15ull;
}

uint32_t StringInterner::InternHashed(std::string_view s, uint64_t h) {
  for (size_t i = Home(h);; i = (i + 1) & mask_) {
    const Slot& slot = slots_[i];
    if (slot.id_plus_1 == 0) return Add(s, h, i);
    if (Matches(slot, s, h)) return slot.id_plus_1 - 1;
  }
}

int64_t StringInterner::Find(std::string_view s) const {
  const uint64_t h = Hash(s);
  for (size_t i = Home(h);; i = (i + 1) & mask_) {
    const Slot& slot = slots_[i];
    if (slot.id_plus_1 == 0) return -1;
    if (Matches(slot, s, h)) return slot.id_plus_1 - 1;
  }
}

void StringInterner::InternAll(std::span<const std::string_view> in, uint32_t* out) {
  const size_t n = in.size();
  uint64_t hashes[kSlotAhead];  // of strings i - kSlotAhead + 1 .. i
  for (size_t i = 0; i < n + kSlotAhead; ++i) {
    if (i >= kSlotAhead) {
      const size_t j = i - kSlotAhead;
      out[j] = InternHashed(in[j], hashes[j % kSlotAhead]);
    }
    if (i >= kDataAhead && i - kDataAhead < n) {
      // The slot prefetched kSlotAhead - kDataAhead strings ago has likely arrived: prefetch the
      // string it points to when it is a candidate.
      const uint64_t h = hashes[(i - kDataAhead) % kSlotAhead];
      const Slot& slot = slots_[Home(h)];
      if (slot.hash == h) __builtin_prefetch(slot.data);
    }
    if (i < n) {
      const uint64_t h = Hash(in[i]);
      hashes[i % kSlotAhead] = h;
      __builtin_prefetch(&slots_[Home(h)]);
    }
  }
}

uint32_t StringInterner::Add(std::string_view s, uint64_t h, size_t slot) {
  const auto id = static_cast<uint32_t>(names_.size());
  std::string_view stored = Store(s);
  names_.push_back(stored);
  slots_[slot] = Slot{h, stored.data(), static_cast<uint32_t>(stored.size()), id + 1};
  if (names_.size() * 2 > slots_.size()) Grow();
  return id;
}

std::string_view StringInterner::Store(std::string_view s) {
  if (s.size() >= kOwnBlockBytes) {
    blocks_.push_back(std::make_unique<char[]>(s.size()));
    std::memcpy(blocks_.back().get(), s.data(), s.size());
    return std::string_view(blocks_.back().get(), s.size());
  }
  if (s.size() > free_left_) {
    blocks_.push_back(std::make_unique<char[]>(kBlockBytes));
    free_ = blocks_.back().get();
    free_left_ = kBlockBytes;
  }
  if (!s.empty()) std::memcpy(free_, s.data(), s.size());
  std::string_view stored(free_, s.size());
  free_ += s.size();
  free_left_ -= s.size();
  return stored;
}

void StringInterner::Grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.size() * 2, Slot{});
  mask_ = slots_.size() - 1;
  shift_ = 64 - std::countr_zero(slots_.size());
  for (const Slot& s : old) {
    if (s.id_plus_1 == 0) continue;
    size_t i = Home(s.hash);
    while (slots_[i].id_plus_1 != 0) i = (i + 1) & mask_;
    slots_[i] = s;
  }
}

}  // namespace lf::pipeline
