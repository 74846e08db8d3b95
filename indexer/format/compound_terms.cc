#include "indexer/format/compound_terms.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "re2/re2.h"

namespace citekb {
namespace {

struct Rewrite {
  const RE2* pattern;
  const char* replacement;
  // A literal every match contains: most passages lack it, and looking for
  // it is far cheaper than a regex search (run on every passage, those come
  // to 6% of an index build). Digits and commas have no case variants, so
  // (?i) cannot make a pattern match without them.
  const char* required;
};

const std::vector<Rewrite>& Rewrites() {
  static const auto* const kRewrites = new std::vector<Rewrite>{
      // 25(OH)D, 25-OH-D, 25 (OH) D, 25-hydroxyvitamin D -> 25OHD.
      {new RE2(R"((?i)\b25\s*[-(]?\s*OH\s*[-)]?\s*D\b)", RE2::Quiet), "25OHD",
       "25"},
      {new RE2(R"((?i)\b25-?hydroxy-?vitamin\s*D\b)", RE2::Quiet), "25OHD",
       "25"},
      // MK-7, MK 7, mk-4 -> MK7; but not D3-K2 (digit before the hyphen).
      {new RE2(R"((?i)\b(mk)[- ]?(\d+)\b)", RE2::Quiet), "\\1\\2", ""},
      // 10,000 -> 10000 (twice for 1,000,000).
      {new RE2(R"(\b(\d{1,3}),(\d{3})\b)", RE2::Quiet), "\\1\\2", ","},
      {new RE2(R"(\b(\d+),(\d{3})\b)", RE2::Quiet), "\\1\\2", ","},
  };
  return *kRewrites;
}

}  // namespace

std::string JoinCompounds(absl::string_view text) {
  std::string result(text);
  for (const Rewrite& rewrite : Rewrites()) {
    if (!absl::StrContains(result, rewrite.required)) continue;
    RE2::GlobalReplace(&result, *rewrite.pattern, rewrite.replacement);
  }
  return result;
}

std::string CompoundTerms(absl::string_view text) {
  static const RE2 kJoined(R"((?i)\b(25ohd|mk\d+|\d{4,})\b)", RE2::Quiet);
  // Every compound has a digit (\d is ASCII-only in RE2), and joining never
  // adds one: text without digits has none.
  if (std::none_of(text.begin(), text.end(), absl::ascii_isdigit)) return "";
  std::vector<std::string> terms;
  const std::string joined = JoinCompounds(text);
  re2::StringPiece input(joined);
  std::string term;
  while (RE2::FindAndConsume(&input, kJoined, &term)) {
    term = absl::AsciiStrToLower(term);
    bool seen = false;
    for (const std::string& t : terms) seen = seen || t == term;
    if (!seen) terms.push_back(term);
  }
  return absl::StrJoin(terms, " ");
}

}  // namespace citekb
