// libFuzzer target: in-memory ranking against SQLite FTS5 itself.
//
// The contract under test: for any question, Searcher (retrieval_index.h,
// snippet.h) returns exactly what FTS5 would over the same index: the same
// passages in the same order with the same bm25 scores bit for bit, the
// same snippet() text, the same number of matching passages and the same
// FAQ ranking. Any difference aborts with the input, the phrases and both
// answers.
//
// The index is built once from the seed article, the fixture article and
// synthetic articles in the seed's format (bench/corpus_generator.h), so
// that rankings have hundreds of candidates and MaxScore prunes. The index
// keeps no FTS5 table, so FTS5 tables of its passages and FAQ questions are
// made in a copy of it (tests/support/fts5_reference.h).
//
// Only valid UTF-8 is tried: the server refuses anything else before
// analysis (knowledge_base.cc, request_parser.h).

#include <sqlite3.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "bench/corpus_generator.h"
#include "indexer/base/utf8.h"
#include "indexer/corpus_indexer.h"
#include "indexer/format/index_schema.h"
#include "indexer/format/sqlite.h"
#include "service/search/query_analyzer.h"
#include "service/search/searcher.h"
#include "service/server/request_parser.h"
#include "service/store/store.h"
#include "tests/support/fts5_reference.h"

namespace {

namespace fs = std::filesystem;
using citekb::Statement;

void Die(const std::string& message) {
  std::fprintf(stderr, "%s\n", message.c_str());
  std::abort();
}

template <typename T>
T OrDie(absl::StatusOr<T> value) {
  if (!value.ok()) Die(value.status().ToString());
  return *std::move(value);
}

struct Fixture {
  std::unique_ptr<citekb::Store> store;
  std::unique_ptr<citekb::Searcher> searcher;
  citekb::Database reference;  // The index's tables plus passage_ref, faq_ref.
  Statement ranked;
  Statement snippet;
  Statement count;
  Statement faqs;
};

Fixture& GetFixture() {
  static Fixture* fixture = [] {
    auto* f = new Fixture;
    const fs::path dir = fs::temp_directory_path() /
                         absl::StrCat("citekb-ranking-fuzzer-", ::getpid());
    fs::create_directories(dir / "knowledge");
    for (const char* article :
         {"knowledge/d3-k2-calcium-routing.txt",
          "tests/fixtures/knowledge/magnesium-forms.txt"}) {
      fs::copy_file(fs::path(CITEKB_SOURCE_DIR) / article,
                    dir / "knowledge" / fs::path(article).filename());
    }
    const citekb::CorpusGenerator generator(/*seed=*/3);
    for (int i = 0; i < 40; ++i) {
      std::FILE* out = std::fopen(
          (dir / "knowledge" / citekb::CorpusGenerator::FileName(i)).c_str(),
          "w");
      const std::string text = generator.Article(i);
      std::fwrite(text.data(), 1, text.size(), out);
      std::fclose(out);
    }
    const std::string index = (dir / "kb.sqlite").string();
    OrDie(citekb::BuildIndex(
        {.knowledge_dir = (dir / "knowledge").string(), .out_path = index}));
    f->store = OrDie(citekb::Store::Open(index));
    f->searcher = OrDie(citekb::Searcher::Create(*f->store));

    const std::string reference = (dir / "reference.sqlite").string();
    fs::copy_file(index, reference);
    f->reference =
        OrDie(citekb::OpenDatabase(reference, SQLITE_OPEN_READWRITE));
    sqlite3* db = f->reference.get();
    const absl::Status added = citekb::testing::AddFts5References(db);
    if (!added.ok()) Die(added.ToString());
    f->ranked = OrDie(Statement::Prepare(
        db,
        absl::StrCat("SELECT rowid, -bm25(passage_ref, ",
                     citekb::kSectionTitleWeight, ", ", citekb::kBodyWeight,
                     ", ", citekb::kCompoundWeight,
                     ") AS score FROM passage_ref WHERE passage_ref MATCH ?1 "
                     "ORDER BY score DESC, rowid LIMIT 12")));
    f->snippet =
        OrDie(Statement::Prepare(db, citekb::testing::kReferenceSnippetSql));
    f->count = OrDie(Statement::Prepare(
        db, "SELECT count(*) FROM passage_ref WHERE passage_ref MATCH ?1"));
    f->faqs = OrDie(Statement::Prepare(
        db,
        "SELECT rowid, -bm25(faq_ref) AS score FROM faq_ref WHERE faq_ref "
        "MATCH ?1 ORDER BY score DESC, rowid LIMIT 3"));
    std::error_code ignored;
    fs::remove_all(dir, ignored);  // Both files stay open.
    return f;
  }();
  return *fixture;
}

std::string Describe(const std::vector<std::string>& lines) {
  return absl::StrJoin(lines, "\n    ");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  if (size > 1000 || !citekb::IsStructurallyValidUtf8(text)) return 0;
  Fixture& f = GetFixture();
  const citekb::AnalyzedQuery analyzed = citekb::AnalyzeQuery(text);
  if (analyzed.empty()) return 0;
  const std::vector<std::string> phrases = analyzed.Phrases();
  const std::string match = citekb::testing::MatchAnyPhrase(phrases);

  const citekb::PhraseQuery query = OrDie(f.searcher->Prepare(phrases));
  int64_t total = -1;
  const std::vector<citekb::PassageHit> hits =
      OrDie(f.searcher->SearchPassages(query, {}, 12, 0, &total));
  std::vector<std::string> ours, theirs;
  for (const citekb::PassageHit& hit : hits) {
    ours.push_back(
        absl::StrFormat("%d %a %s", hit.rowid(), hit.score, hit.snippet));
  }
  f.ranked.Reset();
  f.ranked.Bind(1, match);
  while (OrDie(f.ranked.Step())) {
    f.snippet.Reset();
    f.snippet.Bind(1, match).Bind(2, f.ranked.ColumnInt(0));
    if (!OrDie(f.snippet.Step())) Die("no snippet for a ranked row");
    theirs.push_back(absl::StrFormat("%d %a %s", f.ranked.ColumnInt(0),
                                     f.ranked.ColumnDouble(1),
                                     f.snippet.ColumnText(0)));
  }
  f.count.Reset();
  f.count.Bind(1, match);
  const int64_t fts5_total = OrDie(f.count.Step()) ? f.count.ColumnInt(0) : -1;
  if (ours != theirs || total != fts5_total) {
    Die(absl::StrCat(
        "passages differ from FTS5\n  input: ", absl::CHexEscape(text),
        "\n  match: ", match, "\n  ours (", total, "):\n    ", Describe(ours),
        "\n  FTS5 (", fts5_total, "):\n    ", Describe(theirs)));
  }

  std::vector<std::string> our_faqs, their_faqs;
  for (const citekb::FaqHit& faq : OrDie(f.searcher->MatchFaqs(query, 3))) {
    our_faqs.push_back(absl::StrFormat("%s %a", faq.faq->id, faq.score));
  }
  f.faqs.Reset();
  f.faqs.Bind(1, match);
  while (OrDie(f.faqs.Step())) {
    const int64_t rowid = f.faqs.ColumnInt(0);
    their_faqs.push_back(absl::StrFormat(
        "%s %a", OrDie(f.store->Faq(rowid))->id, f.faqs.ColumnDouble(1)));
  }
  if (our_faqs != their_faqs) {
    Die(absl::StrCat(
        "FAQ entries differ from FTS5\n  input: ", absl::CHexEscape(text),
        "\n  ours:\n    ", Describe(our_faqs), "\n  FTS5:\n    ",
        Describe(their_faqs)));
  }
  return 0;
}
