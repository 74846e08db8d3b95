#include "service/stack/stack_evaluator.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "indexer/base/status_macros.h"

namespace citekb {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", reason));
}

// Upper bounds for doses of compounds the rules do not cover, where no
// compound-specific bound exists: anything above is a typo or a unit mix-up.
constexpr double kImplausibleIu = 1e8;
constexpr double kImplausibleMcg = 1e8;  // 100 g a day.
constexpr double kMaxSerumNgMl = 1000;

// A unit as given: IU, or a mass with its size in micrograms.
struct Unit {
  bool iu = false;
  double mcg = 0;
  const char* name = "";
};

// Every spelling of a unit a structured dose may give, once lower-cased,
// with micro signs read as "u" and dots dropped ("µg" and "u.g." are "ug").
struct UnitSpelling {
  absl::string_view spelling;
  Unit unit;
};
constexpr UnitSpelling kUnitSpellings[] = {
    {"iu", {true, 0, "IU"}},
    {"international unit", {true, 0, "IU"}},
    {"international units", {true, 0, "IU"}},
    {"mcg", {false, 1, "mcg"}},
    {"ug", {false, 1, "mcg"}},
    {"microgram", {false, 1, "mcg"}},
    {"micrograms", {false, 1, "mcg"}},
    {"mg", {false, 1e3, "mg"}},
    {"milligram", {false, 1e3, "mg"}},
    {"milligrams", {false, 1e3, "mg"}},
    {"g", {false, 1e6, "g"}},
    {"gram", {false, 1e6, "g"}},
    {"grams", {false, 1e6, "g"}},
};

// The unit `text` spells, or nullopt.
std::optional<Unit> ParseUnit(absl::string_view text) {
  std::string unit = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  unit = absl::StrReplaceAll(unit,
                             {{"\xc2\xb5", "u"}, {"\xce\xbc", "u"}, {".", ""}});
  for (const UnitSpelling& spelling : kUnitSpellings) {
    if (unit == spelling.spelling) return spelling.unit;
  }
  return std::nullopt;
}

// Conversions leave binary noise (100 mcg / 0.025 = 4000.0000000000005);
// rounding to 1e-4 keeps boundaries exact.
double RoundAmount(double amount) { return std::round(amount * 1e4) / 1e4; }

// Lower case, runs of whitespace made one space: names as they compare.
std::string Lower(absl::string_view text) {
  std::vector<absl::string_view> words =
      absl::StrSplit(text, absl::ByAnyChar(" \t\n\r"), absl::SkipEmpty());
  return absl::AsciiStrToLower(absl::StrJoin(words, " "));
}

// One dose on its way to an EvaluatedDose.
struct Dose {
  const rulespb::Compound* compound = nullptr;
  std::string name;  // As given, for uncovered compounds.
  // In the compound's canonical unit when covered; as given otherwise.
  double amount = 0;
  std::string unit;
  std::string form;
  std::string source_text;
  int request_index = -1;
  v1::Timing timing = v1::TIMING_UNSPECIFIED;
};

// Everything known about one covered compound across the stack.
struct CompoundTotal {
  const rulespb::Compound* compound = nullptr;
  double amount = 0;
  std::string amount_text;  // "{amount}", once the total is known.
  bool amount_known = false;
  std::string form;
  v1::Timing timing = v1::TIMING_UNSPECIFIED;
  v1::DoseBand band = v1::DOSE_BAND_UNSPECIFIED;
};

// A message's placeholders, by name without the braces ("amount"), and
// their values. The values are views: the caller keeps the strings alive
// while the message is rendered.
using Vars =
    absl::InlinedVector<std::pair<absl::string_view, absl::string_view>, 9>;

// Appends `message` with each "{name}" in `vars` replaced by its value;
// other braces stay as written, and values are not searched again. The
// result is StrReplaceAll's over the "{name}" keys, got in one scan and
// without building the keys: they cannot overlap, as each ends at the first
// "}".
void RenderTo(absl::string_view message, const Vars& vars, std::string* out) {
  size_t i = 0;
  while (i < message.size()) {
    const size_t open = message.find('{', i);
    if (open == absl::string_view::npos) break;
    out->append(message.data() + i, open - i);
    const size_t close = message.find('}', open + 1);
    const absl::string_view* value = nullptr;
    if (close != absl::string_view::npos) {
      const absl::string_view name = message.substr(open + 1, close - open - 1);
      for (const auto& [var, var_value] : vars) {
        if (var == name) {
          value = &var_value;
          break;
        }
      }
    }
    if (value == nullptr) {
      // Not a placeholder: keep the "{" and look for one after it.
      out->push_back('{');
      i = open + 1;
      continue;
    }
    out->append(value->data(), value->size());
    i = close + 1;
  }
  out->append(message.data() + i, message.size() - i);
}

void AddUnique(google::protobuf::RepeatedPtrField<std::string>& list,
               const std::string& value) {
  if (std::find(list.begin(), list.end(), value) == list.end())
    *list.Add() = value;
}

// The parts of a rule's finding that do not depend on the stack.
v1::Finding MakeFindingTemplate(const rulespb::Rule& rule) {
  v1::Finding finding;
  finding.set_code(rule.code());
  finding.set_severity(rule.severity());
  finding.set_source(rule.source());
  auto add_evidence = [&finding](const rulespb::Evidence& evidence) {
    for (const std::string& id : evidence.citation_ids()) {
      AddUnique(*finding.mutable_citation_ids(), id);
    }
    for (const std::string& id : evidence.passage_ids()) {
      AddUnique(*finding.mutable_passage_ids(), id);
    }
  };
  for (const rulespb::Evidence& evidence : rule.evidence())
    add_evidence(evidence);
  for (const rulespb::Counterpoint& counterpoint : rule.counterpoints()) {
    for (const rulespb::Evidence& evidence : counterpoint.evidence())
      add_evidence(evidence);
  }
  return finding;
}

// The rule's message and its counterpoints', each rendered with `vars`.
v1::Finding MakeFinding(const v1::Finding& finding_template,
                        const rulespb::Rule& rule, const Vars& vars) {
  v1::Finding finding = finding_template;
  std::string message;
  RenderTo(rule.message(), vars, &message);
  for (const rulespb::Counterpoint& counterpoint : rule.counterpoints()) {
    message.push_back(' ');
    RenderTo(counterpoint.message(), vars, &message);
  }
  finding.set_message(std::move(message));
  return finding;
}

// "2,000–5,000 IU": the unit once.
std::string FormatRange(const rulespb::Range& range, absl::string_view unit) {
  std::string low = FormatAmount(range.low(), unit);
  low.resize(low.size() - unit.size() - 1);
  return absl::StrCat(low, "\u2013", FormatAmount(range.high(), unit));
}

std::string FormatSerum(double ng_ml) {
  return absl::StrCat(absl::StrFormat("%.4g", ng_ml), " ng/mL");
}

}  // namespace

std::string FormatAmount(double amount, absl::string_view unit) {
  const double rounded = std::round(amount * 100) / 100;
  std::string digits = absl::StrFormat("%.2f", rounded);
  // Trim "2857.10" -> "2857.1", "10000.00" -> "10000".
  while (digits.back() == '0') digits.pop_back();
  if (digits.back() == '.') digits.pop_back();
  const size_t point = std::min(digits.find('.'), digits.size());
  std::string grouped;
  for (size_t i = 0; i < point; ++i) {
    if (i > 0 && (point - i) % 3 == 0) grouped.push_back(',');
    grouped.push_back(digits[i]);
  }
  grouped.append(digits, point, std::string::npos);
  return absl::StrCat(grouped, " ", unit);
}

StackEvaluator::StackEvaluator(rulespb::StackRules rules)
    : rules_(std::move(rules)), parser_(rules_) {
  for (const rulespb::MedicationClass& medication :
       rules_.medication_classes()) {
    for (const std::string& name : medication.names()) {
      medication_class_by_name_[name] = medication.id();
    }
  }
  for (const rulespb::Compound& c : rules_.compounds()) {
    compound_words_[&c] = {Lower(c.display_name()),
                           FormatAmount(c.standard_range().low(), c.unit()),
                           FormatAmount(c.standard_range().high(), c.unit()),
                           FormatRange(c.standard_range(), c.unit()),
                           FormatAmount(c.safety_limit(), c.unit())};
  }
  for (const rulespb::Rule& rule : rules_.rules()) {
    finding_templates_.push_back(MakeFindingTemplate(rule));
  }
}

const rulespb::Compound* StackEvaluator::FindCompound(absl::string_view name,
                                                      std::string* form) const {
  const std::string wanted = Lower(name);
  for (const rulespb::Compound& compound : rules_.compounds()) {
    if (wanted == compound.id() ||
        wanted == compound_words_.at(&compound).lower_display_name) {
      return &compound;
    }
    for (const std::string& alias : compound.names()) {
      if (wanted == alias) return &compound;
    }
    for (const rulespb::Form& f : compound.forms()) {
      for (const std::string& alias : f.names()) {
        if (wanted == alias && f.names_compound()) {
          *form = f.id();
          return &compound;
        }
      }
    }
  }
  // A longer name that contains exactly one known compound: "vitamin K2
  // (MK-7)", "magnesium glycinate".
  ParsedStackText parsed = parser_.Parse(wanted);
  if (parsed.doses.size() == 1 && parsed.doses.front().covered) {
    for (const rulespb::Compound& compound : rules_.compounds()) {
      if (compound.id() == parsed.doses.front().compound) {
        *form = parsed.doses.front().form;
        return &compound;
      }
    }
  }
  return nullptr;
}

namespace {

// The form as the rules spell it ("glycinate" for "Bisglycinate"), or as
// given when the rules do not list it.
std::string CanonicalForm(const rulespb::Compound& compound,
                          absl::string_view form) {
  const std::string wanted = Lower(form);
  for (const rulespb::Form& f : compound.forms()) {
    if (wanted == absl::AsciiStrToLower(f.id())) return f.id();
    for (const std::string& alias : f.names()) {
      if (wanted == alias) return f.id();
    }
  }
  return std::string(absl::StripAsciiWhitespace(form));
}

// Converts `amount` in `unit` to the compound's canonical unit.
absl::StatusOr<double> ToCanonical(const rulespb::Compound& compound,
                                   double amount, const Unit& unit,
                                   absl::string_view field,
                                   absl::string_view unit_text) {
  const bool takes_iu = compound.mcg_per_iu() > 0;
  if (unit.iu && !takes_iu) {
    return Invalid(
        absl::StrCat(field, ".unit"),
        absl::StrCat("\"", unit_text, "\" does not fit ",
                     compound.display_name(), " (use mcg, mg or g)"));
  }
  double canonical = 0;
  if (unit.iu) {
    canonical = amount;
  } else {
    const double mcg = amount * unit.mcg;
    canonical = compound.unit() == "IU"    ? mcg / compound.mcg_per_iu()
                : compound.unit() == "mcg" ? mcg
                                           : mcg / 1e3;
  }
  canonical = RoundAmount(canonical);
  if (canonical > compound.implausible_above()) {
    return Invalid(
        absl::StrCat(field, ".amount"),
        absl::StrCat(
            FormatAmount(canonical, compound.unit()), " of ",
            compound.display_name(), " a day is not plausible (the limit is ",
            FormatAmount(compound.implausible_above(), compound.unit()),
            "); check the amount and the unit"));
  }
  return canonical;
}

absl::Status CheckAmount(double amount, absl::string_view field) {
  if (std::isnan(amount) || std::isinf(amount)) {
    return Invalid(absl::StrCat(field, ".amount"), "must be a finite number");
  }
  if (amount <= 0) {
    return Invalid(absl::StrCat(field, ".amount"),
                   absl::StrCat("must be positive, got ", amount));
  }
  return absl::OkStatus();
}

// The request's sizes and context fields, before any dose is read.
absl::Status CheckRequestLimits(const v1::EvaluateStackRequest& request) {
  if (!v1::Timing_IsValid(request.timing())) {
    return Invalid("timing", absl::StrCat("unknown value ", request.timing()));
  }
  if (request.has_serum_25ohd_ng_ml()) {
    const double serum = request.serum_25ohd_ng_ml();
    if (!(serum > 0 && serum <= kMaxSerumNgMl)) {
      return Invalid(
          "serum_25ohd_ng_ml",
          absl::StrCat("must be a level in ng/mL above 0 and at most ",
                       kMaxSerumNgMl, ", got ", serum));
    }
  }
  if (request.doses_size() > kMaxStackDoses) {
    return Invalid("doses",
                   absl::StrCat("has ", request.doses_size(),
                                " doses; the limit is ", kMaxStackDoses));
  }
  if (request.medications_size() > kMaxStackMedications) {
    return Invalid(
        "medications",
        absl::StrCat("has ", request.medications_size(),
                     " entries; the limit is ", kMaxStackMedications));
  }
  return absl::OkStatus();
}

// A structured dose's compound, amount and unit, before the compound is
// looked up: the unit it gives.
absl::StatusOr<Unit> CheckRequestDose(const v1::Dose& given,
                                      absl::string_view field) {
  if (absl::StripAsciiWhitespace(given.compound()).empty()) {
    return Invalid(absl::StrCat(field, ".compound"), "must not be empty");
  }
  CITEKB_RETURN_IF_ERROR(CheckAmount(given.amount(), field));
  if (absl::StripAsciiWhitespace(given.unit()).empty()) {
    return Invalid(absl::StrCat(field, ".unit"),
                   "must not be empty (use IU, mcg, mg or g)");
  }
  std::optional<Unit> unit = ParseUnit(given.unit());
  if (!unit.has_value()) {
    return Invalid(absl::StrCat(field, ".unit"),
                   absl::StrCat("unknown unit \"", given.unit(),
                                "\" (use IU, mcg, mg or g)"));
  }
  return *unit;
}

// The band a daily total of `compound` falls in.
v1::DoseBand BandOf(const rulespb::Compound& compound, double amount) {
  if (compound.safety_limit() > 0 && amount > compound.safety_limit()) {
    return v1::DOSE_BAND_ABOVE_SAFETY_LIMIT;
  }
  if (amount > compound.standard_range().high()) {
    return v1::DOSE_BAND_HIGH_DOSE_ANECDOTAL;
  }
  if (amount < compound.standard_range().low()) {
    return v1::DOSE_BAND_BELOW_STANDARD;
  }
  return v1::DOSE_BAND_STANDARD;
}

// Whether a dose of a compound the rules do not cover is too large to be
// meant: there is no compound-specific bound to hold it to.
bool ImplausibleUncovered(double amount, const Unit& unit) {
  return unit.iu ? amount > kImplausibleIu
                 : amount * unit.mcg > kImplausibleMcg;
}

}  // namespace

// One call of Evaluate, step by step: the doses, text and context read from
// the request, then each covered compound's total and band, then the
// findings of every rule. Each step uses what the steps before it read.
class StackEvaluator::Evaluation {
 public:
  Evaluation(const StackEvaluator& evaluator,
             const v1::EvaluateStackRequest& request)
      : evaluator_(evaluator), request_(request) {}

  // The steps, to be called in this order; a Read step's error is the
  // request's first problem.
  absl::Status ReadRequestDoses();
  absl::Status ReadText();
  absl::Status ReadContext();
  absl::Status ReadMedications();
  void AddUpTotals();
  void ApplyRules();
  // The evaluated doses, the findings most severe first, and the ratio.
  // Moves the findings out: call it once, last.
  v1::EvaluateStackResponse Respond();

 private:
  absl::Status ReadRequestDose(int index);
  absl::Status ReadTextDose(const TextDose& read);
  void AddMedication(std::string name, std::string class_id);

  CompoundTotal& TotalFor(const rulespb::Compound* compound);
  const CompoundTotal* FindTotal(absl::string_view id) const;
  const CompoundTotal* KnownAmount(absl::string_view id) const;
  Vars AmountVars(const CompoundTotal& total) const;
  void Fire(int r, const Vars& vars);

  void ApplyRule(int r);
  void ApplyDoseThreshold(int r, const rulespb::Rule& rule);
  void ApplyRangeRule(int r, const rulespb::Rule& rule);
  void ApplyMissing(int r, const rulespb::Rule& rule);
  void ApplyRatioBelow(int r, const rulespb::Rule& rule);
  void ApplyFormNotIn(int r, const rulespb::Rule& rule);
  void ApplyTimingIn(int r, const rulespb::Rule& rule);
  void ApplyWithoutFatMeal(int r, const rulespb::Rule& rule);
  void ApplySerumThreshold(int r, const rulespb::Rule& rule);
  void ApplyPresent(int r, const rulespb::Rule& rule);
  void ApplyMedicationWith(int r, const rulespb::Rule& rule);
  void ApplyCompoundNotCovered(int r);
  void ApplyMedicationNotCovered(int r);

  void ReportDoses(v1::EvaluateStackResponse& response) const;
  void ReportRatio(v1::EvaluateStackResponse& response) const;

  const StackEvaluator& evaluator_;
  const v1::EvaluateStackRequest& request_;
  // The structured doses, then the doses read from the text.
  std::vector<Dose> doses_;
  ParsedStackText parsed_;
  // The request's context, or the text's where the request gives none.
  v1::Timing stack_timing_ = v1::TIMING_UNSPECIFIED;
  std::optional<bool> with_fat_meal_;
  std::optional<double> serum_;
  // (as given, class id), in order, each name once; the class id is empty
  // for a medication the rules do not list.
  std::vector<std::pair<std::string, std::string>> medications_;
  // Per covered compound, in the order of its first dose.
  std::vector<CompoundTotal> totals_;
  std::vector<v1::Finding> findings_;
};

// Every structured dose, read and converted, or the first one's error.
absl::Status StackEvaluator::Evaluation::ReadRequestDoses() {
  for (int i = 0; i < request_.doses_size(); ++i) {
    CITEKB_RETURN_IF_ERROR(ReadRequestDose(i));
  }
  return absl::OkStatus();
}

// Structured dose `index`: a covered compound's amount in its canonical
// unit and its form as the rules spell it, or an uncovered compound's as
// given, if plausible.
absl::Status StackEvaluator::Evaluation::ReadRequestDose(int index) {
  const v1::Dose& given = request_.doses(index);
  const std::string field = absl::StrCat("doses[", index, "]");
  CITEKB_ASSIGN_OR_RETURN(const Unit unit, CheckRequestDose(given, field));
  Dose& dose = doses_.emplace_back();
  dose.request_index = index;
  std::string form_from_name;
  dose.compound = evaluator_.FindCompound(given.compound(), &form_from_name);
  if (dose.compound != nullptr) {
    CITEKB_ASSIGN_OR_RETURN(
        dose.amount,
        ToCanonical(*dose.compound, given.amount(), unit, field, given.unit()));
    dose.unit = dose.compound->unit();
    dose.form = !given.form().empty()
                    ? CanonicalForm(*dose.compound, given.form())
                    : form_from_name;
    return absl::OkStatus();
  }
  dose.name = std::string(absl::StripAsciiWhitespace(given.compound()));
  if (ImplausibleUncovered(given.amount(), unit)) {
    return Invalid(
        absl::StrCat(field, ".amount"),
        absl::StrCat(given.amount(), " ", unit.name,
                     " a day is not plausible; check the amount and the unit"));
  }
  dose.amount = given.amount();
  dose.unit = unit.name;
  dose.form = std::string(absl::StripAsciiWhitespace(given.form()));
  return absl::OkStatus();
}

// The free text's doses, or why it cannot be read; and whether the stack
// (doses and text together) is empty.
absl::Status StackEvaluator::Evaluation::ReadText() {
  const bool has_text = !absl::StripAsciiWhitespace(request_.text()).empty();
  if (has_text) {
    parsed_ = evaluator_.parser_.Parse(request_.text());
    if (!parsed_.problems.empty()) {
      return Invalid("text", parsed_.problems.front());
    }
    if (parsed_.doses.empty() && request_.doses().empty()) {
      return Invalid(
          "text",
          "no dose could be read (write an amount, a unit and a compound, "
          "for example \"5000 IU vitamin D3, 100 mcg K2\")");
    }
  }
  if (request_.doses().empty() && !has_text) {
    return Invalid(
        "doses", "the stack is empty: give at least one dose in doses or text");
  }
  for (const TextDose& read : parsed_.doses) {
    CITEKB_RETURN_IF_ERROR(ReadTextDose(read));
  }
  return absl::OkStatus();
}

// A dose read from the text, converted like a structured one; a compound
// named without an amount is present but has no amount to check.
absl::Status StackEvaluator::Evaluation::ReadTextDose(const TextDose& read) {
  Dose& dose = doses_.emplace_back();
  dose.source_text = read.source_text;
  dose.timing = read.timing;
  dose.form = read.form;
  if (read.covered) {
    for (const rulespb::Compound& compound : evaluator_.rules_.compounds()) {
      if (compound.id() == read.compound) dose.compound = &compound;
    }
  }
  if (read.unit.empty()) {
    if (dose.compound == nullptr) dose.name = read.compound;
    return absl::OkStatus();
  }
  const std::optional<Unit> unit = ParseUnit(read.unit);
  if (!CheckAmount(read.amount, "text").ok() || !unit.has_value()) {
    return Invalid("text", absl::StrCat("\"", read.source_text,
                                        "\" has no usable amount"));
  }
  if (dose.compound != nullptr) {
    absl::StatusOr<double> amount =
        ToCanonical(*dose.compound, read.amount, *unit, "text", read.unit);
    if (!amount.ok()) {
      // The same reason, about the clause instead of a field.
      const absl::string_view reason = amount.status().message();
      return Invalid(
          "text", absl::StrCat("\"", read.source_text,
                               "\": ", reason.substr(reason.find(": ") + 2)));
    }
    dose.amount = *amount;
    dose.unit = dose.compound->unit();
    return absl::OkStatus();
  }
  dose.name = read.compound;
  if (ImplausibleUncovered(read.amount, *unit)) {
    return Invalid("text", absl::StrCat("\"", read.source_text,
                                        "\": the amount is not plausible; "
                                        "check it"));
  }
  dose.amount = RoundAmount(read.amount);
  dose.unit = unit->name;
  return absl::OkStatus();
}

// The stack's timing, meal and serum level: the request's fields first, the
// text's where a field is unset.
absl::Status StackEvaluator::Evaluation::ReadContext() {
  stack_timing_ = request_.timing() != v1::TIMING_UNSPECIFIED
                      ? request_.timing()
                      : parsed_.timing;
  with_fat_meal_ = request_.has_with_fat_meal()
                       ? std::optional<bool>(request_.with_fat_meal())
                       : parsed_.with_fat_meal;
  serum_ = request_.has_serum_25ohd_ng_ml()
               ? std::optional<double>(request_.serum_25ohd_ng_ml())
               : parsed_.serum_25ohd_ng_ml;
  if (serum_.has_value() && !(*serum_ > 0 && *serum_ <= kMaxSerumNgMl)) {
    return Invalid("text", "the serum level is out of range");
  }
  return absl::OkStatus();
}

// The medications of the request, then those named in the text, each with
// its class; a name given twice (in any case) counts once.
absl::Status StackEvaluator::Evaluation::ReadMedications() {
  for (int i = 0; i < request_.medications_size(); ++i) {
    std::string name(absl::StripAsciiWhitespace(request_.medications(i)));
    if (name.empty()) {
      return Invalid(absl::StrCat("medications[", i, "]"), "must not be empty");
    }
    const ParsedStackText names = evaluator_.parser_.Parse(name);
    AddMedication(std::move(name),
                  names.medications.empty()
                      ? ""
                      : evaluator_.medication_class_by_name_.at(
                            names.medications.front()));
  }
  for (const std::string& name : parsed_.medications) {
    AddMedication(name, evaluator_.medication_class_by_name_.at(name));
  }
  return absl::OkStatus();
}

// Adds a medication unless one of the same name, in any case, is there.
void StackEvaluator::Evaluation::AddMedication(std::string name,
                                               std::string class_id) {
  for (const auto& [existing, unused] : medications_) {
    if (Lower(existing) == Lower(name)) return;
  }
  medications_.emplace_back(std::move(name), std::move(class_id));
}

// Each covered compound's daily total, first stated form and timing, and
// the dose band the total falls in.
void StackEvaluator::Evaluation::AddUpTotals() {
  for (const Dose& dose : doses_) {
    if (dose.compound == nullptr) continue;
    CompoundTotal& total = TotalFor(dose.compound);
    if (!dose.unit.empty()) {
      total.amount = RoundAmount(total.amount + dose.amount);
      total.amount_known = true;
    }
    if (total.form.empty()) total.form = dose.form;
    if (total.timing == v1::TIMING_UNSPECIFIED) total.timing = dose.timing;
  }
  for (CompoundTotal& total : totals_) {
    if (total.timing == v1::TIMING_UNSPECIFIED) total.timing = stack_timing_;
    total.amount_text = FormatAmount(total.amount, total.compound->unit());
    if (total.amount_known) total.band = BandOf(*total.compound, total.amount);
  }
}

// The total of `compound`, added when its first dose is seen.
CompoundTotal& StackEvaluator::Evaluation::TotalFor(
    const rulespb::Compound* compound) {
  for (CompoundTotal& total : totals_) {
    if (total.compound == compound) return total;
  }
  CompoundTotal& total = totals_.emplace_back();
  total.compound = compound;
  return total;
}

// The total of compound `id`; nullptr when the stack does not hold it.
const CompoundTotal* StackEvaluator::Evaluation::FindTotal(
    absl::string_view id) const {
  for (const CompoundTotal& total : totals_) {
    if (total.compound->id() == id) return &total;
  }
  return nullptr;
}

// The compound's total when the stack states an amount of it.
const CompoundTotal* StackEvaluator::Evaluation::KnownAmount(
    absl::string_view id) const {
  const CompoundTotal* total = FindTotal(id);
  return total != nullptr && total->amount_known ? total : nullptr;
}

// The placeholders every rule about one compound's amount may use.
Vars StackEvaluator::Evaluation::AmountVars(const CompoundTotal& total) const {
  const rulespb::Compound& c = *total.compound;
  const CompoundWords& words = evaluator_.compound_words_.at(&c);
  return Vars{{"compound", c.display_name()},
              {"amount", total.amount_text},
              {"low", words.low},
              {"high", words.high},
              {"range", words.range},
              {"limit", words.limit},
              {"form", total.form},
              {"timing", TimingWord(total.timing)}};
}

// Adds rule `r`'s finding, its messages rendered with `vars`.
void StackEvaluator::Evaluation::Fire(int r, const Vars& vars) {
  findings_.push_back(MakeFinding(evaluator_.finding_templates_[r],
                                  evaluator_.rules_.rules(r), vars));
}

// Every rule, in the rules' order, adding the findings of those that fire.
void StackEvaluator::Evaluation::ApplyRules() {
  for (int r = 0; r < evaluator_.rules_.rules_size(); ++r) ApplyRule(r);
}

// Applies rule `r` by the kind of its condition.
void StackEvaluator::Evaluation::ApplyRule(int r) {
  const rulespb::Rule& rule = evaluator_.rules_.rules(r);
  switch (rule.condition_case()) {
    case rulespb::Rule::kDoseBelow:
    case rulespb::Rule::kDoseAbove:
      return ApplyDoseThreshold(r, rule);
    case rulespb::Rule::kBelowStandardRange:
    case rulespb::Rule::kAboveStandardRange:
    case rulespb::Rule::kAboveSafetyLimit:
      return ApplyRangeRule(r, rule);
    case rulespb::Rule::kMissing:
      return ApplyMissing(r, rule);
    case rulespb::Rule::kRatioBelow:
      return ApplyRatioBelow(r, rule);
    case rulespb::Rule::kFormNotIn:
      return ApplyFormNotIn(r, rule);
    case rulespb::Rule::kTimingIn:
      return ApplyTimingIn(r, rule);
    case rulespb::Rule::kWithoutFatMeal:
      return ApplyWithoutFatMeal(r, rule);
    case rulespb::Rule::kSerumBelow:
    case rulespb::Rule::kSerumAbove:
      return ApplySerumThreshold(r, rule);
    case rulespb::Rule::kPresent:
      return ApplyPresent(r, rule);
    case rulespb::Rule::kMedicationWith:
      return ApplyMedicationWith(r, rule);
    case rulespb::Rule::kCompoundNotCovered:
      return ApplyCompoundNotCovered(r);
    case rulespb::Rule::kMedicationNotCovered:
      return ApplyMedicationNotCovered(r);
    case rulespb::Rule::CONDITION_NOT_SET:
      return;
  }
}

// dose_below, dose_above: the compound's total is under or over the
// threshold.
void StackEvaluator::Evaluation::ApplyDoseThreshold(int r,
                                                    const rulespb::Rule& rule) {
  const rulespb::DoseThreshold& dose =
      rule.has_dose_below() ? rule.dose_below() : rule.dose_above();
  const CompoundTotal* total = KnownAmount(dose.compound());
  if (total == nullptr) return;
  if (rule.has_dose_below() ? total->amount < dose.threshold()
                            : total->amount > dose.threshold()) {
    const std::string threshold =
        FormatAmount(dose.threshold(), total->compound->unit());
    Vars vars = AmountVars(*total);
    vars.emplace_back("threshold", threshold);
    Fire(r, vars);
  }
}

// below_standard_range, above_standard_range, above_safety_limit: the
// compound's total is outside its standard range or over its safety limit.
void StackEvaluator::Evaluation::ApplyRangeRule(int r,
                                                const rulespb::Rule& rule) {
  const std::string& id =
      rule.has_below_standard_range()   ? rule.below_standard_range()
      : rule.has_above_standard_range() ? rule.above_standard_range()
                                        : rule.above_safety_limit();
  const CompoundTotal* total = KnownAmount(id);
  if (total == nullptr) return;
  const rulespb::Compound& c = *total->compound;
  const bool fires = rule.has_below_standard_range()
                         ? total->amount < c.standard_range().low()
                     : rule.has_above_standard_range()
                         ? total->amount > c.standard_range().high()
                         : total->amount > c.safety_limit();
  if (fires) Fire(r, AmountVars(*total));
}

// missing: one compound is in the stack and its partner is not.
void StackEvaluator::Evaluation::ApplyMissing(int r,
                                              const rulespb::Rule& rule) {
  const CompoundTotal* present = FindTotal(rule.missing().present());
  if (present != nullptr && FindTotal(rule.missing().absent()) == nullptr) {
    Fire(r, {{"present", present->compound->display_name()}});
  }
}

// ratio_below: numerator per `per` of denominator is under the threshold.
void StackEvaluator::Evaluation::ApplyRatioBelow(int r,
                                                 const rulespb::Rule& rule) {
  const rulespb::Ratio& ratio = rule.ratio_below();
  const CompoundTotal* numerator = KnownAmount(ratio.numerator());
  const CompoundTotal* denominator = KnownAmount(ratio.denominator());
  if (numerator == nullptr || denominator == nullptr) return;
  const double value =
      RoundAmount(numerator->amount / denominator->amount * ratio.per());
  if (value < ratio.threshold()) {
    const std::string value_text =
        FormatAmount(value, numerator->compound->unit());
    const std::string threshold =
        FormatAmount(ratio.threshold(), numerator->compound->unit());
    Fire(r, {{"ratio", value_text}, {"threshold", threshold}});
  }
}

// form_not_in: the compound's stated form is none of the listed ones (an
// unstated form does not fire).
void StackEvaluator::Evaluation::ApplyFormNotIn(int r,
                                                const rulespb::Rule& rule) {
  const CompoundTotal* total = FindTotal(rule.form_not_in().compound());
  if (total == nullptr || total->form.empty()) return;
  const auto& forms = rule.form_not_in().forms();
  if (std::find(forms.begin(), forms.end(), total->form) == forms.end()) {
    Fire(r, AmountVars(*total));
  }
}

// timing_in: a listed compound is taken at a listed time; one finding,
// about the first such compound.
void StackEvaluator::Evaluation::ApplyTimingIn(int r,
                                               const rulespb::Rule& rule) {
  const auto& timings = rule.timing_in().timings();
  for (const std::string& id : rule.timing_in().compounds()) {
    const CompoundTotal* total = FindTotal(id);
    if (total == nullptr) continue;
    if (std::find(timings.begin(), timings.end(), total->timing) !=
        timings.end()) {
      Fire(r, AmountVars(*total));
      return;
    }
  }
}

// without_fat_meal: the stack is said to be taken without fat and holds a
// listed compound.
void StackEvaluator::Evaluation::ApplyWithoutFatMeal(
    int r, const rulespb::Rule& rule) {
  if (!with_fat_meal_.has_value() || *with_fat_meal_) return;
  for (const std::string& id : rule.without_fat_meal().compounds()) {
    if (FindTotal(id) != nullptr) {
      Fire(r, {});
      return;
    }
  }
}

// serum_below, serum_above: the stated serum level is under or over the
// threshold.
void StackEvaluator::Evaluation::ApplySerumThreshold(
    int r, const rulespb::Rule& rule) {
  if (!serum_.has_value()) return;
  const bool fires = rule.has_serum_below()
                         ? *serum_ < rule.serum_below().threshold()
                         : *serum_ > rule.serum_above().threshold();
  if (fires) {
    const std::string serum_text = FormatSerum(*serum_);
    Fire(r, {{"serum", serum_text}});
  }
}

// present: the stack holds any of the listed compounds.
void StackEvaluator::Evaluation::ApplyPresent(int r,
                                              const rulespb::Rule& rule) {
  for (const std::string& id : rule.present().compounds()) {
    if (FindTotal(id) != nullptr) {
      Fire(r, {});
      return;
    }
  }
}

// medication_with: a medication of the class is taken with any of the
// listed compounds; one finding, naming the first such medication.
void StackEvaluator::Evaluation::ApplyMedicationWith(
    int r, const rulespb::Rule& rule) {
  bool with_compound = false;
  for (const std::string& id : rule.medication_with().compounds()) {
    with_compound |= FindTotal(id) != nullptr;
  }
  if (!with_compound) return;
  for (const auto& [name, class_id] : medications_) {
    if (class_id == rule.medication_with().medication_class()) {
      Fire(r, {{"medication", name}});
      return;
    }
  }
}

// compound_not_covered: one finding per compound the rules do not cover,
// names compared without case.
void StackEvaluator::Evaluation::ApplyCompoundNotCovered(int r) {
  std::vector<std::string> reported;
  for (const Dose& dose : doses_) {
    if (dose.compound != nullptr ||
        std::find(reported.begin(), reported.end(), Lower(dose.name)) !=
            reported.end()) {
      continue;
    }
    reported.push_back(Lower(dose.name));
    Fire(r, {{"compound", dose.name}});
  }
}

// medication_not_covered: one finding per medication the rules do not list.
void StackEvaluator::Evaluation::ApplyMedicationNotCovered(int r) {
  for (const auto& [name, class_id] : medications_) {
    if (class_id.empty()) Fire(r, {{"medication", name}});
  }
}

v1::EvaluateStackResponse StackEvaluator::Evaluation::Respond() {
  v1::EvaluateStackResponse response;
  ReportDoses(response);
  // Most severe first; rules of one severity stay in the rules' order.
  std::stable_sort(findings_.begin(), findings_.end(),
                   [](const v1::Finding& a, const v1::Finding& b) {
                     return a.severity() > b.severity();
                   });
  for (v1::Finding& finding : findings_) {
    *response.add_findings() = std::move(finding);
  }
  ReportRatio(response);
  return response;
}

// One EvaluatedDose per dose, in the order read, with its compound's band.
void StackEvaluator::Evaluation::ReportDoses(
    v1::EvaluateStackResponse& response) const {
  for (const Dose& dose : doses_) {
    v1::EvaluatedDose* out = response.add_doses();
    const bool covered = dose.compound != nullptr;
    out->set_compound(covered ? dose.compound->id() : dose.name);
    out->set_display_name(covered ? dose.compound->display_name() : dose.name);
    out->set_amount(dose.amount);
    out->set_unit(dose.unit);
    out->set_form(dose.form);
    out->set_source_text(dose.source_text);
    out->set_request_index(dose.request_index);
    out->set_covered(covered);
    out->set_band(!covered            ? v1::DOSE_BAND_NOT_COVERED
                  : dose.unit.empty() ? v1::DOSE_BAND_UNSPECIFIED
                                      : FindTotal(dose.compound->id())->band);
  }
}

// The first ratio_below rule's ratio (K2 mcg per 5,000 IU of D3), when the
// stack states amounts of both of its compounds.
void StackEvaluator::Evaluation::ReportRatio(
    v1::EvaluateStackResponse& response) const {
  for (const rulespb::Rule& rule : evaluator_.rules_.rules()) {
    if (!rule.has_ratio_below()) continue;
    const rulespb::Ratio& ratio = rule.ratio_below();
    const CompoundTotal* numerator = KnownAmount(ratio.numerator());
    const CompoundTotal* denominator = KnownAmount(ratio.denominator());
    if (numerator != nullptr && denominator != nullptr) {
      response.set_k2_mcg_per_5000_iu_d3(
          RoundAmount(numerator->amount / denominator->amount * ratio.per()));
    }
    return;
  }
}

absl::StatusOr<v1::EvaluateStackResponse> StackEvaluator::Evaluate(
    const v1::EvaluateStackRequest& request) const {
  CITEKB_RETURN_IF_ERROR(CheckRequestLimits(request));
  Evaluation evaluation(*this, request);
  CITEKB_RETURN_IF_ERROR(evaluation.ReadRequestDoses());
  CITEKB_RETURN_IF_ERROR(evaluation.ReadText());
  CITEKB_RETURN_IF_ERROR(evaluation.ReadContext());
  CITEKB_RETURN_IF_ERROR(evaluation.ReadMedications());
  evaluation.AddUpTotals();
  evaluation.ApplyRules();
  return evaluation.Respond();
}

std::optional<v1::EvaluateStackResponse> StackEvaluator::EvaluateQuestion(
    absl::string_view question) const {
  ParsedStackText parsed = parser_.Parse(question);
  bool has_covered_amount = false;
  for (const TextDose& dose : parsed.doses) {
    has_covered_amount |= dose.covered && !dose.unit.empty();
  }
  if (!has_covered_amount) return std::nullopt;
  // Only the clauses with doses: unreadable fragments of a question are
  // not the asker's mistake. Each clause once, though several doses were
  // read from it ("5000 IU of D3 and K2"), or its amounts would count twice.
  v1::EvaluateStackRequest request;
  std::vector<std::string> parts;
  for (const TextDose& dose : parsed.doses) {
    if (dose.covered && std::find(parts.begin(), parts.end(),
                                  dose.source_text) == parts.end()) {
      parts.push_back(dose.source_text);
    }
  }
  request.set_text(absl::StrJoin(parts, "; "));
  if (parsed.timing != v1::TIMING_UNSPECIFIED)
    request.set_timing(parsed.timing);
  if (parsed.with_fat_meal.has_value())
    request.set_with_fat_meal(*parsed.with_fat_meal);
  if (parsed.serum_25ohd_ng_ml.has_value() && *parsed.serum_25ohd_ng_ml > 0 &&
      *parsed.serum_25ohd_ng_ml <= kMaxSerumNgMl) {
    request.set_serum_25ohd_ng_ml(*parsed.serum_25ohd_ng_ml);
  }
  for (const std::string& medication : parsed.medications)
    request.add_medications(medication);
  absl::StatusOr<v1::EvaluateStackResponse> response = Evaluate(request);
  if (!response.ok()) return std::nullopt;
  return *std::move(response);
}

}  // namespace citekb
