#include "pipeline/record_batch.h"

#include <variant>

#include "common/status.h"
#include "fmt/format.h"

namespace lf::pipeline {

Schema::Schema(std::vector<FieldDef> fields) : fields_(std::move(fields)) {}

int Schema::IndexOf(std::string_view name) const {
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

RecordBatch::RecordBatch(const Schema* schema, Dictionaries* dictionaries)
    : schema_(schema), dictionaries_(dictionaries), columns_(schema->size()) {
  for (size_t i = 0; i < columns_.size(); ++i) columns_[i].type = schema->field(i).type;
}

std::string_view RecordBatch::String(size_t i, size_t row) const {
  const Column& c = columns_[i];
  if (!c.valid[row]) return {};
  return dictionaries_->column(i).Name(c.ids[row]);
}

absl::Status RecordBatch::Validate() const {
  const size_t n = num_rows();
  if (offset.size() != n) return Internal("record batch: {} offsets for {} rows", offset.size(), n);
  for (size_t i = 0; i < columns_.size(); ++i) {
    const Column& c = columns_[i];
    const FieldDef& f = schema_->field(i);
    size_t values = 0;
    switch (c.type) {
      case FieldType::kFloat64:
        values = c.doubles.size();
        break;
      case FieldType::kString:
        values = c.ids.size();
        break;
      default:
        values = c.ints.size();
        break;
    }
    if (values != n || c.valid.size() != n) {
      return Internal("record batch: column {} has {} values and {} validity bytes for {} rows",
                      f.name, values, c.valid.size(), n);
    }
    for (size_t r = 0; r < n; ++r) {
      if (!c.valid[r] && !f.optional) {
        return Internal("record batch: required column {} is null in row {}", f.name, r);
      }
      if (c.type == FieldType::kString && c.ids[r] >= dictionaries_->column(i).size() &&
          c.valid[r]) {
        return Internal("record batch: column {} row {} has unknown string id {}", f.name, r,
                        c.ids[r]);
      }
      if (c.type == FieldType::kBool && c.ints[r] != 0 && c.ints[r] != 1) {
        return Internal("record batch: bool column {} row {} holds {}", f.name, r, c.ints[r]);
      }
    }
  }
  return absl::OkStatus();
}

void RecordBatch::Clear() {
  partition.clear();
  offset.clear();
  for (Column& c : columns_) {
    c.ints.clear();
    c.doubles.clear();
    c.ids.clear();
    c.valid.clear();
  }
}

void RecordBatch::AppendRow(const std::vector<FieldSlot>& slots, int32_t partition,
                            int64_t offset) {
  for (size_t i = 0; i < slots.size(); ++i) {
    Column& c = columns_[i];
    const FieldSlot& s = slots[i];
    const bool valid = s.seen && s.valid;
    c.valid.push_back(valid ? 1 : 0);
    switch (c.type) {
      case FieldType::kString:
        c.ids.push_back(valid ? dictionaries_->column(i).Intern(s.s) : 0);
        break;
      case FieldType::kFloat64:
        c.doubles.push_back(valid ? s.d : 0);
        break;
      default:
        c.ints.push_back(valid ? s.i : 0);
        break;
    }
  }
  this->partition.push_back(partition);
  this->offset.push_back(offset);
}

bool CheckBounds(const FieldDef& f, const FieldSlot& s, DecodeError* error) {
  const bool is_int = f.type == FieldType::kInt64;
  auto text = [](const Bound& b) {
    return std::visit([](auto v) { return fmt::format("{}", v); }, b);
  };
  if (f.min && (is_int ? s.i < std::get<int64_t>(*f.min) : s.d < std::get<double>(*f.min))) {
    return Refuse(error, DecodeError::Code::kOutOfRange, f.name,
                  fmt::format("field '{}' is below its minimum {}", f.name, text(*f.min)));
  }
  if (f.max && (is_int ? s.i > std::get<int64_t>(*f.max) : s.d > std::get<double>(*f.max))) {
    return Refuse(error, DecodeError::Code::kOutOfRange, f.name,
                  fmt::format("field '{}' is above its maximum {}", f.name, text(*f.max)));
  }
  return true;
}

bool Refuse(DecodeError* error, DecodeError::Code code, std::string_view field,
            std::string message) {
  error->code = code;
  error->field = std::string(field);
  error->message = std::move(message);
  return false;
}

}  // namespace lf::pipeline
