// The logic behind every RPC, called directly (no network): answers carry
// their sources, out-of-scope questions are refused, bad requests get
// INVALID_ARGUMENT naming the field.

#include "service/knowledge_base/knowledge_base.h"

#include <algorithm>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "indexer/corpus_indexer.h"
#include "tests/support/test_support.h"

namespace citekb {
namespace {

using ::testing::HasSubstr;

class KnowledgeBaseTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    ASSERT_TRUE(BuildIndex({.knowledge_dir = testing::SourcePath("knowledge"),
                            .out_path = dir_->File("kb.sqlite")})
                    .ok());
    auto kb = KnowledgeBase::Open(dir_->File("kb.sqlite"));
    ASSERT_TRUE(kb.ok()) << kb.status();
    kb_ = kb->release();
  }
  static void TearDownTestSuite() {
    delete kb_;
    delete dir_;
  }
  static v1::AskResponse Ask(const std::string& question,
                             std::vector<std::string> history = {}) {
    v1::AskRequest request;
    request.set_question(question);
    for (const std::string& turn : history) {
      auto* t = request.add_history();
      t->set_role(v1::ROLE_USER);
      t->set_text(turn);
    }
    absl::StatusOr<v1::AskResponse> response = kb_->Ask(request);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : v1::AskResponse();
  }
  static testing::TempDir* dir_;
  static KnowledgeBase* kb_;
};
testing::TempDir* KnowledgeBaseTest::dir_ = nullptr;
KnowledgeBase* KnowledgeBaseTest::kb_ = nullptr;

TEST_F(KnowledgeBaseTest, AnswersWhyK2WithD3FromCitedSentences) {
  v1::AskResponse r = Ask("why K2 with D3?");
  EXPECT_TRUE(r.answered());
  EXPECT_GE(r.answer_sentences_size(), 2);
  EXPECT_LE(r.answer_sentences_size(), 4);
  EXPECT_GT(r.confidence(), 0);
  ASSERT_GT(r.passages_size(), 0);
  // Every answer sentence is a sentence of a returned or quoted passage, and
  // every citation it carries is in the response's citations.
  std::set<std::string> citation_ids;
  for (const v1::Citation& c : r.citations()) {
    citation_ids.insert(c.id());
    EXPECT_FALSE(c.url().empty());
    EXPECT_GT(c.citing_sentences_size(), 0);
  }
  for (const v1::AnswerSentence& s : r.answer_sentences()) {
    EXPECT_THAT(r.answer(), HasSubstr(s.text()));
    for (const std::string& id : s.citation_ids())
      EXPECT_TRUE(citation_ids.contains(id));
  }
  EXPECT_FALSE(r.follow_ups().empty());
}

// A chat front end's Ask (PASSAGE_DETAIL_REFERENCE) gets the same answer,
// sentences, citations and passages, only without the passages' texts and
// snippets; FULL and UNSPECIFIED get everything.
TEST_F(KnowledgeBaseTest, ReferenceDetailLeavesOutOnlyPassageTexts) {
  for (const char* question :
       {"why K2 with D3?", "MK7 dosage", "does K2 help arteries?"}) {
    v1::AskRequest request;
    request.set_question(question);
    absl::StatusOr<v1::AskResponse> unspecified = kb_->Ask(request);
    request.set_passage_detail(v1::PASSAGE_DETAIL_FULL);
    absl::StatusOr<v1::AskResponse> full = kb_->Ask(request);
    request.set_passage_detail(v1::PASSAGE_DETAIL_REFERENCE);
    absl::StatusOr<v1::AskResponse> reference = kb_->Ask(request);
    ASSERT_TRUE(unspecified.ok() && full.ok() && reference.ok()) << question;
    EXPECT_EQ(unspecified->SerializeAsString(), full->SerializeAsString())
        << question;
    ASSERT_GT(full->passages_size(), 0) << question;
    ASSERT_EQ(reference->passages_size(), full->passages_size()) << question;
    for (const v1::Passage& p : reference->passages()) {
      EXPECT_EQ(p.text(), "") << question;
      EXPECT_EQ(p.snippet(), "") << question;
    }
    for (const v1::Passage& p : full->passages()) {
      EXPECT_NE(p.text(), "") << question;
      EXPECT_NE(p.snippet(), "") << question;
    }
    v1::AskResponse quoted = *reference;
    for (int i = 0; i < quoted.passages_size(); ++i) {
      quoted.mutable_passages(i)->set_text(full->passages(i).text());
      quoted.mutable_passages(i)->set_snippet(full->passages(i).snippet());
    }
    EXPECT_EQ(quoted.SerializeAsString(), full->SerializeAsString())
        << question;
    EXPECT_LT(reference->ByteSizeLong(), full->ByteSizeLong() * 3 / 4)
        << question;
  }
}

TEST_F(KnowledgeBaseTest, SynonymsAndTyposFindTheDoseTable) {
  for (const char* question : {"MK7 dosage", "mk-7 dosage",
                               "menaquinone dosage", "vitmin k2 dosage"}) {
    v1::AskResponse r = Ask(question);
    ASSERT_GT(r.passages_size(), 0) << question;
    EXPECT_THAT(r.passages(0).text(), HasSubstr("Vitamin K2 (MK-7)"))
        << question;
  }
}

TEST_F(KnowledgeBaseTest, AnecdotalSentencesAreLabelled) {
  v1::AskResponse r = Ask("high dose protocol for powerlifters");
  ASSERT_TRUE(r.answered());
  bool labelled = false;
  for (const v1::AnswerSentence& s : r.answer_sentences()) {
    if (s.anecdotal()) {
      labelled = true;
      EXPECT_THAT(r.answer(), HasSubstr("(Anecdotal) " + s.text()));
    }
  }
  EXPECT_TRUE(labelled);
}

TEST_F(KnowledgeBaseTest, OutOfScopeQuestionsAreRefused) {
  for (const char* question :
       {"who won the 2022 World Cup?", "how do I treat a migraine?",
        "what is the capital of France"}) {
    v1::AskResponse r = Ask(question);
    EXPECT_FALSE(r.answered()) << question << ": " << r.answer();
    EXPECT_TRUE(r.answer_sentences().empty());
    EXPECT_TRUE(r.citations().empty());
    EXPECT_THAT(r.answer(), ::testing::AnyOf(HasSubstr("does not cover"),
                                             HasSubstr("has no sources on")));
  }
}

TEST_F(KnowledgeBaseTest, FollowUpResolvesAgainstHistory) {
  v1::AskResponse alone = Ask("and how often should I retest?");
  v1::AskResponse r = Ask("and how often should I retest?",
                          {"what vitamin D blood level should I aim for?"});
  // Resolved into a question that stands alone, about the earlier topic.
  EXPECT_THAT(r.resolved_question(), ::testing::Not(HasSubstr("and how")));
  EXPECT_THAT(r.resolved_question(), HasSubstr("blood levels"));
  ASSERT_TRUE(r.answered());
  EXPECT_THAT(r.answer(), HasSubstr("every six months"));
}

TEST_F(KnowledgeBaseTest, TruncatedFaqAnswerIsNeverServed) {
  v1::AskResponse r =
      Ask("What is the function of Matrix Gla Protein (MGP) in this synergy?");
  EXPECT_THAT(r.answer(), ::testing::Not(HasSubstr("Matrix Gl ")));
  for (const v1::Passage& p : r.passages()) {
    EXPECT_NE(
        p.text(),
        "What is the function of Matrix Gla Protein (MGP) in this synergy?");
  }
  auto faqs = kb_->ListFaqs({});
  ASSERT_TRUE(faqs.ok());
  ASSERT_EQ(faqs->faqs_size(), 4);
  EXPECT_TRUE(faqs->faqs(3).answer_incomplete());
  EXPECT_EQ(faqs->faqs(3).answer(), "");
}

TEST_F(KnowledgeBaseTest, SearchPaginates) {
  v1::SearchRequest request;
  request.set_query("calcium");
  request.set_page_size(5);
  auto first = kb_->Search(request);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->passages_size(), 5);
  EXPECT_GT(first->total_size(), 10);
  EXPECT_THAT(absl::AsciiStrToLower(first->passages(0).snippet()),
              HasSubstr("[calcium]"));
  ASSERT_FALSE(first->next_page_token().empty());
  request.set_page_token(first->next_page_token());
  auto second = kb_->Search(request);
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->passages(0).id(), first->passages(0).id());

  request.set_query("bone");  // A token from another query is refused.
  EXPECT_THAT(std::string(kb_->Search(request).status().message()),
              HasSubstr("page_token: belongs to a different query"));

  v1::SearchRequest tables;
  tables.set_query("calcium");
  tables.set_kind(v1::PASSAGE_KIND_TABLE_ROW);
  auto rows = kb_->Search(tables);
  ASSERT_TRUE(rows.ok());
  for (const auto& p : rows->passages())
    EXPECT_EQ(p.kind(), v1::PASSAGE_KIND_TABLE_ROW);
}

TEST_F(KnowledgeBaseTest, SectionsInDocumentOrder) {
  v1::ListSectionsRequest seed;
  seed.set_article_id(
      "d3-k2-protocol-how-to-route-calcium-to-bones-not-arteries");
  auto sections = kb_->ListSections(seed);
  ASSERT_TRUE(sections.ok());
  ASSERT_EQ(sections->sections_size(), 7);
  // The safety references add one section per topic.
  EXPECT_EQ(kb_->ListSections({})->sections_size(), 7 + 4);
  v1::GetSectionRequest request;
  request.set_id(sections->sections(1).id());
  auto section = kb_->GetSection(request);
  ASSERT_TRUE(section.ok()) << section.status();
  // Pharmacokinetics: 3 paragraphs, a figure, a table of 4 rows.
  ASSERT_EQ(section->blocks_size(), 5);
  EXPECT_TRUE(section->blocks(0).has_passage());
  EXPECT_TRUE(section->blocks(3).has_figure());
  ASSERT_TRUE(section->blocks(4).has_table());
  EXPECT_EQ(section->blocks(4).table().rows_size(), 4);
  EXPECT_EQ(section->blocks(4).table().rows(0).cells(0), "Calbindin");
  request.set_id("nope");
  EXPECT_EQ(kb_->GetSection(request).status(),
            absl::NotFoundError(
                "id: no section \"nope\" (ListSections gives the ids)"));
}

TEST_F(KnowledgeBaseTest, Citations) {
  v1::GetCitationRequest request;
  for (const char* id : {"pmid:11684396", "11684396",
                         "https://pubmed.ncbi.nlm.nih.gov/11684396/"}) {
    request.set_id(id);
    auto citation = kb_->GetCitation(request);
    ASSERT_TRUE(citation.ok()) << id << citation.status();
    EXPECT_EQ(citation->pmid(), "11684396");
    ASSERT_EQ(citation->citing_sentences_size(), 1);
    EXPECT_TRUE(absl::EndsWith(citation->citing_sentences(0).text(),
                               "it never reaches the bone matrix."));
  }
  request.set_id("PMC5613455");
  EXPECT_EQ(kb_->GetCitation(request)->kind(), v1::CITATION_KIND_PMC);
  request.set_id("10.3389/FENDO.2025.1703116");
  EXPECT_EQ(kb_->GetCitation(request)->label(), "Zhang 2025");
  request.set_id("pmid:1");
  EXPECT_EQ(kb_->GetCitation(request).status(),
            absl::NotFoundError("id: no citation \"pmid:1\" (give a citation "
                                "id like pmid:11684396, a PMID, PMCID, DOI or "
                                "URL)"));

  v1::ListCitationsRequest list;
  auto all = kb_->ListCitations(list);
  ASSERT_TRUE(all.ok());
  // The seed's 19 sources and the 9 safety references.
  EXPECT_EQ(all->total_size(), 19 + 9);
  list.set_kind(v1::CITATION_KIND_DOI);
  EXPECT_EQ(kb_->ListCitations(list)->total_size(), 5);
  list.set_kind(v1::CITATION_KIND_SAFETY_REFERENCE);
  auto references = kb_->ListCitations(list);
  ASSERT_TRUE(references.ok());
  EXPECT_EQ(references->total_size(), 9);
  EXPECT_EQ(references->citations(0).id(), "doi:10.17226/13050");
  EXPECT_EQ(references->citations(0).label(),
            "Institute of Medicine 2011, Dietary Reference Intakes for Calcium "
            "and Vitamin D");
  ASSERT_GT(references->citations(0).citing_sentences_size(), 0);
  EXPECT_EQ(references->citations(0).citing_sentences(0).passage_id(),
            "safety-references/p0");
  // A whole article is citable by id, and URL ids resolve as such.
  request.set_id(
      "article:d3-k2-protocol-how-to-route-calcium-to-bones-not-arteries");
  auto article = kb_->GetCitation(request);
  ASSERT_TRUE(article.ok()) << article.status();
  EXPECT_EQ(article->kind(), v1::CITATION_KIND_ARTICLE);
  EXPECT_EQ(article->label(),
            "D3-K2 Protocol: How to Route Calcium to Bones, Not Arteries");
  request.set_id(
      "url:https://ods.od.nih.gov/factsheets/VitaminK-HealthProfessional/");
  EXPECT_EQ(kb_->GetCitation(request)->kind(),
            v1::CITATION_KIND_SAFETY_REFERENCE);
  request.set_id("article:no-such-article");
  EXPECT_EQ(kb_->GetCitation(request).status().code(),
            absl::StatusCode::kNotFound);
  list.Clear();
  list.set_cited_text("bone matrix");
  auto cited = kb_->ListCitations(list);
  ASSERT_TRUE(cited.ok()) << cited.status();
  EXPECT_GE(cited->total_size(), 1);
  // As the API says: a citing sentence has all the words, not merely its
  // passage.
  for (const v1::Citation& citation : cited->citations()) {
    EXPECT_TRUE(std::any_of(
        citation.citing_sentences().begin(), citation.citing_sentences().end(),
        [](const v1::CitingSentence& sentence) {
          const std::string text = absl::AsciiStrToLower(sentence.text());
          return absl::StrContains(text, "bone") &&
                 absl::StrContains(text, "matri");
        }))
        << citation.id();
  }
  list.Clear();
  list.set_pmid("11684396");
  EXPECT_EQ(kb_->ListCitations(list)->citations(0).id(), "pmid:11684396");
  list.Clear();
  list.set_page_size(7);
  auto page = kb_->ListCitations(list);
  EXPECT_EQ(page->citations_size(), 7);
  list.set_page_token(page->next_page_token());
  EXPECT_EQ(kb_->ListCitations(list)->citations_size(), 7);
}

TEST_F(KnowledgeBaseTest, BadRequestsNameTheField) {
  struct Case {
    std::function<absl::Status()> call;
    std::string message;
  };
  auto ask = [](std::function<void(v1::AskRequest&)> fill) {
    return [fill] {
      v1::AskRequest r;
      r.set_question("k2");
      fill(r);
      return kb_->Ask(r).status();
    };
  };
  const Case cases[] = {
      {ask([](auto& r) { r.set_question(""); }), "question: must not be empty"},
      {ask([](auto& r) { r.set_question("   "); }),
       "question: must not be empty"},
      {ask([](auto& r) { r.set_question(std::string(5000, 'a')); }),
       "question: is 5000 bytes"},
      {ask([](auto& r) { r.set_question("bad \xff utf8"); }),
       "question: is not valid UTF-8"},
      {ask([](auto& r) { r.set_question("k2\x01"); }),
       "question: contains control"},
      {ask([](auto& r) { r.set_max_passages(-1); }),
       "max_passages: must be between"},
      {ask([](auto& r) {
         r.set_passage_detail(static_cast<v1::PassageDetail>(7));
       }),
       "passage_detail: is not a known passage detail"},
      {ask([](auto& r) {
         r.add_history()->set_role(static_cast<v1::Role>(99));
       }),
       "history[0].role"},
      {[] {
         v1::SearchRequest r;
         r.set_query("k2");
         r.set_page_size(-5);
         return kb_->Search(r).status();
       },
       "page_size: must not be negative"},
      {[] {
         v1::SearchRequest r;
         r.set_query("k2");
         r.set_page_token("garbage!");
         return kb_->Search(r).status();
       },
       "page_token: is not a token"},
      {[] {
         v1::SearchRequest r;
         r.set_query("the and of");
         return kb_->Search(r).status();
       },
       "query: has no searchable words"},
      {[] {
         v1::ListCitationsRequest r;
         r.set_pmid("abc");
         return kb_->ListCitations(r).status();
       },
       "pmid: must be digits"},
      {[] { return kb_->GetCitation({}).status(); }, "id: must not be empty"},
  };
  for (const Case& c : cases) {
    absl::Status status = c.call();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_THAT(std::string(status.message()), HasSubstr(c.message));
  }
}

TEST_F(KnowledgeBaseTest, FtsSyntaxCannotBreakQueries) {
  for (const char* hostile :
       {"\"", "k2*", "NEAR(k2 d3)", "body: k2", "(((k2", "k2 AND", "OR NOT d3",
        "'; DROP TABLE passages; --", "^k2"}) {
    v1::SearchRequest r;
    r.set_query(hostile);
    absl::Status status = kb_->Search(r).status();
    EXPECT_TRUE(status.ok() ||
                status.code() == absl::StatusCode::kInvalidArgument)
        << hostile << ": " << status;
    v1::AskRequest a;
    a.set_question(hostile);
    EXPECT_TRUE(kb_->Ask(a).ok()) << hostile;
  }
}

TEST(KnowledgeBaseOpenTest, ClearErrorsForBadIndexes) {
  testing::TempDir dir;
  EXPECT_EQ(KnowledgeBase::Open(dir.File("missing.sqlite")).status().code(),
            absl::StatusCode::kNotFound);
  testing::WriteFileOrDie(dir.File("garbage.sqlite"), std::string(8192, 'x'));
  absl::Status garbage =
      KnowledgeBase::Open(dir.File("garbage.sqlite")).status();
  EXPECT_EQ(garbage.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(garbage.message()),
              HasSubstr("is not a citekb index"));
}

}  // namespace
}  // namespace citekb
