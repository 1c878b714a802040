#include "parquet/thrift_compact.h"

#include <cstring>

#include "common/status.h"

namespace lf::parquet {

// ---------------------------------------------------------------------------------------------
// Writer

void CompactWriter::StructBegin() {
  last_ids_.push_back(last_id_);
  last_id_ = 0;
}

void CompactWriter::StructEnd() {
  out_->push_back(0);  // stop
  last_id_ = last_ids_.empty() ? 0 : last_ids_.back();
  if (!last_ids_.empty()) last_ids_.pop_back();
}

void CompactWriter::FieldBegin(int16_t id, CType type) {
  int delta = id - last_id_;
  if (delta > 0 && delta <= 15) {
    out_->push_back(static_cast<char>((delta << 4) | static_cast<uint8_t>(type)));
  } else {
    out_->push_back(static_cast<char>(type));
    I16(id);
  }
  last_id_ = id;
}

void CompactWriter::FieldBool(int16_t id, bool value) {
  FieldBegin(id, value ? CType::kBoolTrue : CType::kBoolFalse);
}

void CompactWriter::ListBegin(CType elem, uint32_t size) {
  if (size < 15) {
    out_->push_back(static_cast<char>((size << 4) | static_cast<uint8_t>(elem)));
  } else {
    out_->push_back(static_cast<char>(0xF0 | static_cast<uint8_t>(elem)));
    Varint(size);
  }
}

void CompactWriter::Double(double v) {
  char buf[8];
  std::memcpy(buf, &v, 8);  // little-endian host assumed (x86-64, aarch64)
  out_->append(buf, 8);
}

void CompactWriter::Binary(const std::string& v) {
  Varint(v.size());
  out_->append(v);
}

void CompactWriter::Varint(uint64_t v) {
  while (v >= 0x80) {
    out_->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out_->push_back(static_cast<char>(v));
}

// ---------------------------------------------------------------------------------------------
// Reader

absl::Status CompactReader::Truncated(const char* what) const {
  return OutOfRange("truncated thrift data reading {} at byte {} of {}", what, pos_, size_);
}

absl::Status CompactReader::StructBegin() {
  if (last_ids_.size() >= kMaxDepth) {
    return InvalidArgument("thrift structs nested deeper than {} at byte {}", kMaxDepth, pos_);
  }
  last_ids_.push_back(last_id_);
  last_id_ = 0;
  return absl::OkStatus();
}

absl::Status CompactReader::StructEnd() {
  if (last_ids_.empty()) return Internal("thrift StructEnd without StructBegin");
  last_id_ = last_ids_.back();
  last_ids_.pop_back();
  return absl::OkStatus();
}

absl::Status CompactReader::ReadVarint(uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (pos_ >= size_) return Truncated("varint");
    uint8_t b = data_[pos_++];
    if (shift == 63 && (b & 0x7E) != 0) {
      return InvalidArgument("thrift varint overflows 64 bits at byte {}", pos_);
    }
    result |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) {
      *v = result;
      return absl::OkStatus();
    }
  }
  return InvalidArgument("thrift varint longer than 10 bytes at byte {}", pos_);
}

namespace {
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }
}  // namespace

absl::Status CompactReader::ReadFieldHeader(FieldHeader* h) {
  if (pos_ >= size_) return Truncated("field header");
  uint8_t b = data_[pos_++];
  h->type = static_cast<CType>(b & 0x0F);
  if (h->type == CType::kStop) {
    h->id = 0;
    return absl::OkStatus();
  }
  if (static_cast<uint8_t>(h->type) > static_cast<uint8_t>(CType::kStruct)) {
    return InvalidArgument("thrift field of unknown wire type {} at byte {}", b & 0x0F, pos_ - 1);
  }
  int delta = b >> 4;
  if (delta != 0) {
    h->id = static_cast<int16_t>(last_id_ + delta);
  } else {
    int16_t id;
    LF_RETURN_IF_ERROR(ReadI16(&id));
    h->id = id;
  }
  last_id_ = h->id;
  h->bool_value = h->type == CType::kBoolTrue;
  return absl::OkStatus();
}

absl::Status CompactReader::ReadListHeader(CType* elem, uint32_t* size) {
  if (pos_ >= size_) return Truncated("list header");
  uint8_t b = data_[pos_++];
  *elem = static_cast<CType>(b & 0x0F);
  uint64_t n = b >> 4;
  if (n == 15) LF_RETURN_IF_ERROR(ReadVarint(&n));
  // Every element takes at least one byte on the wire (bool elements one, empty structs their
  // stop byte), so a larger count cannot be honest.
  if (n > remaining()) {
    return InvalidArgument("thrift list of {} elements but only {} bytes remain at byte {}", n,
                           remaining(), pos_);
  }
  *size = static_cast<uint32_t>(n);
  return absl::OkStatus();
}

absl::Status CompactReader::ReadByte(int8_t* v) {
  if (pos_ >= size_) return Truncated("byte");
  *v = static_cast<int8_t>(data_[pos_++]);
  return absl::OkStatus();
}

absl::Status CompactReader::ReadI16(int16_t* v) {
  uint64_t u;
  LF_RETURN_IF_ERROR(ReadVarint(&u));
  int64_t s = UnZigZag(u);
  if (s < INT16_MIN || s > INT16_MAX) return InvalidArgument("thrift i16 out of range: {}", s);
  *v = static_cast<int16_t>(s);
  return absl::OkStatus();
}

absl::Status CompactReader::ReadI32(int32_t* v) {
  uint64_t u;
  LF_RETURN_IF_ERROR(ReadVarint(&u));
  int64_t s = UnZigZag(u);
  if (s < INT32_MIN || s > INT32_MAX) return InvalidArgument("thrift i32 out of range: {}", s);
  *v = static_cast<int32_t>(s);
  return absl::OkStatus();
}

absl::Status CompactReader::ReadI64(int64_t* v) {
  uint64_t u;
  LF_RETURN_IF_ERROR(ReadVarint(&u));
  *v = UnZigZag(u);
  return absl::OkStatus();
}

absl::Status CompactReader::ReadDouble(double* v) {
  if (remaining() < 8) return Truncated("double");
  std::memcpy(v, data_ + pos_, 8);
  pos_ += 8;
  return absl::OkStatus();
}

absl::Status CompactReader::ReadBinary(std::string* v) {
  uint64_t n;
  LF_RETURN_IF_ERROR(ReadVarint(&n));
  if (n > remaining()) {
    return OutOfRange("truncated thrift data: binary of {} bytes but {} remain at byte {}", n,
                      remaining(), pos_);
  }
  v->assign(reinterpret_cast<const char*>(data_ + pos_), n);
  pos_ += n;
  return absl::OkStatus();
}

absl::Status CompactReader::ReadBoolElement(bool* v) {
  if (pos_ >= size_) return Truncated("bool");
  // Writers disagree on 1/0 versus 1/2 for false; 1 is true in both.
  *v = data_[pos_++] == 1;
  return absl::OkStatus();
}

absl::Status CompactReader::Skip(CType type) { return SkipDepth(type, 0); }

absl::Status CompactReader::SkipDepth(CType type, int depth) {
  if (depth > kMaxDepth) {
    return InvalidArgument("thrift values nested deeper than {} at byte {}", kMaxDepth, pos_);
  }
  uint64_t u;
  switch (type) {
    case CType::kBoolTrue:
    case CType::kBoolFalse:
      return absl::OkStatus();  // field-header booleans carry no payload
    case CType::kByte:
      if (pos_ >= size_) return Truncated("byte");
      ++pos_;
      return absl::OkStatus();
    case CType::kI16:
    case CType::kI32:
    case CType::kI64:
      return ReadVarint(&u);
    case CType::kDouble:
      if (remaining() < 8) return Truncated("double");
      pos_ += 8;
      return absl::OkStatus();
    case CType::kBinary: {
      LF_RETURN_IF_ERROR(ReadVarint(&u));
      if (u > remaining()) return Truncated("binary");
      pos_ += u;
      return absl::OkStatus();
    }
    case CType::kList:
    case CType::kSet: {
      CType elem;
      uint32_t n;
      LF_RETURN_IF_ERROR(ReadListHeader(&elem, &n));
      for (uint32_t i = 0; i < n; ++i) {
        if (elem == CType::kBoolTrue || elem == CType::kBoolFalse) {
          if (pos_ >= size_) return Truncated("bool");
          ++pos_;
        } else {
          LF_RETURN_IF_ERROR(SkipDepth(elem, depth + 1));
        }
      }
      return absl::OkStatus();
    }
    case CType::kMap: {
      LF_RETURN_IF_ERROR(ReadVarint(&u));
      if (u == 0) return absl::OkStatus();
      if (u > remaining()) return InvalidArgument("thrift map of {} entries too large", u);
      if (pos_ >= size_) return Truncated("map types");
      uint8_t kv = data_[pos_++];
      CType k = static_cast<CType>(kv >> 4), v = static_cast<CType>(kv & 0x0F);
      for (uint64_t i = 0; i < u; ++i) {
        for (CType t : {k, v}) {
          if (t == CType::kBoolTrue || t == CType::kBoolFalse) {
            if (pos_ >= size_) return Truncated("bool");
            ++pos_;
          } else {
            LF_RETURN_IF_ERROR(SkipDepth(t, depth + 1));
          }
        }
      }
      return absl::OkStatus();
    }
    case CType::kStruct: {
      LF_RETURN_IF_ERROR(StructBegin());
      while (true) {
        FieldHeader h;
        LF_RETURN_IF_ERROR(ReadFieldHeader(&h));
        if (h.type == CType::kStop) break;
        LF_RETURN_IF_ERROR(SkipDepth(h.type, depth + 1));
      }
      return StructEnd();
    }
    default:
      return InvalidArgument("thrift value of unknown wire type {} at byte {}",
                             static_cast<int>(type), pos_);
  }
}

}  // namespace lf::parquet
