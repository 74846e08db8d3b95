// Finds known phrases in a text's terms, longest first: the vocabulary's
// concept names, intent cues and filler phrases (lexicon.h). A phrase is a
// sequence of FTS5 terms ("vitamin" "d3"); at each position the longest
// phrase that starts there wins, and matches do not overlap.
//
//   PhraseTable<int> names;
//   names.Add({"vitamin", "k2"}, 7);
//   names.Add({"k2"}, 7);
//   for (const PhraseTable<int>::Match& m : names.FindAll(terms)) ...
//   // "why vitamin k2" -> one match, terms [1, 3), value 7
//
// Thread-safe once built: FindAll is const.

#ifndef CITEKB_SERVICE_UNDERSTAND_PHRASE_TABLE_H_
#define CITEKB_SERVICE_UNDERSTAND_PHRASE_TABLE_H_

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace citekb {

template <typename Value>
class PhraseTable {
 public:
  struct Match {
    int begin = 0;  // First term of the phrase.
    int end = 0;    // One past its last term.
    Value value;
  };

  // Adds `phrase` (at least one term). A phrase added twice keeps its
  // first value.
  void Add(std::vector<std::string> phrase, Value value) {
    if (phrase.empty()) return;
    std::vector<Entry>& entries = by_first_term_[phrase[0]];
    for (const Entry& entry : entries) {
      if (entry.terms == phrase) return;
    }
    entries.push_back({std::move(phrase), std::move(value)});
    // Longest first, so that the first entry that fits is the match.
    std::stable_sort(entries.begin(), entries.end(),
                     [](const Entry& a, const Entry& b) {
                       return a.terms.size() > b.terms.size();
                     });
  }

  // The longest phrase starting at `position`, if any.
  const Value* LongestAt(const std::vector<std::string>& terms, size_t position,
                         size_t* length) const {
    auto it = by_first_term_.find(terms[position]);
    if (it == by_first_term_.end()) return nullptr;
    for (const Entry& entry : it->second) {
      if (position + entry.terms.size() <= terms.size() &&
          std::equal(entry.terms.begin(), entry.terms.end(),
                     terms.begin() + static_cast<long>(position))) {
        *length = entry.terms.size();
        return &entry.value;
      }
    }
    return nullptr;
  }

  // Every match in `terms`, left to right, none overlapping.
  std::vector<Match> FindAll(const std::vector<std::string>& terms) const {
    std::vector<Match> matches;
    for (size_t i = 0; i < terms.size();) {
      size_t length = 0;
      if (const Value* value = LongestAt(terms, i, &length)) {
        matches.push_back(
            {static_cast<int>(i), static_cast<int>(i + length), *value});
        i += length;
      } else {
        ++i;
      }
    }
    return matches;
  }

  bool empty() const { return by_first_term_.empty(); }

 private:
  struct Entry {
    std::vector<std::string> terms;
    Value value;
  };
  absl::flat_hash_map<std::string, std::vector<Entry>> by_first_term_;
};

}  // namespace citekb

#endif  // CITEKB_SERVICE_UNDERSTAND_PHRASE_TABLE_H_
