#include "service/answer/table_row.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace citekb {
namespace {

// The value of "Header Value" (or of "Label: Header Value" for the first
// cell, which also gives the label).
TableRow::Cell ReadCell(absl::string_view sentence, const std::string& header,
                        bool first, std::string* label) {
  if (first) {
    const size_t at = header.empty()
                          ? absl::string_view::npos
                          : sentence.find(absl::StrCat(": ", header));
    if (at != absl::string_view::npos) {
      *label = std::string(sentence.substr(0, at));
      sentence.remove_prefix(at + 2);
    }
  }
  if (!header.empty() && absl::StartsWith(sentence, header)) {
    return {header, std::string(absl::StripLeadingAsciiWhitespace(
                        sentence.substr(header.size())))};
  }
  return {header, std::string(sentence)};
}

}  // namespace

TableRow ReadTableRow(const std::vector<std::string>& sentences,
                      const std::vector<std::string>& headers) {
  TableRow row;
  for (size_t i = 0; i < sentences.size(); ++i) {
    const std::string header = i + 1 < headers.size() ? headers[i + 1] : "";
    row.cells.push_back(ReadCell(sentences[i], header, i == 0, &row.label));
  }
  return row;
}

std::string RenderRow(const TableRow& row, const std::vector<int>& cells) {
  std::vector<int> order = cells;
  std::sort(order.begin(), order.end());
  std::vector<std::string> parts;
  for (int i : order) {
    if (i < 0 || i >= static_cast<int>(row.cells.size())) continue;
    const TableRow::Cell& cell = row.cells[i];
    parts.push_back(cell.header.empty()
                        ? cell.value
                        : absl::StrCat(cell.header, ": ", cell.value));
  }
  std::string text = absl::StrJoin(parts, "; ");
  if (!row.label.empty()) text = absl::StrCat(row.label, " — ", text);
  return absl::StrCat(text, ".");
}

}  // namespace citekb
