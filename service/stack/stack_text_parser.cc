#include "service/stack/stack_text_parser.h"

#include <algorithm>
#include <bitset>
#include <cstdlib>
#include <iterator>
#include <optional>
#include <set>
#include <utility>

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

// Words just before a compound named without an amount that say it is not
// taken ("no K2", "never added any K2", "without magnesium") or is what is
// asked for ("how much K2", "which K2"): either way it is not in the stack.
const RE2& NotTakenPattern() {
  static const RE2* const pattern = new RE2(
      R"(\b(?:no|without|never|not|dont|don't|zero|skip|skipping|stopped|)"
      R"(quit|how much|how many|which|what dose of|what amount of|)"
      R"(amount of|dose of)\b(?:\s+\w+){0,3}\s*$)",
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
// once to learn which of them match, not once per pattern. Pattern i of the
// set is kFactPatterns[i].
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

// Words that are not part of a compound's name, so that what is left of an
// amount's clause names the compound: "30 mg zinc picolinate daily with
// breakfast" -> "zinc picolinate". Matched whole, after lower-casing.
constexpr absl::string_view kFillerWords[] = {
    // Units, counts and frequencies.
    "amount", "d", "daily", "day", "days", "dosage", "dose", "doses", "each",
    "every", "g", "iu", "mcg", "mg", "once", "per", "times", "total", "twice",
    "ug", "week", "weekly", "x",
    // What a dose comes as.
    "capsule", "capsules", "drop", "drops", "gummies", "gummy", "pill", "pills",
    "scoop", "scoops", "softgel", "softgels", "stack", "supplement",
    "supplements", "tablespoon", "tablet", "tablets", "teaspoon",
    // Times of day and meals.
    "after", "am", "bed", "bedtime", "before", "biggest", "breakfast", "dinner",
    "empty", "evening", "fat", "fatty", "food", "largest", "lunch", "meal",
    "meals", "midday", "morning", "night", "noon", "pm", "snack", "stomach",
    "supper",
    // Joining words, questions and verbs.
    "a", "about", "also", "an", "and", "approx", "approximately", "are",
    "around", "at", "bad", "be", "can", "combined", "do", "does", "enough",
    "for", "get", "getting", "good", "have", "high", "how", "i", "if", "im",
    "in", "is", "it", "just", "low", "many", "me", "much", "my", "of", "ok",
    "okay", "on", "only", "or", "plus", "right", "roughly", "safe", "should",
    "take", "taken", "taking", "than", "that", "the", "then", "these", "this",
    "those", "to", "together", "too", "took", "use", "what", "with", "you",
    "your"};

bool IsFillerWord(absl::string_view word) {
  static const auto* const words = new std::set<std::string, std::less<>>(
      std::begin(kFillerWords), std::end(kFillerWords));
  return words->find(word) != words->end();
}

// The unit words AmountPattern captures, by the unit they stand for.
constexpr std::pair<absl::string_view, absl::string_view> kUnitWords[] = {
    {"iu", "IU"},
    {"international unit", "IU"},
    {"international units", "IU"},
    {"mcg", "mcg"},
    {"ug", "mcg"},
    {"microgram", "mcg"},
    {"micrograms", "mcg"},
    {"mg", "mg"},
    {"milligram", "mg"},
    {"milligrams", "mg"},
    {"g", "g"},
    {"gram", "g"},
    {"grams", "g"}};

// `unit` is one of AmountPattern's unit words.
std::string CanonicalUnit(absl::string_view unit) {
  for (const auto& [word, canonical] : kUnitWords) {
    if (unit == word) return std::string(canonical);
  }
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

// The clauses of `text` between ClauseDelimiter's matches, as views into
// it; the caller skips the blank ones.
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

// The time of day of an hour on the 24-hour clock: morning from 4, midday
// from 11, evening from 16, night from 21.
Timing TimingAtHour(int h24) {
  return h24 >= 4 && h24 < 11    ? v1::TIMING_MORNING
         : h24 >= 11 && h24 < 16 ? v1::TIMING_MIDDAY
         : h24 >= 16 && h24 < 21 ? v1::TIMING_EVENING
                                 : v1::TIMING_NIGHT;
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
    add(TimingAtHour(hour % 12 + (half == "pm" ? 12 : 0)));
  }
  return found;
}

// 1 ng/mL of 25(OH)D is 2.496 nmol/L.
constexpr double kNmolPerNgMl = 2.496;

// The serum 25(OH)D level `text` states, in ng/mL, given its facts.
std::optional<double> SerumIn(absl::string_view text, const Facts& facts) {
  if (!facts[kSerum]) return std::nullopt;
  re2::StringPiece number;
  re2::StringPiece unit;
  if (!RE2::PartialMatch(Piece(text), FactPattern(kSerum), &number, &unit)) {
    return std::nullopt;
  }
  double value = 0;
  if (!absl::SimpleAtod(View(number), &value)) return std::nullopt;
  return absl::StartsWith(View(unit), "nmol") ? value / kNmolPerNgMl : value;
}

// Whether the doses are taken with a meal with fat, given the text's facts;
// "on an empty stomach" wins over a meal mentioned too.
std::optional<bool> WithFatMealIn(const Facts& facts) {
  if (facts[kWithoutFat]) return false;
  if (facts[kWithFat]) return true;
  return std::nullopt;
}

// What the whole text says besides its doses: the serum level, the meal,
// and the time of day when it states exactly one.
void ReadTextFacts(absl::string_view text, ParsedStackText& parsed) {
  const Facts facts = FactsIn(text);
  parsed.serum_25ohd_ng_ml = SerumIn(text, facts);
  parsed.with_fat_meal = WithFatMealIn(facts);
  if (std::vector<Timing> timings = TimingsIn(text, facts);
      timings.size() == 1) {
    parsed.timing = timings.front();
  }
}

// Blanks the parenthesised equivalents out of `text` ("125 mcg (5000 IU)").
void DropEquivalents(std::string& text) {
  // The pattern opens with "(": without one there is nothing to replace,
  // and GlobalReplace would still copy the text.
  if (text.find('(') != std::string::npos) {
    RE2::GlobalReplace(&text, EquivalentPattern(), " ");
  }
}

struct Span {
  size_t begin = 0;
  size_t end = 0;
};

// The distance between two spans; 0 when they overlap.
size_t Gap(const Span& a, const Span& b) {
  if (a.end <= b.begin) return b.begin - a.end;
  if (b.end <= a.begin) return a.begin - b.end;
  return 0;
}

// Where `part`, a view into `whole`, lies in it.
Span SpanOf(absl::string_view part, absl::string_view whole) {
  const size_t begin = static_cast<size_t>(part.data() - whole.data());
  return {begin, begin + part.size()};
}

// An amount as a daily figure in a canonical unit ("IU", "mcg", "mg", "g").
struct Amount {
  Span span;
  double value = 0;
  std::string unit;
};

// A covered compound named in a clause, and the form named with it.
struct Mention {
  Span span;
  std::string compound;
  std::string form;
};

// A clause, and the time of day it states for its doses.
struct Clause {
  absl::string_view text;
  Timing timing = v1::TIMING_UNSPECIFIED;
};

using NameMeanings = absl::flat_hash_map<std::string, StackTextParser::Name>;

// The amounts in `clause`, left to right: "2 x 1000 iu" is 2000 IU, "10k
// iu" 10000 IU, and a weekly clause's amounts are divided by 7.
std::vector<Amount> AmountsIn(absl::string_view clause, bool weekly) {
  std::vector<Amount> amounts;
  re2::StringPiece input = Piece(clause);
  re2::StringPiece times, number, thousand, unit;
  while (RE2::FindAndConsume(&input, AmountPattern(), &times, &number,
                             &thousand, &unit)) {
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
  return amounts;
}

// Every name of the rules in `clause`, left to right, as FindAndConsume
// would find them (each search starting where the last match ended). Only
// the whole match is asked for: its bounds come from RE2's DFA alone, where
// a capture group would run the slower submatch engine.
std::vector<absl::string_view> NamesIn(const RE2& name_pattern,
                                       absl::string_view clause) {
  std::vector<absl::string_view> names;
  re2::StringPiece input = Piece(clause);
  re2::StringPiece match;
  while (
      name_pattern.Match(input, 0, input.size(), RE2::UNANCHORED, &match, 1)) {
    names.push_back(View(match));
    input.remove_prefix(
        static_cast<size_t>(match.data() + match.size() - input.data()));
  }
  return names;
}

// Adds the medications among `names` to `medications`, each once.
void AddMedications(const NameMeanings& meanings,
                    const std::vector<absl::string_view>& names,
                    std::vector<std::string>& medications) {
  for (absl::string_view name : names) {
    auto it = meanings.find(name);
    if (it == meanings.end() ||
        it->second.kind != StackTextParser::Name::kMedication) {
      continue;
    }
    if (std::find(medications.begin(), medications.end(), name) ==
        medications.end()) {
      medications.emplace_back(name);
    }
  }
}

// The mention that a name of `compound` at `span` refines: the last one of
// the same compound with no amount between the two ("k2 (mk-7)", "mk-7
// k2"); nullptr when there is none.
Mention* MentionToRefine(std::vector<Mention>& mentions,
                         absl::string_view compound, const Span& span,
                         const std::vector<Amount>& amounts) {
  Mention* same = nullptr;
  for (Mention& mention : mentions) {
    if (mention.compound != compound) continue;
    bool amount_between = false;
    for (const Amount& amount : amounts) {
      amount_between |=
          amount.span.begin >= std::min(mention.span.end, span.begin) &&
          amount.span.end <= std::max(mention.span.begin, span.end);
    }
    if (!amount_between) same = &mention;
  }
  return same;
}

// Gives a form that does not name its compound ("malate") to the first
// mention of its compound anywhere in the clause that has no form yet:
// "malate magnesium 300 mg".
void AttachDetachedForms(const NameMeanings& meanings,
                         const std::vector<absl::string_view>& names,
                         std::vector<Mention>& mentions) {
  for (absl::string_view name : names) {
    auto it = meanings.find(name);
    if (it == meanings.end() ||
        it->second.kind != StackTextParser::Name::kForm ||
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

// The covered compounds `names` mention in `clause`, one mention per
// compound named, with the forms named beside them. A name right after a
// mention of the same compound refines it instead of starting another.
std::vector<Mention> MentionsIn(const NameMeanings& meanings,
                                absl::string_view clause,
                                const std::vector<absl::string_view>& names,
                                const std::vector<Amount>& amounts) {
  using Name = StackTextParser::Name;
  std::vector<Mention> mentions;
  for (absl::string_view name : names) {
    auto it = meanings.find(name);
    if (it == meanings.end() || it->second.kind == Name::kMedication) continue;
    const Name& meaning = it->second;
    const Span span = SpanOf(name, clause);
    if (Mention* same =
            MentionToRefine(mentions, meaning.compound, span, amounts)) {
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
  AttachDetachedForms(meanings, names, mentions);
  return mentions;
}

// A dose read from `clause`; `amount` is nullptr for a compound named
// without one.
TextDose MakeDose(const Clause& clause, std::string compound, bool covered,
                  const Amount* amount, std::string form) {
  TextDose dose;
  dose.compound = std::move(compound);
  dose.covered = covered;
  if (amount != nullptr) {
    dose.amount = amount->value;
    dose.unit = amount->unit;
  }
  dose.form = std::move(form);
  dose.timing = clause.timing;
  dose.source_text = std::string(clause.text);
  return dose;
}

// Characters between the words of an uncovered compound's name.
constexpr char kNameWordDelimiters[] = " \t()[]:/!?.\"'";
// Longer "names" are sentences that name no compound.
constexpr size_t kMaxUncoveredNameLength = 60;

// What is left of `clause` without its amounts and filler words: the name
// of a compound the rules do not cover ("30 mg zinc picolinate" -> "zinc
// picolinate"), or "" when only filler is left.
std::string UncoveredName(absl::string_view clause,
                          const std::vector<Amount>& amounts) {
  std::string rest(clause);
  for (auto it = amounts.rbegin(); it != amounts.rend(); ++it) {
    rest.replace(it->span.begin, it->span.end - it->span.begin, 1, ' ');
  }
  std::vector<std::string> words;
  for (absl::string_view word : absl::StrSplit(
           rest, absl::ByAnyChar(kNameWordDelimiters), absl::SkipEmpty())) {
    if (IsFillerWord(word) ||
        !absl::ascii_isalpha(static_cast<unsigned char>(word[0]))) {
      continue;
    }
    words.emplace_back(word);
  }
  return absl::StrJoin(words, " ");
}

// For a clause that names no covered compound: the dose of the uncovered
// compound its one amount is of, or a problem when the clause has an amount
// but no name, or several amounts. A clause without amounts is no dose.
void AddUncoveredDose(const Clause& clause, const std::vector<Amount>& amounts,
                      ParsedStackText& parsed) {
  if (amounts.empty()) return;
  std::string name = UncoveredName(clause.text, amounts);
  if (name.empty() || name.size() > kMaxUncoveredNameLength) {
    parsed.problems.push_back(absl::StrCat(
        "\"", clause.text, "\" has an amount but names no compound"));
    return;
  }
  if (amounts.size() > 1) {
    parsed.problems.push_back(absl::StrCat(
        "\"", clause.text, "\" has several amounts for one compound"));
    return;
  }
  parsed.doses.push_back(
      MakeDose(clause, std::move(name), false, &amounts.front(), ""));
}

// Which amount goes with which mention.
struct Pairing {
  // Per mention, its amount; nullptr when it has none.
  std::vector<const Amount*> amounts;
  // Further amounts of mentions that have one already, in the clause's
  // order: (mention index, amount).
  std::vector<std::pair<size_t, const Amount*>> extra;
};

// The index of the mention nearest to `amount` among those `eligible(m)`
// accepts, the first of equals; mentions.size() when it accepts none.
template <typename Eligible>
size_t NearestMention(const std::vector<Mention>& mentions,
                      const Amount& amount, Eligible eligible) {
  size_t best = mentions.size();
  for (size_t m = 0; m < mentions.size(); ++m) {
    if (!eligible(m)) continue;
    if (best == mentions.size() || Gap(mentions[m].span, amount.span) <
                                       Gap(mentions[best].span, amount.span)) {
      best = m;
    }
  }
  return best;
}

// Pairs each amount with the nearest mention still without one, on the side
// the clause's first item sets: names before their amounts ("d3 5000 iu") or
// after ("5000 iu d3"). An amount with no such mention goes to the nearest
// mention, as an extra amount when that one has its own already ("d3 2000
// iu morning 2000 iu evening"). `mentions` is not empty.
Pairing PairAmounts(const std::vector<Mention>& mentions,
                    const std::vector<Amount>& amounts) {
  const bool names_first = amounts.empty() || mentions.front().span.begin <
                                                  amounts.front().span.begin;
  Pairing pairing;
  pairing.amounts.assign(mentions.size(), nullptr);
  for (const Amount& amount : amounts) {
    auto free_on_side = [&](size_t m) {
      if (pairing.amounts[m] != nullptr) return false;
      return names_first ? mentions[m].span.end <= amount.span.begin
                         : mentions[m].span.begin >= amount.span.end;
    };
    size_t best = NearestMention(mentions, amount, free_on_side);
    if (best == mentions.size()) {
      best = NearestMention(mentions, amount, [](size_t) { return true; });
      if (pairing.amounts[best] != nullptr) {
        pairing.extra.emplace_back(best, &amount);
        continue;
      }
    }
    pairing.amounts[best] = &amount;
  }
  return pairing;
}

// Whether mention `m` of `clause`, which has no amount, is negated or asked
// about: the words since the mention before it end on a NotTakenPattern.
bool IsNotTaken(absl::string_view clause, const std::vector<Mention>& mentions,
                size_t m) {
  const size_t from = m == 0 ? 0 : mentions[m - 1].span.end;
  const size_t to = mentions[m].span.begin;
  if (to <= from) return false;
  return RE2::PartialMatch(Piece(clause.substr(from, to - from)),
                            NotTakenPattern());
}

// For a clause that names covered compounds: a dose per mention, with its
// amount if it has one (a mention without one that is negated or asked
// about is none), then a dose per extra amount.
void AddPairedDoses(const Clause& clause, const std::vector<Mention>& mentions,
                    const std::vector<Amount>& amounts,
                    ParsedStackText& parsed) {
  const Pairing pairing = PairAmounts(mentions, amounts);
  for (size_t m = 0; m < mentions.size(); ++m) {
    if (pairing.amounts[m] == nullptr &&
        IsNotTaken(clause.text, mentions, m)) {
      continue;
    }
    parsed.doses.push_back(MakeDose(clause, mentions[m].compound, true,
                                    pairing.amounts[m], mentions[m].form));
  }
  for (const auto& [m, amount] : pairing.extra) {
    parsed.doses.push_back(
        MakeDose(clause, mentions[m].compound, true, amount, mentions[m].form));
  }
}

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
  ReadTextFacts(text, parsed);
  DropEquivalents(text);
  for (absl::string_view clause : SplitClauses(text)) {
    clause = absl::StripAsciiWhitespace(clause);
    if (!clause.empty()) ReadClause(clause, parsed);
  }
  return parsed;
}

void StackTextParser::ReadClause(absl::string_view text,
                                 ParsedStackText& parsed) const {
  const Facts facts = FactsIn(text);
  const std::vector<Timing> timings = TimingsIn(text, facts);
  const Clause clause = {
      text, timings.size() == 1 ? timings.front() : v1::TIMING_UNSPECIFIED};
  const std::vector<Amount> amounts = AmountsIn(text, facts[kWeekly]);
  const std::vector<absl::string_view> names = NamesIn(*name_pattern_, text);
  AddMedications(names_, names, parsed.medications);
  const std::vector<Mention> mentions =
      MentionsIn(names_, text, names, amounts);
  if (mentions.empty()) {
    AddUncoveredDose(clause, amounts, parsed);
  } else {
    AddPairedDoses(clause, mentions, amounts, parsed);
  }
}

}  // namespace citekb
