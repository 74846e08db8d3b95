// Synthetic articles in the seed article's exact format, for benchmarks at
// scale: category and title lines, description, "> TL;DR:", the "In this
// article" table of contents with (#anchors), "--- Category:", sections with
// paragraphs, "... - Illustration" figure captions, one-line tables (some
// with an "(Anecdotal)" column), "[anecdotal]" paragraphs, and a "Frequently
// Asked Questions" section of "question?" / "A: answer" pairs. Paragraphs
// cite PubMed, PMC and DOI URLs (some with an author-year label) and link to
// /en/research/ and /en/tools/ pages, written as `text (url)`.
//
//   CorpusGenerator generator(/*seed=*/1);
//   std::string text = generator.Article(42);   // ~10 KB, indexes cleanly
//
// Realism, so that index size and query cost behave as on a real site:
// - Content words follow Zipf laws: 85% from ~1,000 real English and
//   health words, 15% from a long tail of 25,000 coined terms (compound,
//   gene and brand names stand-ins, which grow the index's dictionary as
//   real ones do); mixed with English function words at their usual share
//   of running text (about 40%).
// - Each article has a topic (vitamin D, magnesium, sleep, ...), chosen with
//   a Zipf law too, whose terms it uses much more often, as real articles
//   do. Vitamin D is among the most popular topics, so the evaluation
//   questions meet plenty of competing passages.
// - Sources: most are the article's own, some come from a shared pool of
//   popular studies cited across articles (the most cited gets about a
//   hundred citations at 10,000 articles).
// About 10 KB of text per article on average: 10,000 articles are ~100 MB.
//
// Reproducible: the text depends only on (seed, index), never on the order
// or the number of articles generated, the platform or the standard
// library (the generator does its own sampling over std::mt19937_64, whose
// output the C++ standard fixes). Titles are unique within a seed for the
// first 10 million indexes. Thread-safe: Article() is const.

#ifndef CITEKB_BENCH_CORPUS_GENERATOR_H_
#define CITEKB_BENCH_CORPUS_GENERATOR_H_

#include <cstdint>
#include <string>
#include <vector>

namespace citekb {

class CorpusGenerator {
 public:
  explicit CorpusGenerator(uint64_t seed);

  // The text of article `index` (>= 0), ending in a newline.
  std::string Article(int64_t index) const;

  // The file name to store it under: "synthetic-000042.txt".
  static std::string FileName(int64_t index);

  // A sampler over ranks 0..n-1 with P(rank r) proportional to
  // 1/(r+1+q)^s (Zipf-Mandelbrot; q = 0 is Zipf's law).
  class Zipf {
   public:
    Zipf(size_t n, double s, double q = 0);
    // `u` uniform in [0, 1).
    size_t Sample(double u) const;

   private:
    std::vector<double> cumulative_;
  };

  struct Topic {
    std::string name;                // "Vitamin D3"
    std::vector<std::string> terms;  // Words its articles use often.
    std::vector<std::string> doses;  // "5,000 IU", "100 mcg"
  };

 private:
  class Writer;

  uint64_t seed_;
  std::vector<std::string> vocabulary_;  // Real words, most frequent first.
  Zipf vocabulary_zipf_;
  std::vector<std::string> coined_;  // The long tail, most frequent first.
  Zipf coined_zipf_;
  std::vector<Topic> topics_;  // By popularity.
  Zipf topic_zipf_;
  std::vector<std::string> popular_pmids_;
  Zipf popular_pmid_zipf_;
};

}  // namespace citekb

#endif  // CITEKB_BENCH_CORPUS_GENERATOR_H_
