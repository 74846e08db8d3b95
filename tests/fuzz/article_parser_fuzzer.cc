// libFuzzer target: the article parser (indexer/article/article_parser.h) on
// any bytes. Any status is fine; a crash, leak, hang or sanitizer report is
// not. Accepted articles must also be self-consistent: every index an Article
// holds points inside the vectors it indexes, since the index writer trusts
// them.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/string_view.h"
#include "indexer/article/article_parser.h"

namespace {

void Check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "article invariant broken: %s\n", what);
    std::abort();
  }
}

template <typename Vector>
bool InRange(int index, const Vector& vector) {
  return index >= 0 && static_cast<size_t>(index) < vector.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<citekb::Article> article =
      citekb::ParseArticle(text, "fuzz.txt");
  citekb::Slugify(text);
  if (!article.ok()) return 0;
  const citekb::Article& a = *article;
  for (const citekb::Passage& passage : a.passages) {
    Check(InRange(passage.section_index, a.sections), "passage section_index");
    if (passage.kind == citekb::PassageKind::kTableRow) {
      Check(InRange(passage.table_index, a.tables), "passage table_index");
      Check(InRange(passage.row_index, a.tables[passage.table_index].rows),
            "passage row_index");
    }
    if (passage.kind == citekb::PassageKind::kFaq) {
      Check(InRange(passage.faq_index, a.faqs), "passage faq_index");
    }
  }
  for (const citekb::Table& table : a.tables) {
    Check(InRange(table.section_index, a.sections), "table section_index");
    for (const auto& row : table.rows) {
      Check(row.size() == table.columns.size(), "table row width");
    }
    for (int row : table.row_passage_indexes) {
      Check(InRange(row, a.passages), "table row_passage_indexes");
    }
  }
  for (const citekb::Faq& faq : a.faqs) {
    Check(InRange(faq.passage_index, a.passages), "faq passage_index");
    Check(faq.answer.empty() || !faq.answer_incomplete,
          "incomplete faq answer kept");
  }
  for (const citekb::RelatedLink& link : a.related_links) {
    Check(InRange(link.passage_index, a.passages),
          "related link passage_index");
  }
  return 0;
}
