// Parses one article in the site's plain-text export format into an Article.
//
// The format, line by line (blank lines are ignored):
//
//   supplements                               <- category
//   D3-K2 Protocol: How to Route Calcium ...  <- title
//   Taking Vitamin D alone is a mistake. ...  <- description
//   > TL;DR: Taking Vitamin D alone ...       <- summary
//   In this article                           <- table of contents:
//   - Introduction & Physiological ... (#introduction-physiological-...)
//   ...
//   --- Category: supplements                 <- end of the header
//   Introduction & Physiological ...          <- a heading: a line equal to
//                                                the next TOC title
//   <paragraph> | <figure caption " - Illustration"> | <one-line table
//   "| h1 | h2 | |---|---| | a | b | | c | d |"> | <FAQ: "question?" line
//   then "A: answer" line>
//
// Section headings are found through the table of contents, never guessed.
// Paragraphs may start with an evidence tag such as `[anecdotal]`.
//
// Errors (absl::InvalidArgumentError, message "path:line: reason"): no
// category or title, no table of contents, a TOC section that never appears,
// a table whose rows do not fit its header. Things a reader can live with
// (a truncated FAQ answer, text before the first heading) are warnings in
// Article::warnings instead.
//
// Thread-safe; no I/O.

#ifndef CITEKB_INDEXER_ARTICLE_ARTICLE_PARSER_H_
#define CITEKB_INDEXER_ARTICLE_ARTICLE_PARSER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "indexer/article/article.h"

namespace citekb {

// `source_path` is used in messages and stored with the article.
absl::StatusOr<Article> ParseArticle(absl::string_view text,
                                     absl::string_view source_path);

// "D3-K2 Protocol: How to Route!" -> "d3-k2-protocol-how-to-route".
std::string Slugify(absl::string_view title);

}  // namespace citekb

#endif  // CITEKB_INDEXER_ARTICLE_ARTICLE_PARSER_H_
