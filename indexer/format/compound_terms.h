// Terms that FTS5's unicode61 tokenizer would cut apart but that readers treat
// as one word: `MK-7` (which users also write `MK7`), `25(OH)D`, and numbers
// with thousands separators (`5,000 IU`). The index stores the joined forms
// in a separate column, and queries are rewritten the same way, so `MK7`,
// `mk-7` and `MK-7` all find the same passages while the displayed text stays
// exactly as written.
//
//   JoinCompounds("5,000 IU D3 with MK-7")  == "5000 IU D3 with MK7"
//   CompoundTerms("5,000 IU D3 with MK-7")  == "5000 mk7"
//
// Thread-safe.

#ifndef CITEKB_INDEXER_FORMAT_COMPOUND_TERMS_H_
#define CITEKB_INDEXER_FORMAT_COMPOUND_TERMS_H_

#include <string>

#include "absl/strings/string_view.h"

namespace citekb {

// `text` with every compound written as one word.
std::string JoinCompounds(absl::string_view text);

// The joined compounds found in `text`, lower-case, space separated, each
// once. Empty when there are none.
std::string CompoundTerms(absl::string_view text);

}  // namespace citekb

#endif  // CITEKB_INDEXER_FORMAT_COMPOUND_TERMS_H_
