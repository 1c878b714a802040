#pragma once

// Page compression (Compression.md): UNCOMPRESSED, SNAPPY, GZIP and ZSTD.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "parquet/metadata.h"

namespace lf::parquet {

// True for the codecs this module reads and writes.
bool IsSupportedCodec(Codec codec);

// Appends the compressed form of [data, data + size) to *out. `level` applies to ZSTD and GZIP
// (0 = the library default).
absl::Status Compress(Codec codec, const uint8_t* data, size_t size, int level, std::string* out);

// Decompresses [in, in + in_size) into exactly out_size bytes at out. Anything else (a shorter
// or longer result, corrupt input) is an error naming the codec.
absl::Status Decompress(Codec codec, const uint8_t* in, size_t in_size, uint8_t* out,
                        size_t out_size);

// The page checksum of parquet.thrift (PageHeader.crc): standard CRC-32 (as in gzip) of the page
// bytes as stored after the header.
uint32_t PageCrc(const uint8_t* data, size_t size);

}  // namespace lf::parquet
