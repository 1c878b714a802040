#include "avro/binary_decoder.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "common/json_text.h"
#include "common/status.h"
#include "common/time.h"
#include "fmt/format.h"
#include "simdjson.h"

namespace lf::avro {
namespace {

using pipeline::DecodeError;
using pipeline::FieldType;

constexpr auto Fail = pipeline::Refuse;
constexpr int64_t kMinMicros = pipeline::kMinTimestampMicros;
constexpr int64_t kMaxMicros = pipeline::kMaxTimestampMicros;
constexpr int64_t kMicrosPerMilli = 1000;
constexpr int64_t kMicrosPerDay = int64_t{86'400} * 1'000'000;
constexpr int kMaxVarintBytes = 10;

bool Malformed(DecodeError* error, std::string_view what) {
  return Fail(error, DecodeError::Code::kMalformed, "", fmt::format("not valid Avro: {}", what));
}

bool ValidUtf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

uint64_t SaturatingAdd(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

// The unscaled big-endian two's complement `bytes` with `scale` digits after the point, as
// decimal text. bytes.size() <= kMaxDecimalBytes.
std::string DecimalText(std::string_view bytes, int scale) {
  if (bytes.empty()) return "0";
  unsigned char mag[kMaxDecimalBytes];
  const size_t n = bytes.size();
  std::memcpy(mag, bytes.data(), n);
  const bool negative = mag[0] & 0x80;
  if (negative) {  // magnitude = ~x + 1
    unsigned carry = 1;
    for (size_t i = n; i-- > 0;) {
      const unsigned v = static_cast<unsigned char>(~mag[i]) + carry;
      mag[i] = static_cast<unsigned char>(v);
      carry = v >> 8;
    }
  }
  std::string digits;  // least significant first
  size_t start = 0;
  while (start < n) {
    unsigned rem = 0;
    for (size_t i = start; i < n; ++i) {
      const unsigned cur = (rem << 8) | mag[i];
      mag[i] = static_cast<unsigned char>(cur / 10);
      rem = cur % 10;
    }
    digits.push_back(static_cast<char>('0' + rem));
    while (start < n && mag[start] == 0) ++start;
  }
  while (digits.size() <= static_cast<size_t>(scale)) digits.push_back('0');
  std::string out = negative ? "-" : "";
  for (size_t i = digits.size(); i-- > 0;) {
    out.push_back(digits[i]);
    if (i == static_cast<size_t>(scale) && scale > 0) out.push_back('.');
  }
  return out;
}

void AppendDouble(double v, std::string* out) {
  if (std::isnan(v)) {
    out->append("\"NaN\"");
  } else if (std::isinf(v)) {
    out->append(v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  } else {
    fmt::format_to(std::back_inserter(*out), "{}", v);
  }
}

// Bytes as the Avro JSON encoding has them: each byte is the code point of its value.
void AppendLatin1(std::string_view bytes, std::string* scratch, std::string* out) {
  scratch->clear();
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x80) {
      scratch->push_back(c);
    } else {
      scratch->push_back(static_cast<char>(0xC0 | (b >> 6)));
      scratch->push_back(static_cast<char>(0x80 | (b & 0x3F)));
    }
  }
  AppendJsonString(*scratch, out);
}

// Microseconds of a timestamp/date value, or nullopt on overflow.
std::optional<int64_t> LogicalMicros(LogicalType lt, int64_t v) {
  int64_t us = 0;
  switch (lt) {
    case LogicalType::kTimestampMillis:
      if (__builtin_mul_overflow(v, kMicrosPerMilli, &us)) return std::nullopt;
      return us;
    case LogicalType::kTimestampMicros:
      return v;
    case LogicalType::kDate:
      if (__builtin_mul_overflow(v, kMicrosPerDay, &us)) return std::nullopt;
      return us;
    default:
      return std::nullopt;
  }
}

}  // namespace

// The bytes not yet read, and the element budget of the datum.
class AvroRecordDecoder::Cursor {
 public:
  explicit Cursor(std::string_view body) : p_(body.data()), end_(body.data() + body.size()) {}

  size_t left() const { return static_cast<size_t>(end_ - p_); }
  const char* why() const { return why_; }

  bool Long(int64_t* v) {
    uint64_t raw = 0;
    for (int i = 0; i < kMaxVarintBytes; ++i) {
      if (p_ == end_) return Bad("truncated varint");
      const auto b = static_cast<unsigned char>(*p_++);
      if (i == kMaxVarintBytes - 1 && b > 1) return Bad("varint overflows 64 bits");
      raw |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
      if (!(b & 0x80)) {
        *v = static_cast<int64_t>((raw >> 1) ^ (0 - (raw & 1)));
        return true;
      }
    }
    return Bad("varint overflows 64 bits");  // unreachable: the 10th byte ends it
  }
  bool Int(int32_t* v) {
    int64_t l = 0;
    if (!Long(&l)) return false;
    if (l < INT32_MIN || l > INT32_MAX) return Bad("int out of 32-bit range");
    *v = static_cast<int32_t>(l);
    return true;
  }
  bool Bool(bool* v) {
    if (p_ == end_) return Bad("truncated boolean");
    const auto b = static_cast<unsigned char>(*p_++);
    if (b > 1) return Bad("boolean byte is neither 0 nor 1");
    *v = b == 1;
    return true;
  }
  bool Fixed(size_t n, std::string_view* v) {
    if (n > left()) return Bad("length runs past the end of the message");
    *v = std::string_view(p_, n);
    p_ += n;
    return true;
  }
  bool Bytes(std::string_view* v) {
    int64_t n = 0;
    if (!Long(&n)) return false;
    if (n < 0) return Bad("negative length");
    return Fixed(static_cast<size_t>(n), v);
  }
  bool Float(double* v) {
    std::string_view b;
    if (!Fixed(4, &b)) return false;
    uint32_t bits = 0;
    for (int i = 3; i >= 0; --i) bits = (bits << 8) | static_cast<unsigned char>(b[i]);
    float f = 0;
    std::memcpy(&f, &bits, sizeof f);
    *v = f;
    return true;
  }
  bool Double(double* v) {
    std::string_view b;
    if (!Fixed(8, &b)) return false;
    uint64_t bits = 0;
    for (int i = 7; i >= 0; --i) bits = (bits << 8) | static_cast<unsigned char>(b[i]);
    std::memcpy(v, &bits, sizeof *v);
    return true;
  }
  // Takes `count` elements from the datum's budget.
  bool Spend(int64_t count) {
    if (count > kMaxElements - elements_)
      return Bad("more array items and map entries than allowed");
    elements_ += count;
    return true;
  }
  bool Bad(const char* why) {
    why_ = why;
    return false;
  }

 private:
  const char* p_;
  const char* end_;
  int64_t elements_ = 0;
  const char* why_ = "";
};

AvroRecordDecoder::AvroRecordDecoder(const Schema* writer, const pipeline::Schema* fields)
    : writer_(writer), fields_(fields), slots_(fields->size()), text_(fields->size()) {
  const Node& root = writer->root();
  target_.assign(root.fields.size(), -1);
  for (size_t i = 0; i < fields->size(); ++i) {
    const pipeline::FieldDef& f = fields->field(i);
    if (f.from_key) {
      key_field_ = static_cast<int>(i);
      continue;
    }
    const int w = root.FieldIndex(f.name);
    if (w >= 0) target_[w] = static_cast<int>(i);
  }
  ComputeMinSize(root);
}

absl::StatusOr<std::unique_ptr<AvroRecordDecoder>> AvroRecordDecoder::Make(
    const Schema* writer, const pipeline::Schema* fields) {
  if (writer->root().type != Type::kRecord) {
    return InvalidArgument("avro: the writer schema is {}, not a record",
                           TypeName(writer->root().type));
  }
  return std::unique_ptr<AvroRecordDecoder>(new AvroRecordDecoder(writer, fields));
}

uint64_t AvroRecordDecoder::ComputeMinSize(const Node& n) {
  if (auto it = min_sizes_.find(&n); it != min_sizes_.end()) return it->second;
  // Provisional entry: a recursive reference (only possible below a union, array or map, which
  // the schema parser guarantees) must not loop.
  min_sizes_[&n] = 0;
  uint64_t size = 0;
  switch (n.type) {
    case Type::kNull:
      break;
    case Type::kFloat:
      size = 4;
      break;
    case Type::kDouble:
      size = 8;
      break;
    case Type::kFixed:
      size = static_cast<uint64_t>(n.size);
      break;
    case Type::kArray:
      ComputeMinSize(*n.items);
      size = 1;
      break;
    case Type::kMap:
      ComputeMinSize(*n.values);
      size = 1;
      break;
    case Type::kUnion:
      for (const Node* b : n.branches) ComputeMinSize(*b);
      size = 1;
      break;
    case Type::kRecord:
      for (const Field& f : n.fields) size = SaturatingAdd(size, ComputeMinSize(*f.type));
      break;
    default:  // boolean, int, long, string, bytes, enum: at least one byte
      size = 1;
      break;
  }
  min_sizes_[&n] = size;
  return size;
}

bool AvroRecordDecoder::DecodeField(Cursor& in, const Node& node, size_t field,
                                    DecodeError* error) {
  const pipeline::FieldDef& f = fields_->field(field);
  Slot& slot = slots_[field];
  slot.seen = true;
  auto malformed = [&] {
    return Fail(error, DecodeError::Code::kMalformed, f.name,
                fmt::format("not valid Avro: field '{}': {}", f.name, in.why()));
  };
  const Node* n = &node;
  if (n->type == Type::kUnion) {
    int64_t branch = 0;
    if (!in.Long(&branch)) return malformed();
    if (branch < 0 || branch >= static_cast<int64_t>(n->branches.size())) {
      in.Bad("union branch index out of range");
      return malformed();
    }
    n = n->branches[static_cast<size_t>(branch)];
  }
  if (n->type == Type::kNull) {
    if (!f.optional) {
      return Fail(error, DecodeError::Code::kMissing, f.name,
                  fmt::format("field '{}' is null", f.name));
    }
    slot.valid = false;
    return true;
  }
  slot.valid = true;
  auto wrong = [&] {
    const std::string_view logical = n->logical == LogicalType::kNone ? "" : " (logical type)";
    return Fail(error, DecodeError::Code::kWrongType, f.name,
                fmt::format("field '{}' must be {}, got Avro {}{}", f.name,
                            pipeline::FieldTypeName(f.type), TypeName(n->type), logical));
  };
  auto out_of_range = [&](std::string_view what) {
    return Fail(error, DecodeError::Code::kOutOfRange, f.name,
                fmt::format("field '{}' {}", f.name, what));
  };
  auto read_text = [&](std::string_view* s) -> bool {
    if (n->type == Type::kEnum) {
      int32_t idx = 0;
      if (!in.Int(&idx)) return malformed();
      if (idx < 0 || static_cast<size_t>(idx) >= n->symbols.size()) {
        in.Bad("enum index out of range");
        return malformed();
      }
      *s = n->symbols[static_cast<size_t>(idx)];
      return true;
    }
    if (n->type == Type::kFixed ? !in.Fixed(static_cast<size_t>(n->size), s) : !in.Bytes(s)) {
      return malformed();
    }
    if (n->logical == LogicalType::kDecimal) {
      if (s->size() > kMaxDecimalBytes) return out_of_range("is a decimal wider than 64 bytes");
      text_[field] = DecimalText(*s, n->scale);
      *s = text_[field];
      return true;
    }
    if (!ValidUtf8(*s)) {
      return Fail(error, DecodeError::Code::kWrongType, f.name,
                  fmt::format("field '{}' is not valid UTF-8", f.name));
    }
    return true;
  };
  switch (f.type) {
    case FieldType::kString: {
      if (n->type != Type::kString && n->type != Type::kEnum && n->type != Type::kBytes &&
          n->type != Type::kFixed) {
        return wrong();
      }
      if (!read_text(&slot.s)) return false;
      if (slot.s.find('\0') != std::string_view::npos) {
        return Fail(error, DecodeError::Code::kWrongType, f.name,
                    fmt::format("field '{}' contains a NUL character", f.name));
      }
      return true;
    }
    case FieldType::kBool: {
      if (n->type != Type::kBoolean) return wrong();
      bool b = false;
      if (!in.Bool(&b)) return malformed();
      slot.i = b ? 1 : 0;
      return true;
    }
    case FieldType::kInt64: {
      if (n->type != Type::kInt && n->type != Type::kLong) return wrong();
      if (!in.Long(&slot.i)) return malformed();
      if (n->type == Type::kInt && (slot.i < INT32_MIN || slot.i > INT32_MAX)) {
        in.Bad("int out of 32-bit range");
        return malformed();
      }
      return pipeline::CheckBounds(fields_->field(field), slots_[field], error);
    }
    case FieldType::kFloat64: {
      switch (n->type) {
        case Type::kInt:
        case Type::kLong: {
          int64_t v = 0;
          if (!in.Long(&v)) return malformed();
          slot.d = static_cast<double>(v);
          break;
        }
        case Type::kFloat:
          if (!in.Float(&slot.d)) return malformed();
          break;
        case Type::kDouble:
          if (!in.Double(&slot.d)) return malformed();
          break;
        case Type::kBytes:
        case Type::kFixed: {
          if (n->logical != LogicalType::kDecimal) return wrong();
          std::string_view text;
          if (!read_text(&text)) return false;
          std::from_chars(text.data(), text.data() + text.size(), slot.d);
          break;
        }
        default:
          return wrong();
      }
      if (!std::isfinite(slot.d)) return out_of_range("is not a finite number");
      return pipeline::CheckBounds(fields_->field(field), slots_[field], error);
    }
    case FieldType::kTimestamp: {
      if (n->type == Type::kString) {
        std::string_view text;
        if (!read_text(&text)) return false;
        auto t = ParseTime(text);
        if (!t.ok()) {
          return Fail(
              error, DecodeError::Code::kWrongType, f.name,
              fmt::format("field '{}' is not an ISO-8601 time: '{}'", f.name, text.substr(0, 64)));
        }
        slot.i = t->time_since_epoch().count();
      } else if (n->type == Type::kInt || n->type == Type::kLong) {
        int64_t v = 0;
        if (!in.Long(&v)) return malformed();
        std::optional<int64_t> us;
        if (n->logical == LogicalType::kNone) {
          int64_t m = 0;
          if (!__builtin_mul_overflow(v, pipeline::TimeUnitMicros(f.unit), &m)) us = m;
        } else {
          us = LogicalMicros(n->logical, v);
        }
        slot.i = us.value_or(INT64_MAX);
      } else {
        return wrong();
      }
      if (slot.i < kMinMicros || slot.i > kMaxMicros) {
        return out_of_range("is outside the years 1-9999");
      }
      return true;
    }
  }
  return true;
}

bool AvroRecordDecoder::Blocks(Cursor& in, const Node& node, int depth, std::string* json,
                               DecodeError* error) {
  const bool is_map = node.type == Type::kMap;
  const Node& item = is_map ? *node.values : *node.items;
  // A map entry is a key (at least its length byte) and a value.
  const uint64_t item_size = SaturatingAdd(MinSize(item), is_map ? 1 : 0);
  if (json) json->push_back(is_map ? '{' : '[');
  bool first = true;
  while (true) {
    int64_t count = 0;
    if (!in.Long(&count)) return Malformed(error, in.why());
    if (count == 0) break;
    if (count < 0) {
      // A negative count is followed by the block's size in bytes.
      if (count == INT64_MIN) return Malformed(error, "block count out of range");
      count = -count;
      int64_t bytes = 0;
      if (!in.Long(&bytes)) return Malformed(error, in.why());
      if (bytes < 0 || static_cast<uint64_t>(bytes) > in.left()) {
        return Malformed(error, "block size runs past the end of the message");
      }
    }
    if (item_size > 0 && static_cast<uint64_t>(count) > in.left() / item_size) {
      return Malformed(error, "block count larger than the bytes left can hold");
    }
    if (!in.Spend(count)) return Malformed(error, in.why());
    for (int64_t i = 0; i < count; ++i) {
      if (json && !first) json->push_back(',');
      first = false;
      if (is_map) {
        std::string_view key;
        if (!in.Bytes(&key)) return Malformed(error, in.why());
        if (!ValidUtf8(key)) return Malformed(error, "map key is not valid UTF-8");
        if (json) {
          AppendJsonString(key, json);
          json->push_back(':');
        }
      }
      if (!Render(in, item, depth + 1, json, error)) return false;
    }
  }
  if (json) json->push_back(is_map ? '}' : ']');
  return true;
}

bool AvroRecordDecoder::Render(Cursor& in, const Node& node, int depth, std::string* json,
                               DecodeError* error) {
  if (depth > kMaxDepth) return Malformed(error, "values nested too deeply");
  auto bad = [&] { return Malformed(error, in.why()); };
  switch (node.type) {
    case Type::kNull:
      if (json) json->append("null");
      return true;
    case Type::kBoolean: {
      bool b = false;
      if (!in.Bool(&b)) return bad();
      if (json) json->append(b ? "true" : "false");
      return true;
    }
    case Type::kInt:
    case Type::kLong: {
      int64_t v = 0;
      if (node.type == Type::kInt) {
        int32_t i = 0;
        if (!in.Int(&i)) return bad();
        v = i;
      } else if (!in.Long(&v)) {
        return bad();
      }
      if (!json) return true;
      const std::optional<int64_t> us = LogicalMicros(node.logical, v);
      if (us && *us >= kMinMicros && *us <= kMaxMicros) {
        std::string t = FormatTime(Timestamp(Micros(*us)));
        if (node.logical == LogicalType::kDate) t.resize(std::min<size_t>(t.size(), 10));
        AppendJsonString(t, json);
      } else {
        fmt::format_to(std::back_inserter(*json), "{}", v);
      }
      return true;
    }
    case Type::kFloat:
    case Type::kDouble: {
      double d = 0;
      if (node.type == Type::kFloat ? !in.Float(&d) : !in.Double(&d)) return bad();
      if (json) {
        if (node.type == Type::kFloat && std::isfinite(d)) {
          fmt::format_to(std::back_inserter(*json), "{}", static_cast<float>(d));
        } else {
          AppendDouble(d, json);
        }
      }
      return true;
    }
    case Type::kString: {
      std::string_view s;
      if (!in.Bytes(&s)) return bad();
      if (!ValidUtf8(s)) return Malformed(error, "string is not valid UTF-8");
      if (json) AppendJsonString(s, json);
      return true;
    }
    case Type::kBytes:
    case Type::kFixed: {
      std::string_view s;
      if (node.type == Type::kFixed ? !in.Fixed(static_cast<size_t>(node.size), &s)
                                    : !in.Bytes(&s)) {
        return bad();
      }
      if (!json) return true;
      if (node.logical == LogicalType::kDecimal && s.size() <= kMaxDecimalBytes) {
        json->append(DecimalText(s, node.scale));
      } else {
        AppendLatin1(s, &scratch_, json);
      }
      return true;
    }
    case Type::kEnum: {
      int32_t idx = 0;
      if (!in.Int(&idx)) return bad();
      if (idx < 0 || static_cast<size_t>(idx) >= node.symbols.size()) {
        return Malformed(error, "enum index out of range");
      }
      if (json) AppendJsonString(node.symbols[static_cast<size_t>(idx)], json);
      return true;
    }
    case Type::kArray:
    case Type::kMap:
      return Blocks(in, node, depth, json, error);
    case Type::kUnion: {
      int64_t branch = 0;
      if (!in.Long(&branch)) return bad();
      if (branch < 0 || branch >= static_cast<int64_t>(node.branches.size())) {
        return Malformed(error, "union branch index out of range");
      }
      return Render(in, *node.branches[static_cast<size_t>(branch)], depth + 1, json, error);
    }
    case Type::kRecord: {
      if (json) json->push_back('{');
      for (size_t i = 0; i < node.fields.size(); ++i) {
        if (json) {
          if (i) json->push_back(',');
          AppendJsonString(node.fields[i].name, json);
          json->push_back(':');
        }
        if (!Render(in, *node.fields[i].type, depth + 1, json, error)) return false;
      }
      if (json) json->push_back('}');
      return true;
    }
  }
  return true;
}

bool AvroRecordDecoder::Decode(std::string_view body, std::string_view key, int32_t partition,
                               int64_t offset, pipeline::RecordBatch* out, DecodeError* error) {
  for (Slot& s : slots_) s = Slot{};
  if (rescue_) rescue_->clear();
  Cursor in(body);
  const Node& root = writer_->root();
  for (size_t w = 0; w < root.fields.size(); ++w) {
    const Field& wf = root.fields[w];
    if (target_[w] >= 0) {
      if (!DecodeField(in, *wf.type, static_cast<size_t>(target_[w]), error)) return false;
      continue;
    }
    std::string* json = nullptr;
    if (rescue_) {
      rescue_->push_back(rescue_->empty() ? '{' : ',');
      AppendJsonString(wf.name, rescue_);
      rescue_->push_back(':');
      json = rescue_;
    }
    if (!Render(in, *wf.type, 1, json, error)) {
      if (error->field.empty()) {
        error->message = fmt::format("{} (in field '{}')", error->message, wf.name);
      }
      return false;
    }
  }
  if (rescue_ && !rescue_->empty()) rescue_->push_back('}');
  if (in.left() != 0) {
    return Malformed(error, fmt::format("{} bytes after the end of the record", in.left()));
  }
  if (key_field_ >= 0) {
    if (key.find('\0') != std::string_view::npos || !ValidUtf8(key)) {
      return Fail(error, DecodeError::Code::kWrongType, fields_->field(key_field_).name,
                  fmt::format("the message key (field '{}') is not UTF-8 text",
                              fields_->field(key_field_).name));
    }
    Slot& s = slots_[key_field_];
    s.seen = !key.empty();
    s.valid = s.seen;
    s.s = key;
  }
  for (size_t i = 0; i < slots_.size(); ++i) {
    const pipeline::FieldDef& f = fields_->field(i);
    if ((!slots_[i].seen || !slots_[i].valid) && !f.optional) {
      return Fail(error, DecodeError::Code::kMissing, f.name,
                  f.from_key ? fmt::format("the message key (field '{}') is missing", f.name)
                  : slots_[i].seen
                      ? fmt::format("field '{}' is null", f.name)
                      : fmt::format("missing field '{}' (not in the writer schema)", f.name));
    }
  }
  out->AppendRow(slots_, partition, offset);
  return true;
}

}  // namespace lf::avro
