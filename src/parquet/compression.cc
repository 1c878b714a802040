#include "parquet/compression.h"

#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "common/status.h"

namespace lf::parquet {

namespace {

struct ZstdCCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct ZstdDCtxDeleter {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};

// One context per thread: creating a context costs more than compressing a small page.
ZSTD_CCtx* ThreadCCtx() {
  thread_local std::unique_ptr<ZSTD_CCtx, ZstdCCtxDeleter> ctx(ZSTD_createCCtx());
  return ctx.get();
}
ZSTD_DCtx* ThreadDCtx() {
  thread_local std::unique_ptr<ZSTD_DCtx, ZstdDCtxDeleter> ctx(ZSTD_createDCtx());
  return ctx.get();
}

absl::Status GzipCompress(const uint8_t* data, size_t size, int level, std::string* out) {
  z_stream zs{};
  // windowBits 15 + 16: gzip framing (RFC 1952), as Compression.md requires.
  if (deflateInit2(&zs, level == 0 ? Z_DEFAULT_COMPRESSION : level, Z_DEFLATED, 15 + 16, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    return Internal("gzip: deflateInit2 failed");
  }
  size_t base = out->size();
  out->resize(base + deflateBound(&zs, size) + 32);
  zs.next_in = const_cast<Bytef*>(data);
  zs.avail_in = static_cast<uInt>(size);
  zs.next_out = reinterpret_cast<Bytef*>(out->data() + base);
  zs.avail_out = static_cast<uInt>(out->size() - base);
  int rc = deflate(&zs, Z_FINISH);
  size_t produced = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return Internal("gzip: deflate failed ({})", rc);
  out->resize(base + produced);
  return absl::OkStatus();
}

absl::Status GzipDecompress(const uint8_t* in, size_t in_size, uint8_t* out, size_t out_size) {
  z_stream zs{};
  // 32 + 15: accept gzip or zlib headers.
  if (inflateInit2(&zs, 32 + 15) != Z_OK) return Internal("gzip: inflateInit2 failed");
  zs.next_in = const_cast<Bytef*>(in);
  zs.avail_in = static_cast<uInt>(in_size);
  zs.next_out = out;
  zs.avail_out = static_cast<uInt>(out_size);
  absl::Status status;
  while (true) {
    int rc = inflate(&zs, Z_FINISH);
    if (rc == Z_STREAM_END) {
      // A page may hold several gzip members; continue with the next one if bytes remain.
      if (zs.avail_in > 0 && zs.avail_out > 0) {
        if (inflateReset(&zs) != Z_OK) {
          status = DataLoss("gzip: cannot reset for next member");
          break;
        }
        continue;
      }
      break;
    }
    if (rc == Z_BUF_ERROR && zs.avail_out == 0) {
      status = DataLoss("gzip: page decompresses to more than the declared {} bytes", out_size);
      break;
    }
    status = DataLoss("gzip: corrupt data ({})", zs.msg ? std::string(zs.msg) : std::to_string(rc));
    break;
  }
  size_t produced = zs.total_out;
  inflateEnd(&zs);
  LF_RETURN_IF_ERROR(status);
  if (produced != out_size) {
    return DataLoss("gzip: page decompressed to {} bytes, header says {}", produced, out_size);
  }
  return absl::OkStatus();
}

}  // namespace

uint32_t PageCrc(const uint8_t* data, size_t size) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (size > 0) {
    uInt n = static_cast<uInt>(std::min<size_t>(size, 1u << 30));
    crc = crc32(crc, data, n);
    data += n;
    size -= n;
  }
  return static_cast<uint32_t>(crc);
}

bool IsSupportedCodec(Codec codec) {
  return codec == Codec::kUncompressed || codec == Codec::kSnappy || codec == Codec::kGzip ||
         codec == Codec::kZstd;
}

absl::Status Compress(Codec codec, const uint8_t* data, size_t size, int level, std::string* out) {
  switch (codec) {
    case Codec::kUncompressed:
      out->append(reinterpret_cast<const char*>(data), size);
      return absl::OkStatus();
    case Codec::kSnappy: {
      size_t base = out->size();
      out->resize(base + snappy::MaxCompressedLength(size));
      size_t n = 0;
      snappy::RawCompress(reinterpret_cast<const char*>(data), size, out->data() + base, &n);
      out->resize(base + n);
      return absl::OkStatus();
    }
    case Codec::kGzip:
      return GzipCompress(data, size, level, out);
    case Codec::kZstd: {
      size_t base = out->size();
      out->resize(base + ZSTD_compressBound(size));
      size_t n = ZSTD_compressCCtx(ThreadCCtx(), out->data() + base, out->size() - base, data, size,
                                   level == 0 ? ZSTD_CLEVEL_DEFAULT : level);
      if (ZSTD_isError(n)) return Internal("zstd: compress failed: {}", ZSTD_getErrorName(n));
      out->resize(base + n);
      return absl::OkStatus();
    }
    default:
      return Unimplemented("compression codec {} is not supported for writing", CodecName(codec));
  }
}

absl::Status Decompress(Codec codec, const uint8_t* in, size_t in_size, uint8_t* out,
                        size_t out_size) {
  switch (codec) {
    case Codec::kUncompressed:
      if (in_size != out_size) {
        return DataLoss("uncompressed page of {} bytes, header says {}", in_size, out_size);
      }
      if (out_size > 0) std::memcpy(out, in, out_size);
      return absl::OkStatus();
    case Codec::kSnappy: {
      size_t n = 0;
      const char* src = reinterpret_cast<const char*>(in);
      if (!snappy::GetUncompressedLength(src, in_size, &n)) {
        return DataLoss("snappy: corrupt data (bad length preamble)");
      }
      if (n != out_size) {
        return DataLoss("snappy: page decompresses to {} bytes, header says {}", n, out_size);
      }
      if (!snappy::RawUncompress(src, in_size, reinterpret_cast<char*>(out))) {
        return DataLoss("snappy: corrupt data");
      }
      return absl::OkStatus();
    }
    case Codec::kGzip:
      return GzipDecompress(in, in_size, out, out_size);
    case Codec::kZstd: {
      size_t n = ZSTD_decompressDCtx(ThreadDCtx(), out, out_size, in, in_size);
      if (ZSTD_isError(n)) return DataLoss("zstd: corrupt data: {}", ZSTD_getErrorName(n));
      if (n != out_size) {
        return DataLoss("zstd: page decompressed to {} bytes, header says {}", n, out_size);
      }
      return absl::OkStatus();
    }
    default:
      return Unimplemented("compression codec {} is not supported", CodecName(codec));
  }
}

}  // namespace lf::parquet
