#include "service/search/snippet.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace citekb {
namespace {

// FTS5's window scores (fts5SnippetScore() and its callers in fts5_aux.c).
constexpr int kFirstInstanceOfPhraseScore = 1000;
constexpr int kRepeatedInstanceScore = 1;
constexpr int kFirstSentenceBonus = 120;
constexpr int kLaterSentenceBonus = 100;

absl::Status Validate(absl::string_view text,
                      absl::Span<const TokenSpan> tokens,
                      absl::Span<const PhraseInstance> instances,
                      int phrase_count, const SnippetOptions& options) {
  if (phrase_count < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "snippet: phrase_count is ", phrase_count, ", must be >= 0"));
  }
  if (options.max_tokens < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "snippet: max_tokens is ", options.max_tokens, ", must be >= 1"));
  }
  for (absl::string_view marker :
       {options.open, options.close, options.ellipsis}) {
    // FTS5 takes the markers as C strings: it would stop at the NUL.
    if (marker.find('\0') != absl::string_view::npos) {
      return absl::InvalidArgumentError("snippet: a marker holds a NUL byte");
    }
  }
  int previous_end = 0;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const TokenSpan& token = tokens[i];
    if (token.start < previous_end || token.end < token.start ||
        static_cast<size_t>(token.end) > text.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("snippet: token ", i, " [", token.start, ", ", token.end,
                       ") is outside the text or before the token before it"));
    }
    previous_end = token.end;
  }
  const PhraseInstance* previous = nullptr;
  for (const PhraseInstance& instance : instances) {
    if (instance.phrase < 0 || instance.phrase >= phrase_count) {
      return absl::InvalidArgumentError(
          absl::StrCat("snippet: phrase index ", instance.phrase,
                       " is outside [0, ", phrase_count, ")"));
    }
    if (instance.size < 1 || instance.position < 0 ||
        static_cast<int64_t>(instance.position) + instance.size >
            static_cast<int64_t>(tokens.size())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "snippet: instance of phrase ", instance.phrase, " at position ",
          instance.position, " of size ", instance.size,
          " is outside the column's ", tokens.size(), " tokens"));
    }
    if (previous != nullptr && (instance.position < previous->position ||
                                (instance.position == previous->position &&
                                 instance.phrase <= previous->phrase))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "snippet: instance of phrase ", instance.phrase, " at position ",
          instance.position, " is out of xInst() order"));
    }
    previous = &instance;
  }
  return absl::OkStatus();
}

// (Debian's Abseil has its own string_view, which std::string does not
// take.)
void Append(absl::string_view piece, std::string& out) {
  out.append(piece.data(), piece.size());
}

// Appends text[from, to). FTS5 appends each piece with "%.*s", which stops
// at a NUL byte: the rest of that piece is lost, later pieces are not.
void AppendText(absl::string_view text, int from, int to, std::string& out) {
  absl::string_view piece = text.substr(from, to - from);
  Append(piece.substr(0, piece.find('\0')), out);
}

// Positions of the tokens that start a sentence, ascending; 0 first.
std::vector<int> SentenceStarts(absl::string_view text,
                                absl::Span<const TokenSpan> tokens) {
  std::vector<int> starts;
  if (tokens.empty()) return starts;
  starts.push_back(0);
  for (size_t position = 1; position < tokens.size(); ++position) {
    // FTS5 wants at least one blank between the stop and the word: "end.
    // Next" starts a sentence, "3.5 mg" and "end.)Next" do not.
    int i = tokens[position].start - 1;
    while (i >= 0 && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' ||
                      text[i] == '\r')) {
      --i;
    }
    if (i != tokens[position].start - 1 && i >= 0 &&
        (text[i] == '.' || text[i] == ':')) {
      starts.push_back(static_cast<int>(position));
    }
  }
  return starts;
}

// Scores a window of candidate positions for one snippet() call. `seen_in_`
// holds, per phrase, the last window that counted it, so that no array has
// to be cleared between windows.
class WindowScorer {
 public:
  WindowScorer(absl::Span<const PhraseInstance> instances, int phrase_count,
               int max_tokens, int column_size)
      : instances_(instances),
        max_tokens_(max_tokens),
        column_size_(column_size),
        seen_in_(phrase_count, -1) {}

  struct Window {
    int score = 0;
    int start = 0;  // Where FTS5 would move the window to centre it.
  };

  // The window of max_tokens tokens from `start`. `from` is an index into
  // the instances at or before the first that starts at or after `start`.
  Window Score(int start, size_t from) {
    ++window_;
    const int64_t end = static_cast<int64_t>(start) + max_tokens_;
    int score = 0;
    int first = -1;
    int last_end = 0;
    // Instances are in position order, so those inside the window are
    // consecutive.
    for (size_t i = from; i < instances_.size(); ++i) {
      const PhraseInstance& instance = instances_[i];
      if (instance.position < start) continue;
      if (instance.position >= end) break;
      int& seen = seen_in_[instance.phrase];
      score += seen == window_ ? kRepeatedInstanceScore
                               : kFirstInstanceOfPhraseScore;
      seen = window_;
      if (first < 0) first = instance.position;
      // The end of the last instance in order, not the furthest end: FTS5
      // centres on that.
      last_end = instance.position + instance.size;
    }
    // FTS5 computes this in C int arithmetic; a span longer than the window
    // makes the quotient negative, and C division truncates towards zero.
    int64_t centred = first - (max_tokens_ - (last_end - first)) / 2;
    if (centred + max_tokens_ > column_size_) {
      centred = column_size_ - max_tokens_;
    }
    if (centred < 0) centred = 0;
    return {score, static_cast<int>(centred)};
  }

 private:
  absl::Span<const PhraseInstance> instances_;
  const int max_tokens_;
  const int column_size_;
  std::vector<int> seen_in_;
  int window_ = 0;
};

// Coalesced phrase instances: runs of instances that share tokens, as
// FTS5's highlighting sees them. `last` is inclusive; -1 when done.
class RunIterator {
 public:
  explicit RunIterator(absl::Span<const PhraseInstance> instances)
      : instances_(instances) {
    Next();
  }

  int first() const { return first_; }
  int last() const { return last_; }

  void Next() {
    first_ = -1;
    last_ = -1;
    while (next_ < instances_.size()) {
      const PhraseInstance& instance = instances_[next_];
      const int last = instance.position + instance.size - 1;
      if (first_ < 0) {
        first_ = instance.position;
        last_ = last;
      } else if (instance.position <= last_) {
        last_ = std::max(last_, last);
      } else {
        break;
      }
      ++next_;
    }
  }

 private:
  absl::Span<const PhraseInstance> instances_;
  size_t next_ = 0;
  int first_ = -1;
  int last_ = -1;
};

// Where FTS5 puts the window of `max_tokens` tokens (steps 1-3 in the
// header): at the best-scoring candidate, the earlier on a tie; at token 0
// when no instance scores.
int ChooseWindow(absl::string_view text, absl::Span<const TokenSpan> tokens,
                 absl::Span<const PhraseInstance> instances, int phrase_count,
                 int max_tokens) {
  const int column_size = static_cast<int>(tokens.size());
  int best_score = 0;
  int best_start = 0;
  WindowScorer scorer(instances, phrase_count, max_tokens, column_size);
  // Sentence starts matter only when the window cannot hold the column.
  const std::vector<int> sentence_starts = column_size > max_tokens
                                               ? SentenceStarts(text, tokens)
                                               : std::vector<int>();
  // The first instance at or after the sentence start being scored: the
  // instances and their sentence starts both ascend.
  size_t sentence_from = 0;
  // The first instance at this one's position: two phrases can start on
  // one token, and both count.
  size_t window_from = 0;
  for (size_t i = 0; i < instances.size(); ++i) {
    const int position = instances[i].position;
    while (instances[window_from].position < position) ++window_from;
    const WindowScorer::Window window = scorer.Score(position, window_from);
    if (window.score > best_score) {
      best_score = window.score;
      best_start = window.start;
    }
    if (sentence_starts.empty()) continue;
    // The sentence that holds the instance; a sentence starting at the
    // instance itself is not a second candidate.
    const int sentence = *(std::upper_bound(sentence_starts.begin(),
                                            sentence_starts.end(), position) -
                           1);
    if (sentence >= position) continue;
    while (instances[sentence_from].position < sentence) ++sentence_from;
    const int score =
        scorer.Score(sentence, sentence_from).score +
        (sentence == 0 ? kFirstSentenceBonus : kLaterSentenceBonus);
    if (score > best_score) {
      best_score = score;
      best_start = sentence;  // Not centred, unlike the window above.
    }
  }
  return best_start;
}

// The text of the window of options.max_tokens tokens from token `start`,
// its runs marked (steps 4-5 in the header). FTS5 does this in a tokenizer
// callback over the whole text; the branches below keep its order of
// checks, because a run can start and end on one token and the window's
// end can fall on that token too.
std::string CopyWindow(absl::string_view text,
                       absl::Span<const TokenSpan> tokens,
                       absl::Span<const PhraseInstance> instances, int start,
                       const SnippetOptions& options) {
  const int column_size = static_cast<int>(tokens.size());
  const int range_first = start;
  const int range_last = start + options.max_tokens - 1;
  // FTS5 reads range_last == 0 as "no range" (max_tokens == 1 at token 0):
  // every token is visited, and the text after the last run is never
  // copied.
  const bool ranged = range_last > 0;
  std::string out;
  out.reserve(
      std::min(text.size(), static_cast<size_t>(options.max_tokens) * 16) +
      options.ellipsis.size() * 2 +
      (options.open.size() + options.close.size()) * 4);
  if (start > 0) Append(options.ellipsis, out);
  // A run that starts before the window is dropped whole, even its tokens
  // inside the window: FTS5 skips its iterator past them.
  RunIterator run(instances);
  while (run.first() >= 0 && run.first() < range_first) run.Next();

  int copied = 0;  // Bytes of `text` consumed so far.
  const int visit_first = ranged ? range_first : 0;
  const int visit_last =
      ranged ? std::min(range_last, column_size - 1) : column_size - 1;
  for (int position = visit_first; position <= visit_last; ++position) {
    const TokenSpan& token = tokens[position];
    if (ranged && range_first > 0 && position == range_first) {
      copied = token.start;
    }
    if (position == run.first()) {
      AppendText(text, copied, token.start, out);
      Append(options.open, out);
      copied = token.start;
    }
    if (position == run.last()) {
      AppendText(text, copied, token.end, out);
      Append(options.close, out);
      copied = token.end;
      run.Next();
    }
    if (ranged && position == range_last) {
      AppendText(text, copied, token.end, out);
      copied = token.end;
      if (position >= run.first() && position < run.last()) {
        Append(options.close, out);
      }
    }
  }
  if (range_last >= column_size - 1) {
    AppendText(text, copied, static_cast<int>(text.size()), out);
  } else {
    Append(options.ellipsis, out);
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> Snippet(absl::string_view text,
                                    absl::Span<const TokenSpan> tokens,
                                    absl::Span<const PhraseInstance> instances,
                                    int phrase_count,
                                    const SnippetOptions& options) {
  if (absl::Status status =
          Validate(text, tokens, instances, phrase_count, options);
      !status.ok()) {
    return status;
  }
  const int start =
      ChooseWindow(text, tokens, instances, phrase_count, options.max_tokens);
  return CopyWindow(text, tokens, instances, start, options);
}

namespace {

template <typename Term>
std::vector<PhraseInstance> FindInstances(
    absl::Span<const Term> column_terms,
    absl::Span<const std::vector<Term>> phrases) {
  // The phrases by first term, then index: at each position only the
  // phrases starting with its term are tried, in index order.
  std::vector<std::pair<const Term*, int>> by_first;
  by_first.reserve(phrases.size());
  for (size_t phrase = 0; phrase < phrases.size(); ++phrase) {
    if (!phrases[phrase].empty()) {
      by_first.emplace_back(&phrases[phrase][0], static_cast<int>(phrase));
    }
  }
  std::sort(by_first.begin(), by_first.end(), [](const auto& a, const auto& b) {
    return *a.first < *b.first || (*a.first == *b.first && a.second < b.second);
  });
  std::vector<PhraseInstance> instances;
  // Position-major, then phrase index: that is xInst() order already.
  for (size_t position = 0; position < column_terms.size(); ++position) {
    const Term& term = column_terms[position];
    auto it = std::lower_bound(by_first.begin(), by_first.end(), term,
                               [](const std::pair<const Term*, int>& entry,
                                  const Term& t) { return *entry.first < t; });
    for (; it != by_first.end() && *it->first == term; ++it) {
      const std::vector<Term>& terms = phrases[static_cast<size_t>(it->second)];
      if (terms.size() > column_terms.size() - position) continue;
      if (std::equal(terms.begin() + 1, terms.end(),
                     column_terms.begin() + position + 1)) {
        instances.push_back({.phrase = it->second,
                             .position = static_cast<int>(position),
                             .size = static_cast<int>(terms.size())});
      }
    }
  }
  return instances;
}

}  // namespace

std::vector<PhraseInstance> FindPhraseInstances(
    absl::Span<const std::string> column_terms,
    absl::Span<const std::vector<std::string>> phrases) {
  return FindInstances(column_terms, phrases);
}

std::vector<PhraseInstance> FindPhraseInstances(
    absl::Span<const uint32_t> column_terms,
    absl::Span<const std::vector<uint32_t>> phrases) {
  return FindInstances(column_terms, phrases);
}

}  // namespace citekb
