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

std::optional<Unit> ParseUnit(absl::string_view text) {
  std::string unit = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  unit = absl::StrReplaceAll(unit,
                             {{"\xc2\xb5", "u"}, {"\xce\xbc", "u"}, {".", ""}});
  if (unit == "iu" || unit == "international unit" ||
      unit == "international units") {
    return Unit{true, 0, "IU"};
  }
  if (unit == "mcg" || unit == "ug" || unit == "microgram" ||
      unit == "micrograms") {
    return Unit{false, 1, "mcg"};
  }
  if (unit == "mg" || unit == "milligram" || unit == "milligrams") {
    return Unit{false, 1e3, "mg"};
  }
  if (unit == "g" || unit == "gram" || unit == "grams")
    return Unit{false, 1e6, "g"};
  return std::nullopt;
}

// Conversions leave binary noise (100 mcg / 0.025 = 4000.0000000000005);
// rounding to 1e-4 keeps boundaries exact.
double RoundAmount(double amount) { return std::round(amount * 1e4) / 1e4; }

std::string Lower(absl::string_view text) {
  std::vector<absl::string_view> words =
      absl::StrSplit(text, absl::ByAnyChar(" \t\n\r"), absl::SkipEmpty());
  return absl::AsciiStrToLower(absl::StrJoin(words, " "));
}

// One dose on its way to an EvaluatedDose.
struct Dose {
  const rulespb::Compound* compound = nullptr;
  std::string name;  // As given, for uncovered compounds.
  double amount =
      0;  // Canonical unit for covered compounds; as given otherwise.
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
// other braces stay as written, and values are not searched again. This is
// what StrReplaceAll over the "{name}" keys did, in one scan and without
// building the keys: they cannot overlap, as each ends at the first "}".
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

}  // namespace

absl::StatusOr<v1::EvaluateStackResponse> StackEvaluator::Evaluate(
    const v1::EvaluateStackRequest& request) const {
  // --- Validate and normalise ------------------------------------------------
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

  std::vector<Dose> doses;
  for (int i = 0; i < request.doses_size(); ++i) {
    const v1::Dose& given = request.doses(i);
    const std::string field = absl::StrCat("doses[", i, "]");
    if (absl::StripAsciiWhitespace(given.compound()).empty()) {
      return Invalid(absl::StrCat(field, ".compound"), "must not be empty");
    }
    absl::Status amount_ok = CheckAmount(given.amount(), field);
    if (!amount_ok.ok()) return amount_ok;
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
    Dose& dose = doses.emplace_back();
    dose.request_index = i;
    std::string form_from_name;
    dose.compound = FindCompound(given.compound(), &form_from_name);
    if (dose.compound != nullptr) {
      absl::StatusOr<double> amount = ToCanonical(
          *dose.compound, given.amount(), *unit, field, given.unit());
      if (!amount.ok()) return amount.status();
      dose.amount = *amount;
      dose.unit = dose.compound->unit();
      dose.form = !given.form().empty()
                      ? CanonicalForm(*dose.compound, given.form())
                      : form_from_name;
    } else {
      dose.name = std::string(absl::StripAsciiWhitespace(given.compound()));
      if (unit->iu ? given.amount() > kImplausibleIu
                   : given.amount() * unit->mcg > kImplausibleMcg) {
        return Invalid(
            absl::StrCat(field, ".amount"),
            absl::StrCat(
                given.amount(), " ", unit->name,
                " a day is not plausible; check the amount and the unit"));
      }
      dose.amount = given.amount();
      dose.unit = unit->name;
      dose.form = std::string(absl::StripAsciiWhitespace(given.form()));
    }
  }

  ParsedStackText parsed;
  if (!absl::StripAsciiWhitespace(request.text()).empty()) {
    parsed = parser_.Parse(request.text());
    if (!parsed.problems.empty())
      return Invalid("text", parsed.problems.front());
    if (parsed.doses.empty() && request.doses().empty()) {
      return Invalid(
          "text",
          "no dose could be read (write an amount, a unit and a compound, "
          "for example \"5000 IU vitamin D3, 100 mcg K2\")");
    }
  }
  if (request.doses().empty() &&
      absl::StripAsciiWhitespace(request.text()).empty()) {
    return Invalid(
        "doses", "the stack is empty: give at least one dose in doses or text");
  }
  for (const TextDose& read : parsed.doses) {
    Dose& dose = doses.emplace_back();
    dose.source_text = read.source_text;
    dose.timing = read.timing;
    dose.form = read.form;
    if (read.covered) {
      for (const rulespb::Compound& compound : rules_.compounds()) {
        if (compound.id() == read.compound) dose.compound = &compound;
      }
    }
    if (read.unit.empty()) {
      if (dose.compound == nullptr) dose.name = read.compound;
      continue;  // Named without an amount: present, not checked.
    }
    const std::optional<Unit> unit = ParseUnit(read.unit);
    absl::Status amount_ok = CheckAmount(read.amount, "text");
    if (!amount_ok.ok() || !unit.has_value()) {
      return Invalid("text", absl::StrCat("\"", read.source_text,
                                          "\" has no usable amount"));
    }
    if (dose.compound != nullptr) {
      absl::StatusOr<double> amount =
          ToCanonical(*dose.compound, read.amount, *unit, "text", read.unit);
      if (!amount.ok()) {
        return Invalid(
            "text",
            absl::StrCat("\"", read.source_text, "\": ",
                         amount.status().message().substr(
                             amount.status().message().find(": ") + 2)));
      }
      dose.amount = *amount;
      dose.unit = dose.compound->unit();
    } else {
      dose.name = read.compound;
      if (unit->iu ? read.amount > kImplausibleIu
                   : read.amount * unit->mcg > kImplausibleMcg) {
        return Invalid(
            "text", absl::StrCat("\"", read.source_text,
                                 "\": the amount is not plausible; check it"));
      }
      dose.amount = RoundAmount(read.amount);
      dose.unit = unit->name;
    }
  }

  const v1::Timing stack_timing = request.timing() != v1::TIMING_UNSPECIFIED
                                      ? request.timing()
                                      : parsed.timing;
  const std::optional<bool> with_fat_meal =
      request.has_with_fat_meal() ? std::optional<bool>(request.with_fat_meal())
                                  : parsed.with_fat_meal;
  const std::optional<double> serum =
      request.has_serum_25ohd_ng_ml()
          ? std::optional<double>(request.serum_25ohd_ng_ml())
          : parsed.serum_25ohd_ng_ml;
  if (serum.has_value() && !(*serum > 0 && *serum <= kMaxSerumNgMl)) {
    return Invalid("text", "the serum level is out of range");
  }

  // --- Totals and bands ------------------------------------------------------
  std::vector<CompoundTotal> totals;
  auto total_for =
      [&totals](const rulespb::Compound* compound) -> CompoundTotal& {
    for (CompoundTotal& total : totals) {
      if (total.compound == compound) return total;
    }
    CompoundTotal& total = totals.emplace_back();
    total.compound = compound;
    return total;
  };
  for (const Dose& dose : doses) {
    if (dose.compound == nullptr) continue;
    CompoundTotal& total = total_for(dose.compound);
    if (!dose.unit.empty()) {
      total.amount = RoundAmount(total.amount + dose.amount);
      total.amount_known = true;
    }
    if (total.form.empty()) total.form = dose.form;
    if (total.timing == v1::TIMING_UNSPECIFIED) total.timing = dose.timing;
  }
  for (CompoundTotal& total : totals) {
    if (total.timing == v1::TIMING_UNSPECIFIED) total.timing = stack_timing;
    const rulespb::Compound& c = *total.compound;
    total.amount_text = FormatAmount(total.amount, c.unit());
    if (!total.amount_known) continue;
    total.band = c.safety_limit() > 0 && total.amount > c.safety_limit()
                     ? v1::DOSE_BAND_ABOVE_SAFETY_LIMIT
                 : total.amount > c.standard_range().high()
                     ? v1::DOSE_BAND_HIGH_DOSE_ANECDOTAL
                 : total.amount < c.standard_range().low()
                     ? v1::DOSE_BAND_BELOW_STANDARD
                     : v1::DOSE_BAND_STANDARD;
  }
  auto find_total = [&totals](absl::string_view id) -> const CompoundTotal* {
    for (const CompoundTotal& total : totals) {
      if (total.compound->id() == id) return &total;
    }
    return nullptr;
  };

  v1::EvaluateStackResponse response;
  for (const Dose& dose : doses) {
    v1::EvaluatedDose* out = response.add_doses();
    out->set_compound(dose.compound != nullptr ? dose.compound->id()
                                               : dose.name);
    out->set_display_name(
        dose.compound != nullptr ? dose.compound->display_name() : dose.name);
    out->set_amount(dose.amount);
    out->set_unit(dose.unit);
    out->set_form(dose.form);
    out->set_source_text(dose.source_text);
    out->set_request_index(dose.request_index);
    out->set_covered(dose.compound != nullptr);
    out->set_band(dose.compound == nullptr ? v1::DOSE_BAND_NOT_COVERED
                  : dose.unit.empty()      ? v1::DOSE_BAND_UNSPECIFIED
                                      : find_total(dose.compound->id())->band);
  }

  // --- Rules -----------------------------------------------------------------
  std::vector<std::pair<std::string, std::string>>
      medications;  // as given, class id
  {
    auto add = [&medications](std::string name, std::string class_id) {
      for (const auto& [existing, unused] : medications) {
        if (Lower(existing) == Lower(name)) return;
      }
      medications.emplace_back(std::move(name), std::move(class_id));
    };
    for (int i = 0; i < request.medications_size(); ++i) {
      const std::string name(
          absl::StripAsciiWhitespace(request.medications(i)));
      if (name.empty()) {
        return Invalid(absl::StrCat("medications[", i, "]"),
                       "must not be empty");
      }
      ParsedStackText names = parser_.Parse(name);
      add(name, names.medications.empty()
                    ? ""
                    : medication_class_by_name_.at(names.medications.front()));
    }
    for (const std::string& name : parsed.medications)
      add(name, medication_class_by_name_.at(name));
  }

  auto amount_vars = [this](const CompoundTotal& total) {
    const rulespb::Compound& c = *total.compound;
    const CompoundWords& words = compound_words_.at(&c);
    return Vars{{"compound", c.display_name()},
                {"amount", total.amount_text},
                {"low", words.low},
                {"high", words.high},
                {"range", words.range},
                {"limit", words.limit},
                {"form", total.form},
                {"timing", TimingWord(total.timing)}};
  };
  auto known_amount =
      [&find_total](absl::string_view id) -> const CompoundTotal* {
    const CompoundTotal* total = find_total(id);
    return total != nullptr && total->amount_known ? total : nullptr;
  };

  std::vector<v1::Finding> findings;
  for (int r = 0; r < rules_.rules_size(); ++r) {
    const rulespb::Rule& rule = rules_.rules(r);
    auto fire = [&](const Vars& vars) {
      findings.push_back(MakeFinding(finding_templates_[r], rule, vars));
    };
    switch (rule.condition_case()) {
      case rulespb::Rule::kDoseBelow:
      case rulespb::Rule::kDoseAbove: {
        const rulespb::DoseThreshold& dose =
            rule.has_dose_below() ? rule.dose_below() : rule.dose_above();
        const CompoundTotal* total = known_amount(dose.compound());
        if (total == nullptr) break;
        if (rule.has_dose_below() ? total->amount < dose.threshold()
                                  : total->amount > dose.threshold()) {
          const std::string threshold =
              FormatAmount(dose.threshold(), total->compound->unit());
          Vars vars = amount_vars(*total);
          vars.emplace_back("threshold", threshold);
          fire(vars);
        }
        break;
      }
      case rulespb::Rule::kBelowStandardRange:
      case rulespb::Rule::kAboveStandardRange:
      case rulespb::Rule::kAboveSafetyLimit: {
        const std::string& id =
            rule.has_below_standard_range()   ? rule.below_standard_range()
            : rule.has_above_standard_range() ? rule.above_standard_range()
                                              : rule.above_safety_limit();
        const CompoundTotal* total = known_amount(id);
        if (total == nullptr) break;
        const rulespb::Compound& c = *total->compound;
        const bool fires = rule.has_below_standard_range()
                               ? total->amount < c.standard_range().low()
                           : rule.has_above_standard_range()
                               ? total->amount > c.standard_range().high()
                               : total->amount > c.safety_limit();
        if (fires) fire(amount_vars(*total));
        break;
      }
      case rulespb::Rule::kMissing: {
        const CompoundTotal* present = find_total(rule.missing().present());
        if (present != nullptr &&
            find_total(rule.missing().absent()) == nullptr) {
          fire({{"present", present->compound->display_name()}});
        }
        break;
      }
      case rulespb::Rule::kRatioBelow: {
        const rulespb::Ratio& ratio = rule.ratio_below();
        const CompoundTotal* numerator = known_amount(ratio.numerator());
        const CompoundTotal* denominator = known_amount(ratio.denominator());
        if (numerator == nullptr || denominator == nullptr) break;
        const double value =
            RoundAmount(numerator->amount / denominator->amount * ratio.per());
        if (value < ratio.threshold()) {
          const std::string value_text =
              FormatAmount(value, numerator->compound->unit());
          const std::string threshold =
              FormatAmount(ratio.threshold(), numerator->compound->unit());
          fire({{"ratio", value_text}, {"threshold", threshold}});
        }
        break;
      }
      case rulespb::Rule::kFormNotIn: {
        const CompoundTotal* total = find_total(rule.form_not_in().compound());
        if (total == nullptr || total->form.empty()) break;
        const auto& forms = rule.form_not_in().forms();
        if (std::find(forms.begin(), forms.end(), total->form) == forms.end()) {
          fire(amount_vars(*total));
        }
        break;
      }
      case rulespb::Rule::kTimingIn: {
        for (const std::string& id : rule.timing_in().compounds()) {
          const CompoundTotal* total = find_total(id);
          if (total == nullptr) continue;
          const auto& timings = rule.timing_in().timings();
          if (std::find(timings.begin(), timings.end(), total->timing) !=
              timings.end()) {
            fire(amount_vars(*total));
            break;
          }
        }
        break;
      }
      case rulespb::Rule::kWithoutFatMeal: {
        if (!with_fat_meal.has_value() || *with_fat_meal) break;
        for (const std::string& id : rule.without_fat_meal().compounds()) {
          if (find_total(id) != nullptr) {
            fire({});
            break;
          }
        }
        break;
      }
      case rulespb::Rule::kSerumBelow:
      case rulespb::Rule::kSerumAbove: {
        if (!serum.has_value()) break;
        const bool fires = rule.has_serum_below()
                               ? *serum < rule.serum_below().threshold()
                               : *serum > rule.serum_above().threshold();
        if (fires) {
          const std::string serum_text = FormatSerum(*serum);
          fire({{"serum", serum_text}});
        }
        break;
      }
      case rulespb::Rule::kPresent: {
        for (const std::string& id : rule.present().compounds()) {
          if (find_total(id) != nullptr) {
            fire({});
            break;
          }
        }
        break;
      }
      case rulespb::Rule::kMedicationWith: {
        bool with_compound = false;
        for (const std::string& id : rule.medication_with().compounds()) {
          with_compound |= find_total(id) != nullptr;
        }
        if (!with_compound) break;
        for (const auto& [name, class_id] : medications) {
          if (class_id == rule.medication_with().medication_class()) {
            fire({{"medication", name}});
            break;
          }
        }
        break;
      }
      case rulespb::Rule::kCompoundNotCovered: {
        std::vector<std::string> reported;
        for (const Dose& dose : doses) {
          if (dose.compound != nullptr ||
              std::find(reported.begin(), reported.end(), Lower(dose.name)) !=
                  reported.end()) {
            continue;
          }
          reported.push_back(Lower(dose.name));
          fire({{"compound", dose.name}});
        }
        break;
      }
      case rulespb::Rule::kMedicationNotCovered: {
        for (const auto& [name, class_id] : medications) {
          if (class_id.empty()) fire({{"medication", name}});
        }
        break;
      }
      case rulespb::Rule::CONDITION_NOT_SET:
        break;
    }
  }
  std::stable_sort(findings.begin(), findings.end(),
                   [](const v1::Finding& a, const v1::Finding& b) {
                     return a.severity() > b.severity();
                   });
  for (v1::Finding& finding : findings)
    *response.add_findings() = std::move(finding);

  for (const rulespb::Rule& rule : rules_.rules()) {
    if (!rule.has_ratio_below()) continue;
    const CompoundTotal* numerator =
        known_amount(rule.ratio_below().numerator());
    const CompoundTotal* denominator =
        known_amount(rule.ratio_below().denominator());
    if (numerator != nullptr && denominator != nullptr) {
      response.set_k2_mcg_per_5000_iu_d3(RoundAmount(
          numerator->amount / denominator->amount * rule.ratio_below().per()));
    }
    break;
  }
  return response;
}

std::optional<v1::EvaluateStackResponse> StackEvaluator::EvaluateQuestion(
    absl::string_view question) const {
  ParsedStackText parsed = parser_.Parse(question);
  bool has_covered_amount = false;
  for (const TextDose& dose : parsed.doses) {
    has_covered_amount |= dose.covered && !dose.unit.empty();
  }
  if (!has_covered_amount) return std::nullopt;
  // Only the doses themselves: unreadable fragments of a question are not
  // the asker's mistake.
  v1::EvaluateStackRequest request;
  std::vector<std::string> parts;
  for (const TextDose& dose : parsed.doses) {
    if (dose.covered) parts.push_back(dose.source_text);
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
