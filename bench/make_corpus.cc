// make_corpus: writes synthetic articles (corpus_generator.h) into a folder,
// for indexing benchmarks at scale.
//
//   make_corpus --out var/corpus-10k --articles 9999 --seed 1
//
// Files are named synthetic-000000.txt ...; existing ones are overwritten.
// The same --seed and index always give the same text. Uses two threads
// (the benchmark machine has two cores).

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench/corpus_generator.h"

ABSL_FLAG(std::string, out, "",
          "Folder to write the articles into (created if missing).");
ABSL_FLAG(int64_t, articles, 1000, "How many articles to write.");
ABSL_FLAG(uint64_t, seed, 1,
          "Random seed; the same seed gives the same corpus.");
ABSL_FLAG(int, threads, 2, "Writer threads.");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Writes synthetic citekb articles.\n"
      "Usage: make_corpus --out DIR --articles N [--seed S]");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  const std::string out = absl::GetFlag(FLAGS_out);
  const int64_t articles = absl::GetFlag(FLAGS_articles);
  const int threads = absl::GetFlag(FLAGS_threads);
  if (rest.size() > 1 || out.empty() || articles < 0 || threads < 1) {
    std::cerr << "make_corpus: usage: make_corpus --out DIR --articles N "
                 "[--seed S]\n";
    return 2;
  }
  std::error_code error;
  std::filesystem::create_directories(out, error);
  if (error) {
    std::cerr << "make_corpus: cannot create " << out << ": " << error.message()
              << "\n";
    return 1;
  }

  const absl::Time start = absl::Now();
  const citekb::CorpusGenerator generator(absl::GetFlag(FLAGS_seed));
  std::atomic<int64_t> next{0};
  std::atomic<int64_t> bytes{0};
  std::atomic<bool> failed{false};
  auto work = [&] {
    for (int64_t i = next++; i < articles && !failed; i = next++) {
      const std::string text = generator.Article(i);
      const std::string path =
          absl::StrCat(out, "/", citekb::CorpusGenerator::FileName(i));
      std::ofstream file(path, std::ios::binary | std::ios::trunc);
      file << text;
      if (!file.flush()) {
        std::cerr << "make_corpus: cannot write " << path << "\n";
        failed = true;
      }
      bytes += static_cast<int64_t>(text.size());
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(work);
  for (std::thread& t : pool) t.join();
  if (failed) return 1;
  absl::PrintF("wrote %d articles (%.1f MB) to %s in %.1f s\n", articles,
               bytes / 1e6, out, absl::ToDoubleSeconds(absl::Now() - start));
  return 0;
}
