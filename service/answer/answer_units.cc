#include "service/answer/answer_units.h"

#include <optional>

#include "indexer/base/status_macros.h"

namespace citekb {
namespace {

using Kind = StoredPassage::Kind;

absl::StatusOr<Quote> QuoteOf(std::shared_ptr<const StoredPassage> passage,
                              const PassageReader& reader,
                              std::vector<int> sentences) {
  CITEKB_ASSIGN_OR_RETURN(std::shared_ptr<const PassageReading> reading,
                          reader.Read(*passage));
  return Quote{std::move(passage), std::move(reading), std::move(sentences)};
}

// The last sentence of the paragraph before `passage` in its section, if
// there is one (tables between them are skipped).
absl::StatusOr<std::optional<Quote>> PreviousParagraphEnd(
    const StoredPassage& passage, const UnitSources& sources) {
  const PassageRow here = sources.searcher.passage_row(passage.rowid);
  for (int64_t rowid = passage.rowid - 1; rowid > 0; --rowid) {
    const PassageRow row = sources.searcher.passage_row(rowid);
    if (row.section_rowid != here.section_rowid) break;
    if (row.kind != Kind::kParagraph) continue;
    CITEKB_ASSIGN_OR_RETURN(std::shared_ptr<const StoredPassage> previous,
                            sources.store.Passage(rowid));
    if (previous->sentences.empty()) break;
    const int last = static_cast<int>(previous->sentences.size()) - 1;
    CITEKB_ASSIGN_OR_RETURN(
        Quote quote, QuoteOf(std::move(previous), sources.reader, {last}));
    return std::optional<Quote>(std::move(quote));
  }
  return std::optional<Quote>();
}

// The quotes sentence `index` of `quote`'s passage leans on, nearest last,
// followed by the sentence itself; nullopt when they reach further back
// than kMaxAntecedents.
absl::StatusOr<std::optional<std::vector<Quote>>> WithAntecedents(
    Quote quote, const UnitSources& sources) {
  std::vector<Quote> chain = {quote};
  int first = quote.sentences[0];
  const int lowest = quote.passage->kind == Kind::kFaq ? 1 : 0;
  while (chain.front().reading->sentences[first].opens_on_anaphor) {
    if (static_cast<int>(chain.size()) > kMaxAntecedents) {
      return std::optional<std::vector<Quote>>();
    }
    const Quote& front = chain.front();
    if (first > lowest) {
      --first;
      chain.insert(chain.begin(), Quote{front.passage, front.reading, {first}});
      continue;
    }
    if (front.passage->kind != Kind::kParagraph) break;
    CITEKB_ASSIGN_OR_RETURN(std::optional<Quote> previous,
                            PreviousParagraphEnd(*front.passage, sources));
    if (!previous.has_value()) break;  // A section opens on it.
    first = previous->sentences[0];
    chain.insert(chain.begin(), *std::move(previous));
  }
  return std::optional<std::vector<Quote>>(std::move(chain));
}

// A unit per sentence of a paragraph or FAQ answer, each with what it
// leans on.
absl::Status AddSentenceUnits(const PassageHit& hit, int rank,
                              const UnitSources& sources,
                              std::vector<AnswerUnit>& units) {
  const int first = hit.stored->kind == Kind::kFaq ? 1 : 0;
  for (int i = first; i < static_cast<int>(hit.stored->sentences.size()); ++i) {
    CITEKB_ASSIGN_OR_RETURN(Quote quote,
                            QuoteOf(hit.stored, sources.reader, {i}));
    CITEKB_ASSIGN_OR_RETURN(std::optional<std::vector<Quote>> chain,
                            WithAntecedents(std::move(quote), sources));
    if (!chain.has_value()) continue;
    units.push_back({.kind = AnswerUnit::Kind::kSentence,
                     .quotes = *std::move(chain),
                     .passage_rank = rank,
                     .bm25 = hit.score});
  }
  return absl::OkStatus();
}

absl::Status AddFaqAnswer(const PassageHit& hit, int rank,
                          const UnitSources& sources,
                          std::vector<AnswerUnit>& units) {
  if (hit.stored->incomplete_faq || hit.stored->sentences.size() < 2) {
    return absl::OkStatus();
  }
  AnswerUnit unit{.kind = AnswerUnit::Kind::kFaqAnswer,
                  .passage_rank = rank,
                  .bm25 = hit.score};
  for (int i = 1; i < static_cast<int>(hit.stored->sentences.size()); ++i) {
    CITEKB_ASSIGN_OR_RETURN(Quote quote,
                            QuoteOf(hit.stored, sources.reader, {i}));
    unit.quotes.push_back(std::move(quote));
  }
  units.push_back(std::move(unit));
  return AddSentenceUnits(hit, rank, sources, units);
}

absl::Status AddTableRow(const PassageHit& hit, int rank,
                         const UnitSources& sources,
                         std::vector<AnswerUnit>& units) {
  std::vector<int> cells;
  for (int i = 0; i < static_cast<int>(hit.stored->sentences.size()); ++i)
    cells.push_back(i);
  CITEKB_ASSIGN_OR_RETURN(Quote quote,
                          QuoteOf(hit.stored, sources.reader, cells));
  units.push_back({.kind = AnswerUnit::Kind::kTableRow,
                   .quotes = {std::move(quote)},
                   .passage_rank = rank,
                   .bm25 = hit.score});
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<AnswerUnit>> BuildUnits(
    const std::vector<PassageHit>& hits, const UnitSources& sources) {
  std::vector<AnswerUnit> units;
  for (int rank = 0; rank < static_cast<int>(hits.size()); ++rank) {
    const PassageHit& hit = hits[rank];
    switch (hit.stored->kind) {
      case Kind::kTableRow:
        CITEKB_RETURN_IF_ERROR(AddTableRow(hit, rank, sources, units));
        break;
      case Kind::kFaq:
        CITEKB_RETURN_IF_ERROR(AddFaqAnswer(hit, rank, sources, units));
        break;
      default:
        CITEKB_RETURN_IF_ERROR(AddSentenceUnits(hit, rank, sources, units));
    }
  }
  return units;
}

std::vector<const SentenceReading*> Readings(const AnswerUnit& unit) {
  std::vector<const SentenceReading*> readings;
  for (const Quote& quote : unit.quotes) {
    for (int i : quote.sentences)
      readings.push_back(&quote.reading->sentences[i]);
  }
  return readings;
}

}  // namespace citekb
