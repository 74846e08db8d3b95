#include "tests/eval/answer_judge.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "indexer/base/status_macros.h"
#include "indexer/format/sqlite.h"

namespace citekb::eval {
namespace {

// Words that stand for something named earlier.
bool IsAnaphor(absl::string_view word) {
  static const auto* const kAnaphors = new absl::flat_hash_set<std::string>{
      "it", "its", "this", "these", "they", "them", "their", "those", "such"};
  return kAnaphors->contains(word);
}

std::vector<std::string> LowerWords(absl::string_view text) {
  std::vector<std::string> words;
  for (absl::string_view w : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    std::string word;
    for (char c : w) {
      if (absl::ascii_isalnum(static_cast<unsigned char>(c)))
        word.push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
    }
    words.push_back(word);
  }
  return words;
}

// Every sentence with its passage, kind, section order and sources; a table
// cell's header, to tell its value from the row label and header.
constexpr char kSentences[] = R"sql(
  SELECT p.public_id, p.kind, p.section_id, st.ordinal, st.text,
         (SELECT group_concat(source_id, ' ') FROM sentence_sources
          WHERE sentence_id = st.id),
         (SELECT header FROM table_columns tc
          WHERE tc.table_id = p.table_id AND tc.ordinal = st.ordinal + 1)
  FROM sentence_texts st JOIN passages p ON p.id = st.passage_id
  ORDER BY p.id, st.ordinal)sql";

// What an answer must contain to quote a table cell: its value.
std::string CellValue(const std::string& text, absl::string_view header) {
  const size_t at =
      header.empty() ? std::string::npos : text.find(std::string(header));
  if (at == std::string::npos) return text;
  return std::string(absl::StripLeadingAsciiWhitespace(
      absl::string_view(text).substr(at + header.size())));
}

}  // namespace

bool OpensOnAnaphor(const std::string& sentence) {
  const std::vector<std::string> words = LowerWords(sentence);
  // "This floods ...", "Without it, ...", "Only then can it ..."
  for (size_t i = 0; i < words.size() && i < 4; ++i) {
    if (IsAnaphor(words[i])) return true;
  }
  // "Without a control mechanism, this calcium ..."
  const size_t comma = sentence.find(", ");
  if (comma != std::string::npos && comma < 45) {
    const std::vector<std::string> after =
        LowerWords(absl::string_view(sentence).substr(comma + 2));
    if (!after.empty() && IsAnaphor(after[0])) return true;
  }
  return false;
}

absl::StatusOr<AnswerJudge> AnswerJudge::Open(const std::string& index_path) {
  CITEKB_ASSIGN_OR_RETURN(Database db,
                          OpenDatabase(index_path, SQLITE_OPEN_READONLY));
  CITEKB_ASSIGN_OR_RETURN(Statement query,
                          Statement::Prepare(db.get(), kSentences));
  AnswerJudge judge;
  int64_t last_paragraph_section = -1;
  int last_paragraph_sentence = -1;
  while (true) {
    CITEKB_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) break;
    IndexSentence s;
    s.id = static_cast<int>(judge.sentences_.size());
    s.passage_id = std::string(query.ColumnText(0));
    const std::string kind(query.ColumnText(1));
    const int64_t section = query.ColumnInt(2);
    const int64_t ordinal = query.ColumnInt(3);
    s.text = std::string(query.ColumnText(4));
    for (absl::string_view id :
         absl::StrSplit(query.ColumnText(5), ' ', absl::SkipEmpty()))
      s.sources.emplace_back(id);
    s.table_row = kind == "table_row";
    s.quoted_text =
        s.table_row ? CellValue(s.text, query.ColumnText(6)) : s.text;
    if (kind == "paragraph") {
      if (section == last_paragraph_section) {
        s.predecessor = last_paragraph_sentence;
      }
      last_paragraph_section = section;
      last_paragraph_sentence = s.id;
    } else if (kind == "faq" && ordinal > 1) {
      s.predecessor = s.id - 1;
    }
    s.needs_antecedent = s.predecessor >= 0 && OpensOnAnaphor(s.text);
    judge.by_passage_[s.passage_id].push_back(s.id);
    judge.sentences_.push_back(std::move(s));
  }
  return judge;
}

absl::StatusOr<std::vector<int>> AnswerJudge::Find(
    const std::string& needle) const {
  std::vector<int> found = FindAll({needle});
  if (found.empty()) {
    return absl::NotFoundError(
        absl::StrCat("no sentence of the index contains \"", needle, "\""));
  }
  return found;
}

std::vector<int> AnswerJudge::FindAll(
    const std::vector<std::string>& needles) const {
  std::vector<int> found;
  for (const IndexSentence& s : sentences_) {
    for (const std::string& needle : needles) {
      if (absl::StrContains(s.text, needle)) {
        found.push_back(s.id);
        break;
      }
    }
  }
  return found;
}

std::vector<int> AnswerJudge::Quoted(
    const v1::AnswerSentence& answer_sentence) const {
  std::vector<int> quoted;
  auto passage = by_passage_.find(answer_sentence.passage_id());
  if (passage == by_passage_.end()) return quoted;
  for (int id : passage->second) {
    if (absl::StrContains(answer_sentence.text(), sentences_[id].quoted_text))
      quoted.push_back(id);
  }
  return quoted;
}

Verdict AnswerJudge::Judge(const EvalCase& c,
                           const v1::AskResponse& response) const {
  Verdict v;
  v.answered = response.answered();
  if (!v.answered) return v;
  const std::vector<int> expected = FindAll(c.expect);
  const std::vector<int> also = FindAll(c.also);
  auto contains = [](const std::vector<int>& ids, int id) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  };
  absl::flat_hash_set<std::string> cited_by_sentences;
  absl::flat_hash_set<int> quoted_anywhere;
  std::vector<int> previous;
  bool seen_row = false;
  v.answer_sentences = response.answer_sentences_size();
  for (int i = 0; i < response.answer_sentences_size(); ++i) {
    const v1::AnswerSentence& sentence = response.answer_sentences(i);
    for (const std::string& id : sentence.citation_ids())
      cited_by_sentences.insert(id);
    const std::vector<int> quoted = Quoted(sentence);
    const bool first_row =
        !seen_row && !quoted.empty() && sentences_[quoted[0]].table_row;
    seen_row = seen_row || first_row;
    bool related = false;
    for (int id : quoted) {
      quoted_anywhere.insert(id);
      const bool is_expected = contains(expected, id);
      related = related || is_expected || contains(also, id);
      if (is_expected) v.hit = true;
      // The lead: the first sentence, or the first table row (a dose
      // question may open on a finding of the stack evaluation).
      if (is_expected && (i == 0 || (first_row && sentences_[id].table_row)))
        v.hit_at_1 = true;
      const IndexSentence& s = sentences_[id];
      if (s.needs_antecedent && !contains(quoted, s.predecessor) &&
          !contains(previous, s.predecessor)) {
        v.spliced.push_back(s.text);
      }
    }
    // Findings of a stack evaluation quote no sentence verbatim; they are
    // judged by the sentences around them.
    if (!related && !quoted.empty()) ++v.unrelated_sentences;
    previous = quoted;
  }
  // `also` texts name facts, not sentences: count each text once.
  v.also_expected = static_cast<int>(c.also.size());
  v.also_found = 0;
  for (const std::string& text : c.also) {
    for (int id : FindAll({text})) {
      if (quoted_anywhere.contains(id)) {
        ++v.also_found;
        break;
      }
    }
  }
  absl::flat_hash_set<std::string> shown;
  for (const v1::Citation& citation : response.citations()) {
    shown.insert(citation.id());
    ++v.shown_sources;
    v.shown_cited += cited_by_sentences.contains(citation.id());
  }
  for (const std::string& source : c.sources) {
    ++v.sources_expected;
    v.sources_found += shown.contains(source);
  }
  return v;
}

}  // namespace citekb::eval
