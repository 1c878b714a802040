#include "ingest/file_scan.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "common/status.h"
#include "simdjson.h"

namespace lf::ingest {
namespace {

// Length of the UTF-8 sequence a lead byte starts (1 for ASCII and for invalid bytes, which the
// validator then reports).
size_t SequenceLength(unsigned char c) {
  if (c < 0xC0) return 1;
  if (c < 0xE0) return 2;
  if (c < 0xF0) return 3;
  return 4;
}

// How many bytes at the end of `data` start a sequence the buffer does not finish (0–3): they
// are validated with the next chunk.
size_t IncompleteTail(const char* data, size_t n) {
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    const auto c = static_cast<unsigned char>(data[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // a continuation byte: look further back
    return SequenceLength(c) > back ? back : 0;
  }
  return 0;
}

}  // namespace

absl::StatusOr<FileScan> ScanFile(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) return Unavailable("ingest: cannot open {}: {}", path, std::strerror(errno));
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> md(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!md || EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr) != 1) {
    return Internal("ingest: cannot start a SHA-256 digest");
  }
  FileScan scan;
  constexpr size_t kChunk = 1 << 20;
  std::vector<char> buf(kChunk + 3);
  size_t carry = 0;  // bytes of an unfinished UTF-8 sequence at buf[0..carry)
  while (true) {
    const size_t n = std::fread(buf.data() + carry, 1, kChunk, f.get());
    if (n == 0) {
      if (std::ferror(f.get()))
        return Unavailable("ingest: read {}: {}", path, std::strerror(errno));
      break;
    }
    EVP_DigestUpdate(md.get(), buf.data() + carry, n);
    const size_t have = carry + n;
    const size_t tail = IncompleteTail(buf.data(), have);
    if (scan.utf8 && !simdjson::validate_utf8(buf.data(), have - tail)) {
      scan.utf8 = false;
      // Where: the longest valid prefix, by bisection (validity of prefixes is monotone).
      size_t lo = 0, hi = have - tail;
      while (lo + 1 < hi) {
        const size_t mid = (lo + hi) / 2;
        const size_t cut = mid - IncompleteTail(buf.data(), mid);
        if (simdjson::validate_utf8(buf.data(), cut)) {
          lo = mid;
        } else {
          hi = mid;
        }
      }
      scan.bad_utf8_at = scan.size - static_cast<int64_t>(carry) + static_cast<int64_t>(lo);
    }
    scan.size += static_cast<int64_t>(n);
    std::memmove(buf.data(), buf.data() + have - tail, tail);
    carry = tail;
  }
  if (carry > 0 && scan.utf8) {
    scan.utf8 = false;  // the file ends inside a sequence
    scan.bad_utf8_at = scan.size - static_cast<int64_t>(carry);
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(md.get(), digest, &len) != 1) return Internal("ingest: SHA-256 failed");
  static const char* kHex = "0123456789abcdef";
  for (unsigned int i = 0; i < len; ++i) {
    scan.sha256.push_back(kHex[digest[i] >> 4]);
    scan.sha256.push_back(kHex[digest[i] & 15]);
  }
  return scan;
}

}  // namespace lf::ingest
