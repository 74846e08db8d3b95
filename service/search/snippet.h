// FTS5's snippet() for one column, computed from data we hold ourselves.
//
// Passage ranking runs on citekb's own inverted index, not on an FTS5 query,
// but every ranked passage still carries the snippet FTS5 would have made
// over an FTS5 table of the passages' columns (section title, body,
// compounds):
//
//   snippet(<table>, 1, '[', ']', '…', 24)
//
// Snippet() returns that text byte for byte (SQLite 3.40.1's FTS5; checked
// against it by tests/service/snippet_test.cc), given what FTS5 itself knows
// about the row: the column's text, where its tokens are, and where the query's
// phrases matched in it.
//
//   // "Vitamin K2 moves calcium into bone." with "k2" OR "calcium":
//   std::vector<TokenSpan> tokens = ...;  // FtsTokenizer, Purpose::kAux
//   std::vector<PhraseInstance> instances =
//       FindPhraseInstances(column_terms, {{"k2"}, {"calcium"}});
//   absl::StatusOr<std::string> snippet =
//       Snippet(text, tokens, instances, /*phrase_count=*/2);
//   // *snippet == "Vitamin [K2] moves [calcium] into bone."
//
// How FTS5 3.40 chooses and marks the window (N = options.max_tokens):
//
// 1. Candidate windows. For each phrase instance, in order, FTS5 scores the
//    N tokens starting at it: 1000 for each distinct phrase with an instance
//    starting inside, plus 1 for each further instance. The window is then
//    moved to centre the instances it holds: it starts at
//    first - (N - (last_end - first)) / 2 (C division, towards zero), where
//    `first` is the first instance inside and `last_end` the end of the last
//    one *in instance order*, then is pulled back so that it does not run
//    past the last token, and forward so that it does not start before 0.
// 2. Sentence starts. Only when the column has more than N tokens: the
//    window of N tokens starting at the sentence that holds the instance
//    (the last sentence start before it, if the instance does not itself
//    start a sentence) is scored the same way, plus 120 if that sentence is
//    the column's first and 100 otherwise; it is not re-centred, and may run
//    past the end of the column. A token starts a sentence when it is the
//    first, or when whitespace (space, tab, CR, LF) and then '.' or ':' come
//    before it.
// 3. The best score wins; on a tie, the earlier candidate. With no instance
//    at all, the window is the first N tokens.
// 4. Highlighting. Instances that overlap (share a token) are coalesced into
//    one highlighted run. Runs that start before the window are not
//    highlighted at all, even the part inside it; a run that the window cuts
//    at its end is closed at the window's last token.
// 5. Text. The window's text runs from its first token's start (from byte 0
//    when the window starts at token 0, so leading punctuation is kept) to
//    its last token's end (to the end of the text when the window reaches
//    the column's last token). `ellipsis` stands for the cut text at either
//    end.
//
// Quirks kept on purpose, because FTS5 has them:
// - N == 1 and a window at token 0 turns the range off: the text from byte 0
//   to the end of the last highlighted run is returned, every run marked,
//   followed by the ellipsis unless the column has at most one token.
// - An instance is counted in a window when it *starts* inside it, even if
//   it ends outside.
// - FTS5 copies the text piece by piece as C strings: a NUL byte in the
//   text drops the rest of its piece (up to the next marker or token
//   boundary FTS5 copies at), not the rest of the snippet.
//
// Thread-safe: both functions are pure.

#ifndef CITEKB_SERVICE_SEARCH_SNIPPET_H_
#define CITEKB_SERVICE_SEARCH_SNIPPET_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace citekb {

// One token of the column: its bytes in the text, [start, end). Its
// position is its index in the list (FTS5 positions, no colocated tokens).
struct TokenSpan {
  int start = 0;
  int end = 0;
};

// One match of a query phrase in the column, as FTS5's xInst() reports it.
struct PhraseInstance {
  int phrase = 0;    // Index of the phrase in the query, from 0.
  int position = 0;  // Position of its first token in the column.
  int size = 1;      // Number of tokens in the phrase (xPhraseSize).
  bool operator==(const PhraseInstance&) const = default;
};

struct SnippetOptions {
  // Appended verbatim around each highlighted run and for cut text. They
  // must outlive the call and hold no NUL byte.
  absl::string_view open = "[";
  absl::string_view close = "]";
  absl::string_view ellipsis = "…";
  // The window's size in tokens (snippet()'s fifth argument); at least 1.
  // FTS5's documentation asks for at most 64 but FTS5 does not enforce it,
  // and neither do we.
  int max_tokens = 24;
};

// What snippet(table, column, open, close, ellipsis, max_tokens) returns
// for a row whose `column` holds `text`, tokenized into `tokens`, where the
// query (of `phrase_count` phrases) matched at `instances`.
//
// `instances` are those of this column only, in xInst() order: by position,
// then by phrase index (FindPhraseInstances() returns them so). An empty
// list is a row that matched in other columns only: the snippet is the
// column's first max_tokens tokens, unmarked.
//
// INVALID_ARGUMENT, with nothing computed, when the inputs cannot come from
// FTS5: a token outside the text or before the token before it, an instance
// outside the tokens or out of order, a phrase index outside
// [0, phrase_count), a phrase size below 1, max_tokens below 1 or a marker
// with a NUL byte.
absl::StatusOr<std::string> Snippet(absl::string_view text,
                                    absl::Span<const TokenSpan> tokens,
                                    absl::Span<const PhraseInstance> instances,
                                    int phrase_count,
                                    const SnippetOptions& options = {});

// Every place where a phrase of the query matches the column, in xInst()
// order (by position, then phrase index). Phrase i matches at position p
// when its terms equal column_terms[p], column_terms[p + 1], ...; matches of
// one phrase may overlap ("a a" in "a a a" matches at 0 and 1). A phrase
// with no terms (FTS5 keeps one for `""`, so later phrases keep their
// indexes) never matches.
//
// Terms are FTS5's (FtsTokenizer): stemmed query terms against the stemmed
// column terms, as strings or as ids from one dictionary.
std::vector<PhraseInstance> FindPhraseInstances(
    absl::Span<const std::string> column_terms,
    absl::Span<const std::vector<std::string>> phrases);
std::vector<PhraseInstance> FindPhraseInstances(
    absl::Span<const uint32_t> column_terms,
    absl::Span<const std::vector<uint32_t>> phrases);

}  // namespace citekb

#endif  // CITEKB_SERVICE_SEARCH_SNIPPET_H_
