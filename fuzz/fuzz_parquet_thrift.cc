// libFuzzer target: the Thrift compact decoder behind Parquet's metadata — FileMetaData (the
// footer) and PageHeader — on arbitrary bytes; what parses must serialize again.

#include <cstddef>
#include <cstdint>
#include <string>

#include "parquet/metadata.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto md = lf::parquet::ParseFileMetaData(data, size);
  if (md.ok()) {
    std::string out;
    lf::parquet::SerializeFileMetaData(*md, &out);
  }
  size_t consumed = 0;
  auto ph = lf::parquet::ParsePageHeader(data, size, &consumed);
  if (ph.ok()) {
    if (consumed > size) __builtin_trap();
    std::string out;
    lf::parquet::SerializePageHeader(*ph, &out);
  }
  return 0;
}
