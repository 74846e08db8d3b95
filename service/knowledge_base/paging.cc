#include "service/knowledge_base/paging.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "service/knowledge_base/request_validation.h"

namespace citekb {
namespace {

// FNV-1a: stable across processes and builds, unlike std::hash.
uint32_t Fingerprint(absl::string_view text) {
  uint32_t hash = 2166136261u;
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 16777619u;
  }
  return hash;
}

}  // namespace

absl::StatusOr<int> PageSize(int requested) {
  if (requested < 0) return Invalid("page_size", "must not be negative");
  if (requested == 0) return kDefaultPageSize;
  return std::min(requested, kMaxPageSize);
}

std::string PageToken(int offset, absl::string_view query_key) {
  return absl::WebSafeBase64Escape(
      absl::StrCat("v1:", offset, ":", Fingerprint(query_key)));
}

absl::StatusOr<int> ParsePageToken(absl::string_view token,
                                   absl::string_view query_key) {
  if (token.empty()) return 0;
  std::string decoded;
  std::vector<std::string> parts;
  int offset = 0;
  uint32_t fingerprint = 0;
  if (token.size() > 100 || !absl::WebSafeBase64Unescape(token, &decoded) ||
      (parts = absl::StrSplit(decoded, ':')).size() != 3 || parts[0] != "v1" ||
      !absl::SimpleAtoi(parts[1], &offset) || offset < 0 ||
      !absl::SimpleAtoi(parts[2], &fingerprint)) {
    return Invalid("page_token", "is not a token this server issued");
  }
  if (fingerprint != Fingerprint(query_key)) {
    return Invalid("page_token", "belongs to a different query or filter");
  }
  return offset;
}

}  // namespace citekb
