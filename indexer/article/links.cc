#include "indexer/article/links.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "indexer/base/re2_piece.h"
#include "re2/re2.h"

namespace citekb {
namespace {

// ` (url)`: the URL has no spaces and at most one level of balanced
// parentheses (DOIs such as 10.1016/S0140-6736(20)30183-5 have them).
const RE2& LinkPattern() {
  static const RE2 pattern(
      R"(\s?\(((?:https?://|/)(?:[^\s()]|\([^\s()]*\))+)\))", RE2::Quiet);
  return pattern;
}

const RE2& AuthorYearPattern() {
  static const RE2 pattern(
      R"(([A-Z][\pL'’-]+(?: et al\.?| and [A-Z][\pL'’-]+)?,? (?:19|20)\d\d[a-z]?)$)",
      RE2::Quiet);
  return pattern;
}

std::string GuessAnchorText(absl::string_view before) {
  // Stop at the prose's own punctuation or an opening parenthesis.
  size_t stop = before.find_last_of("(.,;:!?—");
  absl::string_view tail =
      stop == absl::string_view::npos ? before : before.substr(stop + 1);
  std::vector<absl::string_view> words =
      absl::StrSplit(tail, ' ', absl::SkipWhitespace());
  if (words.size() > 5) words.erase(words.begin(), words.end() - 5);
  return absl::StrJoin(words, " ");
}

}  // namespace

LinkedText StripLinks(absl::string_view raw) {
  LinkedText result;
  const re2::StringPiece input = Piece(raw);
  re2::StringPiece match[2];  // The whole ` (url)` and the url.
  size_t pos = 0;
  while (LinkPattern().Match(input, pos, input.size(), RE2::UNANCHORED, match,
                             2)) {
    size_t start = match[0].data() - input.data();
    result.text.append(input.data() + pos, start - pos);
    LinkOccurrence link;
    link.url = std::string(match[1].data(), match[1].size());
    link.offset = result.text.size();
    link.anchor_text = GuessAnchorText(result.text);
    re2::StringPiece label;
    if (RE2::PartialMatch(re2::StringPiece(result.text), AuthorYearPattern(),
                          &label)) {
      link.author_year = std::string(View(label));
    }
    result.links.push_back(std::move(link));
    pos = start + match[0].size();
  }
  result.text.append(input.data() + pos, input.size() - pos);
  return result;
}

ClassifiedLink ClassifyLink(absl::string_view url) {
  static const RE2 kPubMed(
      R"(^https?://(?:www\.)?pubmed\.ncbi\.nlm\.nih\.gov/(\d+))", RE2::Quiet);
  static const RE2 kPubMedOld(
      R"(^https?://(?:www\.)?ncbi\.nlm\.nih\.gov/pubmed/(\d+))", RE2::Quiet);
  static const RE2 kPmc(
      R"(^https?://(?:www\.)?(?:ncbi\.nlm\.nih\.gov/pmc|pmc\.ncbi\.nlm\.nih\.gov)/articles/(?i)(pmc\d+))",
      RE2::Quiet);
  static const RE2 kDoi(R"(^https?://(?:dx\.)?doi\.org/(10\.\S+?)/?$)",
                        RE2::Quiet);

  ClassifiedLink result;
  if (absl::StartsWith(url, "/")) {
    result.internal = absl::StartsWith(url, "/en/tools/")
                          ? RelatedLinkKind::kTool
                          : RelatedLinkKind::kArticle;
    return result;
  }
  Source source;
  source.url = std::string(url);
  std::string id;
  if (RE2::PartialMatch(Piece(url), kPubMed, &id) ||
      RE2::PartialMatch(Piece(url), kPubMedOld, &id)) {
    source.kind = SourceKind::kPubMed;
    source.identifier = id;
    source.id = absl::StrCat("pmid:", id);
  } else if (RE2::PartialMatch(Piece(url), kPmc, &id)) {
    source.kind = SourceKind::kPmc;
    source.identifier = absl::AsciiStrToUpper(id);
    source.id = absl::StrCat("pmcid:", source.identifier);
  } else if (RE2::PartialMatch(Piece(url), kDoi, &id)) {
    source.kind = SourceKind::kDoi;
    source.identifier = absl::AsciiStrToLower(id);
    source.id = absl::StrCat("doi:", source.identifier);
  } else {
    source.kind = SourceKind::kWeb;
    source.identifier = std::string(url);
    source.id = absl::StrCat("url:", url);
  }
  result.source = std::move(source);
  return result;
}

}  // namespace citekb
