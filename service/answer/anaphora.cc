#include "service/answer/anaphora.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"

namespace citekb {
namespace {

// Words that stand for something named before them. "That" and "there"
// only count first: further in they are mostly conjunctions ("shows that").
constexpr absl::string_view kAnaphors[] = {
    "it", "its", "this", "these", "they", "them", "their", "those", "such"};
constexpr absl::string_view kOpeningAnaphors[] = {"that", "there"};

// Words looked at: enough for "Only then can it", "To work, it requires".
constexpr int kOpeningWords = 4;

bool IsAnaphor(absl::string_view word, bool first) {
  for (absl::string_view a : kAnaphors) {
    if (word == a) return true;
  }
  if (!first) return false;
  for (absl::string_view a : kOpeningAnaphors) {
    if (word == a) return true;
  }
  return false;
}

std::vector<std::string> LowerWords(absl::string_view text, int limit) {
  std::vector<std::string> words;
  for (absl::string_view piece : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (static_cast<int>(words.size()) == limit) break;
    std::string word;
    for (char c : piece) {
      const unsigned char u = static_cast<unsigned char>(c);
      if (absl::ascii_isalnum(u)) word.push_back(absl::ascii_tolower(u));
    }
    words.push_back(std::move(word));
  }
  return words;
}

}  // namespace

bool OpensOnAnaphor(absl::string_view sentence) {
  const std::vector<std::string> opening = LowerWords(sentence, kOpeningWords);
  for (size_t i = 0; i < opening.size(); ++i) {
    if (IsAnaphor(opening[i], i == 0)) return true;
  }
  // A longer lead-in before a comma: "Without a control mechanism, this".
  const size_t comma = sentence.find(", ");
  if (comma != absl::string_view::npos && comma < 48) {
    const std::vector<std::string> after =
        LowerWords(sentence.substr(comma + 2), 1);
    if (!after.empty() && IsAnaphor(after[0], /*first=*/true)) return true;
  }
  return false;
}

}  // namespace citekb
