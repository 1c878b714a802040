#include "registry/memory_store.h"

namespace lf::registry {

std::vector<SubjectVersion> MemoryStore::VersionsLocked(std::string_view subject) const {
  std::vector<SubjectVersion> out;
  auto it = subjects_.find(subject);
  if (it == subjects_.end()) return out;
  for (const Version& v : it->second)
    out.push_back({std::string(subject), v.version, v.id, schemas_[v.id - 1].text});
  return out;
}

absl::StatusOr<Registration> MemoryStore::Register(std::string_view subject,
                                                   std::string_view schema,
                                                   std::string_view canonical,
                                                   const CompatibilityGate& gate) {
  std::lock_guard lock(mu_);
  std::vector<SubjectVersion> live = VersionsLocked(subject);
  for (const SubjectVersion& v : live) {
    if (schemas_[v.id - 1].canonical == canonical) return Registration{v.id, v.version, false};
  }
  if (!live.empty()) {
    CompatibilityLevel level = kDefaultCompatibility;
    if (auto it = config_.find(subject); it != config_.end()) {
      level = it->second;
    } else if (auto global = config_.find(""); global != config_.end()) {
      level = global->second;
    }
    std::vector<std::string> previous;
    for (const SubjectVersion& v : live) previous.push_back(v.schema);
    if (absl::Status st = gate(level, previous); !st.ok()) return st;
  }
  int64_t id = 0;
  for (size_t i = 0; i < schemas_.size(); ++i) {
    if (schemas_[i].canonical == canonical) id = static_cast<int64_t>(i) + 1;
  }
  if (id == 0) {
    schemas_.push_back({std::string(schema), std::string(canonical)});
    id = static_cast<int64_t>(schemas_.size());
  }
  auto& versions = subjects_[std::string(subject)];
  int version = versions.empty() ? 1 : versions.back().version + 1;
  versions.push_back({version, id});
  return Registration{id, version, true};
}

absl::StatusOr<std::optional<std::string>> MemoryStore::SchemaById(int64_t id) {
  std::lock_guard lock(mu_);
  if (id < 1 || id > static_cast<int64_t>(schemas_.size())) return std::nullopt;
  return schemas_[id - 1].text;
}

absl::StatusOr<std::vector<std::pair<std::string, int>>> MemoryStore::SubjectVersionsOf(
    int64_t id) {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::string, int>> out;
  for (const auto& [subject, versions] : subjects_) {
    for (const Version& v : versions) {
      if (v.id == id) out.emplace_back(subject, v.version);
    }
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> MemoryStore::Subjects() {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [subject, versions] : subjects_) {
    if (!versions.empty()) out.push_back(subject);
  }
  return out;
}

absl::StatusOr<std::vector<SubjectVersion>> MemoryStore::Versions(std::string_view subject) {
  std::lock_guard lock(mu_);
  return VersionsLocked(subject);
}

absl::StatusOr<std::optional<SubjectVersion>> MemoryStore::FindByCanonical(
    std::string_view subject, std::string_view canonical) {
  std::lock_guard lock(mu_);
  for (SubjectVersion& v : VersionsLocked(subject)) {
    if (schemas_[v.id - 1].canonical == canonical) return std::move(v);
  }
  return std::nullopt;
}

absl::StatusOr<std::optional<CompatibilityLevel>> MemoryStore::Config(std::string_view subject) {
  std::lock_guard lock(mu_);
  auto it = config_.find(subject);
  if (it == config_.end()) return std::nullopt;
  return it->second;
}

absl::Status MemoryStore::SetConfig(std::string_view subject, CompatibilityLevel level) {
  std::lock_guard lock(mu_);
  config_[std::string(subject)] = level;
  return absl::OkStatus();
}

}  // namespace lf::registry
