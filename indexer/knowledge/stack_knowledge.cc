#include "indexer/knowledge/stack_knowledge.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "indexer/article/article_parser.h"
#include "indexer/article/links.h"
#include "indexer/article/sentence_splitter.h"
#include "indexer/base/status_macros.h"
#include "indexer/format/sqlite.h"

namespace citekb {
namespace {

// Collects the parser's complaints as "file:line:column: message".
class ErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  explicit ErrorCollector(std::string path) : path_(std::move(path)) {}
  void AddError(int line, int column, const std::string& message) override {
    errors_.push_back(
        absl::StrCat(path_, ":", line + 1, ":", column + 1, ": ", message));
  }
  void AddWarning(int line, int column, const std::string& message) override {
    AddError(line, column, message);
  }
  std::string Joined() const { return absl::StrJoin(errors_, "; "); }

 private:
  std::string path_;
  std::vector<std::string> errors_;
};

absl::Status ParseTextFile(const std::string& path,
                           google::protobuf::Message& message) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot be read"));
  std::ostringstream contents;
  contents << in.rdbuf();
  ErrorCollector errors(path);
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(contents.str(), &message)) {
    return absl::InvalidArgumentError(errors.Joined());
  }
  return absl::OkStatus();
}

// Lower-case with runs of whitespace made one space, for quote matching.
std::string Normalize(absl::string_view text) {
  std::string out;
  bool space = false;
  for (char c : absl::StripAsciiWhitespace(text)) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      space = true;
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

absl::StatusOr<Source> ReferenceSource(const rulespb::Reference& reference,
                                       const std::string& path) {
  ClassifiedLink link = ClassifyLink(reference.url());
  if (!link.source.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": reference \"", reference.id(),
                     "\": url must be an external http(s) link, got \"",
                     reference.url(), "\""));
  }
  Source source = *link.source;
  source.kind = SourceKind::kSafetyReference;
  source.label = reference.label();
  return source;
}

void AddUnique(std::vector<std::string>& list, const std::string& value) {
  for (const std::string& existing : list) {
    if (existing == value) return;
  }
  list.push_back(value);
}

// The placeholders a rule message may use, as stack_rules.proto lists them.
constexpr absl::string_view kMessagePlaceholders[] = {
    "compound", "amount",     "low",     "high",  "range",
    "limit",    "threshold",  "ratio",   "serum", "form",
    "timing",   "medication", "present", "absent"};

}  // namespace

absl::StatusOr<rulespb::SafetyReferences> LoadSafetyReferences(
    const std::string& path) {
  rulespb::SafetyReferences references;
  CITEKB_RETURN_IF_ERROR(ParseTextFile(path, references));
  if (references.title().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": title is empty"));
  }
  absl::flat_hash_set<std::string> reference_ids;
  for (const rulespb::Reference& reference : references.references()) {
    if (reference.id().empty() ||
        !reference_ids.insert(reference.id()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": reference id \"", reference.id(),
                       "\" is empty or repeated"));
    }
    CITEKB_RETURN_IF_ERROR(ReferenceSource(reference, path).status());
  }
  absl::flat_hash_set<std::string> fact_ids;
  for (const rulespb::Topic& topic : references.topics()) {
    if (topic.title().empty() || Slugify(topic.title()).empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": every topic needs a title with letters"));
    }
    for (const rulespb::Fact& fact : topic.facts()) {
      if (fact.id().empty() || !fact_ids.insert(fact.id()).second) {
        return absl::InvalidArgumentError(absl::StrCat(
            path, ": fact id \"", fact.id(), "\" is empty or repeated"));
      }
      if (fact.text().empty() || fact.reference_ids().empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": fact \"", fact.id(),
                         "\" needs text and at least one reference"));
      }
      for (const std::string& id : fact.reference_ids()) {
        if (!reference_ids.contains(id)) {
          return absl::InvalidArgumentError(
              absl::StrCat(path, ": fact \"", fact.id(),
                           "\" cites unknown reference \"", id, "\""));
        }
      }
    }
  }
  return references;
}

Article SafetyReferencesArticle(const rulespb::SafetyReferences& references,
                                const std::string& path) {
  Article article;
  article.id = kSafetyReferencesArticleId;
  article.category = "safety-reference";
  article.title = references.title();
  article.description = references.description();
  article.summary = references.description();
  article.source_path = path;

  absl::flat_hash_map<std::string, std::string> source_id_by_reference;
  for (const rulespb::Reference& reference : references.references()) {
    // Checked by LoadSafetyReferences.
    absl::StatusOr<Source> source = ReferenceSource(reference, path);
    if (!source.ok()) continue;
    source_id_by_reference[reference.id()] = source->id;
    bool seen = false;
    for (const Source& existing : article.sources)
      seen |= existing.id == source->id;
    if (!seen) article.sources.push_back(*std::move(source));
  }

  for (const rulespb::Topic& topic : references.topics()) {
    const int section_index = static_cast<int>(article.sections.size());
    article.sections.push_back({Slugify(topic.title()), topic.title(), 0});
    int block = 0;
    for (const rulespb::Fact& fact : topic.facts()) {
      Passage& passage = article.passages.emplace_back();
      passage.kind = PassageKind::kParagraph;
      passage.section_index = section_index;
      passage.block_index = block++;
      passage.text = fact.text();
      std::vector<std::string> source_ids;
      for (const std::string& reference_id : fact.reference_ids()) {
        AddUnique(source_ids, source_id_by_reference[reference_id]);
      }
      for (const SentenceSpan& span : SplitSentences(fact.text())) {
        passage.sentences.push_back(
            {fact.text().substr(span.begin, span.end - span.begin), source_ids,
             false});
      }
    }
  }
  return article;
}

namespace {

// The units a compound's doses may be converted to, as LoadStackRules'
// contract and the evaluator's conversions expect them.
constexpr absl::string_view kCanonicalUnits[] = {"IU", "mcg", "mg"};

absl::Status Invalid(absl::string_view where, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", reason));
}

// A canonical unit, with mcg_per_iu exactly when the unit is IU.
absl::Status CheckUnit(const rulespb::Compound& compound,
                       absl::string_view where) {
  if (std::find(std::begin(kCanonicalUnits), std::end(kCanonicalUnits),
                compound.unit()) == std::end(kCanonicalUnits)) {
    return Invalid(where, "unit must be IU, mcg or mg");
  }
  if ((compound.unit() == "IU") != (compound.mcg_per_iu() > 0)) {
    return Invalid(where, "mcg_per_iu must be set exactly for IU compounds");
  }
  return absl::OkStatus();
}

// The dose bands' bounds in order: 0 < low <= high < implausible_above, and
// a safety limit that is not negative.
absl::Status CheckDoseBounds(const rulespb::Compound& compound,
                             absl::string_view where) {
  const rulespb::Range& range = compound.standard_range();
  if (!(range.low() > 0 && range.high() >= range.low()) ||
      compound.safety_limit() < 0 ||
      !(compound.implausible_above() > range.high())) {
    return Invalid(where,
                   "needs 0 < standard_range.low <= high < implausible_above");
  }
  return absl::OkStatus();
}

// A message that is not empty and whose placeholders are all known.
absl::Status CheckMessage(absl::string_view message, absl::string_view where) {
  if (message.empty()) return Invalid(where, "message is empty");
  for (size_t open = message.find('{'); open != absl::string_view::npos;
       open = message.find('{', open + 1)) {
    const size_t close = message.find('}', open);
    if (close == absl::string_view::npos) {
      return Invalid(where, "unclosed '{' in message");
    }
    const absl::string_view name = message.substr(open + 1, close - open - 1);
    if (std::find(std::begin(kMessagePlaceholders),
                  std::end(kMessagePlaceholders),
                  name) == std::end(kMessagePlaceholders)) {
      return Invalid(
          where, absl::StrCat("unknown placeholder {", name, "} in message"));
    }
  }
  return absl::OkStatus();
}

// Only the "not covered" rules state no fact, so only they may go without
// evidence.
absl::Status CheckRuleEvidence(const rulespb::Rule& rule,
                               absl::string_view where) {
  const bool not_covered =
      rule.has_compound_not_covered() || rule.has_medication_not_covered();
  if (rule.evidence().empty() && !not_covered) {
    return Invalid(where, "evidence is required");
  }
  return absl::OkStatus();
}

// The compound ids a rule's condition names, in the order they are written.
std::vector<absl::string_view> ConditionCompounds(const rulespb::Rule& rule) {
  auto all = [](const auto& ids) {
    return std::vector<absl::string_view>(ids.begin(), ids.end());
  };
  switch (rule.condition_case()) {
    case rulespb::Rule::kDoseBelow:
      return {rule.dose_below().compound()};
    case rulespb::Rule::kDoseAbove:
      return {rule.dose_above().compound()};
    case rulespb::Rule::kBelowStandardRange:
      return {rule.below_standard_range()};
    case rulespb::Rule::kAboveStandardRange:
      return {rule.above_standard_range()};
    case rulespb::Rule::kAboveSafetyLimit:
      return {rule.above_safety_limit()};
    case rulespb::Rule::kMissing:
      return {rule.missing().present(), rule.missing().absent()};
    case rulespb::Rule::kRatioBelow:
      return {rule.ratio_below().numerator(), rule.ratio_below().denominator()};
    case rulespb::Rule::kFormNotIn:
      return {rule.form_not_in().compound()};
    case rulespb::Rule::kTimingIn:
      return all(rule.timing_in().compounds());
    case rulespb::Rule::kWithoutFatMeal:
      return all(rule.without_fat_meal().compounds());
    case rulespb::Rule::kPresent:
      return all(rule.present().compounds());
    case rulespb::Rule::kMedicationWith:
      return all(rule.medication_with().compounds());
    case rulespb::Rule::kSerumBelow:
    case rulespb::Rule::kSerumAbove:
    case rulespb::Rule::kCompoundNotCovered:
    case rulespb::Rule::kMedicationNotCovered:
    case rulespb::Rule::CONDITION_NOT_SET:
      return {};
  }
  return {};
}

// Checks a StackRules message one kind of content at a time: compounds,
// then medication classes, then rules, each in file order. It remembers the
// ids and names declared so far, so that a rule can only refer to what
// exists and no name can stand for two things. The first problem found is
// the one reported.
class StackRulesChecker {
 public:
  StackRulesChecker(absl::string_view path, const rulespb::StackRules& rules)
      : path_(path), rules_(rules) {}

  absl::Status Check();

 private:
  absl::Status CheckCompound(const rulespb::Compound& compound);
  absl::Status CheckCompoundNames(const rulespb::Compound& compound,
                                  absl::string_view where);
  absl::Status CheckMedicationClass(const rulespb::MedicationClass& medication);
  absl::Status ClaimName(const std::string& name, absl::string_view where);
  absl::Status CheckRule(const rulespb::Rule& rule);
  absl::Status CheckRuleHeader(const rulespb::Rule& rule,
                               absl::string_view where);
  absl::Status CheckRuleMessages(const rulespb::Rule& rule,
                                 absl::string_view where);
  absl::Status CheckConditionReferences(const rulespb::Rule& rule,
                                        absl::string_view where) const;
  absl::Status CheckConditionThresholds(const rulespb::Rule& rule,
                                        absl::string_view where) const;

  const absl::string_view path_;
  const rulespb::StackRules& rules_;
  absl::flat_hash_set<std::string> compound_ids_;
  absl::flat_hash_set<std::string> medication_class_ids_;
  absl::flat_hash_set<std::string> rule_codes_;
  // Compound, form and medication names: each may mean one thing only.
  absl::flat_hash_set<std::string> names_;
};

absl::Status StackRulesChecker::Check() {
  for (const rulespb::Compound& compound : rules_.compounds()) {
    CITEKB_RETURN_IF_ERROR(CheckCompound(compound));
  }
  for (const rulespb::MedicationClass& medication :
       rules_.medication_classes()) {
    CITEKB_RETURN_IF_ERROR(CheckMedicationClass(medication));
  }
  for (const rulespb::Rule& rule : rules_.rules()) {
    CITEKB_RETURN_IF_ERROR(CheckRule(rule));
  }
  return absl::OkStatus();
}

// A compound: a new id, a canonical unit, ordered bounds, names of its own.
absl::Status StackRulesChecker::CheckCompound(
    const rulespb::Compound& compound) {
  const std::string where =
      absl::StrCat(path_, ": compound \"", compound.id(), "\"");
  if (compound.id().empty() || !compound_ids_.insert(compound.id()).second) {
    return Invalid(where, "id is empty or repeated");
  }
  CITEKB_RETURN_IF_ERROR(CheckUnit(compound, where));
  CITEKB_RETURN_IF_ERROR(CheckDoseBounds(compound, where));
  return CheckCompoundNames(compound, where);
}

// A display name, at least one name, and forms with ids and names; every
// name claimed for this compound alone.
absl::Status StackRulesChecker::CheckCompoundNames(
    const rulespb::Compound& compound, absl::string_view where) {
  if (compound.display_name().empty() || compound.names().empty()) {
    return Invalid(where, "needs a display_name and names");
  }
  for (const std::string& name : compound.names()) {
    CITEKB_RETURN_IF_ERROR(ClaimName(name, where));
  }
  for (const rulespb::Form& form : compound.forms()) {
    if (form.id().empty() || form.names().empty()) {
      return Invalid(where, "every form needs an id and names");
    }
    for (const std::string& name : form.names()) {
      CITEKB_RETURN_IF_ERROR(ClaimName(name, where));
    }
  }
  return absl::OkStatus();
}

// A medication class: a new id and names of its own.
absl::Status StackRulesChecker::CheckMedicationClass(
    const rulespb::MedicationClass& medication) {
  const std::string where =
      absl::StrCat(path_, ": medication class \"", medication.id(), "\"");
  if (medication.id().empty() ||
      !medication_class_ids_.insert(medication.id()).second ||
      medication.names().empty()) {
    return Invalid(where, "needs a unique id and names");
  }
  for (const std::string& name : medication.names()) {
    CITEKB_RETURN_IF_ERROR(ClaimName(name, where));
  }
  return absl::OkStatus();
}

// A name the parser can match: non-empty, lower case, and not yet taken.
absl::Status StackRulesChecker::ClaimName(const std::string& name,
                                          absl::string_view where) {
  if (name.empty() || name != absl::AsciiStrToLower(name) ||
      !names_.insert(name).second) {
    return Invalid(where, absl::StrCat("name \"", name,
                                       "\" must be non-empty, lower case and "
                                       "unique"));
  }
  return absl::OkStatus();
}

// A rule: its header, its messages, its evidence, then its condition.
absl::Status StackRulesChecker::CheckRule(const rulespb::Rule& rule) {
  const std::string where = absl::StrCat(path_, ": rule ", rule.code());
  CITEKB_RETURN_IF_ERROR(CheckRuleHeader(rule, where));
  CITEKB_RETURN_IF_ERROR(CheckRuleMessages(rule, where));
  CITEKB_RETURN_IF_ERROR(CheckRuleEvidence(rule, where));
  if (rule.condition_case() == rulespb::Rule::CONDITION_NOT_SET) {
    return Invalid(where, "no condition");
  }
  CITEKB_RETURN_IF_ERROR(CheckConditionReferences(rule, where));
  return CheckConditionThresholds(rule, where);
}

// A new code, a severity and a source.
absl::Status StackRulesChecker::CheckRuleHeader(const rulespb::Rule& rule,
                                                absl::string_view where) {
  if (rule.code().empty() || !rule_codes_.insert(rule.code()).second) {
    return Invalid(path_, absl::StrCat("rule code \"", rule.code(),
                                       "\" is empty or repeated"));
  }
  if (rule.severity() == v1::SEVERITY_UNSPECIFIED ||
      rule.source() == v1::FINDING_SOURCE_UNSPECIFIED) {
    return Invalid(where, "severity and source are required");
  }
  return absl::OkStatus();
}

// The message and every counterpoint's usable, each counterpoint with
// evidence of its own.
absl::Status StackRulesChecker::CheckRuleMessages(const rulespb::Rule& rule,
                                                  absl::string_view where) {
  CITEKB_RETURN_IF_ERROR(CheckMessage(rule.message(), where));
  for (const rulespb::Counterpoint& counterpoint : rule.counterpoints()) {
    CITEKB_RETURN_IF_ERROR(CheckMessage(counterpoint.message(), where));
    if (counterpoint.evidence().empty()) {
      return Invalid(where, "every counterpoint needs evidence");
    }
  }
  return absl::OkStatus();
}

// Every medication class and compound the condition names exists.
absl::Status StackRulesChecker::CheckConditionReferences(
    const rulespb::Rule& rule, absl::string_view where) const {
  if (rule.has_medication_with() &&
      !medication_class_ids_.contains(
          rule.medication_with().medication_class())) {
    return Invalid(
        where, absl::StrCat("unknown medication class \"",
                            rule.medication_with().medication_class(), "\""));
  }
  for (absl::string_view id : ConditionCompounds(rule)) {
    if (!compound_ids_.contains(id)) {
      return Invalid(where, absl::StrCat("unknown compound \"", id, "\""));
    }
  }
  return absl::OkStatus();
}

// The condition's numbers are usable: positive thresholds and ratios, and a
// safety limit on the compound an above_safety_limit rule is about.
absl::Status StackRulesChecker::CheckConditionThresholds(
    const rulespb::Rule& rule, absl::string_view where) const {
  switch (rule.condition_case()) {
    case rulespb::Rule::kDoseBelow:
    case rulespb::Rule::kDoseAbove: {
      const rulespb::DoseThreshold& dose =
          rule.has_dose_below() ? rule.dose_below() : rule.dose_above();
      if (!(dose.threshold() > 0)) {
        return Invalid(where, "threshold must be positive");
      }
      break;
    }
    case rulespb::Rule::kAboveSafetyLimit:
      for (const rulespb::Compound& compound : rules_.compounds()) {
        if (compound.id() == rule.above_safety_limit() &&
            compound.safety_limit() <= 0) {
          return Invalid(where, "the compound has no safety_limit");
        }
      }
      break;
    case rulespb::Rule::kRatioBelow:
      if (!(rule.ratio_below().per() > 0 &&
            rule.ratio_below().threshold() > 0)) {
        return Invalid(where, "per and threshold must be positive");
      }
      break;
    case rulespb::Rule::kSerumBelow:
    case rulespb::Rule::kSerumAbove: {
      const double threshold = rule.has_serum_below()
                                   ? rule.serum_below().threshold()
                                   : rule.serum_above().threshold();
      if (!(threshold > 0)) {
        return Invalid(where, "threshold must be positive");
      }
      break;
    }
    default:
      break;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<rulespb::StackRules> LoadStackRules(const std::string& path) {
  rulespb::StackRules stack_rules;
  CITEKB_RETURN_IF_ERROR(ParseTextFile(path, stack_rules));
  CITEKB_RETURN_IF_ERROR(StackRulesChecker(path, stack_rules).Check());
  return stack_rules;
}

namespace {

absl::Status ResolveOne(
    const absl::flat_hash_map<std::string, const rulespb::Fact*>& facts,
    IndexWriter& writer,
    absl::flat_hash_map<std::string, std::vector<IndexWriter::StoredSentence>>&
        cache,
    absl::string_view where, rulespb::Evidence& evidence) {
  std::string article_id;
  std::string wanted;
  if (evidence.has_quote()) {
    article_id = evidence.quote().article_id();
    wanted = Normalize(evidence.quote().text());
  } else {
    auto fact = facts.find(evidence.fact_id());
    if (fact == facts.end()) {
      return absl::NotFoundError(
          absl::StrCat(where, ": unknown fact \"", evidence.fact_id(), "\""));
    }
    article_id = kSafetyReferencesArticleId;
    wanted = Normalize(fact->second->text());
  }
  if (wanted.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": empty evidence"));
  }
  auto cached = cache.find(article_id);
  if (cached == cache.end()) {
    CITEKB_ASSIGN_OR_RETURN(std::vector<IndexWriter::StoredSentence> sentences,
                            writer.ArticleSentences(article_id));
    cached = cache.emplace(article_id, std::move(sentences)).first;
  }
  evidence.clear_passage_ids();
  evidence.clear_citation_ids();
  std::vector<std::string> passage_ids;
  std::vector<std::string> citation_ids;
  for (const IndexWriter::StoredSentence& sentence : cached->second) {
    const std::string text = Normalize(sentence.text);
    // A quote lies within one sentence; a fact's text spans whole sentences.
    if (text.find(wanted) == std::string::npos &&
        (evidence.has_quote() || wanted.find(text) == std::string::npos)) {
      continue;
    }
    AddUnique(passage_ids, sentence.passage_id);
    for (const std::string& id : sentence.source_ids)
      AddUnique(citation_ids, id);
  }
  if (passage_ids.empty()) {
    return absl::NotFoundError(absl::StrCat(
        where, ": no sentence of article \"", article_id, "\" contains \"",
        evidence.has_quote() ? evidence.quote().text() : evidence.fact_id(),
        "\""));
  }
  // Findings built on article text cite the article itself too: for many
  // of its sentences it is the only source there is.
  if (evidence.has_quote())
    AddUnique(citation_ids, absl::StrCat(kArticleCitationPrefix, article_id));
  for (std::string& id : passage_ids) evidence.add_passage_ids(std::move(id));
  for (std::string& id : citation_ids) evidence.add_citation_ids(std::move(id));
  return absl::OkStatus();
}

}  // namespace

absl::Status ResolveEvidence(const rulespb::SafetyReferences& references,
                             IndexWriter& writer,
                             rulespb::StackRules& stack_rules) {
  absl::flat_hash_map<std::string, const rulespb::Fact*> facts;
  for (const rulespb::Topic& topic : references.topics()) {
    for (const rulespb::Fact& fact : topic.facts()) facts[fact.id()] = &fact;
  }
  absl::flat_hash_map<std::string, std::vector<IndexWriter::StoredSentence>>
      cache;
  for (rulespb::Rule& rule : *stack_rules.mutable_rules()) {
    const std::string where = absl::StrCat("rule ", rule.code());
    for (rulespb::Evidence& evidence : *rule.mutable_evidence()) {
      CITEKB_RETURN_IF_ERROR(ResolveOne(facts, writer, cache, where, evidence));
    }
    for (rulespb::Counterpoint& counterpoint : *rule.mutable_counterpoints()) {
      for (rulespb::Evidence& evidence : *counterpoint.mutable_evidence()) {
        CITEKB_RETURN_IF_ERROR(
            ResolveOne(facts, writer, cache, where, evidence));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace citekb
