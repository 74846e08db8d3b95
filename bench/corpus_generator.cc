#include "bench/corpus_generator.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace citekb {
namespace {

// English function words, most frequent first: about 45% of running text.
constexpr const char* kFunctionWords[] = {
    "the",   "of",     "and",     "to",      "in",     "a",       "is",
    "that",  "for",    "it",      "as",      "with",   "by",      "on",
    "this",  "are",    "be",      "or",      "from",   "at",      "which",
    "an",    "not",    "can",     "your",    "these",  "its",     "more",
    "when",  "has",    "into",    "than",    "but",    "also",    "have",
    "they",  "most",   "only",    "while",   "both",   "through", "each",
    "after", "before", "without", "between", "during", "under",   "over",
    "per"};

// Content words of a health and performance site, roughly most frequent
// first. The seed article's own vocabulary is among them, as it would be on
// the site it came from.
constexpr char kContentWords[] =
    "system body health protocol level levels dose intake effect effects blood "
    "cells function study studies data risk support performance optimization "
    "production response process balance energy muscle brain heart bone sleep "
    "stress recovery training synthesis absorption activity signal signals "
    "receptor receptors protein proteins hormone hormones enzyme enzymes "
    "tissue "
    "tissues mechanism mechanisms pathway pathways state states structure "
    "structural metabolic metabolism inflammation inflammatory oxidative "
    "damage "
    "capacity output input marker markers range ranges baseline target targets "
    "daily morning evening night timing meal meals fat fats soluble water "
    "sodium potassium calcium magnesium zinc iron copper selenium iodine "
    "vitamin vitamins mineral minerals supplement supplements supplementation "
    "deficiency deficit excess toxicity safety safe standard maintenance "
    "high low increase increases increased decrease decreases reduced "
    "reduction reduces improve improves improved improvement enhance enhances "
    "enhanced maintain maintains maintaining regulate regulates regulated "
    "regulation control controls activate activates activation active inactive "
    "form forms cofactor precursor conversion converts converted transport "
    "transporter uptake release releases storage stores clearance excretion "
    "kidney kidneys liver gut intestinal intestine stomach arteries arterial "
    "vessel vessels vascular endothelial cardiovascular pressure flow "
    "circulation "
    "density mass strength power endurance hypertrophy fatigue adaptation "
    "adaptations load loads volume intensity frequency duration cycle cycles "
    "rhythm circadian light dark temperature cold heat sauna exposure "
    "glucose insulin sensitivity resistance lipid lipids cholesterol "
    "triglycerides ketone ketones fasting feeding window calories caloric "
    "carbohydrate carbohydrates protein-rich fiber microbiome bacteria strains "
    "probiotic prebiotic digestion digestive immune immunity infection "
    "antioxidant antioxidants mitochondria mitochondrial atp cellular cell "
    "membrane nucleus gene genes expression transcription dna repair aging "
    "longevity lifespan healthspan telomere telomeres senescence autophagy "
    "cognitive cognition memory focus attention mood anxiety depression calm "
    "neurotransmitter dopamine serotonin gaba acetylcholine cortisol "
    "testosterone estrogen thyroid growth melatonin adenosine caffeine "
    "nervous sympathetic parasympathetic hrv variability heart-rate vagal "
    "breathing oxygen co2 tolerance hydration electrolytes sweat plasma "
    "joint joints cartilage collagen tendon tendons ligament skin hair nails "
    "eye eyes retina vision macular lutein bones skeletal osteoporosis "
    "matrix mineralization calcification hardening stiffness elasticity "
    "plaque deposits soft routing paradox synergy axis stack stacking "
    "combination ratio ratios timing-sensitive bioavailability bioavailable "
    "absorption-rate half-life peak serum concentration concentrations "
    "test testing monitor monitoring lab labs panel biomarker biomarkers "
    "telemetry tracking wearable wearables digital twin dashboard trend "
    "trends baseline-shift precision personalized individual variation "
    "genetics genetic polymorphism responders nonresponders evidence "
    "trial trials randomized placebo controlled cohort observational "
    "meta-analysis review mechanism-based preliminary anecdotal clinical "
    "practitioners athletes powerlifters runners cyclists biohackers "
    "beginners experts coaches physicians researchers guidelines "
    "recommendation recommendations threshold thresholds upper limit "
    "interaction interactions medication medications contraindication warfarin "
    "anticoagulant pregnancy children elderly older adults women men "
    "configuration error failure bottleneck payload pipeline architecture "
    "framework operating maintenance upgrade calibration signal-to-noise "
    "compliance adherence consistency habit habits routine routines "
    "environment environmental toxins heavy metals mold air quality "
    "nutrition nutrient nutrients diet diets food foods whole processed "
    "vegetables fruit fruits leafy greens fermented natto cheese eggs "
    "fish salmon sardines liver organ meat nuts seeds legumes grains "
    "olive oil butter avocado coffee tea green matcha cocoa dark chocolate "
    "sugar sweeteners alcohol smoking sunlight sun uvb skin-synthesis latitude "
    "winter summer season seasonal weight body-fat composition waist "
    "metabolic-rate thermogenesis brown adipose visceral hepatic renal "
    "pulmonary respiratory lung lungs capacity vo2max zone aerobic anaerobic "
    "lactate threshold sprint interval intervals walking steps mobility "
    "flexibility posture spine back pain injury injuries prevention rehab "
    "physical therapy massage foam rolling stretching yoga meditation "
    "breathwork mindfulness journaling social connection purpose stress-load "
    "allostatic resilience hormesis challenge challenges dose-response curve "
    "protocol-design experiment n-of-1 self-tracking results outcome outcomes "
    "benefit benefits downside downsides cost costs quality brand brands "
    "capsule capsules powder tablet tablets liquid drops softgel dosing "
    "schedule split splitting loading phase cycling tolerance-building "
    "washout rebound withdrawal dependence addiction receptor-density "
    "upregulation downregulation sensitivity-shift signaling cascade "
    "kinase phosphorylation carboxylation hydroxylation methylation "
    "glycation acetylation oxidation reduction-potential redox "
    "homeostasis equilibrium set-point feedback loop loops negative positive "
    "acute chronic short-term long-term daily-dose weekly monthly annual";

// Syllables for the long tail of coined terms ("kalorinase", "vetrolide"):
// rare words such as compound, gene and brand names, which real corpora are
// full of and which grow the index's dictionary.
constexpr const char* kOnsets[] = {
    "b", "c", "d", "f",  "g",  "k",  "l",  "m",  "n",  "p",  "r",  "s",
    "t", "v", "z", "br", "cr", "dr", "gl", "pr", "st", "tr", "th", "ph"};
constexpr const char* kNuclei[] = {"a", "e", "i", "o", "u", "ae", "io", "ou"};
constexpr const char* kCodas[] = {"", "", "n", "r", "l", "s", "x", "m"};
constexpr const char* kSuffixes[] = {"ase", "ine", "ide", "ol",  "ate", "in",
                                     "one", "ium", "oid", "ene", "al",  "ic"};

constexpr const char* kCategories[] = {"supplements", "nutrition", "sleep",
                                       "training",    "longevity", "recovery",
                                       "metabolism",  "cognition"};

// Topics by popularity: the first ones get the most articles.
struct TopicSpec {
  const char* name;
  const char* terms;  // Space-separated, lower-case.
  const char* doses;  // '|'-separated.
};
constexpr TopicSpec kTopics[] = {
    {"Magnesium",
     "magnesium glycinate malate citrate threonate atp sleep cramps",
     "200 mg|400 mg|300–600 mg|150 mg"},
    {"Vitamin D3",
     "vitamin d3 cholecalciferol calcitriol sunlight receptor vdr calcium",
     "2,000 IU|5,000 IU|1,000–4,000 IU|10,000 IU"},
    {"Creatine",
     "creatine monohydrate phosphocreatine atp saturation strength brain",
     "3 g|5 g|3–5 g|20 g"},
    {"Sleep Architecture",
     "sleep rem deep slow-wave circadian melatonin adenosine",
     "0.5 mg|1 mg|3 mg"},
    {"Omega-3", "omega-3 epa dha fish oil triglyceride membrane inflammation",
     "1 g|2 g|1–3 g|500 mg"},
    {"Vitamin K2",
     "vitamin k2 menaquinone mk-7 mk-4 osteocalcin mgp carboxylation",
     "100 mcg|200 mcg|90–180 mcg|45 mcg"},
    {"Caffeine", "caffeine adenosine coffee alertness half-life tolerance",
     "100 mg|200 mg|3 mg/kg|400 mg"},
    {"Zone 2 Cardio",
     "zone aerobic mitochondria lactate vo2max endurance fat-oxidation",
     "45 min|60 min|3 sessions"},
    {"Zinc", "zinc picolinate copper immune testosterone absorption",
     "15 mg|30 mg|25 mg|50 mg"},
    {"Protein Intake", "protein leucine amino acids muscle synthesis whey",
     "1.6 g/kg|30 g|2.2 g/kg|40 g"},
    {"Intermittent Fasting",
     "fasting autophagy ketones insulin window refeeding",
     "16 hours|24 hours|12 hours"},
    {"Ashwagandha",
     "ashwagandha withanolides cortisol adaptogen stress thyroid",
     "300 mg|600 mg|250–500 mg"},
    {"Heart Rate Variability",
     "hrv vagal parasympathetic recovery readiness rmssd", "5 min|10 breaths"},
    {"Iron", "iron ferritin hemoglobin bisglycinate anemia oxygen",
     "18 mg|25 mg|65 mg"},
    {"Collagen", "collagen peptides glycine proline tendon skin cartilage",
     "10 g|15 g|5 g"},
    {"Electrolytes",
     "electrolytes sodium potassium hydration sweat plasma volume",
     "500 mg|1,000 mg|3 g"},
    {"Cold Exposure", "cold plunge brown adipose norepinephrine thermogenesis",
     "11 min|3 min|10 °C"},
    {"Blood Glucose", "glucose insulin cgm glycemic spikes variability",
     "70–90 mg/dL|100 mg/dL"},
    {"Vitamin B12",
     "b12 methylcobalamin cyanocobalamin methylation homocysteine",
     "500 mcg|1,000 mcg|2.4 mcg"},
    {"L-Theanine", "theanine alpha waves calm focus caffeine synergy",
     "100 mg|200 mg|400 mg"},
    {"NAD+", "nad nmn nicotinamide riboside sirtuins mitochondria aging",
     "250 mg|500 mg|1 g"},
    {"Curcumin", "curcumin turmeric piperine inflammation bioavailability",
     "500 mg|1 g|1,500 mg"},
    {"Gut Microbiome", "microbiome probiotic prebiotic fiber strains butyrate",
     "10 billion CFU|30 g"},
    {"Thyroid Function", "thyroid t3 t4 tsh iodine selenium metabolic-rate",
     "150 mcg|200 mcg|55 mcg"},
    {"Cholesterol", "cholesterol ldl hdl apob triglycerides statins",
     "2 g|10 mg|20 mg"},
    {"Testosterone", "testosterone lh shbg estradiol zinc sleep training",
     "5,000 IU|30 mg"},
    {"Melatonin", "melatonin pineal circadian jet lag darkness",
     "0.3 mg|0.5 mg|1 mg|3 mg"},
    {"Sauna", "sauna heat shock proteins cardiovascular sweat recovery",
     "20 min|80 °C|4 sessions"},
    {"Resistance Training",
     "hypertrophy progressive overload sets reps periodization",
     "3 sets|8–12 reps|10 sets"},
    {"Mobility", "mobility joints range motion stretching fascia",
     "10 min|2 sessions"},
    {"Vitamin C", "vitamin c ascorbic acid collagen immune antioxidant",
     "500 mg|1 g|2 g"},
    {"Berberine", "berberine ampk glucose insulin metformin",
     "500 mg|1,500 mg"},
    {"Glycine", "glycine sleep collagen glutathione temperature", "3 g|5 g"},
    {"Light Exposure", "light sunlight lux blue morning circadian scn",
     "10,000 lux|10 min|30 min"},
    {"Spermidine", "spermidine autophagy wheat germ longevity", "1 mg|6 mg"},
    {"Lion's Mane", "lion's mane ngf hericenones neurogenesis memory",
     "500 mg|1 g|3 g"},
    {"Selenium", "selenium selenomethionine glutathione thyroid brazil",
     "55 mcg|100 mcg|200 mcg"},
    {"Hydration", "water hydration osmolality thirst urine", "2 L|3 L|500 mL"},
    {"Bone Density", "bone density dexa osteoblast osteoclast calcium loading",
     "1,000 mg|1,200 mg"},
    {"Cognitive Performance", "focus memory nootropic attention working-memory",
     "100 mg|200 mg"},
};

constexpr const char* kFaqOpenings[] = {"What is the best time to take",
                                        "How much",
                                        "Is it safe to combine",
                                        "Why does",
                                        "Can I take",
                                        "How long does it take for",
                                        "What are the signs of low",
                                        "Should I cycle",
                                        "Does",
                                        "Who should avoid"};

constexpr const char* kLabelSurnames[] = {
    "Zhang", "Khandelwal", "Smith",     "Garcia",   "Muller", "Rossi", "Tanaka",
    "Kim",   "Nguyen",     "Johansson", "Kowalski", "Okafor", "Silva", "Cohen"};

constexpr const char* kDoiPrefixes[] = {
    "10.3390/nu",           "10.1016/j.bone", "10.3389/fendo", "10.1093/ajcn",
    "10.1371/journal.pone", "10.1007/s00198", "10.4103/jmh"};

// SplitMix64: turns (seed, index) into independent generator seeds.
uint64_t Mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

std::string Capitalize(std::string word) {
  if (!word.empty())
    word[0] = absl::ascii_toupper(static_cast<unsigned char>(word[0]));
  return word;
}

std::string TitleCase(absl::string_view words) {
  std::vector<std::string> out;
  for (absl::string_view w : absl::StrSplit(words, ' ', absl::SkipEmpty())) {
    out.push_back(Capitalize(std::string(w)));
  }
  return absl::StrJoin(out, " ");
}

// The table of contents anchor: the title's slug cut at 50 characters, as
// on the seed article ("...-of-the-d3-k2-a").
std::string Anchor(absl::string_view title) {
  std::string slug;
  for (char c : title) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c))) {
      slug.push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
    } else if (!slug.empty() && slug.back() != '-') {
      slug.push_back('-');
    }
  }
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  if (slug.size() > 50) slug.resize(50);
  return slug;
}

}  // namespace

CorpusGenerator::Zipf::Zipf(size_t n, double s, double q) {
  cumulative_.reserve(n);
  double total = 0;
  for (size_t r = 0; r < n; ++r) {
    total += 1.0 / std::pow(static_cast<double>(r + 1) + q, s);
    cumulative_.push_back(total);
  }
  for (double& c : cumulative_) c /= total;
}

size_t CorpusGenerator::Zipf::Sample(double u) const {
  const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
  return std::min<size_t>(static_cast<size_t>(it - cumulative_.begin()),
                          cumulative_.size() - 1);
}

// Writes one article; holds the article's own random stream.
class CorpusGenerator::Writer {
 public:
  Writer(const CorpusGenerator& g, int64_t index)
      : g_(g),
        index_(index),
        rng_(Mix(g.seed_ ^ Mix(static_cast<uint64_t>(index)))) {}

  std::string Write() {
    const Topic& topic = g_.topics_[g_.topic_zipf_.Sample(Uniform())];
    topic_ = &topic;
    const std::string category = kCategories[Below(std::size(kCategories))];
    const std::string title = Title(topic);
    const std::string description = absl::StrCat(Sentence(14, 22, false));

    std::vector<std::string> sections;
    absl::flat_hash_set<std::string> anchors = {"frequently-asked-questions"};
    const int body_sections = 4 + static_cast<int>(Below(4));
    while (static_cast<int>(sections.size()) < body_sections) {
      // Anchors are the section ids: unique within the article.
      std::string title = SectionTitle(static_cast<int>(sections.size()));
      if (anchors.insert(Anchor(title)).second)
        sections.push_back(std::move(title));
    }
    sections.push_back("Frequently Asked Questions");

    std::string out;
    absl::StrAppend(&out, category, "\n", title, "\n", description, "\n",
                    "> TL;DR: ", description, "\n", "In this article\n");
    for (const std::string& s : sections) {
      absl::StrAppend(&out, "- ", s, " (#", Anchor(s), ")\n");
    }
    absl::StrAppend(&out, "--- Category: ", category, "\n");
    for (int s = 0; s < body_sections; ++s) {
      absl::StrAppend(&out, sections[s], "\n");
      if (Chance(0.45)) absl::StrAppend(&out, title, " - Illustration\n");
      const int paragraphs = 2 + static_cast<int>(Below(3));
      for (int p = 0; p < paragraphs; ++p) {
        if (Chance(0.06)) absl::StrAppend(&out, "[anecdotal] ");
        absl::StrAppend(&out, Paragraph(), "\n");
      }
      if (Chance(0.6)) absl::StrAppend(&out, TableLine(), "\n");
    }
    absl::StrAppend(&out, sections.back(), "\n");
    const int faqs = 3 + static_cast<int>(Below(3));
    for (int q = 0; q < faqs; ++q) {
      absl::StrAppend(&out, FaqQuestion(), "\n");
      std::string answer = Paragraph(2, 4);
      // Now and then the export cut the last answer off, as on the seed.
      if (q == faqs - 1 && Chance(0.03)) answer.resize(answer.size() / 3);
      absl::StrAppend(&out, "A: ", answer, "\n");
    }
    return out;
  }

 private:
  double Uniform() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }
  // Uniform in [0, n); n > 0.
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(rng_()) * n) >>
                                 64);
  }
  bool Chance(double p) { return Uniform() < p; }
  template <typename T, size_t N>
  const T& Pick(const T (&items)[N]) {
    return items[Below(N)];
  }
  const std::string& Pick(const std::vector<std::string>& items) {
    return items[Below(items.size())];
  }

  std::string ContentWord() {
    const double u = Uniform();
    if (u < 0.15) return Pick(topic_->terms);
    if (u < 0.27) return g_.coined_[g_.coined_zipf_.Sample(Uniform())];
    return g_.vocabulary_[g_.vocabulary_zipf_.Sample(Uniform())];
  }

  std::string Word() {
    if (Chance(0.42)) {
      // Function words follow their own steep Zipf law.
      const double u = Uniform();
      return kFunctionWords[static_cast<size_t>(u * u *
                                                std::size(kFunctionWords))];
    }
    return ContentWord();
  }

  // A sentence of `min`..`max` words, sometimes with a dose, ending in '.'.
  std::string Sentence(int min, int max, bool with_links) {
    const int n =
        min + static_cast<int>(Below(static_cast<uint64_t>(max - min + 1)));
    std::vector<std::string> words;
    for (int i = 0; i < n; ++i) {
      words.push_back(Word());
      if (with_links && i > 2 && i + 1 < n && Chance(0.035)) {
        words.back() += InternalLink();
      }
    }
    if (Chance(0.18)) {
      words.insert(words.begin() + static_cast<long>(Below(words.size())),
                   Pick(topic_->doses));
    }
    words[0] = Capitalize(words[0]);
    std::string sentence = absl::StrJoin(words, " ");
    if (with_links && Chance(0.3)) {
      sentence += Citation();
      sentence += ".";
    } else {
      sentence += ".";
    }
    return sentence;
  }

  std::string Paragraph(int min_sentences = 2, int max_sentences = 5) {
    const int n = min_sentences + static_cast<int>(Below(static_cast<uint64_t>(
                                      max_sentences - min_sentences + 1)));
    std::vector<std::string> sentences;
    for (int i = 0; i < n; ++i) sentences.push_back(Sentence(7, 20, true));
    return absl::StrJoin(sentences, " ");
  }

  std::string Pmid() {
    if (Chance(0.12))
      return g_.popular_pmids_[g_.popular_pmid_zipf_.Sample(Uniform())];
    return absl::StrCat(10000000 + Below(30000000));
  }

  // " (url)" for an external source, sometimes after an author-year label.
  std::string Citation() {
    const double kind = Uniform();
    std::string url;
    if (kind < 0.7) {
      url = absl::StrCat("https://pubmed.ncbi.nlm.nih.gov/", Pmid(), "/");
    } else if (kind < 0.82) {
      url = absl::StrCat("https://www.ncbi.nlm.nih.gov/pmc/articles/PMC",
                         1000000 + Below(9000000), "/");
    } else {
      url = absl::StrCat("https://doi.org/", Pick(kDoiPrefixes), Below(100000),
                         ".", Below(1000));
    }
    if (Chance(0.15)) {
      return absl::StrCat(" ", Pick(kLabelSurnames), " ", 2015 + Below(11),
                          " (", url, ")");
    }
    return absl::StrCat(" (", url, ")");
  }

  std::string InternalLink() {
    const char* kind = Chance(0.15) ? "tools" : "research";
    return absl::StrCat(" (/en/", kind, "/", ContentWord(), "-", ContentWord(),
                        "-", ContentWord(), ")");
  }

  std::string Title(const Topic& topic) {
    // Unique per index: the index picks a hook from a large set.
    static constexpr const char* kShapes[] = {
        "%s Protocol: How to %s", "%s and %s: What the Evidence Says",
        "The %s Guide: %s", "%s Explained: %s", "Why %s Matters for %s"};
    const std::string a =
        TitleCase(absl::StrCat(ContentWord(), " ", ContentWord()));
    const std::string b = TitleCase(
        absl::StrCat(ContentWord(), " ", ContentWord(), " ", ContentWord()));
    std::string title;
    switch (Below(std::size(kShapes))) {
      case 0:
        title = absl::StrFormat(kShapes[0], topic.name, b);
        break;
      case 1:
        title = absl::StrFormat(kShapes[1], topic.name, a);
        break;
      case 2:
        title = absl::StrFormat(kShapes[2], topic.name, b);
        break;
      case 3:
        title = absl::StrFormat(kShapes[3], topic.name, b);
        break;
      default:
        title = absl::StrFormat(kShapes[4], topic.name, a);
        break;
    }
    // Word choices can repeat across 10,000 titles; the part number cannot.
    return absl::StrCat(title, " (Part ", index_ + 1, ")");
  }

  std::string SectionTitle(int s) {
    static constexpr const char* kLeads[] = {
        "Introduction to", "Mechanisms of", "Practical Protocol:",
        "Real-World",      "Dosing and",    "Safety and",
        "Timing of",       "The Science of"};
    std::string title = absl::StrCat(
        kLeads[(s + Below(3)) % std::size(kLeads)], " ",
        TitleCase(absl::StrCat(ContentWord(), " ", ContentWord())));
    if (Chance(0.5)) absl::StrAppend(&title, " and ", TitleCase(ContentWord()));
    return title;
  }

  std::string TableLine() {
    const int columns = 3 + static_cast<int>(Below(2));
    const int rows = 3 + static_cast<int>(Below(3));
    const bool anecdotal_column = Chance(0.25);
    std::vector<std::string> cells;
    for (int c = 0; c < columns; ++c) {
      std::string header =
          TitleCase(absl::StrCat(ContentWord(), " ", ContentWord()));
      if (anecdotal_column && c == columns - 1) header += " (Anecdotal)";
      cells.push_back(header);
    }
    std::string line = absl::StrCat("| ", absl::StrJoin(cells, " | "), " | ");
    for (int c = 0; c < columns; ++c) line += "|---";
    line += "| ";
    for (int r = 0; r < rows; ++r) {
      cells.clear();
      cells.push_back(
          TitleCase(absl::StrCat(ContentWord(), " ", ContentWord())));
      for (int c = 1; c < columns; ++c) {
        cells.push_back(Chance(0.4) ? Pick(topic_->doses)
                                    : absl::StrCat(Capitalize(ContentWord()),
                                                   " ", ContentWord()));
      }
      absl::StrAppend(&line, "| ", absl::StrJoin(cells, " | "), " | ");
    }
    line.pop_back();  // The trailing space after the last '|'.
    return line;
  }

  std::string FaqQuestion() {
    std::vector<std::string> words = {Pick(kFaqOpenings), topic_->name};
    const int extra = 2 + static_cast<int>(Below(5));
    for (int i = 0; i < extra; ++i) words.push_back(Word());
    return absl::StrCat(absl::StrJoin(words, " "), "?");
  }

  const CorpusGenerator& g_;
  const int64_t index_;
  std::mt19937_64 rng_;
  const Topic* topic_ = nullptr;
};

CorpusGenerator::CorpusGenerator(uint64_t seed)
    : seed_(seed),
      vocabulary_zipf_(1, 1.0),
      coined_zipf_(1, 1.0),
      topic_zipf_(std::size(kTopics), 0.9),
      popular_pmid_zipf_(1, 1.0) {
  std::mt19937_64 rng(Mix(seed));
  auto below = [&rng](uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(rng()) * n) >>
                                 64);
  };
  // Real words in the list's rough frequency order; then coined words, each
  // distinct from every other word.
  absl::flat_hash_set<std::string> seen;
  for (absl::string_view w :
       absl::StrSplit(kContentWords, ' ', absl::SkipWhitespace())) {
    if (seen.insert(std::string(w)).second) vocabulary_.emplace_back(w);
  }
  for (const char* w : kFunctionWords) seen.insert(w);
  constexpr size_t kCoinedWords = 25000;
  while (coined_.size() < kCoinedWords) {
    std::string word;
    const int syllables = 1 + static_cast<int>(below(3));
    for (int s = 0; s < syllables; ++s) {
      absl::StrAppend(&word, kOnsets[below(std::size(kOnsets))],
                      kNuclei[below(std::size(kNuclei))],
                      kCodas[below(std::size(kCodas))]);
    }
    absl::StrAppend(&word, kSuffixes[below(std::size(kSuffixes))]);
    if (seen.insert(word).second) coined_.push_back(std::move(word));
  }
  // Zipf-Mandelbrot for the real words: the commonest content word
  // ("system") is about 1% of running text, as on a real site, not 5%.
  vocabulary_zipf_ = Zipf(vocabulary_.size(), 1.0, 20);
  coined_zipf_ = Zipf(coined_.size(), 1.0, 100);

  for (const TopicSpec& spec : kTopics) {
    Topic topic;
    topic.name = spec.name;
    topic.terms = absl::StrSplit(spec.terms, ' ', absl::SkipEmpty());
    topic.doses = absl::StrSplit(spec.doses, '|', absl::SkipEmpty());
    topics_.push_back(std::move(topic));
  }

  constexpr size_t kPopularPmids = 20000;
  for (size_t i = 0; i < kPopularPmids; ++i) {
    popular_pmids_.push_back(absl::StrCat(10000000 + below(30000000)));
  }
  popular_pmid_zipf_ = Zipf(kPopularPmids, 0.8);
}

std::string CorpusGenerator::Article(int64_t index) const {
  return Writer(*this, index).Write();
}

std::string CorpusGenerator::FileName(int64_t index) {
  return absl::StrFormat("synthetic-%06d.txt", index);
}

}  // namespace citekb
