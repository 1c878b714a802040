#pragma once

// The compatibility levels of the Confluent Schema Registry API (`GET|PUT /config`).

#include <optional>
#include <string_view>

#include "avro/compatibility.h"

namespace lf::registry {

// The levels are Avro's schema-resolution levels (avro::Compatibility); the registry adds the
// API's spelling and its default.
using CompatibilityLevel = avro::Compatibility;

// A subject without its own level and no global level set uses this (Confluent's default).
inline constexpr CompatibilityLevel kDefaultCompatibility = CompatibilityLevel::kBackward;

// "BACKWARD", "FULL_TRANSITIVE", … (ASCII case-insensitive); nullopt for anything else.
std::optional<CompatibilityLevel> ParseCompatibilityLevel(std::string_view name);

// The API's upper-case name ("BACKWARD").
std::string_view CompatibilityLevelName(CompatibilityLevel level);

// True for the *_TRANSITIVE levels, which compare with every earlier version instead of the latest.
bool IsTransitive(CompatibilityLevel level);

}  // namespace lf::registry
