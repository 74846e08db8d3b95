// Splits readable English text into sentences.
//
// A boundary is `.`, `!` or `?` (optionally followed by closing quotes or
// brackets) then whitespace then something that can start a sentence. Not a
// boundary: abbreviations (`e.g.`, `i.e.`, `vs.`, `Dr.`, `et al.`), decimals
// and numbers (`2.5`, `5,000 IU`, `10,000+ IU`), units (`ng/mL`) and a period
// inside a quotation that continues in lower case. A trailing author-year
// fragment ("... bone structure. Zhang 2025") joins the sentence before it.
//
//   SplitSentences("It works. Zhang 2025") -> {[0, 19)}
//
// Thread-safe.

#ifndef CITEKB_INDEXER_ARTICLE_SENTENCE_SPLITTER_H_
#define CITEKB_INDEXER_ARTICLE_SENTENCE_SPLITTER_H_

#include <cstddef>
#include <vector>

#include "absl/strings/string_view.h"

namespace citekb {

// A sentence as the byte range [begin, end) of the input, trimmed of
// surrounding whitespace.
struct SentenceSpan {
  size_t begin = 0;
  size_t end = 0;
};

std::vector<SentenceSpan> SplitSentences(absl::string_view text);

}  // namespace citekb

#endif  // CITEKB_INDEXER_ARTICLE_SENTENCE_SPLITTER_H_
