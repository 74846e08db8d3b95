#include "service/answer/answer_composer.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "indexer/base/status_macros.h"
#include "indexer/format/index_schema.h"
#include "service/knowledge_base/api_messages.h"
#include "service/knowledge_base/knowledge_base.h"  // Request limits.
#include "service/search/query_analyzer.h"

namespace citekb {
namespace {

namespace v1 = ::citekb::v1;

constexpr int kCandidatePassages = 12;
constexpr int kCoveragePassages = 3;
constexpr int kMaxAnswerSentences = 4;
constexpr double kTableRowWeight = 0.7;
constexpr double kSafetyReferenceWeight = 0.5;

// Words that ask whether something is safe: only then do the safety
// references (short, dense facts that BM25 ranks high for any vitamin word)
// compete with the articles on an equal footing.
bool AsksAboutSafety(absl::string_view lower_question) {
  for (const char* word :
       {"safe", "limit", "upper", "maximum", "max ", "toxic", "too much",
        "overdose", "danger", "warfarin", "coumadin", "anticoagulant",
        "blood thinner", "interact", "concern", "risk"}) {
    if (absl::StrContains(lower_question, word)) return true;
  }
  return false;
}

// True when `question` leans on the conversation: few content words of its
// own, or an opening like "and ..." / "what about ...", or a pronoun.
bool IsFollowUp(absl::string_view question, const AnalyzedQuery& own) {
  const std::string lower = absl::AsciiStrToLower(question);
  for (const char* opening :
       {"and ", "what about", "how about", "also ", "so ", "then "}) {
    if (absl::StartsWith(lower, opening)) return true;
  }
  if (own.groups.size() <= 1) return true;
  for (const char* pronoun : {" it ", " it?", " that ", " that?", " them ",
                              " them?", " they ", " this ", " those "}) {
    if (absl::StrContains(absl::StrCat(" ", lower), pronoun) &&
        own.groups.size() <= 3) {
      return true;
    }
  }
  return false;
}

// Does `text` (lower-case) contain a word starting with the stem of any of
// the group's alternatives? A crude stemmer is enough here: it only decides
// which sentence of an already-retrieved passage to quote.
bool Mentions(const std::string& lower_text, const TermGroup& group) {
  for (const std::string& alternative : group.alternatives) {
    const size_t keep = alternative.size() <= 4
                            ? alternative.size()
                            : std::max<size_t>(4, alternative.size() - 2);
    const std::string stem = alternative.substr(0, keep);
    size_t at = lower_text.find(stem);
    while (at != std::string::npos) {
      if (at == 0 || !absl::ascii_isalnum(
                         static_cast<unsigned char>(lower_text[at - 1]))) {
        return true;
      }
      at = lower_text.find(stem, at + 1);
    }
  }
  return false;
}

struct Candidate {
  PassageHit hit;
  bool faq_boosted = false;
};

struct ChosenSentence {
  size_t passage_rank;
  size_t ordinal;
  std::string text;
  std::vector<std::string> source_ids;
  bool anecdotal;
  std::string passage_id;
};

// Table-row sentences ("Dosage 100–200 mcg") have no closing punctuation.
std::string WithFinalPeriod(std::string text) {
  if (!text.empty() && !absl::StrContains(".!?\"'", text.back()))
    text.push_back('.');
  return text;
}

// What the answer is about: the question's words (with the earlier turn's,
// for a follow-up), how the question reads once resolved, and how much each
// word says (BM25's idf over all passages).
struct Question {
  AnalyzedQuery query;
  std::string resolved;
  absl::flat_hash_map<std::string, double> idf;
  double total_weight = 0;
};

// Step 1: a follow-up borrows the words of the latest earlier user turn
// that has any.
void ResolveFollowUp(const v1::AskRequest& request, Question& question) {
  question.resolved = request.question();
  if (!IsFollowUp(request.question(), question.query)) return;
  for (int i = request.history_size() - 1; i >= 0; --i) {
    const v1::ConversationTurn& turn = request.history(i);
    if (turn.role() == v1::ROLE_ASSISTANT) continue;
    AnalyzedQuery earlier = AnalyzeQuery(turn.text());
    if (earlier.empty()) continue;
    absl::flat_hash_set<std::string> have;
    for (const TermGroup& g : question.query.groups) have.insert(g.word);
    for (TermGroup& g : earlier.groups) {
      if (have.insert(g.word).second &&
          static_cast<int>(question.query.groups.size()) < kMaxQueryTerms) {
        question.query.groups.push_back(std::move(g));
      }
    }
    question.resolved = absl::StrCat(request.question(),
                                     " (following up on: ", turn.text(), ")");
    return;
  }
}

// Step 2: each word also matches its closest indexed spelling, and is
// weighted by its idf.
absl::StatusOr<Question> UnderstandQuestion(const Searcher& searcher,
                                            const v1::AskRequest& request) {
  Question question;
  question.query = AnalyzeQuery(request.question());
  ResolveFollowUp(request, question);
  for (TermGroup& group : question.query.groups) {
    std::string corrected = searcher.CorrectSpelling(group.word);
    if (!corrected.empty()) group.alternatives.push_back(std::move(corrected));
  }
  const double n = static_cast<double>(searcher.passage_count());
  for (const TermGroup& group : question.query.groups) {
    CITEKB_ASSIGN_OR_RETURN(int64_t df,
                            searcher.CountMatching(group.alternatives));
    const double weight = std::log(1.0 + (n - df + 0.5) / (df + 0.5));
    question.idf[group.word] = weight;
    question.total_weight += weight;
  }
  return question;
}

// A table row is short, so BM25 ranks it high for any word it has; it
// answers "how much" questions, while prose answers "why" and "how". The
// safety references are weighed down unless the question asks about safety.
void Reweigh(const Question& question, PassageHit& hit) {
  const std::string lower_resolved = absl::AsciiStrToLower(question.resolved);
  const bool asks_amount = absl::StrContains(lower_resolved, "how much") ||
                           absl::StrContains(lower_resolved, "how many");
  if (hit.stored->article_id == kSafetyReferencesArticleId &&
      !AsksAboutSafety(lower_resolved)) {
    hit.score *= kSafetyReferenceWeight;
  }
  if (hit.stored->kind != StoredPassage::Kind::kTableRow || asks_amount) return;
  bool mentions_amount = false;
  for (const TermGroup& g : question.query.groups) {
    mentions_amount = mentions_amount || g.word == "dose" ||
                      g.word == "dosage" || g.word == "doses" ||
                      g.word == "mcg" || g.word == "iu" || g.word == "mg" ||
                      g.word == "amount";
  }
  if (!mentions_amount) hit.score *= kTableRowWeight;
}

// An FAQ whose question says what the user asked is the best answer: it
// moves to the top when its question has most of the question's weight.
absl::Status PromoteMatchingFaq(const Searcher& searcher,
                                const PhraseQuery& phrase_query,
                                const Question& question,
                                std::vector<Candidate>& candidates) {
  CITEKB_ASSIGN_OR_RETURN(std::vector<FaqHit> faqs,
                          searcher.MatchFaqs(phrase_query, 1));
  if (faqs.empty() || faqs[0].faq->answer_incomplete) return absl::OkStatus();
  const std::string faq_question = absl::AsciiStrToLower(faqs[0].faq->question);
  double covered = 0;
  for (const TermGroup& g : question.query.groups) {
    if (Mentions(faq_question, g)) covered += question.idf.at(g.word);
  }
  if (covered < 0.6 * question.total_weight) return absl::OkStatus();
  auto it = std::find_if(candidates.begin(), candidates.end(),
                         [&](const Candidate& c) {
                           return c.hit.rowid() == faqs[0].faq->passage_rowid;
                         });
  if (it != candidates.end()) {
    Candidate faq = std::move(*it);
    candidates.erase(it);
    faq.faq_boosted = true;
    candidates.insert(candidates.begin(), std::move(faq));
  }
  return absl::OkStatus();
}

// Step 3: the best passages, FAQ entries whose answer was cut off left out.
absl::StatusOr<std::vector<Candidate>> Retrieve(const Searcher& searcher,
                                                const PhraseQuery& phrase_query,
                                                const Question& question) {
  std::vector<Candidate> candidates;
  if (question.query.empty()) return candidates;
  CITEKB_ASSIGN_OR_RETURN(
      std::vector<PassageHit> hits,
      searcher.SearchPassages(phrase_query, {}, kCandidatePassages, 0, nullptr,
                              {.snippets = false, .phrases = true}));
  for (PassageHit& hit : hits) {
    if (hit.stored->incomplete_faq) continue;
    Reweigh(question, hit);
    candidates.push_back({std::move(hit), false});
  }
  std::stable_sort(
      candidates.begin(), candidates.end(),
      [](const auto& a, const auto& b) { return a.hit.score > b.hit.score; });
  CITEKB_RETURN_IF_ERROR(
      PromoteMatchingFaq(searcher, phrase_query, question, candidates));
  return candidates;
}

// Step 4: the idf-weighted share of the question's words that the best
// passages have. Which words a passage has comes with the ranking (one flag
// per phrase); a word is covered when a top passage has any of its
// alternatives.
double Coverage(const Question& question,
                const std::vector<Candidate>& candidates) {
  if (candidates.empty()) return 0;
  const std::vector<int> phrase_groups = question.query.PhraseGroups();
  std::vector<bool> has_group(question.query.groups.size(), false);
  for (size_t i = 0; i < candidates.size() && i < kCoveragePassages; ++i) {
    const std::string& flags = candidates[i].hit.phrases;
    for (size_t p = 0; p < flags.size() && p < phrase_groups.size(); ++p) {
      if (flags[p] != 0)
        has_group[static_cast<size_t>(phrase_groups[p])] = true;
    }
  }
  double covered_weight = 0;
  for (size_t g = 0; g < question.query.groups.size(); ++g) {
    if (has_group[g])
      covered_weight += question.idf.at(question.query.groups[g].word);
  }
  return question.total_weight > 0 ? covered_weight / question.total_weight : 0;
}

// Follow-up suggestions: FAQ questions with complete answers, the first
// ones of the corpus, at most 3, none whose passage the answer quotes. The
// answer quotes at most 3 passages, so the store's leading FAQs are always
// enough.
void SuggestFollowUps(const Store& store,
                      const absl::flat_hash_set<std::string>& quoted_passages,
                      v1::AskResponse& response) {
  static_assert(Store::kLeadingFaqs >= 3 + 3);
  for (const StoredFaq& faq : store.leading_faqs()) {
    if (!faq.answer_incomplete && !quoted_passages.contains(faq.passage_id) &&
        response.follow_ups_size() < 3) {
      response.add_follow_ups(faq.question);
    }
  }
}

void Refuse(const Store& store, v1::AskResponse& response) {
  response.set_answered(false);
  response.set_confidence(0);
  response.set_answer(
      "The knowledge base does not cover this question, so there is no "
      "sourced answer to give. Try one of the suggested questions.");
  SuggestFollowUps(store, {}, response);
}

// The sentences of one candidate passage, best-matching first (an FAQ's
// question is not among them).
std::vector<std::pair<double, size_t>> ScoreSentences(
    const Question& question, const Candidate& candidate) {
  const std::vector<StoredSentence>& sentences =
      candidate.hit.stored->sentences;
  std::vector<std::pair<double, size_t>> scored;
  for (size_t i = 0; i < sentences.size(); ++i) {
    if (candidate.hit.stored->kind == StoredPassage::Kind::kFaq && i == 0)
      continue;
    const std::string lower = absl::AsciiStrToLower(sentences[i].text);
    double score = 0;
    for (const TermGroup& g : question.query.groups) {
      if (Mentions(lower, g)) score += question.idf.at(g.word);
    }
    scored.emplace_back(score, i);
  }
  std::stable_sort(
      scored.begin(), scored.end(),
      [](const auto& a, const auto& b) { return a.first > b.first; });
  return scored;
}

// Quotes from the candidate at `rank`: the top passage gives up to three
// sentences (an FAQ answer reads best whole), the others their single best,
// if it matches at all. A table row's later cells keep the row's label.
void Quote(const Question& question, const Candidate& candidate, size_t rank,
           absl::flat_hash_set<std::string>& seen_text,
           std::vector<ChosenSentence>& chosen) {
  const std::vector<StoredSentence>& sentences =
      candidate.hit.stored->sentences;
  const bool table_row =
      candidate.hit.stored->kind == StoredPassage::Kind::kTableRow;
  const std::string row_key =
      table_row && !sentences.empty()
          ? sentences[0].text.substr(0, sentences[0].text.find(": ") + 2)
          : "";
  const size_t quota = rank == 0 ? 3 : 1;
  size_t taken = 0;
  for (const auto& [score, index] : ScoreSentences(question, candidate)) {
    if (taken == quota || chosen.size() == kMaxAnswerSentences) break;
    if (score <= 0 && !(rank == 0 && (candidate.faq_boosted || taken < 2)))
      break;
    std::string text = sentences[index].text;
    if (table_row && index > 0) text = absl::StrCat(row_key, text);
    if (!seen_text.insert(absl::AsciiStrToLower(text)).second) continue;
    chosen.push_back({rank, index, std::move(text), sentences[index].source_ids,
                      sentences[index].anecdotal, candidate.hit.stored->id});
    ++taken;
  }
}

// Step 5: 2-4 sentences from the best passages, duplicates removed, in
// passage then document order.
std::vector<ChosenSentence> ChooseSentences(
    const Question& question, const std::vector<Candidate>& candidates) {
  std::vector<ChosenSentence> chosen;
  absl::flat_hash_set<std::string> seen_text;
  const size_t passages_to_quote = std::min<size_t>(candidates.size(), 3);
  for (size_t rank = 0;
       rank < passages_to_quote && chosen.size() < kMaxAnswerSentences;
       ++rank) {
    Quote(question, candidates[rank], rank, seen_text, chosen);
  }
  std::sort(chosen.begin(), chosen.end(), [](const auto& a, const auto& b) {
    return std::tie(a.passage_rank, a.ordinal) <
           std::tie(b.passage_rank, b.ordinal);
  });
  return chosen;
}

// Step 6: the answer text and sentences, anecdotal ones labelled, and the
// sources they cite, in order of first citation.
absl::Status WriteAnswer(const Store& store,
                         const std::vector<ChosenSentence>& chosen,
                         v1::AskResponse& response) {
  std::vector<std::string> parts;
  std::vector<std::string> citation_order;
  absl::flat_hash_set<std::string> cited;
  for (const ChosenSentence& sentence : chosen) {
    const std::string text = WithFinalPeriod(sentence.text);
    parts.push_back(sentence.anecdotal ? absl::StrCat("(Anecdotal) ", text)
                                       : text);
    v1::AnswerSentence* out = response.add_answer_sentences();
    out->set_text(text);
    out->set_passage_id(sentence.passage_id);
    out->set_anecdotal(sentence.anecdotal);
    for (const std::string& id : sentence.source_ids) {
      out->add_citation_ids(id);
      if (cited.insert(id).second) citation_order.push_back(id);
    }
  }
  response.set_answer(absl::StrJoin(parts, " "));
  response.set_answered(true);
  for (const std::string& id : citation_order) {
    CITEKB_ASSIGN_OR_RETURN(std::shared_ptr<const StoredCitation> citation,
                            store.CitationById(id));
    *response.add_citations() = CitationMessage(*citation);
  }
  return absl::OkStatus();
}

// Step 7: the passages behind the answer, with snippets unless the request
// asks for references only (snippets only for the passages returned:
// candidates beyond them were ranked but are not shown).
absl::Status AddPassages(const Searcher& searcher,
                         const PhraseQuery& phrase_query,
                         const v1::AskRequest& request,
                         std::vector<Candidate>& candidates,
                         v1::AskResponse& response) {
  const int max_passages =
      request.max_passages() > 0 ? request.max_passages() : kDefaultMaxPassages;
  std::vector<PassageHit*> returned;
  for (size_t i = 0; i < candidates.size() &&
                     static_cast<int>(returned.size()) < max_passages;
       ++i) {
    returned.push_back(&candidates[i].hit);
  }
  const bool quote_passages =
      request.passage_detail() != v1::PASSAGE_DETAIL_REFERENCE;
  if (quote_passages) {
    CITEKB_RETURN_IF_ERROR(searcher.AddSnippets(phrase_query, returned));
  }
  for (const PassageHit* hit : returned) {
    *response.add_passages() =
        PassageMessage(*hit->stored, hit->score, hit->snippet, quote_passages);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::AskResponse> ComposeAnswer(const Searcher& searcher,
                                              const Store& store,
                                              const v1::AskRequest& request) {
  v1::AskResponse response;
  CITEKB_ASSIGN_OR_RETURN(const Question question,
                          UnderstandQuestion(searcher, request));
  response.set_resolved_question(question.resolved);
  CITEKB_ASSIGN_OR_RETURN(const PhraseQuery phrase_query,
                          searcher.Prepare(question.query.Phrases()));
  CITEKB_ASSIGN_OR_RETURN(std::vector<Candidate> candidates,
                          Retrieve(searcher, phrase_query, question));
  const double coverage = Coverage(question, candidates);
  if (candidates.empty() || coverage < kMinCoverage) {
    Refuse(store, response);
    return response;
  }
  const std::vector<ChosenSentence> chosen =
      ChooseSentences(question, candidates);
  CITEKB_RETURN_IF_ERROR(WriteAnswer(store, chosen, response));
  const double top_score = candidates[0].hit.score;
  response.set_confidence(std::clamp(
      coverage *
          (candidates[0].faq_boosted ? 1.0 : top_score / (top_score + 4.0)),
      0.0, 1.0));
  CITEKB_RETURN_IF_ERROR(
      AddPassages(searcher, phrase_query, request, candidates, response));
  absl::flat_hash_set<std::string> quoted_passages;
  for (const ChosenSentence& s : chosen) quoted_passages.insert(s.passage_id);
  SuggestFollowUps(store, quoted_passages, response);
  return response;
}

}  // namespace citekb
