#include "service/answer/passage_reading.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "indexer/base/status_macros.h"
#include "service/answer/anaphora.h"

namespace citekb {
namespace {

bool IsOneOf(absl::string_view term,
             std::initializer_list<absl::string_view> set) {
  return std::find(set.begin(), set.end(), term) != set.end();
}

bool IsDigits(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
}

// "400mg" as one term: digits, then a unit.
bool IsNumberWithUnit(absl::string_view term,
                      std::initializer_list<absl::string_view> units) {
  size_t digits = 0;
  while (digits < term.size() &&
         absl::ascii_isdigit(static_cast<unsigned char>(term[digits]))) {
    ++digits;
  }
  return digits > 0 && digits < term.size() &&
         IsOneOf(term.substr(digits), units);
}

// Whether `terms` state an amount in one of `units`: "5000 iu", "400mg".
bool StatesAmount(const std::vector<std::string>& terms,
                  std::initializer_list<absl::string_view> units) {
  for (size_t i = 0; i < terms.size(); ++i) {
    if (IsNumberWithUnit(terms[i], units)) return true;
    if (i + 1 < terms.size() && IsDigits(terms[i]) &&
        IsOneOf(terms[i + 1], units)) {
      return true;
    }
  }
  return false;
}

size_t Cost(const PassageReading& reading) {
  size_t bytes = sizeof(reading);
  for (const SentenceReading& s : reading.sentences) {
    bytes += sizeof(s) + s.concepts.size() * sizeof(int) +
             s.answers.size() * sizeof(Intent);
    for (const std::string& term : s.terms) bytes += 32 + term.size();
  }
  for (const TableRow::Cell& cell : reading.row.cells)
    bytes += cell.header.size() + cell.value.size();
  return bytes + reading.row.label.size();
}

}  // namespace

bool SentenceReading::Answers(Intent intent) const {
  return std::find(answers.begin(), answers.end(), intent) != answers.end();
}

bool SentenceReading::Mentions(int concept_id) const {
  return std::find(concepts.begin(), concepts.end(), concept_id) !=
         concepts.end();
}

absl::StatusOr<SentenceReading> PassageReader::ReadSentence(
    absl::string_view text) const {
  SentenceReading reading;
  CITEKB_ASSIGN_OR_RETURN(const Tokens tokens, lexicon_.Tokenize(text));
  const std::vector<std::string>& terms = tokens.terms;
  for (const Lexicon::ConceptMatch& m : lexicon_.Concepts(tokens)) {
    if (!reading.Mentions(m.value)) reading.concepts.push_back(m.value);
  }
  for (const Lexicon::IntentMatch& m : lexicon_.AnswerCues(terms)) {
    if (!reading.Answers(m.value)) reading.answers.push_back(m.value);
  }
  reading.terms.insert(terms.begin(), terms.end());
  // Units of a dose, and of a blood level, as FTS5 terms.
  reading.states_dose =
      StatesAmount(terms, {"iu", "mcg", "mg", "ug", "µg", "μg", "g", "unit"});
  reading.states_level = StatesAmount(terms, {"ng", "nmol"});
  // FTS5's Porter stems of "every" and of the units of time.
  reading.states_interval =
      reading.terms.contains("everi") &&
      std::any_of(terms.begin(), terms.end(), [](const std::string& t) {
        return t == "dai" || t == "week" || t == "month" || t == "year";
      });
  reading.opens_on_anaphor = OpensOnAnaphor(text);
  return reading;
}

absl::StatusOr<std::shared_ptr<const PassageReading>> PassageReader::Read(
    const StoredPassage& passage) const {
  if (auto cached = cache_.Find(passage.rowid)) return cached;
  auto reading = std::make_shared<PassageReading>();
  std::vector<std::string> texts;
  for (const StoredSentence& sentence : passage.sentences) {
    CITEKB_ASSIGN_OR_RETURN(SentenceReading s, ReadSentence(sentence.text));
    reading->sentences.push_back(std::move(s));
    texts.push_back(sentence.text);
  }
  if (passage.kind == StoredPassage::Kind::kTableRow) {
    reading->row = ReadTableRow(texts, passage.table_headers);
  }
  const size_t cost = Cost(*reading);
  return cache_.Insert(passage.rowid, std::move(reading), cost);
}

}  // namespace citekb
