// The vocabulary questions are read with (proto/citekb/knowledge/v1/
// vocabulary.proto), read from the knowledge folder and checked at index
// time, then stored in the index (meta key kVocabularyMetaKey) so that a
// server reads the vocabulary of the knowledge it serves.
//
//   CITEKB_ASSIGN_OR_RETURN(knowledgepb::Vocabulary vocabulary,
//                           LoadVocabulary("knowledge/vocabulary.textproto"));
//   AddStackCompoundNames(stack_rules, vocabulary);
//
// Errors name the file and, for text-format errors, the line and column.

#ifndef CITEKB_INDEXER_KNOWLEDGE_VOCABULARY_H_
#define CITEKB_INDEXER_KNOWLEDGE_VOCABULARY_H_

#include <string>

#include "absl/status/statusor.h"
#include "citekb/knowledge/v1/vocabulary.pb.h"
#include "citekb/rules/v1/stack_rules.pb.h"

namespace citekb {

namespace knowledgepb = ::citekb::knowledge::v1;

// File name looked for in the knowledge folder; optional (an index without
// a vocabulary reads questions by their words alone).
inline constexpr char kVocabularyFile[] = "vocabulary.textproto";

// Parses and checks the vocabulary: concept ids unique and lower_snake_case,
// every concept named, names lower case and belonging to one concept only,
// `broader` naming a known concept without cycles, each intent described
// once, templates that name {concept}. INVALID_ARGUMENT naming the concept
// or intent at fault.
absl::StatusOr<knowledgepb::Vocabulary> LoadVocabulary(const std::string& path);

// Gives each concept with a `stack_compound` the names that compound has in
// the stack rules (those no concept has already), so they are written once.
// INVALID_ARGUMENT naming the concept when the compound is unknown.
absl::Status AddStackCompoundNames(const ::citekb::rules::v1::StackRules& rules,
                                   knowledgepb::Vocabulary& vocabulary);

}  // namespace citekb

#endif  // CITEKB_INDEXER_KNOWLEDGE_VOCABULARY_H_
