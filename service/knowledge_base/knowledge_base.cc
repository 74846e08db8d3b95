#include "service/knowledge_base/knowledge_base.h"

#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "indexer/article/links.h"
#include "indexer/base/status_macros.h"
#include "indexer/format/index_schema.h"
#include "service/answer/answer_composer.h"
#include "service/knowledge_base/api_messages.h"
#include "service/knowledge_base/paging.h"
#include "service/knowledge_base/request_validation.h"
#include "service/search/query_analyzer.h"

namespace citekb {
namespace {

// The stack evaluator for the rules stored in the index; null when it has
// none.
absl::StatusOr<std::unique_ptr<StackEvaluator>> LoadStackEvaluator(
    const Store& store, const std::string& index_path) {
  if (store.stack_rules_text().empty()) return nullptr;
  rulespb::StackRules rules;
  if (!google::protobuf::TextFormat::ParseFromString(store.stack_rules_text(),
                                                     &rules)) {
    return absl::DataLossError(absl::StrCat(
        index_path,
        ": the stored stack rules cannot be read: rebuild the index"));
  }
  auto evaluator = std::make_unique<StackEvaluator>(std::move(rules));
  if (!evaluator->ok()) {
    return absl::DataLossError(absl::StrCat(
        index_path, ": the stored stack rules have unusable names"));
  }
  return evaluator;
}

// The lexicon of the vocabulary stored in the index; an empty one (questions
// read by their words alone) when it has none.
absl::StatusOr<std::unique_ptr<Lexicon>> LoadLexicon(
    const Store& store, const Searcher& searcher,
    const std::string& index_path) {
  knowledgepb::Vocabulary vocabulary;
  if (!google::protobuf::TextFormat::ParseFromString(store.vocabulary_text(),
                                                     &vocabulary)) {
    return absl::DataLossError(absl::StrCat(
        index_path,
        ": the stored vocabulary cannot be read: rebuild the index"));
  }
  absl::StatusOr<std::unique_ptr<Lexicon>> lexicon =
      Lexicon::Create(vocabulary, searcher.tokenizer());
  if (!lexicon.ok()) {
    return absl::DataLossError(absl::StrCat(
        index_path,
        ": the stored vocabulary is unusable: ", lexicon.status().message()));
  }
  return lexicon;
}

// Every citation the rules' evidence names, by id. DATA_LOSS when the
// index lacks one: its rules and its text came from different builds.
absl::StatusOr<absl::flat_hash_map<std::string, v1::Citation>>
ResolveRuleCitations(const Store& store, const rulespb::StackRules& rules,
                     const std::string& index_path) {
  absl::flat_hash_map<std::string, v1::Citation> citations;
  auto resolve = [&](const rulespb::Evidence& evidence) -> absl::Status {
    for (const std::string& id : evidence.citation_ids()) {
      if (citations.contains(id)) continue;
      absl::StatusOr<std::shared_ptr<const StoredCitation>> citation =
          store.CitationById(id);
      if (!citation.ok()) {
        return absl::DataLossError(
            absl::StrCat(index_path, ": the stack rules cite ", id,
                         ", which the index lacks: rebuild it"));
      }
      citations.emplace(id, CitationMessage(**citation));
    }
    return absl::OkStatus();
  };
  for (const rulespb::Rule& rule : rules.rules()) {
    for (const rulespb::Evidence& evidence : rule.evidence()) {
      CITEKB_RETURN_IF_ERROR(resolve(evidence));
    }
    for (const rulespb::Counterpoint& counterpoint : rule.counterpoints()) {
      for (const rulespb::Evidence& evidence : counterpoint.evidence()) {
        CITEKB_RETURN_IF_ERROR(resolve(evidence));
      }
    }
  }
  return citations;
}

absl::Status ValidateAskRequest(const v1::AskRequest& request) {
  CITEKB_RETURN_IF_ERROR(
      ValidateText("question", request.question(), kMaxQuestionBytes, true));
  if (request.history_size() > kMaxHistoryTurns) {
    return Invalid("history",
                   absl::StrCat("has ", request.history_size(),
                                " turns; the limit is ", kMaxHistoryTurns));
  }
  for (int i = 0; i < request.history_size(); ++i) {
    const std::string field = absl::StrCat("history[", i, "]");
    if (!v1::Role_IsValid(request.history(i).role())) {
      return Invalid(absl::StrCat(field, ".role"), "is not a known role");
    }
    CITEKB_RETURN_IF_ERROR(ValidateText(absl::StrCat(field, ".text"),
                                        request.history(i).text(),
                                        kMaxQuestionBytes * 4, false));
  }
  if (request.max_passages() < 0 || request.max_passages() > kMaxMaxPassages) {
    return Invalid("max_passages", absl::StrCat("must be between 0 (default ",
                                                kDefaultMaxPassages, ") and ",
                                                kMaxMaxPassages));
  }
  if (!v1::PassageDetail_IsValid(request.passage_detail())) {
    return Invalid("passage_detail", "is not a known passage detail");
  }
  return absl::OkStatus();
}

v1::AnswerSentence FindingSentence(const v1::Finding& finding) {
  v1::AnswerSentence sentence;
  sentence.set_text(finding.message());
  if (!finding.passage_ids().empty())
    sentence.set_passage_id(finding.passage_ids(0));
  *sentence.mutable_citation_ids() = finding.citation_ids();
  return sentence;
}

// Whether the findings on the doses a question states answer it: when it
// asks what is safe or how things interact ("I take 10,000 IU, is that too
// much?"), or when nothing else does. Otherwise the composed answer leads
// and only alerts follow it: "I take 5000 IU of D3, how much K2?" is
// answered with the ratio, not with a review of the stack.
bool FindingsLead(const AnalyzedQuestion& question,
                  const v1::AskResponse& response) {
  return !response.answered() ||
         question.intent() == knowledgepb::INTENT_SAFETY ||
         question.intent() == knowledgepb::INTENT_INTERACTION;
}

// The answer with the findings in their place, at most
// kMaxStackAnswerSentences sentences from the composed answer when the
// findings lead; a composed sentence resting on a passage a shown finding
// rests on is left out (it would say the same twice).
void AddFindingsToAnswer(const v1::EvaluateStackResponse& evaluation,
                         bool findings_lead, v1::AskResponse& response) {
  std::vector<v1::AnswerSentence> findings;
  std::vector<std::string> finding_passages;
  for (const v1::Finding& finding : evaluation.findings()) {
    if (static_cast<int>(findings.size()) == kMaxStackAnswerSentences) break;
    if (!findings_lead && finding.severity() != v1::SEVERITY_ALERT) continue;
    findings.push_back(FindingSentence(finding));
    finding_passages.insert(finding_passages.end(),
                            finding.passage_ids().begin(),
                            finding.passage_ids().end());
  }
  if (findings.empty()) return;
  if (!response.answered()) {
    // The "not covered" notice would contradict the findings.
    response.clear_answer_sentences();
    response.set_answered(true);
  }
  std::vector<v1::AnswerSentence> composed;
  for (v1::AnswerSentence& sentence : *response.mutable_answer_sentences()) {
    if (std::find(finding_passages.begin(), finding_passages.end(),
                  sentence.passage_id()) == finding_passages.end()) {
      composed.push_back(std::move(sentence));
    }
  }
  if (findings_lead && composed.size() + findings.size() >
                           static_cast<size_t>(kMaxStackAnswerSentences)) {
    composed.resize(kMaxStackAnswerSentences -
                    std::min<size_t>(findings.size(), kMaxStackAnswerSentences));
  }
  std::vector<v1::AnswerSentence>& first = findings_lead ? findings : composed;
  std::vector<v1::AnswerSentence>& then = findings_lead ? composed : findings;
  response.clear_answer_sentences();
  std::vector<std::string> texts;
  for (auto* part : {&first, &then}) {
    for (v1::AnswerSentence& sentence : *part) {
      texts.push_back(sentence.anecdotal()
                          ? absl::StrCat("(Anecdotal) ", sentence.text())
                          : sentence.text());
      *response.add_answer_sentences() = std::move(sentence);
    }
  }
  response.set_answer(absl::StrJoin(texts, " "));
  if (findings_lead) response.set_confidence(std::max(response.confidence(), 0.9));
  // The sources shown are those the shown sentences cite, in order.
  std::vector<v1::Citation> offered(response.citations().begin(),
                                    response.citations().end());
  offered.insert(offered.end(), evaluation.citations().begin(),
                 evaluation.citations().end());
  response.clear_citations();
  absl::flat_hash_set<std::string> shown;
  for (const v1::AnswerSentence& sentence : response.answer_sentences()) {
    for (const std::string& id : sentence.citation_ids()) {
      if (!shown.insert(id).second) continue;
      for (const v1::Citation& citation : offered) {
        if (citation.id() == id) {
          *response.add_citations() = citation;
          break;
        }
      }
    }
  }
}

// The request's PMID as the index has it: digits, without "pmid:".
absl::StatusOr<std::string> IndexedPmid(absl::string_view pmid) {
  pmid = absl::StripAsciiWhitespace(pmid);
  absl::ConsumePrefix(&pmid, "pmid:");
  if (!std::all_of(pmid.begin(), pmid.end(), absl::ascii_isdigit)) {
    return Invalid("pmid", "must be digits, e.g. 11684396");
  }
  return std::string(pmid);
}

// The request's DOI as the index has it: lower-case, without "doi:" or the
// resolver's URL.
std::string IndexedDoi(absl::string_view doi) {
  const std::string lower =
      absl::AsciiStrToLower(absl::StripAsciiWhitespace(doi));
  absl::string_view bare = lower;
  absl::ConsumePrefix(&bare, "doi:");
  absl::ConsumePrefix(&bare, "https://doi.org/");
  return std::string(bare);
}

// The citation id for what users paste: an id, a bare PMID, PMCID or DOI,
// or a URL that names one. Empty when `id` is none of these (it may still
// be a cited URL).
std::string CanonicalCitationId(const std::string& id) {
  const std::string lower = absl::AsciiStrToLower(id);
  if (absl::StartsWith(lower, "pmid:") || absl::StartsWith(lower, "doi:") ||
      absl::StartsWith(lower, kArticleCitationPrefix)) {
    return lower;
  }
  if (absl::StartsWith(lower, "url:")) {
    return absl::StrCat("url:", id.substr(4));
  }
  if (absl::StartsWith(lower, "pmcid:")) {
    return absl::StrCat("pmcid:", absl::AsciiStrToUpper(id.substr(6)));
  }
  if (std::all_of(id.begin(), id.end(), absl::ascii_isdigit)) {
    return absl::StrCat("pmid:", id);
  }
  if (absl::StartsWith(lower, "pmc") &&
      std::all_of(id.begin() + 3, id.end(), absl::ascii_isdigit)) {
    return absl::StrCat("pmcid:", absl::AsciiStrToUpper(id));
  }
  if (absl::StartsWith(lower, "10.")) return absl::StrCat("doi:", lower);
  if (absl::StartsWith(lower, "http://") ||
      absl::StartsWith(lower, "https://")) {
    ClassifiedLink link = ClassifyLink(id);
    if (link.source.has_value()) return link.source->id;
  }
  return "";
}

absl::Status ValidateEvaluateStackRequest(
    const v1::EvaluateStackRequest& request) {
  CITEKB_RETURN_IF_ERROR(
      ValidateText("text", request.text(), kMaxStackTextBytes, false));
  for (int i = 0; i < request.doses_size() && i < kMaxStackDoses; ++i) {
    const v1::Dose& dose = request.doses(i);
    const std::string field = absl::StrCat("doses[", i, "]");
    CITEKB_RETURN_IF_ERROR(ValidateText(absl::StrCat(field, ".compound"),
                                        dose.compound(), 200, false));
    CITEKB_RETURN_IF_ERROR(
        ValidateText(absl::StrCat(field, ".unit"), dose.unit(), 50, false));
    CITEKB_RETURN_IF_ERROR(
        ValidateText(absl::StrCat(field, ".form"), dose.form(), 200, false));
  }
  for (int i = 0; i < request.medications_size() && i < kMaxStackMedications;
       ++i) {
    CITEKB_RETURN_IF_ERROR(ValidateText(absl::StrCat("medications[", i, "]"),
                                        request.medications(i), 200, false));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<KnowledgeBase>> KnowledgeBase::Open(
    const std::string& index_path) {
  CITEKB_ASSIGN_OR_RETURN(std::unique_ptr<Store> store,
                          Store::Open(index_path));
  CITEKB_ASSIGN_OR_RETURN(std::unique_ptr<Searcher> searcher,
                          Searcher::Create(*store));
  CITEKB_ASSIGN_OR_RETURN(std::unique_ptr<StackEvaluator> evaluator,
                          LoadStackEvaluator(*store, index_path));
  absl::flat_hash_map<std::string, v1::Citation> finding_citations;
  if (evaluator != nullptr) {
    CITEKB_ASSIGN_OR_RETURN(
        finding_citations,
        ResolveRuleCitations(*store, evaluator->rules(), index_path));
  }
  CITEKB_ASSIGN_OR_RETURN(std::unique_ptr<Lexicon> lexicon,
                          LoadLexicon(*store, *searcher, index_path));
  return std::unique_ptr<KnowledgeBase>(new KnowledgeBase(
      std::move(store), std::move(searcher), std::move(lexicon),
      std::move(evaluator), std::move(finding_citations)));
}

absl::StatusOr<v1::AskResponse> KnowledgeBase::Ask(
    const v1::AskRequest& request) const {
  CITEKB_RETURN_IF_ERROR(ValidateAskRequest(request));
  AnswerComposer::Trace trace;
  CITEKB_ASSIGN_OR_RETURN(v1::AskResponse response,
                          composer_->Compose(request, &trace));
  const ResolvedQuestion& resolved = trace.resolved;
  if (stack_evaluator_ == nullptr) return response;
  // A follow-up's doses are those of the turn it leans on, and its own.
  const std::string stated =
      resolved.follow_up
          ? absl::StrCat(resolved.earlier_question, "\n", request.question())
          : request.question();
  std::optional<v1::EvaluateStackResponse> evaluation =
      stack_evaluator_->EvaluateQuestion(stated);
  if (!evaluation.has_value()) return response;
  CITEKB_RETURN_IF_ERROR(ResolveFindingCitations(*evaluation));
  AddFindingsToAnswer(*evaluation, FindingsLead(resolved.question, response),
                      response);
  *response.mutable_stack_evaluation() = *std::move(evaluation);
  return response;
}

absl::StatusOr<KnowledgeBase::Explanation> KnowledgeBase::Explain(
    const v1::AskRequest& request) const {
  CITEKB_RETURN_IF_ERROR(ValidateAskRequest(request));
  Explanation explanation;
  AnswerComposer::Trace trace;
  CITEKB_ASSIGN_OR_RETURN(explanation.response,
                          composer_->Compose(request, &trace));
  explanation.resolved = std::move(trace.resolved);
  explanation.units = std::move(trace.units);
  return explanation;
}

absl::StatusOr<v1::SearchResponse> KnowledgeBase::Search(
    const v1::SearchRequest& request) const {
  CITEKB_RETURN_IF_ERROR(
      ValidateText("query", request.query(), kMaxQuestionBytes, true));
  if (!v1::PassageKind_IsValid(request.kind())) {
    return Invalid("kind", "is not a known passage kind");
  }
  CITEKB_RETURN_IF_ERROR(ValidateId("section_id", request.section_id()));
  CITEKB_ASSIGN_OR_RETURN(int page_size, PageSize(request.page_size()));
  const std::string query_key = absl::StrCat(
      request.query(), "\x1f", request.kind(), "\x1f", request.section_id());
  CITEKB_ASSIGN_OR_RETURN(int offset,
                          ParsePageToken(request.page_token(), query_key));
  AnalyzedQuery query = AnalyzeQuery(request.query());
  if (query.empty()) {
    return Invalid("query",
                   "has no searchable words (only stop words or punctuation)");
  }
  int64_t total = 0;
  CITEKB_ASSIGN_OR_RETURN(const PhraseQuery phrases,
                          searcher_->Prepare(query.Phrases()));
  CITEKB_ASSIGN_OR_RETURN(
      std::vector<PassageHit> hits,
      searcher_->SearchPassages(
          phrases, {PassageKindFilter(request.kind()), request.section_id()},
          page_size, offset, &total));
  v1::SearchResponse response;
  for (const PassageHit& hit : hits) {
    *response.add_passages() =
        PassageMessage(*hit.stored, hit.score, hit.snippet);
  }
  response.set_total_size(static_cast<int32_t>(total));
  // In 64 bits: a forged token may carry an offset near INT_MAX.
  if (int64_t{offset} + page_size < total) {
    response.set_next_page_token(PageToken(offset + page_size, query_key));
  }
  return response;
}

absl::StatusOr<v1::ListSectionsResponse> KnowledgeBase::ListSections(
    const v1::ListSectionsRequest& request) const {
  CITEKB_RETURN_IF_ERROR(ValidateId("article_id", request.article_id()));
  CITEKB_ASSIGN_OR_RETURN(std::vector<StoredSection> sections,
                          store_->ListSections(request.article_id()));
  v1::ListSectionsResponse response;
  response.mutable_sections()->Reserve(static_cast<int>(sections.size()));
  for (StoredSection& section : sections) {
    *response.add_sections() = SectionMessage(std::move(section));
  }
  return response;
}

absl::StatusOr<v1::GetSectionResponse> KnowledgeBase::GetSection(
    const v1::GetSectionRequest& request) const {
  CITEKB_RETURN_IF_ERROR(ValidateText("id", request.id(), 1000, true));
  absl::StatusOr<SectionContents> contents = store_->GetSection(request.id());
  if (absl::IsNotFound(contents.status())) {
    return absl::NotFoundError(absl::StrCat("id: no section \"", request.id(),
                                            "\" (ListSections gives the ids)"));
  }
  CITEKB_RETURN_IF_ERROR(contents.status());
  return GetSectionResponse(*std::move(contents));
}

absl::StatusOr<v1::ListFaqsResponse> KnowledgeBase::ListFaqs(
    const v1::ListFaqsRequest& request) const {
  CITEKB_RETURN_IF_ERROR(ValidateId("article_id", request.article_id()));
  CITEKB_ASSIGN_OR_RETURN(std::vector<StoredFaq> faqs,
                          store_->ListFaqs(request.article_id()));
  v1::ListFaqsResponse response;
  response.mutable_faqs()->Reserve(static_cast<int>(faqs.size()));
  for (StoredFaq& faq : faqs) {
    *response.add_faqs() = FaqMessage(std::move(faq));
  }
  return response;
}

absl::StatusOr<v1::ListCitationsResponse> KnowledgeBase::ListCitations(
    const v1::ListCitationsRequest& request) const {
  if (!v1::CitationKind_IsValid(request.kind())) {
    return Invalid("kind", "is not a known citation kind");
  }
  CITEKB_RETURN_IF_ERROR(ValidateId("section_id", request.section_id()));
  CITEKB_RETURN_IF_ERROR(ValidateId("pmid", request.pmid()));
  CITEKB_RETURN_IF_ERROR(ValidateId("doi", request.doi()));
  CITEKB_RETURN_IF_ERROR(ValidateText("cited_text", request.cited_text(),
                                      kMaxQuestionBytes, false));
  CITEKB_ASSIGN_OR_RETURN(const std::string pmid, IndexedPmid(request.pmid()));
  const std::string doi = IndexedDoi(request.doi());
  CitationFilter filter{CitationKindFilter(request.kind()),
                        request.section_id(), pmid, doi};
  std::unique_ptr<CitedTextFilter> cited_text;
  if (!absl::StripAsciiWhitespace(request.cited_text()).empty()) {
    AnalyzedQuery words = AnalyzeQuery(request.cited_text());
    if (words.empty()) {
      return Invalid("cited_text", "has no searchable words");
    }
    CITEKB_ASSIGN_OR_RETURN(cited_text,
                            searcher_->CitedText(words.GroupAlternatives()));
    filter.citing_sentence = cited_text.get();
    filter.citing_sentence_key = words.MatchAll();
  }
  CITEKB_ASSIGN_OR_RETURN(int page_size, PageSize(request.page_size()));
  const std::string query_key =
      absl::StrCat(request.kind(), "\x1f", request.section_id(), "\x1f", pmid,
                   "\x1f", doi, "\x1f", request.cited_text());
  CITEKB_ASSIGN_OR_RETURN(int offset,
                          ParsePageToken(request.page_token(), query_key));
  int64_t total = 0;
  CITEKB_ASSIGN_OR_RETURN(
      std::vector<StoredCitation> citations,
      store_->ListCitations(filter, page_size, offset, &total));
  v1::ListCitationsResponse response;
  response.mutable_citations()->Reserve(static_cast<int>(citations.size()));
  for (StoredCitation& citation : citations) {
    *response.add_citations() = CitationMessage(std::move(citation));
  }
  response.set_total_size(static_cast<int32_t>(total));
  // In 64 bits: a forged token may carry an offset near INT_MAX.
  if (int64_t{offset} + page_size < total) {
    response.set_next_page_token(PageToken(offset + page_size, query_key));
  }
  return response;
}

absl::StatusOr<v1::Citation> KnowledgeBase::GetCitation(
    const v1::GetCitationRequest& request) const {
  CITEKB_RETURN_IF_ERROR(ValidateText("id", request.id(), 2000, true));
  const std::string id(absl::StripAsciiWhitespace(request.id()));
  if (const std::string canonical = CanonicalCitationId(id);
      !canonical.empty()) {
    absl::StatusOr<std::shared_ptr<const StoredCitation>> citation =
        store_->CitationById(canonical);
    if (citation.ok()) return CitationMessage(**citation);
    if (!absl::IsNotFound(citation.status())) return citation.status();
  }
  absl::StatusOr<StoredCitation> by_url = store_->CitationByUrl(id);
  if (absl::IsNotFound(by_url.status())) {
    return absl::NotFoundError(
        absl::StrCat("id: no citation \"", id,
                     "\" (give a citation id like pmid:11684396, a PMID, "
                     "PMCID, DOI or URL)"));
  }
  CITEKB_RETURN_IF_ERROR(by_url.status());
  return CitationMessage(*std::move(by_url));
}

absl::StatusOr<v1::ListRelatedLinksResponse> KnowledgeBase::ListRelatedLinks(
    const v1::ListRelatedLinksRequest& request) const {
  CITEKB_RETURN_IF_ERROR(ValidateId("article_id", request.article_id()));
  if (!v1::RelatedLinkKind_IsValid(request.kind())) {
    return Invalid("kind", "is not a known link kind");
  }
  CITEKB_ASSIGN_OR_RETURN(
      std::vector<StoredLink> links,
      store_->ListRelatedLinks(request.article_id(),
                               RelatedLinkKindFilter(request.kind())));
  v1::ListRelatedLinksResponse response;
  response.mutable_links()->Reserve(static_cast<int>(links.size()));
  for (StoredLink& link : links) {
    *response.add_links() = RelatedLinkMessage(std::move(link));
  }
  return response;
}

absl::StatusOr<v1::EvaluateStackResponse> KnowledgeBase::EvaluateStack(
    const v1::EvaluateStackRequest& request) const {
  CITEKB_RETURN_IF_ERROR(ValidateEvaluateStackRequest(request));
  if (stack_evaluator_ == nullptr) {
    return absl::FailedPreconditionError(
        "this index has no stack rules: build it from a knowledge folder with "
        "stack_rules.textproto");
  }
  CITEKB_ASSIGN_OR_RETURN(v1::EvaluateStackResponse response,
                          stack_evaluator_->Evaluate(request));
  CITEKB_RETURN_IF_ERROR(ResolveFindingCitations(response));
  return response;
}

absl::Status KnowledgeBase::ResolveFindingCitations(
    v1::EvaluateStackResponse& response) const {
  // Views into the findings, which stay put while citations are added.
  std::vector<absl::string_view> ids;
  for (const v1::Finding& finding : response.findings()) {
    for (const std::string& id : finding.citation_ids()) {
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    }
  }
  response.mutable_citations()->Reserve(static_cast<int>(ids.size()));
  for (absl::string_view id : ids) {
    auto known = finding_citations_.find(id);
    if (known != finding_citations_.end()) {
      *response.add_citations() = known->second;
    } else {
      CITEKB_ASSIGN_OR_RETURN(std::shared_ptr<const StoredCitation> citation,
                              store_->CitationById(std::string(id)));
      *response.add_citations() = CitationMessage(*citation);
    }
  }
  return absl::OkStatus();
}

}  // namespace citekb
