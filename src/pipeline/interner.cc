#include "pipeline/interner.h"

namespace lf::pipeline {

uint32_t StringInterner::Add(std::string_view s) {
  storage_.emplace_back(s);
  std::string_view stable = storage_.back();
  auto id = static_cast<uint32_t>(names_.size());
  names_.push_back(stable);
  ids_.emplace(stable, id);
  return id;
}

}  // namespace lf::pipeline
