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

}  // namespace

absl::StatusOr<v1::AskResponse> ComposeAnswer(const Searcher& searcher,
                                              const Store& store,
                                              const v1::AskRequest& request) {
  v1::AskResponse response;
  const int max_passages =
      request.max_passages() > 0 ? request.max_passages() : kDefaultMaxPassages;

  // 1. Follow-up resolution against the latest earlier user turn.
  AnalyzedQuery query = AnalyzeQuery(request.question());
  std::string resolved = request.question();
  if (IsFollowUp(request.question(), query)) {
    for (int i = request.history_size() - 1; i >= 0; --i) {
      const v1::ConversationTurn& turn = request.history(i);
      if (turn.role() == v1::ROLE_ASSISTANT) continue;
      AnalyzedQuery earlier = AnalyzeQuery(turn.text());
      if (earlier.empty()) continue;
      absl::flat_hash_set<std::string> have;
      for (const TermGroup& g : query.groups) have.insert(g.word);
      for (TermGroup& g : earlier.groups) {
        if (have.insert(g.word).second &&
            static_cast<int>(query.groups.size()) < kMaxQueryTerms) {
          query.groups.push_back(std::move(g));
        }
      }
      resolved = absl::StrCat(request.question(),
                              " (following up on: ", turn.text(), ")");
      break;
    }
  }
  response.set_resolved_question(resolved);
  for (TermGroup& group : query.groups) {
    std::string corrected = searcher.CorrectSpelling(group.word);
    if (!corrected.empty()) group.alternatives.push_back(std::move(corrected));
  }

  // How much each word says: BM25's idf over all passages.
  absl::flat_hash_map<std::string, double> idf;
  double total_weight = 0;
  const double n = static_cast<double>(searcher.passage_count());
  for (const TermGroup& group : query.groups) {
    CITEKB_ASSIGN_OR_RETURN(int64_t df,
                            searcher.CountMatching(group.alternatives));
    const double weight = std::log(1.0 + (n - df + 0.5) / (df + 0.5));
    idf[group.word] = weight;
    total_weight += weight;
  }

  // 2. Retrieval.
  std::vector<Candidate> candidates;
  CITEKB_ASSIGN_OR_RETURN(const PhraseQuery phrase_query,
                          searcher.Prepare(query.Phrases()));
  if (!query.empty()) {
    CITEKB_ASSIGN_OR_RETURN(
        std::vector<PassageHit> hits,
        searcher.SearchPassages(phrase_query, {}, kCandidatePassages, 0,
                                nullptr, {.snippets = false, .phrases = true}));
    // A table row is short, so BM25 ranks it high for any word it has; it
    // answers "how much" questions, while prose answers "why" and "how".
    const std::string lower_resolved = absl::AsciiStrToLower(resolved);
    const bool asks_amount = absl::StrContains(lower_resolved, "how much") ||
                             absl::StrContains(lower_resolved, "how many");
    const bool asks_safety = AsksAboutSafety(lower_resolved);
    for (PassageHit& hit : hits) {
      if (hit.stored->incomplete_faq) continue;
      if (hit.stored_passage().article_id() == kSafetyReferencesArticleId &&
          !asks_safety) {
        hit.score *= kSafetyReferenceWeight;
      }
      if (hit.stored_passage().kind() == v1::PASSAGE_KIND_TABLE_ROW &&
          !asks_amount) {
        bool mentions_amount = false;
        for (const TermGroup& g : query.groups) {
          mentions_amount = mentions_amount || g.word == "dose" ||
                            g.word == "dosage" || g.word == "doses" ||
                            g.word == "mcg" || g.word == "iu" ||
                            g.word == "mg" || g.word == "amount";
        }
        if (!mentions_amount) hit.score *= kTableRowWeight;
      }
      candidates.push_back({std::move(hit), false});
    }
    std::stable_sort(
        candidates.begin(), candidates.end(),
        [](const auto& a, const auto& b) { return a.hit.score > b.hit.score; });
    // An FAQ whose question says what the user asked is the best answer.
    CITEKB_ASSIGN_OR_RETURN(std::vector<FaqHit> faqs,
                            searcher.MatchFaqs(phrase_query, 1));
    if (!faqs.empty() && !faqs[0].faq.answer_incomplete()) {
      const std::string question =
          absl::AsciiStrToLower(faqs[0].faq.question());
      double covered = 0;
      for (const TermGroup& g : query.groups) {
        if (Mentions(question, g)) covered += idf[g.word];
      }
      if (covered >= 0.6 * total_weight) {
        auto it = std::find_if(candidates.begin(), candidates.end(),
                               [&](const Candidate& c) {
                                 return c.hit.rowid() == faqs[0].passage_rowid;
                               });
        if (it != candidates.end()) {
          Candidate faq = std::move(*it);
          candidates.erase(it);
          faq.faq_boosted = true;
          candidates.insert(candidates.begin(), std::move(faq));
        }
      }
    }
  }

  // 3. Coverage: the idf-weighted share of words the best passages have.
  // Which words a passage has comes with the ranking (one flag per
  // phrase); a word is covered when a top passage has any of its
  // alternatives.
  double coverage = 0;
  if (!candidates.empty()) {
    const std::vector<int> phrase_groups = query.PhraseGroups();
    std::vector<bool> has_group(query.groups.size(), false);
    for (size_t i = 0; i < candidates.size() && i < kCoveragePassages; ++i) {
      const std::string& flags = candidates[i].hit.phrases;
      for (size_t p = 0; p < flags.size() && p < phrase_groups.size(); ++p) {
        if (flags[p] != 0)
          has_group[static_cast<size_t>(phrase_groups[p])] = true;
      }
    }
    double covered_weight = 0;
    for (size_t g = 0; g < query.groups.size(); ++g) {
      if (has_group[g]) covered_weight += idf[query.groups[g].word];
    }
    coverage = total_weight > 0 ? covered_weight / total_weight : 0;
  }

  // Follow-up suggestions: FAQ questions with complete answers, the first
  // ones of the corpus. At most 3 are suggested, skipping the (at most 3)
  // passages quoted, so the store's leading FAQs are always enough.
  static_assert(Store::kLeadingFaqs >= 3 + 3);
  const std::vector<v1::Faq>& all_faqs = store.leading_faqs();

  if (candidates.empty() || coverage < kMinCoverage) {
    response.set_answered(false);
    response.set_confidence(0);
    response.set_answer(
        "The knowledge base does not cover this question, so there is no "
        "sourced answer to give. Try one of the suggested questions.");
    for (const v1::Faq& faq : all_faqs) {
      if (!faq.answer_incomplete() && response.follow_ups_size() < 3) {
        response.add_follow_ups(faq.question());
      }
    }
    return response;
  }

  // 4. Composition.
  std::vector<ChosenSentence> chosen;
  absl::flat_hash_set<std::string> seen_text;
  const size_t passages_to_quote = std::min<size_t>(candidates.size(), 3);
  for (size_t rank = 0;
       rank < passages_to_quote && chosen.size() < kMaxAnswerSentences;
       ++rank) {
    const Candidate& candidate = candidates[rank];
    const std::vector<StoredSentence>& sentences =
        candidate.hit.stored->sentences;
    const bool table_row =
        candidate.hit.stored_passage().kind() == v1::PASSAGE_KIND_TABLE_ROW;
    const std::string row_key =
        table_row && !sentences.empty()
            ? sentences[0].text.substr(0, sentences[0].text.find(": ") + 2)
            : "";
    std::vector<std::pair<double, size_t>> scored;
    for (size_t i = 0; i < sentences.size(); ++i) {
      const std::string& text = sentences[i].text;
      if (candidate.hit.stored_passage().kind() == v1::PASSAGE_KIND_FAQ &&
          i == 0)
        continue;
      const std::string lower = absl::AsciiStrToLower(text);
      double score = 0;
      for (const TermGroup& g : query.groups) {
        if (Mentions(lower, g)) score += idf[g.word];
      }
      scored.emplace_back(score, i);
    }
    std::stable_sort(
        scored.begin(), scored.end(),
        [](const auto& a, const auto& b) { return a.first > b.first; });
    // The top passage may give up to three sentences (an FAQ answer reads
    // best whole); the others give their single best, if it matches at all.
    const size_t quota = rank == 0 ? 3 : 1;
    size_t taken = 0;
    for (const auto& [score, index] : scored) {
      if (taken == quota || chosen.size() == kMaxAnswerSentences) break;
      if (score <= 0 && !(rank == 0 && (candidate.faq_boosted || taken < 2)))
        break;
      std::string text = sentences[index].text;
      if (table_row && index > 0) text = absl::StrCat(row_key, text);
      if (!seen_text.insert(absl::AsciiStrToLower(text)).second) continue;
      chosen.push_back({rank, index, std::move(text),
                        sentences[index].source_ids, sentences[index].anecdotal,
                        candidate.hit.stored_passage().id()});
      ++taken;
    }
  }
  std::sort(chosen.begin(), chosen.end(), [](const auto& a, const auto& b) {
    return std::tie(a.passage_rank, a.ordinal) <
           std::tie(b.passage_rank, b.ordinal);
  });

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
  const double top_score = candidates[0].hit.score;
  response.set_confidence(std::clamp(
      coverage *
          (candidates[0].faq_boosted ? 1.0 : top_score / (top_score + 4.0)),
      0.0, 1.0));
  for (const std::string& id : citation_order) {
    CITEKB_ASSIGN_OR_RETURN(v1::Citation citation, store.CitationById(id));
    *response.add_citations() = std::move(citation);
  }
  absl::flat_hash_set<std::string> quoted_passages;
  for (const ChosenSentence& s : chosen) quoted_passages.insert(s.passage_id);
  // Snippets only for the passages returned: candidates beyond them were
  // ranked but are not shown.
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
  for (const PassageHit* hit : returned)
    *response.add_passages() = hit->ToPassage(quote_passages);
  for (const v1::Faq& faq : all_faqs) {
    if (!faq.answer_incomplete() &&
        !quoted_passages.contains(faq.passage_id()) &&
        response.follow_ups_size() < 3) {
      response.add_follow_ups(faq.question());
    }
  }
  return response;
}

}  // namespace citekb
