#include "indexer/knowledge/vocabulary.h"

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "indexer/base/status_macros.h"
#include "indexer/knowledge/text_proto_file.h"

namespace citekb {
namespace {

absl::Status Invalid(const std::string& path, absl::string_view what,
                     absl::string_view reason) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": ", what, ": ", reason));
}

bool IsSnakeCase(absl::string_view id) {
  if (id.empty() || !absl::ascii_islower(static_cast<unsigned char>(id[0])))
    return false;
  for (char c : id) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (!absl::ascii_islower(u) && !absl::ascii_isdigit(u) && c != '_')
      return false;
  }
  return true;
}

// Ids unique and lower_snake_case, each concept named, names lower case and
// each in one concept only.
absl::Status CheckConceptNames(const knowledgepb::Vocabulary& vocabulary,
                               const std::string& path) {
  absl::flat_hash_set<std::string> ids;
  absl::flat_hash_map<std::string, std::string> owner;
  for (const knowledgepb::Concept& c : vocabulary.concepts()) {
    const std::string what = absl::StrCat("concept \"", c.id(), "\"");
    if (!IsSnakeCase(c.id()))
      return Invalid(path, what, "id must be lower_snake_case");
    if (!ids.insert(c.id()).second) return Invalid(path, what, "id repeated");
    if (c.display_name().empty())
      return Invalid(path, what, "has no display_name");
    if (c.names().empty() && c.stack_compound().empty())
      return Invalid(path, what, "has no names");
    for (const std::string& name : c.names()) {
      if (name.empty() || name != absl::AsciiStrToLower(name)) {
        return Invalid(path, what,
                       absl::StrCat("name \"", name, "\" must be lower case"));
      }
      auto [it, added] = owner.emplace(name, c.id());
      if (!added) {
        return Invalid(
            path, what,
            absl::StrCat("name \"", name, "\" also belongs to concept \"",
                         it->second, "\""));
      }
    }
  }
  return absl::OkStatus();
}

// Every `broader` names a known concept, and following them never loops.
absl::Status CheckBroader(const knowledgepb::Vocabulary& vocabulary,
                          const std::string& path) {
  absl::flat_hash_map<std::string, std::string> broader;
  for (const knowledgepb::Concept& c : vocabulary.concepts())
    broader[c.id()] = c.broader();
  for (const knowledgepb::Concept& c : vocabulary.concepts()) {
    const std::string what = absl::StrCat("concept \"", c.id(), "\"");
    std::string at = c.broader();
    for (size_t steps = 0; !at.empty(); ++steps) {
      auto it = broader.find(at);
      if (it == broader.end()) {
        return Invalid(path, what,
                       absl::StrCat("broader concept \"", at, "\" is unknown"));
      }
      if (steps > broader.size())
        return Invalid(path, what, "broader concepts form a cycle");
      at = it->second;
    }
  }
  return absl::OkStatus();
}

absl::Status CheckIntents(const knowledgepb::Vocabulary& vocabulary,
                          const std::string& path) {
  absl::flat_hash_set<int> seen;
  for (const knowledgepb::IntentCues& cues : vocabulary.intents()) {
    const std::string what =
        absl::StrCat("intent ", knowledgepb::Intent_Name(cues.intent()));
    if (cues.intent() == knowledgepb::INTENT_UNSPECIFIED)
      return Invalid(path, what, "must name an intent");
    if (!seen.insert(cues.intent()).second)
      return Invalid(path, what, "described twice");
    if (cues.cues().empty()) return Invalid(path, what, "has no cues");
    if (!cues.question_template().empty() &&
        !absl::StrContains(cues.question_template(), "{concept}")) {
      return Invalid(path, what, "question_template must contain {concept}");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<knowledgepb::Vocabulary> LoadVocabulary(
    const std::string& path) {
  knowledgepb::Vocabulary vocabulary;
  CITEKB_RETURN_IF_ERROR(ReadTextProtoFile(path, vocabulary));
  CITEKB_RETURN_IF_ERROR(CheckConceptNames(vocabulary, path));
  CITEKB_RETURN_IF_ERROR(CheckBroader(vocabulary, path));
  CITEKB_RETURN_IF_ERROR(CheckIntents(vocabulary, path));
  return vocabulary;
}

absl::Status AddStackCompoundNames(const ::citekb::rules::v1::StackRules& rules,
                                   knowledgepb::Vocabulary& vocabulary) {
  absl::flat_hash_map<std::string, const ::citekb::rules::v1::Compound*>
      compounds;
  for (const auto& compound : rules.compounds())
    compounds[compound.id()] = &compound;
  absl::flat_hash_set<std::string> taken;
  for (const knowledgepb::Concept& c : vocabulary.concepts())
    taken.insert(c.names().begin(), c.names().end());
  for (knowledgepb::Concept& c : *vocabulary.mutable_concepts()) {
    if (c.stack_compound().empty()) continue;
    auto it = compounds.find(c.stack_compound());
    if (it == compounds.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("concept \"", c.id(), "\": stack compound \"",
                       c.stack_compound(), "\" is not in the stack rules"));
    }
    for (const std::string& name : it->second->names()) {
      const std::string lower = absl::AsciiStrToLower(name);
      if (taken.insert(lower).second) c.add_names(lower);
    }
  }
  return absl::OkStatus();
}

}  // namespace citekb
