// A table row as an answer gives it: the row's label and its cells, each
// with the column header that says what it is, rendered as one readable
// sentence of the cells that answer the question.
//
// The index stores a row as sentences (indexer/article/article.h): the
// first "Label: Header Value", the others "Header Value". With the table's
// headers, ReadTableRow takes them apart again:
//
//   TableRow row = ReadTableRow(
//       {"Vitamin D3: Standard Maintenance Dosage 2,000 - 5,000 IU",
//        "High-Dose Protocol (Anecdotal) 10,000+ IU"},
//       {"Compound", "Standard Maintenance Dosage",
//        "High-Dose Protocol (Anecdotal)"});
//   RenderRow(row, {0})
//     == "Vitamin D3 — Standard Maintenance Dosage: 2,000 - 5,000 IU."
//
// Labels, headers and values are quoted verbatim: rendering only puts
// them in order, so a row never says more than its table.

#ifndef CITEKB_SERVICE_ANSWER_TABLE_ROW_H_
#define CITEKB_SERVICE_ANSWER_TABLE_ROW_H_

#include <string>
#include <vector>

namespace citekb {

struct TableRow {
  struct Cell {
    std::string header;
    std::string value;
  };
  std::string label;
  std::vector<Cell> cells;  // Cell i comes from sentence i.
};

// `sentences` are the row's stored sentences in order; `headers` the
// table's column headers, the label column's first. A sentence that does
// not start as its header says is kept whole as the value.
TableRow ReadTableRow(const std::vector<std::string>& sentences,
                      const std::vector<std::string>& headers);

// "Label — Header: value; Header: value." for the cells listed, in the
// row's order.
std::string RenderRow(const TableRow& row, const std::vector<int>& cells);

}  // namespace citekb

#endif  // CITEKB_SERVICE_ANSWER_TABLE_ROW_H_
