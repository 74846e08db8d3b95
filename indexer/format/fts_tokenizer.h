// FTS5's own tokenizer, called directly instead of through SQL.
//
// citekb ranks passages with an inverted index of its own (the indexer's
// postings_builder.h, the server's retrieval_index.h), with FTS5's bm25 and
// snippets. The indexer and the server must agree on what a term is, to the
// byte, and with FTS5 itself: "arteries" is the Porter stem "arteri",
// "Vitamin D3" is "vitamin" then "d3", an em dash separates, "café" folds to
// "cafe". So neither reimplements unicode61 and Porter; both use FTS5's
// tokenizer (kFtsTokenizer, index_schema.h) through its public
// fts5_tokenizer API, as an FTS5 table declared with it would.
//
//   CITEKB_ASSIGN_OR_RETURN(auto tokenizer,
//                           FtsTokenizer::Create(kFtsTokenizer));
//   CITEKB_RETURN_IF_ERROR(tokenizer->Tokenize(
//       "Arteries calcify.", FtsTokenizer::Purpose::kDocument,
//       [](const FtsTokenizer::Token& t) { ... t.term == "arteri" ... }));
//
// Positions are FTS5's: every token that is not `colocated` takes the next
// position, starting at 0 for each text. (unicode61 and porter never emit
// colocated tokens; a synonym tokenizer would.)
//
// Thread-safe: Tokenize() may run on many threads at once. Each call uses a
// tokenizer instance of its own from a small pool (unicode61 keeps a
// per-instance buffer, so one instance serves one call at a time).

#ifndef CITEKB_INDEXER_FORMAT_FTS_TOKENIZER_H_
#define CITEKB_INDEXER_FORMAT_FTS_TOKENIZER_H_

#include <sqlite3.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "indexer/base/status_macros.h"
#include "indexer/format/sqlite.h"

namespace citekb {

class FtsTokenizer {
 public:
  // What the text is, as FTS5 tells its tokenizers (FTS5_TOKENIZE_*).
  // unicode61 and porter split every kind the same way.
  enum class Purpose { kDocument, kQuery, kAux };

  struct Token {
    // The term as FTS5 indexes it (folded, stemmed). Valid only during the
    // callback.
    absl::string_view term;
    int start = 0;  // Byte offsets of the token in the text: [start, end).
    int end = 0;
    bool colocated = false;  // Same position as the token before.
  };

  // `spec` is an FTS5 `tokenize` option: a tokenizer name and its
  // arguments, separated by spaces ("porter unicode61 remove_diacritics 2").
  // INVALID_ARGUMENT for a spec FTS5 does not know or accept.
  static absl::StatusOr<std::unique_ptr<FtsTokenizer>> Create(
      absl::string_view spec);
  ~FtsTokenizer();

  FtsTokenizer(const FtsTokenizer&) = delete;
  FtsTokenizer& operator=(const FtsTokenizer&) = delete;

  // Calls `on_token` for every token of `text`, in order. Fails only when
  // the tokenizer does (out of memory), or for text over 2 GB.
  absl::Status Tokenize(absl::string_view text, Purpose purpose,
                        absl::FunctionRef<void(const Token&)> on_token) const;

  // The terms of `text` in order (query terms: Purpose::kQuery).
  absl::StatusOr<std::vector<std::string>> Terms(absl::string_view text) const;

 private:
  struct InstanceDeleter {
    void (*destroy)(::Fts5Tokenizer*);
    void operator()(::Fts5Tokenizer* instance) const { destroy(instance); }
  };
  using Instance = std::unique_ptr<::Fts5Tokenizer, InstanceDeleter>;

  FtsTokenizer(Database db, fts5_tokenizer module, void* module_context,
               std::vector<std::string> arguments)
      : db_(std::move(db)),
        module_(module),
        module_context_(module_context),
        arguments_(std::move(arguments)) {}

  absl::StatusOr<Instance> NewInstance() const;
  absl::StatusOr<Instance> TakeInstance() const;
  void ReturnInstance(Instance instance) const;

  // The connection whose FTS5 registry holds the tokenizer module; it owns
  // the module for as long as instances may be made from it.
  const Database db_;
  const fts5_tokenizer module_;
  void* const module_context_;
  const std::vector<std::string> arguments_;
  mutable absl::Mutex mu_;
  mutable std::vector<Instance> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace citekb

#endif  // CITEKB_INDEXER_FORMAT_FTS_TOKENIZER_H_
