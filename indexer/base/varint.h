// LEB128 varints: 7 bits a byte, least significant first, the high bit set
// on every byte but the last. What the postings (indexer/format/
// postings_format.h) are written in.
//
//   std::string out;
//   AppendVarint(out, 300);              // out == "\xac\x02"
//   const char* at = out.data();
//   uint64_t value;
//   ReadVarint(&at, out.data() + out.size(), &value);  // value == 300

#ifndef CITEKB_INDEXER_BASE_VARINT_H_
#define CITEKB_INDEXER_BASE_VARINT_H_

#include <cstdint>
#include <string>

namespace citekb {

inline void AppendVarint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

// Reads one varint at `*at` and moves `*at` past it. False, with `*at`
// unchanged, when the bytes end first or the value needs more than 64 bits.
inline bool ReadVarint(const char** at, const char* end, uint64_t* value) {
  const auto* p = reinterpret_cast<const uint8_t*>(*at);
  const auto* limit = reinterpret_cast<const uint8_t*>(end);
  uint64_t result = 0;
  // Ten bytes hold any 64-bit value; within them no bound check is needed.
  const int most = limit - p >= 10 ? 10 : static_cast<int>(limit - p);
  for (int i = 0; i < most; ++i) {
    const uint64_t byte = p[i];
    result |= (byte & 0x7f) << (7 * i);
    if (byte < 0x80) {
      if (i == 9 && byte > 1) return false;  // More than 64 bits.
      *value = result;
      *at = reinterpret_cast<const char*>(p + i + 1);
      return true;
    }
  }
  return false;
}

}  // namespace citekb

#endif  // CITEKB_INDEXER_BASE_VARINT_H_
