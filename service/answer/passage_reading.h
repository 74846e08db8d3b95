// What the sentences of a passage say, as the vocabulary reads them
// (lexicon.h): the concepts each names, the intents its words answer, its
// terms, whether it states a dose or a blood level, whether it leans on the
// sentence before it; for a table row, its cells. An answer is chosen by
// comparing these with the question (unit_scorer.h).
//
//   PassageReader reader(lexicon);
//   CITEKB_ASSIGN_OR_RETURN(std::shared_ptr<const PassageReading> reading,
//                           reader.Read(*hit.stored));
//   reading->sentences[0].concepts   // vitamin_d3, calcium, ...
//
// Readings are kept in a bounded cache by passage rowid: the index never
// changes under a reader, and Ask reads the same passages again and again.
// Thread-safe.

#ifndef CITEKB_SERVICE_ANSWER_PASSAGE_READING_H_
#define CITEKB_SERVICE_ANSWER_PASSAGE_READING_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "service/answer/table_row.h"
#include "service/store/lru_cache.h"
#include "service/store/store.h"
#include "service/understand/lexicon.h"

namespace citekb {

struct SentenceReading {
  std::vector<int> concepts;  // Distinct concept indexes, in order.
  absl::flat_hash_set<std::string> terms;
  std::vector<Intent> answers;  // Intents its answer cues mark.
  bool states_dose = false;     // A number with IU, mcg, mg...
  bool states_level = false;    // A number with ng/mL or nmol/L.
  bool states_interval = false;  // "every six months", "every day".
  bool opens_on_anaphor = false;

  bool Answers(Intent intent) const;
  bool Mentions(int concept_id) const;
};

struct PassageReading {
  std::vector<SentenceReading> sentences;  // As the passage's sentences.
  TableRow row;                            // Table rows only.
};

class PassageReader {
 public:
  // `lexicon` must outlive the reader.
  explicit PassageReader(const Lexicon& lexicon) : lexicon_(lexicon) {}

  absl::StatusOr<std::shared_ptr<const PassageReading>> Read(
      const StoredPassage& passage) const;

 private:
  absl::StatusOr<SentenceReading> ReadSentence(absl::string_view text) const;

  const Lexicon& lexicon_;
  static constexpr size_t kCacheBytes = 4 << 20;
  LruCache<int64_t, PassageReading> cache_{kCacheBytes};
};

}  // namespace citekb

#endif  // CITEKB_SERVICE_ANSWER_PASSAGE_READING_H_
