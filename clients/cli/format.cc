#include "clients/cli/format.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "citekb/v1/knowledge_base.pb.h"

namespace citekb {
namespace {

// Passage text shown in lists is cut to about this many code points; the
// full text is one `citekb section` away.
constexpr size_t kExcerptCodePoints = 160;

// Code points, not bytes: article text has "µg", "—" and "≥" in it, and
// padding by bytes would push those rows out of line.
size_t DisplayWidth(absl::string_view text) {
  size_t width = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++width;
  }
  return width;
}

// Cuts `text` to at most `max_code_points`, at a word boundary when there is
// one in the last third, never inside a UTF-8 sequence, and marks the cut.
std::string Excerpt(absl::string_view text, size_t max_code_points) {
  if (DisplayWidth(text) <= max_code_points) return std::string(text);
  size_t end = 0;
  for (size_t seen = 0; end < text.size(); ++end) {
    if ((static_cast<unsigned char>(text[end]) & 0xC0) != 0x80) {
      if (seen == max_code_points) break;
      ++seen;
    }
  }
  absl::string_view cut = text.substr(0, end);
  size_t space = cut.rfind(' ');
  if (space != absl::string_view::npos && space > cut.size() * 2 / 3) {
    cut = cut.substr(0, space);
  }
  return absl::StrCat(cut, "…");
}

std::string OneLine(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"\r\n", " "}, {"\n", " "}, {"\r", " "}});
}

// Doses and ratios are mostly whole numbers ("5000 IU"); "%g" alone would
// print 1000000 as "1e+06".
std::string FormatNumber(double value) {
  if (std::isfinite(value) && std::fabs(value) < 1e15 &&
      value == std::floor(value)) {
    return absl::StrFormat("%.0f", value);
  }
  return absl::StrFormat("%.4g", value);
}

absl::string_view PassageKindName(v1::PassageKind kind) {
  switch (kind) {
    case v1::PASSAGE_KIND_PARAGRAPH:
      return "paragraph";
    case v1::PASSAGE_KIND_TABLE_ROW:
      return "table row";
    case v1::PASSAGE_KIND_FAQ:
      return "FAQ";
    default:
      return "passage";
  }
}

absl::string_view CitationKindName(v1::CitationKind kind) {
  switch (kind) {
    case v1::CITATION_KIND_PUBMED:
      return "PubMed";
    case v1::CITATION_KIND_PMC:
      return "PMC";
    case v1::CITATION_KIND_DOI:
      return "DOI";
    case v1::CITATION_KIND_WEB:
      return "web";
    case v1::CITATION_KIND_SAFETY_REFERENCE:
      return "safety reference";
    default:
      return "source";
  }
}

absl::string_view RelatedLinkKindName(v1::RelatedLinkKind kind) {
  switch (kind) {
    case v1::RELATED_LINK_KIND_ARTICLE:
      return "article";
    case v1::RELATED_LINK_KIND_TOOL:
      return "tool";
    default:
      return "link";
  }
}

absl::string_view DoseBandName(v1::DoseBand band) {
  switch (band) {
    case v1::DOSE_BAND_BELOW_STANDARD:
      return "below standard";
    case v1::DOSE_BAND_STANDARD:
      return "standard";
    case v1::DOSE_BAND_HIGH_DOSE_ANECDOTAL:
      return "high dose (anecdotal evidence only)";
    case v1::DOSE_BAND_ABOVE_SAFETY_LIMIT:
      return "ABOVE SAFETY LIMIT";
    case v1::DOSE_BAND_NOT_COVERED:
      return "not covered";
    default:
      return "not evaluated";
  }
}

absl::string_view SeverityName(v1::Severity severity) {
  switch (severity) {
    case v1::SEVERITY_INFO:
      return "INFO";
    case v1::SEVERITY_WARNING:
      return "WARNING";
    case v1::SEVERITY_ALERT:
      return "ALERT";
    default:
      return "NOTE";
  }
}

// Numbers citations in the order they are added, so markers in the text
// ("[2]") and the "Sources:" list agree. An Ask response with a stack
// evaluation has two citation lists; both go through one numbering so the
// reader sees a single list.
class CitationNumbers {
 public:
  void Add(const v1::Citation& citation) {
    if (numbers_.contains(citation.id())) return;
    citations_.push_back(&citation);
    numbers_[citation.id()] = static_cast<int>(citations_.size());
  }

  template <typename Citations>
  void AddAll(const Citations& citations) {
    for (const v1::Citation& citation : citations) Add(citation);
  }

  // "[1][3]" for the given ids; ids the response did not resolve stay
  // visible as "[<id>]" so nothing cited silently disappears.
  template <typename Ids>
  std::string Markers(const Ids& ids) const {
    std::string markers;
    for (const std::string& id : ids) {
      auto it = numbers_.find(id);
      if (it == numbers_.end()) {
        absl::StrAppend(&markers, "[", id, "]");
      } else {
        absl::StrAppend(&markers, "[", it->second, "]");
      }
    }
    return markers;
  }

  bool empty() const { return citations_.empty(); }

  // "Sources:" and one "[n] label-or-id — url" line per citation.
  std::string SourcesBlock() const {
    std::string out = "Sources:\n";
    for (size_t i = 0; i < citations_.size(); ++i) {
      const v1::Citation& c = *citations_[i];
      absl::StrAppend(&out, "  [", i + 1, "] ",
                      c.label().empty() ? c.id() : c.label());
      if (!c.url().empty()) absl::StrAppend(&out, " — ", c.url());
      out += "\n";
    }
    return out;
  }

 private:
  std::vector<const v1::Citation*> citations_;
  std::map<std::string, int> numbers_;
};

// Doses and findings of a stack evaluation, with markers numbered by
// `numbers` (which the caller has filled). Sources are left to the caller.
std::string StackBody(const v1::EvaluateStackResponse& response,
                      const CitationNumbers& numbers) {
  std::string out;
  if (response.doses().empty()) {
    out += "Doses understood: none (no dose could be read from the stack).\n";
  } else {
    bool any_source_text = false;
    for (const v1::EvaluatedDose& dose : response.doses()) {
      any_source_text |= !dose.source_text().empty();
    }
    std::vector<std::vector<std::string>> rows;
    for (const v1::EvaluatedDose& dose : response.doses()) {
      std::vector<std::string> row = {
          dose.display_name().empty() ? dose.compound() : dose.display_name(),
          dose.unit().empty()
              ? std::string("not stated")
              : absl::StrCat(FormatNumber(dose.amount()), " ", dose.unit()),
          dose.form(), std::string(DoseBandName(dose.band()))};
      if (any_source_text) row.push_back(dose.source_text());
      rows.push_back(std::move(row));
    }
    std::vector<std::string> header = {"COMPOUND", "AMOUNT", "FORM", "BAND"};
    if (any_source_text) header.push_back("READ FROM");
    out += "Doses understood:\n";
    out += RenderColumns(header, rows, "  ");
  }
  if (response.has_k2_mcg_per_5000_iu_d3()) {
    absl::StrAppend(
        &out, "K2 per 5000 IU of D3: ",
        FormatNumber(std::round(response.k2_mcg_per_5000_iu_d3() * 100) / 100),
        " mcg\n");
  }
  if (response.findings().empty()) {
    out += "Findings: none; nothing to report for this stack.\n";
  } else {
    out += "Findings:\n";
    int n = 0;
    for (const v1::Finding& finding : response.findings()) {
      absl::StrAppend(&out, "  ", ++n, ". ", SeverityName(finding.severity()),
                      " ", finding.code(), ": ", OneLine(finding.message()));
      std::string markers = numbers.Markers(finding.citation_ids());
      if (!markers.empty()) absl::StrAppend(&out, " ", markers);
      if (finding.source() == v1::FINDING_SOURCE_SAFETY_REFERENCE) {
        out += " (safety reference)";
      }
      out += "\n";
    }
  }
  return out;
}

std::string NextPageLine(absl::string_view token) {
  if (token.empty()) return "";
  return absl::StrCat("Next page: --page-token ", token, "\n");
}

}  // namespace

std::string RenderColumns(const std::vector<std::string>& header,
                          const std::vector<std::vector<std::string>>& rows,
                          absl::string_view indent) {
  size_t columns = header.size();
  for (const auto& row : rows) columns = std::max(columns, row.size());
  std::vector<size_t> widths(columns, 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], DisplayWidth(OneLine(row[i])));
    }
  };
  measure(header);
  for (const auto& row : rows) measure(row);

  auto line = [&](const std::vector<std::string>& row) {
    std::string text(indent);
    for (size_t i = 0; i < columns; ++i) {
      std::string cell = i < row.size() ? OneLine(row[i]) : "";
      text += cell;
      if (i + 1 < columns) {
        text.append(widths[i] - DisplayWidth(cell) + 2, ' ');
      }
    }
    // The last columns may be empty; padding there is invisible noise.
    text.erase(text.find_last_not_of(' ') + 1);
    return text + "\n";
  };

  std::string out;
  if (!header.empty()) {
    out += line(header);
    std::vector<std::string> rule;
    for (size_t width : widths) rule.push_back(std::string(width, '-'));
    out += line(rule);
  }
  for (const auto& row : rows) out += line(row);
  return out;
}

std::string FormatAskResponse(const v1::AskResponse& response,
                              absl::string_view question) {
  std::string out;
  if (!response.resolved_question().empty() &&
      response.resolved_question() != question) {
    absl::StrAppend(&out, "(Answering: ", response.resolved_question(),
                    ")\n\n");
  }

  CitationNumbers numbers;
  numbers.AddAll(response.citations());
  const bool show_stack = response.has_stack_evaluation() &&
                          (!response.stack_evaluation().findings().empty() ||
                           !response.stack_evaluation().doses().empty());
  if (show_stack) numbers.AddAll(response.stack_evaluation().citations());

  // The sentences, not `answer`, because they carry the citations and the
  // anecdotal flag the reader needs to weigh each claim.
  std::vector<std::string> sentences;
  for (const v1::AnswerSentence& sentence : response.answer_sentences()) {
    std::string text = OneLine(sentence.text());
    std::string markers = numbers.Markers(sentence.citation_ids());
    if (!markers.empty()) absl::StrAppend(&text, " ", markers);
    if (sentence.anecdotal()) text += " (anecdotal)";
    sentences.push_back(std::move(text));
  }
  std::string paragraph = sentences.empty() ? OneLine(response.answer())
                                            : absl::StrJoin(sentences, " ");
  if (paragraph.empty()) paragraph = "(The server returned an empty answer.)";
  absl::StrAppend(&out, paragraph, "\n");

  if (response.answered()) {
    if (show_stack) {
      absl::StrAppend(&out, "\nYour stack:\n",
                      StackBody(response.stack_evaluation(), numbers));
    }
    if (!numbers.empty()) absl::StrAppend(&out, "\n", numbers.SourcesBlock());
    if (!response.passages().empty()) {
      out += "\nPassages:\n";
      for (const v1::Passage& p : response.passages()) {
        absl::StrAppend(&out, "  - ", p.id());
        if (!p.section_title().empty()) {
          absl::StrAppend(&out, " (", p.section_title(), ")");
        }
        // A response for references only (PASSAGE_DETAIL_REFERENCE) has
        // neither text nor snippet to quote.
        const std::string quote =
            OneLine(p.snippet().empty() ? Excerpt(p.text(), kExcerptCodePoints)
                                        : p.snippet());
        if (!quote.empty()) absl::StrAppend(&out, ": ", quote);
        out += "\n";
      }
    }
  }
  if (!response.follow_ups().empty()) {
    out += "\nYou could also ask:\n";
    for (const std::string& follow_up : response.follow_ups()) {
      absl::StrAppend(&out, "  - ", OneLine(follow_up), "\n");
    }
  }
  return out;
}

std::string FormatSearchResponse(const v1::SearchResponse& response) {
  if (response.passages().empty()) {
    return absl::StrCat("No passages match.\n",
                        NextPageLine(response.next_page_token()));
  }
  std::string out = absl::StrFormat(
      "%d of %d matching passages:\n\n", response.passages_size(),
      std::max(response.total_size(), response.passages_size()));
  int n = 0;
  for (const v1::Passage& p : response.passages()) {
    absl::StrAppend(&out, ++n, ". ");
    if (!p.section_title().empty())
      absl::StrAppend(&out, p.section_title(), " — ");
    absl::StrAppend(&out, p.id(), " (", PassageKindName(p.kind()),
                    absl::StrFormat(", score %.2f)", p.score()),
                    p.anecdotal() ? " (anecdotal)" : "", "\n");
    absl::StrAppend(
        &out, "   ",
        OneLine(p.snippet().empty() ? Excerpt(p.text(), kExcerptCodePoints)
                                    : p.snippet()),
        "\n");
  }
  std::string next = NextPageLine(response.next_page_token());
  if (!next.empty()) absl::StrAppend(&out, "\n", next);
  return out;
}

std::string FormatSections(const v1::ListSectionsResponse& response) {
  if (response.sections().empty()) return "No sections.\n";
  // Two lines per section rather than a table: real ids run past 100
  // characters, and a table that wide wraps into noise on a terminal. The
  // id gets a line of its own so it can be copied into `citekb section`.
  std::string out;
  for (const v1::Section& s : response.sections()) {
    absl::StrAppend(&out, s.title().empty() ? "(untitled)" : s.title(), " — ",
                    s.passage_count(),
                    s.passage_count() == 1 ? " passage\n" : " passages\n", "  ",
                    s.id(), "\n");
  }
  return out;
}

std::string FormatTable(const v1::Table& table) {
  std::vector<std::string> header;
  bool has_header = false;
  for (const v1::TableColumn& column : table.columns()) {
    has_header |= !column.header().empty() || column.anecdotal();
    // Articles often say so in the header already ("High-Dose Protocol
    // (Anecdotal)"); saying it twice reads like a glitch.
    const bool says_so =
        absl::StrContains(absl::AsciiStrToLower(column.header()), "anecdotal");
    header.push_back(column.anecdotal() && !says_so
                         ? absl::StrCat(column.header(), " (anecdotal)")
                         : column.header());
  }
  if (!has_header) header.clear();
  std::vector<std::vector<std::string>> rows;
  for (const v1::TableRow& row : table.rows()) {
    rows.emplace_back(row.cells().begin(), row.cells().end());
  }
  if (rows.empty() && header.empty()) return "(empty table)\n";
  return RenderColumns(header, rows, "  ");
}

std::string FormatSection(const v1::GetSectionResponse& response) {
  const v1::Section& section = response.section();
  std::string out =
      absl::StrCat(section.title().empty() ? section.id() : section.title(),
                   "\n", section.id(), "\n");
  if (response.blocks().empty()) {
    return absl::StrCat(out, "\n(This section has no content.)\n");
  }
  for (const v1::SectionBlock& block : response.blocks()) {
    out += "\n";
    switch (block.block_case()) {
      case v1::SectionBlock::kPassage:
        absl::StrAppend(&out, block.passage().text(),
                        block.passage().anecdotal() ? " (anecdotal)" : "",
                        "\n");
        break;
      case v1::SectionBlock::kTable:
        out += FormatTable(block.table());
        break;
      case v1::SectionBlock::kFigure:
        if (block.figure().caption().empty()) {
          out += "[Figure]\n";
        } else {
          absl::StrAppend(&out, "[Figure: ", OneLine(block.figure().caption()),
                          "]\n");
        }
        break;
      default:
        // A block kind newer than this client; say so rather than hide it.
        out += "[content this client cannot show]\n";
        break;
    }
  }
  return out;
}

std::string FormatFaqs(const v1::ListFaqsResponse& response) {
  if (response.faqs().empty()) return "No FAQs.\n";
  std::string out;
  for (const v1::Faq& faq : response.faqs()) {
    if (!out.empty()) out += "\n";
    absl::StrAppend(&out, "Q: ", OneLine(faq.question()), "\n");
    absl::StrAppend(&out, "A: ",
                    faq.answer_incomplete()
                        ? "(answer incomplete in the source)"
                        : OneLine(faq.answer()),
                    "\n");
  }
  return out;
}

std::string FormatCitations(const v1::ListCitationsResponse& response) {
  if (response.citations().empty()) {
    return absl::StrCat("No citations match.\n",
                        NextPageLine(response.next_page_token()));
  }
  std::string out = absl::StrFormat(
      "%d of %d matching citations:\n", response.citations_size(),
      std::max(response.total_size(), response.citations_size()));
  for (const v1::Citation& c : response.citations()) {
    absl::StrAppend(&out, "\n", c.id());
    if (!c.label().empty()) absl::StrAppend(&out, " — ", c.label());
    out += "\n";
    if (!c.url().empty()) absl::StrAppend(&out, "  ", c.url(), "\n");
    absl::StrAppend(&out, "  ", CitationKindName(c.kind()), ", cited in ",
                    c.passage_ids_size(),
                    c.passage_ids_size() == 1 ? " passage\n" : " passages\n");
  }
  std::string next = NextPageLine(response.next_page_token());
  if (!next.empty()) absl::StrAppend(&out, "\n", next);
  return out;
}

std::string FormatCitation(const v1::Citation& c) {
  std::vector<std::vector<std::string>> rows;
  if (!c.label().empty()) rows.push_back({"Label:", c.label()});
  rows.push_back({"Kind:", std::string(CitationKindName(c.kind()))});
  rows.push_back({"URL:", c.url().empty() ? "(none known)" : c.url()});
  if (!c.pmid().empty()) rows.push_back({"PMID:", c.pmid()});
  if (!c.pmcid().empty()) rows.push_back({"PMCID:", c.pmcid()});
  if (!c.doi().empty()) rows.push_back({"DOI:", c.doi()});
  std::string out = absl::StrCat(c.id(), "\n", RenderColumns({}, rows, "  "));
  if (c.citing_sentences().empty()) {
    out += "\nNo article sentence cites this source.\n";
    return out;
  }
  out += "\nCited by:\n";
  for (const v1::CitingSentence& s : c.citing_sentences()) {
    absl::StrAppend(&out, "  - \"", OneLine(s.text()), "\" (passage ",
                    s.passage_id(), ")\n");
  }
  return out;
}

std::string FormatRelatedLinks(const v1::ListRelatedLinksResponse& response) {
  if (response.links().empty()) return "No related links.\n";
  // Two lines per link, for the same reason as FormatSections: paths and
  // passage ids are long.
  std::string out;
  for (const v1::RelatedLink& link : response.links()) {
    absl::StrAppend(&out, "[", RelatedLinkKindName(link.kind()), "] ",
                    link.path());
    if (!link.anchor_text().empty()) {
      absl::StrAppend(&out, " — \"", OneLine(link.anchor_text()), "\"");
    }
    out += "\n";
    if (!link.passage_ids().empty()) {
      absl::StrAppend(&out, "  from ", absl::StrJoin(link.passage_ids(), ", "),
                      "\n");
    }
  }
  return out;
}

std::string FormatStackEvaluation(const v1::EvaluateStackResponse& response) {
  CitationNumbers numbers;
  numbers.AddAll(response.citations());
  std::string out = StackBody(response, numbers);
  if (!numbers.empty()) absl::StrAppend(&out, "\n", numbers.SourcesBlock());
  return out;
}

}  // namespace citekb
