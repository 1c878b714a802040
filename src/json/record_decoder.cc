#include "json/record_decoder.h"

#include <cmath>
#include <cstring>

#include "common/json_text.h"
#include "common/time.h"
#include "fmt/format.h"
#include "json/type_name.h"

namespace lf::json {
namespace {

using pipeline::DecodeError;
using pipeline::FieldType;
using simdjson::ondemand::json_type;

constexpr int64_t kMinMicros = pipeline::kMinTimestampMicros;
constexpr int64_t kMaxMicros = pipeline::kMaxTimestampMicros;
constexpr auto Fail = pipeline::Refuse;

bool Malformed(DecodeError* error, simdjson::error_code e) {
  return Fail(error, DecodeError::Code::kMalformed, "",
              fmt::format("not valid JSON: {}", simdjson::error_message(e)));
}

}  // namespace

JsonRecordDecoder::JsonRecordDecoder(const pipeline::Schema* schema)
    : schema_(schema), slots_(schema->size()), unescaped_(schema->size()) {
  for (size_t i = 0; i < schema->size(); ++i) {
    if (schema->field(i).from_key) key_field_ = static_cast<int>(i);
  }
}

int JsonRecordDecoder::FieldIndex(std::string_view name) const {
  const auto& fields = schema_->fields();
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name.size() == name.size() && fields[i].name == name && !fields[i].from_key) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

bool JsonRecordDecoder::DecodeValue(size_t field, simdjson::ondemand::value value,
                                    DecodeError* error) {
  const pipeline::FieldDef& f = schema_->field(field);
  Slot& slot = slots_[field];
  json_type type;
  if (auto e = value.type().get(type); e) return Malformed(error, e);
  if (type == json_type::null) {
    if (!f.optional) {
      return Fail(error, DecodeError::Code::kMissing, f.name,
                  fmt::format("field '{}' is null", f.name));
    }
    slot.valid = false;
    return true;
  }
  auto wrong = [&](const char* want) {
    return Fail(error, DecodeError::Code::kWrongType, f.name,
                fmt::format("field '{}' must be {}, got {}", f.name, want, TypeName(type)));
  };
  slot.valid = true;
  switch (f.type) {
    case FieldType::kString: {
      if (type != json_type::string) return wrong("a string");
      std::string_view s;
      if (auto e = value.get_string().get(s); e) return Malformed(error, e);
      if (s.find('\0') != std::string_view::npos) {
        return Fail(error, DecodeError::Code::kWrongType, f.name,
                    fmt::format("field '{}' contains a NUL character", f.name));
      }
      slot.s = s;
      return true;
    }
    case FieldType::kBool: {
      if (type != json_type::boolean) return wrong("true or false");
      bool b = false;
      if (auto e = value.get_bool().get(b); e) return Malformed(error, e);
      slot.i = b ? 1 : 0;
      return true;
    }
    case FieldType::kInt64: {
      if (type != json_type::number) return wrong("an integer");
      simdjson::ondemand::number_type nt;
      if (auto e = value.get_number_type().get(nt); e) return Malformed(error, e);
      if (nt != simdjson::ondemand::number_type::signed_integer) {
        return Fail(error,
                    nt == simdjson::ondemand::number_type::floating_point_number
                        ? DecodeError::Code::kWrongType
                        : DecodeError::Code::kOutOfRange,
                    f.name, fmt::format("field '{}' must be an integer within int64", f.name));
      }
      if (auto e = value.get_int64().get(slot.i); e) return Malformed(error, e);
      return pipeline::CheckBounds(schema_->field(field), slots_[field], error);
    }
    case FieldType::kFloat64: {
      if (type != json_type::number) return wrong("a number");
      if (auto e = value.get_double().get(slot.d); e) {
        return Fail(error, DecodeError::Code::kOutOfRange, f.name,
                    fmt::format("field '{}' is not a finite number", f.name));
      }
      return pipeline::CheckBounds(schema_->field(field), slots_[field], error);
    }
    case FieldType::kTimestamp: {
      if (type == json_type::string) {
        std::string_view text;
        if (auto e = value.get_string().get(text); e) return Malformed(error, e);
        auto t = ParseTime(text);
        if (!t.ok()) {
          return Fail(
              error, DecodeError::Code::kWrongType, f.name,
              fmt::format("field '{}' is not an ISO-8601 time: '{}'", f.name, text.substr(0, 64)));
        }
        slot.i = t->time_since_epoch().count();
      } else if (type == json_type::number) {
        simdjson::ondemand::number_type nt;
        if (auto e = value.get_number_type().get(nt); e) return Malformed(error, e);
        const int64_t unit = pipeline::TimeUnitMicros(f.unit);
        if (nt == simdjson::ondemand::number_type::signed_integer) {
          int64_t n = 0;
          if (auto e = value.get_int64().get(n); e) return Malformed(error, e);
          if (__builtin_mul_overflow(n, unit, &slot.i)) slot.i = INT64_MAX;
        } else {
          double d = 0;
          if (auto e = value.get_double().get(d); e) return Malformed(error, e);
          const double us = std::round(d * static_cast<double>(unit));
          slot.i =
              std::isfinite(us) && std::fabs(us) < 9.2e18 ? static_cast<int64_t>(us) : INT64_MAX;
        }
      } else {
        return wrong("a number or an ISO-8601 string");
      }
      if (slot.i < kMinMicros || slot.i > kMaxMicros) {
        return Fail(error, DecodeError::Code::kOutOfRange, f.name,
                    fmt::format("field '{}' is outside the years 1-9999", f.name));
      }
      return true;
    }
  }
  return true;
}

bool JsonRecordDecoder::Rescue(std::string_view name, simdjson::ondemand::value value,
                               DecodeError* error) {
  json_type type;
  if (auto e = value.type().get(type); e) return Malformed(error, e);
  std::string_view raw;
  simdjson::error_code e = simdjson::SUCCESS;
  if (type == json_type::object) {
    simdjson::ondemand::object o;
    e = value.get_object().get(o);
    if (!e) e = o.raw_json().get(raw);
  } else if (type == json_type::array) {
    simdjson::ondemand::array a;
    e = value.get_array().get(a);
    if (!e) e = a.raw_json().get(raw);
  } else {
    raw = value.raw_json_token();
    while (!raw.empty() &&
           (raw.back() == ' ' || raw.back() == '\t' || raw.back() == '\n' || raw.back() == '\r')) {
      raw.remove_suffix(1);
    }
  }
  if (e) return Malformed(error, e);
  if (auto v = rescue_parser_.parse(raw.data(), raw.size(), true).error(); v) {
    return Malformed(error, v);
  }
  rescue_->push_back(rescue_->empty() ? '{' : ',');
  AppendJsonString(name, rescue_);
  rescue_->push_back(':');
  rescue_->append(raw);
  return true;
}

bool JsonRecordDecoder::Decode(std::string_view payload, std::string_view key, int32_t partition,
                               int64_t offset, pipeline::RecordBatch* out, DecodeError* error) {
  if (payload.empty()) {
    return Fail(error, DecodeError::Code::kMalformed, "", "empty message");
  }
  const size_t needed = payload.size() + simdjson::SIMDJSON_PADDING;
  if (buffer_.size() < needed) buffer_.resize(std::max(needed, buffer_.size() * 2));
  std::memcpy(buffer_.data(), payload.data(), payload.size());
  for (Slot& s : slots_) s = Slot{};
  if (rescue_) rescue_->clear();

  auto doc_result = parser_.iterate(buffer_.data(), payload.size(), buffer_.size());
  if (doc_result.error()) return Malformed(error, doc_result.error());
  simdjson::ondemand::document& doc = doc_result.value_unsafe();
  json_type root_type;
  if (auto e = doc.type().get(root_type); e) return Malformed(error, e);
  if (root_type != json_type::object) {
    // The first character only tells the kind of value: "not json" starts like null. Read the
    // scalar to tell a valid non-object from garbage.
    simdjson::error_code e = simdjson::SUCCESS;
    switch (root_type) {
      case json_type::null: {
        bool is_null = false;
        e = doc.is_null().get(is_null);
        if (!e && !is_null) e = simdjson::INCORRECT_TYPE;
        break;
      }
      case json_type::boolean:
        e = doc.get_bool().error();
        break;
      case json_type::number:
        e = doc.get_double().error();
        break;
      case json_type::string:
        e = doc.get_string().error();
        break;
      default:
        break;
    }
    if (e || (root_type != json_type::array &&
              doc.current_location().error() != simdjson::OUT_OF_BOUNDS)) {
      return Fail(error, DecodeError::Code::kMalformed, "", "not valid JSON");
    }
    return Fail(error, DecodeError::Code::kNotARecord, "",
                fmt::format("not a JSON object: the message is {}", TypeName(root_type)));
  }
  simdjson::ondemand::object obj;
  if (auto e = doc.get_object().get(obj); e) return Malformed(error, e);
  for (auto field_result : obj) {
    simdjson::ondemand::field member;
    if (auto e = std::move(field_result).get(member); e) return Malformed(error, e);
    std::string_view name;
    if (auto e = member.unescaped_key().get(name); e) return Malformed(error, e);
    const int idx = FieldIndex(name);
    if (idx < 0) {
      if (rescue_ && !Rescue(name, member.value(), error)) return false;
      continue;  // otherwise unknown members are skipped by the iterator
    }
    if (slots_[idx].seen) {
      return Fail(error, DecodeError::Code::kDuplicate, schema_->field(idx).name,
                  fmt::format("duplicate field '{}'", schema_->field(idx).name));
    }
    slots_[idx].seen = true;
    // The key view dies with the next member: keep string values in owned copies.
    if (!DecodeValue(static_cast<size_t>(idx), member.value(), error)) return false;
    if (schema_->field(idx).type == FieldType::kString && slots_[idx].valid) {
      unescaped_[idx].assign(slots_[idx].s);
      slots_[idx].s = unescaped_[idx];
    }
  }
  if (rescue_ && !rescue_->empty()) rescue_->push_back('}');
  // The loop above stops quietly on some structural errors; the location check confirms the
  // whole input was one well-formed object with nothing after it.
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    return Fail(error, DecodeError::Code::kMalformed, "",
                "not valid JSON: trailing content or malformed object");
  }
  if (key_field_ >= 0) {
    if (key.find('\0') != std::string_view::npos ||
        !simdjson::validate_utf8(key.data(), key.size())) {
      return Fail(error, DecodeError::Code::kWrongType, schema_->field(key_field_).name,
                  fmt::format("the message key (field '{}') is not UTF-8 text",
                              schema_->field(key_field_).name));
    }
    Slot& s = slots_[key_field_];
    s.seen = !key.empty();
    s.valid = s.seen;
    s.s = key;
  }
  for (size_t i = 0; i < slots_.size(); ++i) {
    const pipeline::FieldDef& f = schema_->field(i);
    if ((!slots_[i].seen || !slots_[i].valid) && !f.optional) {
      return Fail(error, DecodeError::Code::kMissing, f.name,
                  f.from_key ? fmt::format("the message key (field '{}') is missing", f.name)
                             : fmt::format("missing field '{}'", f.name));
    }
  }
  // The record is valid: append it.
  out->AppendRow(slots_, partition, offset);
  return true;
}

}  // namespace lf::json
