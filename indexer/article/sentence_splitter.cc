#include "indexer/article/sentence_splitter.h"

#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "indexer/base/re2_piece.h"
#include "re2/re2.h"

namespace citekb {
namespace {

// Terminal punctuation, closing quotes/brackets, then the whitespace that
// separates it from the next sentence.
const RE2& CandidateBoundary() {
  static const RE2 pattern(R"(([.!?]+["'”’)\]]*)(\s+))", RE2::Quiet);
  return pattern;
}

// A fragment that is only an author-year citation label.
const RE2& AuthorYearOnly() {
  static const RE2 pattern(
      R"(^[A-Z][\pL'’-]+(?: et al\.?)?,? (?:19|20)\d\d[a-z]?\.?$)", RE2::Quiet);
  return pattern;
}

bool IsAbbreviation(absl::string_view word) {
  static const auto* const kAbbreviations =
      new absl::flat_hash_set<std::string>{
          "e.g", "i.e",    "vs",  "dr", "mr", "mrs",  "ms", "prof",
          "al",  "approx", "fig", "cf", "ca", "resp", "u.s"};
  return kAbbreviations->contains(absl::AsciiStrToLower(word));
}

// The word that ends right before `end` (the terminal period excluded).
absl::string_view WordBefore(absl::string_view text, size_t end) {
  size_t begin = end;
  while (begin > 0 && !absl::ascii_isspace(text[begin - 1]) &&
         text[begin - 1] != '(') {
    --begin;
  }
  return text.substr(begin, end - begin);
}

// True when the word before the letter at `letter` is one that takes a
// letter as its name: "vitamin A", "hepatitis B", "type C".
bool NamesALetteredThing(absl::string_view text, size_t letter) {
  static const auto* const kNouns = new absl::flat_hash_set<std::string>{
      "vitamin",  "vitamins", "hepatitis", "type",  "group",
      "class",    "grade",    "stage",     "phase", "plan",
      "appendix", "section",  "and",       "or"};
  size_t end = letter;
  while (end > 0 && text[end - 1] == ' ') --end;
  return kNouns->contains(absl::AsciiStrToLower(WordBefore(text, end)));
}

bool CanStartSentence(absl::string_view rest) {
  if (rest.empty()) return false;
  unsigned char c = rest[0];
  // Upper case, digits, opening quotes/brackets, or a non-ASCII letter (we
  // cannot case-check UTF-8 cheaply; prose here rarely starts that way).
  return absl::ascii_isupper(c) || absl::ascii_isdigit(c) || c == '"' ||
         c == '\'' || c == '(' || c == '[' || c >= 0x80;
}

void AppendTrimmed(absl::string_view text, size_t begin, size_t end,
                   std::vector<SentenceSpan>& out) {
  while (begin < end && absl::ascii_isspace(text[begin])) ++begin;
  while (end > begin && absl::ascii_isspace(text[end - 1])) --end;
  if (begin == end) return;
  absl::string_view fragment = text.substr(begin, end - begin);
  if (!out.empty() && RE2::FullMatch(Piece(fragment), AuthorYearOnly())) {
    out.back().end = end;
    return;
  }
  out.push_back({begin, end});
}

}  // namespace

std::vector<SentenceSpan> SplitSentences(absl::string_view text) {
  std::vector<SentenceSpan> sentences;
  const re2::StringPiece input = Piece(text);
  re2::StringPiece match[3];
  size_t sentence_begin = 0;
  size_t pos = 0;
  while (CandidateBoundary().Match(input, pos, input.size(), RE2::UNANCHORED,
                                   match, 3)) {
    const size_t punct_begin = match[1].data() - input.data();
    const size_t next_begin = match[2].data() + match[2].size() - input.data();
    pos = next_begin;
    if (text[punct_begin] == '.') {
      absl::string_view word = WordBefore(text, punct_begin);
      if (IsAbbreviation(word)) continue;
      // "J. Smith": a single capital letter is an initial, except where it
      // names a thing ("Vitamin A. Magnesium ...", "Type B.").
      if (word.size() == 1 && absl::ascii_isupper(word[0]) &&
          !NamesALetteredThing(text, punct_begin - 1)) {
        continue;
      }
    }
    if (!CanStartSentence(text.substr(next_begin))) continue;
    AppendTrimmed(text, sentence_begin, next_begin, sentences);
    sentence_begin = next_begin;
  }
  AppendTrimmed(text, sentence_begin, text.size(), sentences);
  return sentences;
}

}  // namespace citekb
