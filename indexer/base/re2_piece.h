// Debian's Abseil has its own absl::string_view (not std::string_view) and
// Debian's RE2 takes re2::StringPiece: this is the one bridge between them.

#ifndef CITEKB_INDEXER_BASE_RE2_PIECE_H_
#define CITEKB_INDEXER_BASE_RE2_PIECE_H_

#include "absl/strings/string_view.h"
#include "re2/stringpiece.h"

namespace citekb {

inline re2::StringPiece Piece(absl::string_view text) {
  return re2::StringPiece(text.data(), text.size());
}

inline absl::string_view View(re2::StringPiece piece) {
  return absl::string_view(piece.data(), piece.size());
}

}  // namespace citekb

#endif  // CITEKB_INDEXER_BASE_RE2_PIECE_H_
