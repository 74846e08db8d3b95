#include "service/stack/stack_text_parser.h"

#include <algorithm>
#include <bitset>
#include <cstdlib>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "indexer/base/re2_piece.h"
#include "re2/set.h"

namespace citekb {
namespace {

using v1::Timing;

// Patterns run on lower-cased text with thousands separators removed.
const RE2& AmountPattern() {
  // Optional "2 x" multiplier, number, optional "k" (10k IU), unit.
  static const RE2* const pattern = new RE2(
      R"((?:(\d+)\s*(?:x|×)\s*)?(\d+(?:\.\d+)?)\s*(k\b)?\s*)"
      R"((iu|international units?|mcg|ug|micrograms?|mg|milligrams?|grams?|g)\b)",
      RE2::Quiet);
  return *pattern;
}

// The parenthesised equivalent in "125 mcg (5000 IU) D3" restates the
// amount before it; it must not count twice.
const RE2& EquivalentPattern() {
  static const RE2* const pattern =
      new RE2(R"(\(\s*(?:=\s*)?\d+(?:\.\d+)?\s*k?\s*(?:iu|mcg|ug|mg|g)\s*\))",
              RE2::Quiet);
  return *pattern;
}

// "5,000": a comma between a digit and a group of exactly three.
const RE2& ThousandsSeparator() {
  static const RE2* const pattern = new RE2(R"((\d),(\d{3})\b)", RE2::Quiet);
  return *pattern;
}

const RE2& ClauseDelimiter() {
  static const RE2* const pattern = new RE2(
      R"([,;\n+&]|\.\s|\.$|\b(?:and|plus|with|then|also)\b)", RE2::Quiet);
  return *pattern;
}

// What a text says besides its doses: the time of day, a clock time, a
// weekly amount, a meal, a serum level.
enum Fact {
  kMorning,
  kMidday,
  kEvening,
  kNight,
  kClock,
  kWeekly,
  kWithoutFat,
  kWithFat,
  kSerum,
  kFactCount,
};
using Facts = std::bitset<kFactCount>;

constexpr const char* kFactPatterns[kFactCount] = {
    // kMorning, kMidday, kEvening, kNight.
    R"(\b(?:morning|mornings|breakfast|waking|wake up|sunrise)\b)",
    R"(\b(?:midday|noon|lunch|lunchtime|afternoon)\b)",
    R"(\b(?:evening|evenings|dinner|supper)\b)",
    R"(\b(?:night|nights|nighttime|bed|bedtime|before (?:sleep|sleeping)|midnight)\b)",
    // kClock: hour, minutes, half of the day.
    R"(\b(\d{1,2})(?::\d{2})?\s*(am|pm)\b)",
    // kWeekly.
    R"(\b(?:weekly|(?:per|a|each|every|once a|once per)\s+week)\b|/\s*(?:week|wk)\b)",
    // kWithoutFat.
    R"(\b(?:empty stomach|without (?:any |a |my )?(?:food|meal|meals|eating|fat|breakfast)|fasted|fasting|no food)\b)",
    // kWithFat.
    R"(\b(?:with|after|alongside|during) (?:a |my |the |some |our )?(?:[a-z]+[ -])?)"
    R"((?:meal|meals|food|breakfast|lunch|dinner|supper|snack|fat|fats|avocado|eggs|butter|oil)\b)",
    // kSerum: number, unit.
    R"((\d+(?:\.\d+)?)\s*(ng\s*/\s*ml|ng per ml|nmol\s*/\s*l|nmol per l)\b)",
};

constexpr Timing kFactTimings[] = {v1::TIMING_MORNING, v1::TIMING_MIDDAY,
                                   v1::TIMING_EVENING, v1::TIMING_NIGHT};

// One fact's pattern on its own: for what a match holds (the clock time,
// the serum level), and for FactsIn's fallback.
const RE2& FactPattern(Fact fact) {
  static const auto* const patterns = [] {
    auto* list = new std::vector<std::unique_ptr<RE2>>();
    for (const char* pattern : kFactPatterns) {
      list->push_back(std::make_unique<RE2>(pattern, RE2::Quiet));
    }
    return list;
  }();
  return *(*patterns)[fact];
}

// All the facts' patterns in one RE2::Set: a text or a clause is scanned
// once to learn which of them match, where a PartialMatch each scanned it
// nine times (a third of Parse). Pattern i of the set is kFactPatterns[i].
const RE2::Set& FactSet() {
  static const RE2::Set* const set = [] {
    RE2::Options options;
    options.set_log_errors(false);
    auto* patterns = new RE2::Set(options, RE2::UNANCHORED);
    for (const char* pattern : kFactPatterns) patterns->Add(pattern, nullptr);
    patterns->Compile();
    return patterns;
  }();
  return *set;
}

// Which of the facts' patterns match somewhere in `text`: exactly what
// RE2::PartialMatch with each would say.
Facts FactsIn(absl::string_view text) {
  Facts facts;
  std::vector<int> matched;
  RE2::Set::ErrorInfo error;
  if (FactSet().Match(Piece(text), &matched, &error)) {
    for (int i : matched) facts.set(static_cast<size_t>(i));
    return facts;
  }
  if (error.kind == RE2::Set::kNoError) return facts;  // None matches.
  // The set's DFA ran out of memory, which single patterns survive by
  // falling back to the NFA: ask them one by one.
  for (int i = 0; i < kFactCount; ++i) {
    facts[static_cast<size_t>(i)] =
        RE2::PartialMatch(Piece(text), FactPattern(static_cast<Fact>(i)));
  }
  return facts;
}

// Words that are not part of a compound's name: verbs, timing, filler.
bool IsFillerWord(absl::string_view word) {
  static const auto* const words = new std::set<std::string, std::less<>>{
      "a",          "about",       "also",
      "am",         "amount",      "an",
      "and",        "approx",      "approximately",
      "are",        "around",      "at",
      "bad",        "be",          "bed",
      "bedtime",    "before",      "after",
      "biggest",    "breakfast",   "can",
      "capsule",    "capsules",    "combined",
      "d",          "daily",       "day",
      "days",       "dinner",      "do",
      "does",       "dosage",      "dose",
      "doses",      "each",        "empty",
      "enough",     "evening",     "every",
      "fat",        "fatty",       "food",
      "for",        "g",           "good",
      "have",       "high",        "how",
      "i",          "if",          "im",
      "in",         "is",          "it",
      "iu",         "largest",     "low",
      "lunch",      "many",        "mcg",
      "me",         "meal",        "meals",
      "mg",         "midday",      "morning",
      "much",       "my",          "night",
      "noon",       "of",          "ok",
      "okay",       "on",          "once",
      "or",         "per",         "pill",
      "pills",      "pm",          "right",
      "roughly",    "safe",        "should",
      "snack",      "softgel",     "softgels",
      "stack",      "stomach",     "supper",
      "supplement", "supplements", "tablet",
      "tablets",    "take",        "taken",
      "taking",     "than",        "that",
      "the",        "then",        "these",
      "this",       "those",       "times",
      "to",         "together",    "too",
      "took",       "twice",       "ug",
      "use",        "week",        "weekly",
      "what",       "with",        "x",
      "you",        "your",        "also",
      "plus",       "total",       "just",
      "only",       "get",         "getting",
      "drops",      "drop",        "tablespoon",
      "teaspoon",   "scoop",       "scoops",
      "gummy",      "gummies"};
  return words->find(word) != words->end();
}

std::string CanonicalUnit(absl::string_view unit) {
  if (unit == "iu" || absl::StartsWith(unit, "international")) return "IU";
  if (unit == "mcg" || unit == "ug" || absl::StartsWith(unit, "microgram"))
    return "mcg";
  if (unit == "mg" || absl::StartsWith(unit, "milligram")) return "mg";
  return "g";
}

// Lower case, micro signs and "i.u." spelled plainly, no thousands
// separators: "5,000 µg" -> "5000 ug".
std::string NormalizeText(absl::string_view text) {
  std::string out = absl::AsciiStrToLower(text);
  out = absl::StrReplaceAll(out, {{"\xc2\xb5", "u"},
                                  {"\xce\xbc", "u"},
                                  {"i.u.", "iu"},
                                  {"\xc2\xa0", " "}});
  // Again until nothing changes: "1,000,000" loses one comma a round, as
  // a match consumes the digit the next one would start with. Most texts
  // have no comma between digits at all; they skip the regex.
  if (out.find(',') != std::string::npos) {
    while (RE2::GlobalReplace(&out, ThousandsSeparator(), R"(\1\2)") > 0) {
    }
  }
  return out;
}

std::vector<absl::string_view> SplitClauses(absl::string_view text) {
  std::vector<absl::string_view> clauses;
  size_t start = 0;
  re2::StringPiece match;
  while (start <= text.size() &&
         ClauseDelimiter().Match(Piece(text), start, text.size(),
                                 RE2::UNANCHORED, &match, 1)) {
    const size_t begin = static_cast<size_t>(match.data() - text.data());
    clauses.push_back(text.substr(start, begin - start));
    start = begin + std::max<size_t>(match.size(), 1);
  }
  if (start < text.size()) clauses.push_back(text.substr(start));
  return clauses;
}

// The times of day `text` states, given its facts (FactsIn).
std::vector<Timing> TimingsIn(absl::string_view text, const Facts& facts) {
  std::vector<Timing> found;
  auto add = [&found](Timing timing) {
    if (std::find(found.begin(), found.end(), timing) == found.end()) {
      found.push_back(timing);
    }
  };
  for (int i = kMorning; i <= kNight; ++i) {
    if (facts[static_cast<size_t>(i)]) add(kFactTimings[i]);
  }
  if (!facts[kClock]) return found;
  re2::StringPiece input = Piece(text);
  int hour = 0;
  std::string half;
  while (RE2::FindAndConsume(&input, FactPattern(kClock), &hour, &half)) {
    if (hour < 1 || hour > 12) continue;
    const int h24 = hour % 12 + (half == "pm" ? 12 : 0);
    add(h24 >= 4 && h24 < 11    ? v1::TIMING_MORNING
        : h24 >= 11 && h24 < 16 ? v1::TIMING_MIDDAY
        : h24 >= 16 && h24 < 21 ? v1::TIMING_EVENING
                                : v1::TIMING_NIGHT);
  }
  return found;
}

struct Span {
  size_t begin = 0;
  size_t end = 0;
};

size_t Gap(const Span& a, const Span& b) {
  if (a.end <= b.begin) return b.begin - a.end;
  if (b.end <= a.begin) return a.begin - b.end;
  return 0;
}

struct Amount {
  Span span;
  double value = 0;
  std::string unit;
};

struct Mention {
  Span span;
  std::string compound;
  std::string form;
};

}  // namespace

absl::string_view TimingWord(Timing timing) {
  switch (timing) {
    case v1::TIMING_MORNING:
      return "in the morning";
    case v1::TIMING_MIDDAY:
      return "around midday";
    case v1::TIMING_EVENING:
      return "in the evening";
    case v1::TIMING_NIGHT:
      return "at night";
    default:
      return "at an unstated time";
  }
}

StackTextParser::StackTextParser(const rulespb::StackRules& rules) {
  for (const rulespb::Compound& compound : rules.compounds()) {
    for (const std::string& name : compound.names()) {
      names_[name] = {Name::kCompound, compound.id(), "", true};
    }
    for (const rulespb::Form& form : compound.forms()) {
      for (const std::string& name : form.names()) {
        names_[name] = {Name::kForm, compound.id(), form.id(),
                        form.names_compound()};
      }
    }
  }
  for (const rulespb::MedicationClass& medication :
       rules.medication_classes()) {
    for (const std::string& name : medication.names()) {
      names_[name] = {Name::kMedication, "", "", false};
    }
  }
  std::vector<std::string> quoted;
  for (const auto& [name, unused] : names_)
    quoted.push_back(RE2::QuoteMeta(Piece(name)));
  // Longest first, and leftmost-longest matching, so that "vitamin d3"
  // wins over "vitamin d".
  std::sort(quoted.begin(), quoted.end(),
            [](const std::string& a, const std::string& b) {
              return a.size() != b.size() ? a.size() > b.size() : a < b;
            });
  RE2::Options options;
  options.set_longest_match(true);
  options.set_log_errors(false);
  name_pattern_ = std::make_unique<RE2>(
      absl::StrCat("\\b(", quoted.empty() ? "$^" : absl::StrJoin(quoted, "|"),
                   ")\\b"),
      options);
}

StackTextParser::~StackTextParser() = default;

ParsedStackText StackTextParser::Parse(absl::string_view raw_text) const {
  ParsedStackText parsed;
  std::string text = NormalizeText(raw_text);

  // Whole-text facts: serum level, meal, timing, medications.
  const Facts text_facts = FactsIn(text);
  if (text_facts[kSerum]) {
    re2::StringPiece number;
    re2::StringPiece unit;
    if (RE2::PartialMatch(Piece(text), FactPattern(kSerum), &number, &unit)) {
      double value = 0;
      if (absl::SimpleAtod(View(number), &value)) {
        // 1 ng/mL of 25(OH)D = 2.496 nmol/L.
        parsed.serum_25ohd_ng_ml =
            absl::StartsWith(View(unit), "nmol") ? value / 2.496 : value;
      }
    }
  }
  if (text_facts[kWithoutFat]) {
    parsed.with_fat_meal = false;
  } else if (text_facts[kWithFat]) {
    parsed.with_fat_meal = true;
  }
  if (std::vector<Timing> timings = TimingsIn(text, text_facts);
      timings.size() == 1) {
    parsed.timing = timings.front();
  }
  // The pattern opens with "(": without one there is nothing to replace,
  // and GlobalReplace would still copy the text.
  if (text.find('(') != std::string::npos) {
    RE2::GlobalReplace(&text, EquivalentPattern(), " ");
  }

  for (absl::string_view clause : SplitClauses(text)) {
    clause = absl::StripAsciiWhitespace(clause);
    if (clause.empty()) continue;
    const Facts clause_facts = FactsIn(clause);
    const bool weekly = clause_facts[kWeekly];
    std::vector<Timing> clause_timings = TimingsIn(clause, clause_facts);

    std::vector<Amount> amounts;
    {
      re2::StringPiece input = Piece(clause);
      re2::StringPiece times, number, thousand, unit;
      while (true) {
        if (!RE2::FindAndConsume(&input, AmountPattern(), &times, &number,
                                 &thousand, &unit)) {
          break;
        }
        Amount amount;
        const size_t end = static_cast<size_t>(input.data() - clause.data());
        // The match ends where `input` now starts; it begins at the first
        // captured group that matched.
        const char* first = !times.empty() ? times.data() : number.data();
        amount.span = {static_cast<size_t>(first - clause.data()), end};
        double value = 0;
        if (!absl::SimpleAtod(View(number), &value)) continue;
        if (!thousand.empty()) value *= 1000;
        int multiplier = 1;
        if (!times.empty() && absl::SimpleAtoi(View(times), &multiplier) &&
            multiplier > 0) {
          value *= multiplier;
        }
        if (weekly) value /= 7;
        amount.value = value;
        amount.unit = CanonicalUnit(View(unit));
        amounts.push_back(amount);
      }
    }

    std::vector<Mention> mentions;
    {
      // Every name in the clause, left to right, as FindAndConsume would
      // find them (each search starting where the last match ended). Only
      // the whole match is asked for: its bounds come from RE2's DFA alone,
      // where a capture group would run the slower submatch engine.
      std::vector<absl::string_view> names;
      {
        re2::StringPiece input = Piece(clause);
        re2::StringPiece match;
        while (name_pattern_->Match(input, 0, input.size(), RE2::UNANCHORED,
                                    &match, 1)) {
          names.push_back(View(match));
          input.remove_prefix(
              static_cast<size_t>(match.data() + match.size() - input.data()));
        }
      }
      for (absl::string_view name : names) {
        auto it = names_.find(name);
        if (it == names_.end()) continue;
        const Name& meaning = it->second;
        const Span span = {
            static_cast<size_t>(name.data() - clause.data()),
            static_cast<size_t>(name.data() - clause.data() + name.size())};
        if (meaning.kind == Name::kMedication) {
          std::string found(name);
          if (std::find(parsed.medications.begin(), parsed.medications.end(),
                        found) == parsed.medications.end()) {
            parsed.medications.push_back(found);
          }
          continue;
        }
        // A form or a second name right after a mention of the same compound
        // (no amount between) refines that mention: "k2 (mk-7)", "mk-7 k2".
        Mention* same = nullptr;
        for (Mention& mention : mentions) {
          if (mention.compound != meaning.compound) continue;
          bool amount_between = false;
          for (const Amount& amount : amounts) {
            amount_between |=
                amount.span.begin >= std::min(mention.span.end, span.begin) &&
                amount.span.end <= std::max(mention.span.begin, span.end);
          }
          if (!amount_between) same = &mention;
        }
        if (same != nullptr) {
          if (meaning.kind == Name::kForm && same->form.empty())
            same->form = meaning.form;
          same->span = {std::min(same->span.begin, span.begin),
                        std::max(same->span.end, span.end)};
          continue;
        }
        if (meaning.kind == Name::kForm && !meaning.names_compound) continue;
        mentions.push_back({span, meaning.compound,
                            meaning.kind == Name::kForm ? meaning.form : ""});
      }
      // A form that does not name its compound ("malate") refines a mention
      // of its compound anywhere in the clause: "malate magnesium 300 mg".
      for (absl::string_view name : names) {
        auto it = names_.find(name);
        if (it == names_.end() || it->second.kind != Name::kForm ||
            it->second.names_compound) {
          continue;
        }
        for (Mention& mention : mentions) {
          if (mention.compound == it->second.compound && mention.form.empty()) {
            mention.form = it->second.form;
            break;
          }
        }
      }
    }

    const Timing clause_timing = clause_timings.size() == 1
                                     ? clause_timings.front()
                                     : v1::TIMING_UNSPECIFIED;
    auto add_dose = [&](std::string compound, bool covered,
                        const Amount* amount, std::string form) {
      TextDose& dose = parsed.doses.emplace_back();
      dose.compound = std::move(compound);
      dose.covered = covered;
      if (amount != nullptr) {
        dose.amount = amount->value;
        dose.unit = amount->unit;
      }
      dose.form = std::move(form);
      dose.timing = clause_timing;
      dose.source_text = std::string(clause);
    };

    if (mentions.empty()) {
      if (amounts.empty()) continue;
      // An amount with no known name: the clause's other words name an
      // uncovered compound ("30 mg zinc picolinate").
      std::string rest(clause);
      for (auto it = amounts.rbegin(); it != amounts.rend(); ++it) {
        rest.replace(it->span.begin, it->span.end - it->span.begin, " ");
      }
      std::vector<std::string> words;
      for (absl::string_view word : absl::StrSplit(
               rest, absl::ByAnyChar(" \t()[]:/!?.\"'"), absl::SkipEmpty())) {
        if (IsFillerWord(word) ||
            !absl::ascii_isalpha(static_cast<unsigned char>(word[0]))) {
          continue;
        }
        words.emplace_back(word);
      }
      const std::string name = absl::StrJoin(words, " ");
      if (name.empty() || name.size() > 60) {
        parsed.problems.push_back(absl::StrCat(
            "\"", clause, "\" has an amount but names no compound"));
        continue;
      }
      if (amounts.size() > 1) {
        parsed.problems.push_back(absl::StrCat(
            "\"", clause, "\" has several amounts for one compound"));
        continue;
      }
      add_dose(name, false, &amounts.front(), "");
      continue;
    }

    // Pair amounts with mentions: the clause's first item says whether names
    // come before their amounts ("d3 5000 iu") or after ("5000 iu d3").
    const bool names_first = amounts.empty() || mentions.front().span.begin <
                                                    amounts.front().span.begin;
    std::vector<const Amount*> paired(mentions.size(), nullptr);
    std::vector<const Amount*> extra_amounts;
    std::vector<size_t> extra_mentions;
    for (const Amount& amount : amounts) {
      size_t best = mentions.size();
      for (size_t m = 0; m < mentions.size(); ++m) {
        if (paired[m] != nullptr) continue;
        const bool on_side = names_first
                                 ? mentions[m].span.end <= amount.span.begin
                                 : mentions[m].span.begin >= amount.span.end;
        if (!on_side) continue;
        if (best == mentions.size() ||
            Gap(mentions[m].span, amount.span) <
                Gap(mentions[best].span, amount.span)) {
          best = m;
        }
      }
      if (best == mentions.size()) {
        // No free mention on the expected side: the nearest one takes it too
        // ("d3 2000 iu morning 2000 iu evening").
        for (size_t m = 0; m < mentions.size(); ++m) {
          if (best == mentions.size() ||
              Gap(mentions[m].span, amount.span) <
                  Gap(mentions[best].span, amount.span)) {
            best = m;
          }
        }
        if (paired[best] != nullptr) {
          extra_amounts.push_back(&amount);
          extra_mentions.push_back(best);
          continue;
        }
      }
      paired[best] = &amount;
    }
    for (size_t m = 0; m < mentions.size(); ++m) {
      add_dose(mentions[m].compound, true, paired[m], mentions[m].form);
    }
    for (size_t e = 0; e < extra_amounts.size(); ++e) {
      const Mention& mention = mentions[extra_mentions[e]];
      add_dose(mention.compound, true, extra_amounts[e], mention.form);
    }
  }
  return parsed;
}

}  // namespace citekb
