// citekb-index: builds the index file from a knowledge folder.
//
//   citekb-index --knowledge knowledge --out var/citekb.sqlite

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "indexer/corpus_indexer.h"

ABSL_FLAG(std::string, knowledge, "knowledge",
          "Folder of *.txt articles to index.");
ABSL_FLAG(std::string, out, "var/citekb.sqlite",
          "Index file to write; replaced atomically when the build succeeds.");
ABSL_FLAG(bool, progress, true,
          "Show progress on stderr while building (only on a terminal).");

namespace {

// --help and --helpshort list this file's flags, with their defaults.
// (Abseil's default looks for flags in a file named after the program,
// citekb-index.cc, and finds none.)
void SetUpUsage() {
  absl::SetProgramUsageMessage(
      "Builds a citekb index from a folder of articles.\n"
      "Usage: citekb-index --knowledge DIR --out FILE [--noprogress]");
  absl::FlagsUsageConfig config;
  config.contains_help_flags = [](absl::string_view path) {
    return absl::EndsWith(path, "indexer/main.cc");
  };
  config.contains_helpshort_flags = config.contains_help_flags;
  // "Flags from indexer/main.cc", wherever the source was built from.
  config.normalize_filename = [](absl::string_view path) {
    const size_t at = path.rfind("indexer/main.cc");
    return std::string(at == absl::string_view::npos ? path : path.substr(at));
  };
  absl::SetFlagsUsageConfig(config);
}

}  // namespace

int main(int argc, char** argv) {
  SetUpUsage();
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    std::cerr << "citekb-index: unexpected argument \"" << rest[1]
              << "\" (use --knowledge DIR --out FILE)\n";
    return 2;
  }

  citekb::BuildOptions options;
  options.knowledge_dir = absl::GetFlag(FLAGS_knowledge);
  options.out_path = absl::GetFlag(FLAGS_out);
  const bool show_progress =
      absl::GetFlag(FLAGS_progress) && isatty(STDERR_FILENO);
  if (show_progress) {
    // At most ten updates a second: a large corpus has thousands of
    // articles, and a terminal redrawn for each one slows the build.
    options.on_progress = [start = absl::Now(), last = absl::InfinitePast()](
                              const citekb::IndexProgress& p) mutable {
      const absl::Time now = absl::Now();
      if (now - last < absl::Milliseconds(100) && p.files_done < p.files_total)
        return;
      last = now;
      const double seconds = absl::ToDoubleSeconds(now - start);
      const double mb_per_s = seconds > 0 ? p.bytes_done / 1e6 / seconds : 0;
      const double left =
          mb_per_s > 0 ? (p.bytes_total - p.bytes_done) / 1e6 / mb_per_s : 0;
      absl::FPrintF(
          stderr,
          "\rindexing %d/%d articles, %.1f/%.1f MB (%.0f%%), %.1f MB/s, %s  ",
          p.files_done, p.files_total, p.bytes_done / 1e6, p.bytes_total / 1e6,
          p.bytes_total ? 100.0 * p.bytes_done / p.bytes_total : 100.0,
          mb_per_s,
          // The sources, the secondary indexes, the postings and the sync
          // to disk come last (IndexWriter::Commit).
          p.files_done == p.files_total ? "writing postings and syncing..."
                                        : absl::StrFormat("%.0f s left", left));
    };
  }

  absl::StatusOr<citekb::IndexSummary> summary = citekb::BuildIndex(options);
  if (show_progress) std::fputs("\n", stderr);
  if (!summary.ok()) {
    std::cerr << "citekb-index: " << summary.status().message() << "\n"
              << "citekb-index: no index written; " << options.out_path
              << " is unchanged\n";
    return 1;
  }
  const citekb::IndexCounts& c = summary->counts;
  absl::PrintF(
      "indexed %s\n"
      "  articles   %d\n  sections   %d\n  passages   %d\n  sentences  %d\n"
      "  tables     %d\n  figures    %d\n  faqs       %d\n"
      "  citations  %d (%d distinct sources)\n  related    %d internal links\n"
      "  warnings   %d\n  time       %d ms\n",
      options.out_path, c.articles, c.sections, c.passages, c.sentences,
      c.tables, c.figures, c.faqs, c.citations, c.sources, c.related_links,
      c.warnings, summary->milliseconds);
  for (const std::string& warning : summary->warnings) {
    absl::PrintF("warning: %s\n", warning);
  }
  return 0;
}
