// The stack evaluator's knowledge files (proto/citekb/rules/v1/
// stack_rules.proto), read and checked at index time:
//
//   knowledge/safety_references.textproto  -> an Article ("safety-references")
//                                             the index writer stores like any
//                                             other, its sources labelled as
//                                             safety references;
//   knowledge/stack_rules.textproto        -> StackRules, validated, with every
//                                             piece of evidence resolved to
//                                             passage and citation ids.
//
//   CITEKB_ASSIGN_OR_RETURN(
//       rulespb::SafetyReferences refs,
//       LoadSafetyReferences(dir + "/safety_references.textproto"));
//   CITEKB_RETURN_IF_ERROR(
//       writer->Add(SafetyReferencesArticle(refs, path), file));
//   CITEKB_ASSIGN_OR_RETURN(rulespb::StackRules stack_rules,
//                           LoadStackRules(path));
//   CITEKB_RETURN_IF_ERROR(ResolveEvidence(refs, *writer, stack_rules));
//
// Errors name the file and, for text-format errors, the line and column;
// a rule whose quote matches no sentence is an error, so the rules cannot
// silently drift away from the article they cite.

#ifndef CITEKB_INDEXER_KNOWLEDGE_STACK_KNOWLEDGE_H_
#define CITEKB_INDEXER_KNOWLEDGE_STACK_KNOWLEDGE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "citekb/rules/v1/stack_rules.pb.h"
#include "indexer/article/article.h"
#include "indexer/base/status_macros.h"
#include "indexer/format/index_schema.h"
#include "indexer/writer/index_writer.h"

namespace citekb {

namespace rulespb = ::citekb::rules::v1;

// File names looked for in the knowledge folder. Both are optional: a corpus
// without them indexes its articles alone, and EvaluateStack reports that
// the index has no stack rules.
inline constexpr char kSafetyReferencesFile[] = "safety_references.textproto";
inline constexpr char kStackRulesFile[] = "stack_rules.textproto";

// Parses and checks the safety references: unique ids, every fact with text
// and known references, every reference with a usable external URL.
absl::StatusOr<rulespb::SafetyReferences> LoadSafetyReferences(
    const std::string& path);

// The references as an article: one section per topic, one passage per
// fact, each sentence citing the fact's references
// (SourceKind::kSafetyReference).
Article SafetyReferencesArticle(const rulespb::SafetyReferences& references,
                                const std::string& path);

// Parses and checks the rules: unique compound, medication class and rule
// ids; names (of compounds, forms and medications) lower case and unique
// across all of them; canonical units; ordered dose bounds; conditions that
// name known compounds and classes; positive thresholds; messages with
// known placeholders; evidence on every rule that states a fact. Compounds
// are checked first, then medication classes, then rules, each in file
// order, and the first problem is the error. Evidence is not resolved yet.
absl::StatusOr<rulespb::StackRules> LoadStackRules(const std::string& path);

// Fills every Evidence's passage_ids and citation_ids from what `writer`
// has stored: a quote resolves to the sentences containing it (their
// sources, plus "article:<id>"), a fact id to its passage and references.
// NOT_FOUND naming the rule when a quote or fact matches nothing.
absl::Status ResolveEvidence(const rulespb::SafetyReferences& references,
                             IndexWriter& writer,
                             rulespb::StackRules& stack_rules);

}  // namespace citekb

#endif  // CITEKB_INDEXER_KNOWLEDGE_STACK_KNOWLEDGE_H_
