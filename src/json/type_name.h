#pragma once

// How bad-input reasons name a JSON value's kind ("field 'x' must be a string, got a number").

#include "simdjson.h"

namespace lf::json {

inline const char* TypeName(simdjson::ondemand::json_type t) {
  using simdjson::ondemand::json_type;
  switch (t) {
    case json_type::array:
      return "an array";
    case json_type::object:
      return "an object";
    case json_type::number:
      return "a number";
    case json_type::string:
      return "a string";
    case json_type::boolean:
      return "a boolean";
    case json_type::null:
      return "null";
  }
  return "unknown";
}

}  // namespace lf::json
