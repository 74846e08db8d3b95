#include "service/search/query_analyzer.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "indexer/format/compound_terms.h"

namespace citekb {
namespace {

bool IsStopWord(absl::string_view word) {
  static const auto* const kStopWords = new absl::flat_hash_set<std::string>{
      "a",         "about",       "above",     "after",    "again",
      "all",       "also",        "am",        "an",       "and",
      "any",       "are",         "as",        "at",       "be",
      "because",   "been",        "before",    "being",    "between",
      "both",      "but",         "by",        "can",      "could",
      "did",       "do",          "does",      "doing",    "during",
      "each",      "for",         "from",      "further",  "get",
      "had",       "has",         "have",      "having",   "he",
      "her",       "here",        "him",       "his",      "how",
      "i",         "if",          "in",        "into",     "is",
      "it",        "its",         "itself",    "just",     "me",
      "more",      "most",        "my",        "myself",   "no",
      "nor",       "not",         "of",        "off",      "on",
      "once",      "only",        "or",        "other",    "our",
      "out",       "over",        "own",       "same",     "she",
      "should",    "so",          "some",      "such",     "than",
      "that",      "the",         "their",     "them",     "then",
      "there",     "these",       "they",      "this",     "those",
      "through",   "to",          "too",       "under",    "until",
      "up",        "very",        "was",       "we",       "were",
      "what",      "where",       "which",     "while",    "who",
      "whom",      "why",         "will",      "with",     "would",
      "you",       "your",        "yours",     "tell",     "explain",
      "please",    "need",        "know",      "much",     "many",
      "really",    "ok",          "okay",      "thanks",   "hi",
      "hello",     "s",           "t",         "don",      "doesn",
      "isn",       "aren",        "vs",        "versus",   "like",
      "use",       "using",       "used",      "thing",    "things",
      "way",       "ways",        "say",       "says",     "said",
      "exactly",   "actually",    "something", "anything", "article",
      "good",      "bad",         "best",      "help",     "helps",
      "work",      "works",       "daily",     "day",      "days",
      "per",       "enough",      "happen",    "happens",  "happening",
      "end",       "ends",        "role",      "play",     "plays",
      "right",     "mean",        "means",     "meaning",  "often",
      "get",       "got",         "getting",   "low",      "want",
      "wants",     "go",          "goes",      "make",     "makes",
      "anyone",    "someone",     "people",    "person",   "everyone",
      "recommend", "recommended", "ideal",     "correct",  "supposed",
      "matter",    "matters",     "important", "whether",  "instead",
      "still",     "even",        "ever",      "am",       "im",
      "ive",       "d",           "think"};
  return kStopWords->contains(word);
}

// Alternatives for words that readers of this knowledge base use
// interchangeably. Keys are the words as typed (lower-case, compounds
// joined); the key itself is always the first alternative.
const absl::flat_hash_map<std::string, std::vector<std::string>>& Synonyms() {
  static const auto* const kSynonyms =
      new absl::flat_hash_map<std::string, std::vector<std::string>>{
          {"d3", {"d3", "cholecalciferol", "vitamin d"}},
          {"cholecalciferol", {"cholecalciferol", "d3"}},
          {"k2", {"k2", "menaquinone", "mk7"}},
          {"menaquinone", {"menaquinone", "k2", "mk7"}},
          {"mk7", {"mk7", "k2", "menaquinone"}},
          {"mk4", {"mk4", "k2"}},
          {"retinol", {"retinol", "vitamin a"}},
          {"dose", {"dose", "dosage", "mcg", "iu"}},
          {"doses", {"doses", "dosage", "mcg", "iu"}},
          {"dosage", {"dosage", "dose"}},
          {"dosing", {"dosing", "dosage"}},
          {"amount", {"amount", "dosage"}},
          {"mg", {"mg", "magnesium"}},
          {"25ohd", {"25ohd", "blood levels", "ng"}},
          {"serum", {"serum", "blood levels"}},
          {"level", {"level", "blood levels", "range"}},
          {"levels", {"levels", "blood levels", "range"}},
          {"test", {"test", "monitor"}},
          {"testing", {"testing", "monitor"}},
          {"retest", {"retest", "monitor"}},
          {"bedtime", {"bedtime", "night", "melatonin"}},
          {"evening", {"evening", "night", "melatonin"}},
          {"bed", {"bed", "night", "sleep"}},
          {"when", {"timing", "morning"}},
          {"time", {"time", "timing", "morning"}},
          {"food", {"food", "meal", "stomach"}},
          {"eat", {"eat", "meal", "stomach"}},
          {"meal", {"meal", "stomach"}},
          {"fat", {"fat", "soluble"}},
          {"heart", {"heart", "cardiovascular"}},
          {"bones", {"bones", "bone"}},
          {"arteries", {"arteries", "arterial", "vascular"}},
          {"blood", {"blood", "vascular"}},
          {"calcification", {"calcification", "calcifying", "hardening"}},
          {"hardening", {"hardening", "calcification"}},
          {"absorb", {"absorb", "absorption"}},
          {"absorption", {"absorption", "absorb"}},
          {"ratio", {"ratio", "every"}},
      };
  return *kSynonyms;
}

// Lower-case words of `text` (letters, digits, and any non-ASCII byte so
// that UTF-8 words stay whole).
std::vector<std::string> Words(absl::string_view text) {
  std::vector<std::string> words;
  std::string word;
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (absl::ascii_isalnum(u) || u >= 0x80) {
      word.push_back(absl::ascii_tolower(u));
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

std::string JoinAlternatives(const std::vector<std::string>& parts,
                             absl::string_view separator) {
  return absl::StrJoin(parts, separator);
}

}  // namespace

std::string QuoteFts(absl::string_view text) {
  // FTS5 reads the expression as a C string: a NUL would end it inside the
  // quotes ("unterminated string"). A space separates words just the same.
  return absl::StrCat(
      "\"",
      absl::StrReplaceAll(text,
                          {{"\"", "\"\""}, {absl::string_view("\0", 1), " "}}),
      "\"");
}

std::string TermGroup::Match() const {
  std::vector<std::string> quoted;
  for (const std::string& alternative : alternatives) {
    quoted.push_back(QuoteFts(alternative));
  }
  if (quoted.size() == 1) return quoted[0];
  return absl::StrCat("(", JoinAlternatives(quoted, " OR "), ")");
}

std::string AnalyzedQuery::MatchAll() const {
  std::vector<std::string> parts;
  for (const TermGroup& group : groups) parts.push_back(group.Match());
  return JoinAlternatives(parts, " AND ");
}

std::vector<std::string> AnalyzedQuery::Phrases() const {
  std::vector<std::string> phrases;
  for (const TermGroup& group : groups) {
    phrases.insert(phrases.end(), group.alternatives.begin(),
                   group.alternatives.end());
  }
  return phrases;
}

std::vector<std::vector<std::string>> AnalyzedQuery::GroupAlternatives() const {
  std::vector<std::vector<std::string>> alternatives;
  for (const TermGroup& group : groups) {
    alternatives.push_back(group.alternatives);
  }
  return alternatives;
}

std::vector<int> AnalyzedQuery::PhraseGroups() const {
  std::vector<int> phrase_groups;
  for (size_t g = 0; g < groups.size(); ++g) {
    phrase_groups.insert(phrase_groups.end(), groups[g].alternatives.size(),
                         static_cast<int>(g));
  }
  return phrase_groups;
}

AnalyzedQuery AnalyzeQuery(absl::string_view text) {
  const std::vector<std::string> words = Words(JoinCompounds(text));
  AnalyzedQuery query;
  absl::flat_hash_set<std::string> seen;
  for (size_t i = 0; i < words.size(); ++i) {
    std::string word = words[i];
    // "vitamin D", "vitamin K", "vitamin A": the letter is the content.
    if ((word == "vitamin" || word == "vit") && i + 1 < words.size() &&
        words[i + 1].size() <= 2 &&
        (words[i + 1] == "d" || words[i + 1] == "k" || words[i + 1] == "a" ||
         words[i + 1] == "d3" || words[i + 1] == "k2" ||
         words[i + 1] == "k1")) {
      const std::string& letter = words[++i];
      word = letter == "d"   ? "d3"
             : letter == "k" ? "k2"
             : letter == "a" ? "retinol"
                             : letter;
    }
    if (word.size() > 40 || IsStopWord(word) || !seen.insert(word).second)
      continue;
    if (word.size() == 1 && !absl::ascii_isdigit(word[0])) continue;
    TermGroup group;
    group.word = word;
    auto synonyms = Synonyms().find(word);
    if (synonyms != Synonyms().end()) {
      group.alternatives = synonyms->second;
    } else {
      group.alternatives = {word};
    }
    query.groups.push_back(std::move(group));
    if (static_cast<int>(query.groups.size()) == kMaxQueryTerms) break;
  }
  return query;
}

}  // namespace citekb
