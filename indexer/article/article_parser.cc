#include "indexer/article/article_parser.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "indexer/article/links.h"
#include "indexer/article/sentence_splitter.h"
#include "indexer/base/re2_piece.h"
#include "re2/re2.h"

namespace citekb {
namespace {

struct Line {
  int number = 0;  // 1-based.
  absl::string_view text;
};

struct TocEntry {
  std::string title;
  std::string anchor;
  int line = 0;
};

const RE2& TocEntryPattern() {
  static const RE2 pattern(R"(^-\s+(.+?)\s*\(#([^()\s]+)\)$)", RE2::Quiet);
  return pattern;
}

const RE2& FigurePattern() {
  static const RE2 pattern(R"(^(.*\S)\s+-\s+Illustration$)", RE2::Quiet);
  return pattern;
}

const RE2& EvidenceTagPattern() {
  static const RE2 pattern(R"(^\[([A-Za-z][A-Za-z -]*)\]\s*)", RE2::Quiet);
  return pattern;
}

const RE2& TableSeparatorCell() {
  static const RE2 pattern(R"(^:?-{3,}:?$)", RE2::Quiet);
  return pattern;
}

// An answer that stops without closing punctuation was cut off.
const RE2& CompleteAnswerEnd() {
  static const RE2 pattern(R"([.!?]["'”’)\]]*$)", RE2::Quiet);
  return pattern;
}

class Parser {
 public:
  Parser(absl::string_view text, absl::string_view path) : path_(path) {
    int number = 0;
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      ++number;
      line = absl::StripAsciiWhitespace(line);  // Also drops '\r'.
      if (!line.empty()) lines_.push_back({number, line});
    }
    article_.source_path = std::string(path);
  }

  absl::StatusOr<Article> Parse() && {
    absl::Status status = ParseHeader();
    if (!status.ok()) return status;
    status = ParseBody();
    if (!status.ok()) return status;
    return std::move(article_);
  }

 private:
  absl::Status Error(int line, absl::string_view reason) const {
    return absl::InvalidArgumentError(
        absl::StrCat(path_, ":", line, ": ", reason));
  }
  void Warn(int line, absl::string_view reason) {
    article_.warnings.push_back(absl::StrCat(path_, ":", line, ": ", reason));
  }

  absl::Status ParseHeader() {
    if (lines_.size() < 2) {
      return Error(lines_.empty() ? 1 : lines_.back().number,
                   "an article needs a category line and a title line");
    }
    article_.category = std::string(lines_[0].text);
    article_.title = std::string(lines_[1].text);
    article_.id = Slugify(article_.title);
    if (article_.id.empty()) {
      return Error(lines_[1].number, "the title has no letters or digits");
    }
    next_ = 2;
    // Description and TL;DR, in either order, until the table of contents.
    while (next_ < lines_.size() && lines_[next_].text != "In this article") {
      absl::string_view text = lines_[next_].text;
      if (absl::ConsumePrefix(&text, ">")) {
        text = absl::StripLeadingAsciiWhitespace(text);
        absl::ConsumePrefix(&text, "TL;DR:");
        article_.summary = std::string(absl::StripAsciiWhitespace(text));
      } else if (article_.description.empty()) {
        article_.description = std::string(text);
      } else {
        Warn(lines_[next_].number, "unexpected header line ignored");
      }
      ++next_;
    }
    if (next_ == lines_.size()) {
      return Error(lines_.back().number,
                   "no table of contents (\"In this article\") found");
    }
    ++next_;
    while (next_ < lines_.size()) {
      TocEntry entry;
      if (!RE2::FullMatch(Piece(lines_[next_].text), TocEntryPattern(),
                          &entry.title, &entry.anchor)) {
        break;
      }
      entry.line = lines_[next_].number;
      toc_.push_back(std::move(entry));
      ++next_;
    }
    if (toc_.empty()) {
      return Error(
          lines_[next_ - 1].number,
          "the table of contents lists no sections (\"- Title (#anchor)\")");
    }
    if (next_ < lines_.size()) {
      absl::string_view text = lines_[next_].text;
      if (absl::ConsumePrefix(&text, "--- Category:")) {
        text = absl::StripAsciiWhitespace(text);
        if (text != article_.category) {
          Warn(lines_[next_].number,
               absl::StrCat("category \"", text, "\" differs from \"",
                            article_.category, "\" on line 1"));
        }
        ++next_;
      }
    }
    if (article_.summary.empty()) {
      Warn(lines_[1].number, "no \"> TL;DR:\" summary");
    }
    return absl::OkStatus();
  }

  absl::Status ParseBody() {
    int section = -1;
    int block = 0;
    for (; next_ < lines_.size(); ++next_) {
      const Line& line = lines_[next_];
      if (section + 1 < static_cast<int>(toc_.size()) &&
          line.text == toc_[section + 1].title) {
        ++section;
        block = 0;
        article_.sections.push_back(
            {toc_[section].anchor, toc_[section].title, line.number});
        continue;
      }
      if (section < 0) {
        Warn(line.number, "text before the first section heading ignored");
        continue;
      }
      absl::Status status = ParseBlock(section, block++);
      if (!status.ok()) return status;
    }
    if (article_.sections.size() < toc_.size()) {
      const TocEntry& missing = toc_[article_.sections.size()];
      return Error(
          missing.line,
          absl::StrCat("section \"", missing.title, "\" (#", missing.anchor,
                       ") is in the table of contents but never "
                       "appears as a heading"));
    }
    return absl::OkStatus();
  }

  // Parses the block starting at lines_[next_]; leaves next_ on its last line.
  absl::Status ParseBlock(int section, int block) {
    const Line& line = lines_[next_];
    std::string caption;
    // The suffix test first: it is exact for the pattern, and it spares the
    // regular expression (with a capture, a few µs per line) on the 99% of
    // lines that are prose.
    if (absl::EndsWith(line.text, "Illustration") &&
        RE2::FullMatch(Piece(line.text), FigurePattern(), &caption)) {
      article_.figures.push_back({section, block, std::move(caption)});
      return absl::OkStatus();
    }
    if (absl::StartsWith(line.text, "|")) {
      return ParseTable(line, section, block);
    }
    if (absl::StartsWith(line.text, "A:")) {
      Warn(line.number, "answer without a question read as a paragraph");
    } else if (absl::EndsWith(line.text, "?") && next_ + 1 < lines_.size() &&
               absl::StartsWith(lines_[next_ + 1].text, "A:")) {
      ++next_;
      ParseFaq(line, lines_[next_], section, block);
      return absl::OkStatus();
    }
    ParseParagraph(line, section, block);
    return absl::OkStatus();
  }

  void ParseParagraph(const Line& line, int section, int block) {
    absl::string_view text = line.text;
    std::string tag;
    re2::StringPiece input = Piece(text);
    if (RE2::Consume(&input, EvidenceTagPattern(), &tag)) {
      text = View(input);
    }
    const bool anecdotal = absl::EqualsIgnoreCase(tag, "anecdotal");
    if (!tag.empty() && !anecdotal) {
      Warn(line.number,
           absl::StrCat("unknown evidence tag [", tag, "] removed"));
    }
    Passage passage;
    passage.kind = PassageKind::kParagraph;
    passage.section_index = section;
    passage.block_index = block;
    passage.anecdotal = anecdotal;
    AddSentences(text, anecdotal, passage);
    AddPassage(std::move(passage));
  }

  void ParseFaq(const Line& question_line, const Line& answer_line, int section,
                int block) {
    absl::string_view answer_raw = answer_line.text;
    absl::ConsumePrefix(&answer_raw, "A:");
    answer_raw = absl::StripAsciiWhitespace(answer_raw);

    Faq faq;
    faq.section_index = section;
    faq.line = answer_line.number;
    Passage passage;
    passage.kind = PassageKind::kFaq;
    passage.section_index = section;
    passage.block_index = block;
    AddSentences(question_line.text, false, passage);
    faq.question = passage.text;
    faq.answer_incomplete =
        !RE2::PartialMatch(Piece(answer_raw), CompleteAnswerEnd());
    if (faq.answer_incomplete) {
      // Keep the question searchable but never the fragment: a cut-off
      // sentence can say the opposite of what the full one did.
      Warn(answer_line.number,
           absl::StrCat("FAQ answer to \"", faq.question,
                        "\" is cut off; kept the question only"));
    } else {
      const size_t question_end = passage.text.size();
      AddSentences(answer_raw, false, passage);
      faq.answer = passage.text.substr(question_end + 1);
    }
    faq.passage_index = static_cast<int>(article_.passages.size());
    passage.faq_index = static_cast<int>(article_.faqs.size());
    article_.faqs.push_back(std::move(faq));
    AddPassage(std::move(passage));
  }

  absl::Status ParseTable(const Line& line, int section, int block) {
    // "| h1 | h2 | |---|---| | a | b | | c | d |": split on '|' and drop the
    // empty piece before the first and after the last pipe. Spacing varies.
    std::vector<std::string> cells;
    for (absl::string_view cell : absl::StrSplit(line.text, '|')) {
      cells.emplace_back(absl::StripAsciiWhitespace(cell));
    }
    if (cells.size() < 2 || !cells.front().empty() || !cells.back().empty()) {
      return Error(line.number, "a table line must start and end with '|'");
    }
    cells.erase(cells.begin());
    cells.pop_back();

    Table table;
    table.section_index = section;
    table.block_index = block;
    table.line = line.number;
    size_t i = 0;
    for (; i < cells.size() && !RE2::FullMatch(cells[i], TableSeparatorCell());
         ++i) {
      if (cells[i].empty() && table.columns.empty()) continue;
      table.columns.push_back(
          {cells[i],
           absl::StrContains(absl::AsciiStrToLower(cells[i]), "anecdotal")});
    }
    // Between rows the one-line form leaves an empty cell ("| |").
    if (i < cells.size() && !table.columns.empty() &&
        table.columns.back().header.empty()) {
      table.columns.pop_back();
    }
    const size_t width = table.columns.size();
    size_t separators = 0;
    while (i < cells.size() && RE2::FullMatch(cells[i], TableSeparatorCell())) {
      ++separators;
      ++i;
    }
    if (width == 0 || separators != width) {
      return Error(line.number,
                   absl::StrCat("table header has ", width,
                                " columns but its separator row has ",
                                separators, " cells"));
    }
    // Rows: `width` cells, then the empty boundary cell unless at the end.
    if (i < cells.size() && cells[i].empty()) ++i;
    while (i < cells.size()) {
      const size_t row_number = table.rows.size() + 1;
      if (cells.size() - i < width) {
        return Error(
            line.number,
            absl::StrCat("table row ", row_number, " has ", cells.size() - i,
                         " cells but the header has ", width, " columns"));
      }
      std::vector<std::string> row(cells.begin() + i,
                                   cells.begin() + i + width);
      i += width;
      if (i < cells.size() && !cells[i].empty()) {
        return Error(line.number,
                     absl::StrCat("table row ", row_number,
                                  " does not fit the header's ", width,
                                  " columns (rows are \"| c1 | ... | c", width,
                                  " |\")"));
      }
      ++i;
      table.rows.push_back(std::move(row));
    }
    if (table.rows.empty()) {
      return Error(line.number, "table has a header but no rows");
    }

    const int table_index = static_cast<int>(article_.tables.size());
    for (size_t r = 0; r < table.rows.size(); ++r) {
      table.row_passage_indexes.push_back(
          static_cast<int>(article_.passages.size()));
      AddPassage(TableRowPassage(table, r, table_index));
    }
    // Cells are shown as readable text too.
    for (auto& row : table.rows) {
      for (auto& cell : row) cell = StripLinks(cell).text;
    }
    article_.tables.push_back(std::move(table));
    return absl::OkStatus();
  }

  // "Vitamin K2 (MK-7): Standard Maintenance Dosage 100–200 mcg; High-Dose
  // Protocol (Anecdotal) 500+ mcg; ...": one sentence per cell, so that a
  // sentence from an anecdotal column carries that label on its own.
  Passage TableRowPassage(const Table& table, size_t row, int table_index) {
    Passage passage;
    passage.kind = PassageKind::kTableRow;
    passage.section_index = table.section_index;
    passage.block_index = table.block_index;
    passage.table_index = table_index;
    passage.row_index = static_cast<int>(row);
    const std::vector<std::string>& cells = table.rows[row];
    const std::string key = StripLinks(cells[0]).text;
    for (size_t c = 1; c < cells.size(); ++c) {
      LinkedText cell = StripLinks(cells[c]);
      std::string sentence_text =
          absl::StrCat(c == 1 ? absl::StrCat(key, ": ") : "",
                       table.columns[c].header, " ", cell.text);
      Sentence sentence;
      sentence.anecdotal = table.columns[c].anecdotal;
      passage.anecdotal = passage.anecdotal || sentence.anecdotal;
      for (const LinkOccurrence& link : cell.links) {
        RecordLink(link, sentence);
      }
      sentence.text = sentence_text;
      if (!passage.text.empty()) passage.text += "; ";
      passage.text += sentence_text;
      passage.sentences.push_back(std::move(sentence));
    }
    if (cells.size() == 1) {
      passage.text = key;
      passage.sentences.push_back({key, {}, false});
    }
    return passage;
  }

  // Appends `raw` (with its links) to the passage as readable sentences.
  void AddSentences(absl::string_view raw, bool anecdotal, Passage& passage) {
    LinkedText linked = StripLinks(raw);
    std::vector<SentenceSpan> spans = SplitSentences(linked.text);
    const size_t first = passage.sentences.size();
    for (const SentenceSpan& span : spans) {
      passage.sentences.push_back(
          {linked.text.substr(span.begin, span.end - span.begin),
           {},
           anecdotal});
    }
    for (const LinkOccurrence& link : linked.links) {
      // The sentence the link stands in: the last one starting before it.
      size_t s = 0;
      while (s + 1 < spans.size() && spans[s + 1].begin < link.offset) ++s;
      if (spans.empty()) continue;
      RecordLink(link, passage.sentences[first + s]);
    }
    if (!passage.text.empty()) passage.text += " ";
    passage.text += absl::StrJoin(
        passage.sentences.begin() + first, passage.sentences.end(), " ",
        [](std::string* out, const Sentence& s) { out->append(s.text); });
  }

  // Adds an external link to the sentence's sources (and the article's), or
  // an internal one to the article's related links for the current passage.
  void RecordLink(const LinkOccurrence& link, Sentence& sentence) {
    ClassifiedLink classified = ClassifyLink(link.url);
    if (classified.internal.has_value()) {
      article_.related_links.push_back(
          {link.url, *classified.internal, link.anchor_text,
           static_cast<int>(article_.passages.size())});
      return;
    }
    Source& source = *classified.source;
    Source* known = nullptr;
    for (Source& s : article_.sources) {
      if (s.id == source.id) known = &s;
    }
    if (known == nullptr) {
      article_.sources.push_back(std::move(source));
      known = &article_.sources.back();
    }
    if (known->label.empty()) known->label = link.author_year;
    for (const std::string& id : sentence.source_ids) {
      if (id == known->id) return;
    }
    sentence.source_ids.push_back(known->id);
  }

  void AddPassage(Passage passage) {
    article_.passages.push_back(std::move(passage));
  }

  std::string path_;
  std::vector<Line> lines_;
  size_t next_ = 0;  // Index into lines_ of the line being read.
  std::vector<TocEntry> toc_;
  Article article_;
};

}  // namespace

std::string Slugify(absl::string_view title) {
  std::string slug;
  for (char c : title) {
    if (absl::ascii_isalnum(c)) {
      slug.push_back(absl::ascii_tolower(c));
    } else if (!slug.empty() && slug.back() != '-') {
      slug.push_back('-');
    }
  }
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  return slug;
}

absl::StatusOr<Article> ParseArticle(absl::string_view text,
                                     absl::string_view source_path) {
  return Parser(text, source_path).Parse();
}

}  // namespace citekb
