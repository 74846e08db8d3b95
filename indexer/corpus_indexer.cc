#include "indexer/corpus_indexer.h"

#include <google/protobuf/text_format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "indexer/article/article_parser.h"
#include "indexer/base/status_macros.h"
#include "indexer/format/index_schema.h"
#include "indexer/knowledge/stack_knowledge.h"
#include "indexer/knowledge/vocabulary.h"

namespace citekb {
namespace fs = std::filesystem;

namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::PermissionDeniedError(absl::StrCat(path, ": cannot be read"));
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) {
    return absl::DataLossError(absl::StrCat(path, ": read failed"));
  }
  return std::move(contents).str();
}

// One article file, read, hashed and parsed: what IndexWriter::Add takes.
struct ParsedFile {
  Article article;
  SourceFileInfo file;
};

// Reads, hashes and parses `files` in order on a thread of its own, a few
// files ahead of the caller: the building thread is then left with the
// SQLite work, and on two cores the parsing (a fifth of a build's CPU time)
// costs no wall time. The first error ends the sequence, so the caller sees
// errors in file order, as if it had read the files itself.
class ArticleReader {
 public:
  // `files` must outlive the reader.
  ArticleReader(const std::vector<std::string>& files,
                std::string knowledge_dir)
      : files_(files), knowledge_dir_(std::move(knowledge_dir)) {
    thread_ = std::thread([this] { Run(); });
  }
  ~ArticleReader() {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    thread_.join();
  }

  ArticleReader(const ArticleReader&) = delete;
  ArticleReader& operator=(const ArticleReader&) = delete;

  // The next file, in order. Call at most once per file, and not again
  // after an error.
  absl::StatusOr<ParsedFile> Next() {
    mu_.LockWhen(absl::Condition(this, &ArticleReader::HasReady));
    absl::StatusOr<ParsedFile> next = std::move(ready_.front());
    ready_.pop_front();
    mu_.Unlock();
    return next;
  }

 private:
  // Enough to ride out one slow article; little memory (articles are KBs).
  static constexpr size_t kReadAhead = 16;

  static absl::StatusOr<ParsedFile> ReadAndParse(
      const std::string& file, const std::string& knowledge_dir) {
    CITEKB_ASSIGN_OR_RETURN(std::string text, ReadFile(file));
    CITEKB_ASSIGN_OR_RETURN(Article article, ParseArticle(text, file));
    // Stored relative to the knowledge folder so that checksums compare
    // across machines and checkouts.
    return ParsedFile{
        std::move(article),
        {fs::path(file).lexically_relative(knowledge_dir).string(),
         Sha256Hex(text), static_cast<int64_t>(text.size())}};
  }

  void Run() {
    for (const std::string& file : files_) {
      absl::StatusOr<ParsedFile> parsed = ReadAndParse(file, knowledge_dir_);
      const bool failed = !parsed.ok();
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &ArticleReader::HasRoomOrStopped));
      if (stop_) return;
      ready_.push_back(std::move(parsed));
      if (failed) return;
    }
  }

  bool HasReady() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !ready_.empty();
  }
  bool HasRoomOrStopped() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stop_ || ready_.size() < kReadAhead;
  }

  const std::vector<std::string>& files_;
  const std::string knowledge_dir_;
  absl::Mutex mu_;
  std::deque<absl::StatusOr<ParsedFile>> ready_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // Last: starts once everything above is built.
};

// The safety references become an article; the stack rules, resolved
// against everything added so far, go into the index's meta table (and to
// `*stack_rules`, when the folder has them).
absl::Status AddStackKnowledge(const std::string& knowledge_dir,
                               IndexWriter& writer,
                               rulespb::StackRules* stack_rules_out) {
  const fs::path references_path =
      fs::path(knowledge_dir) / kSafetyReferencesFile;
  const fs::path rules_path = fs::path(knowledge_dir) / kStackRulesFile;
  std::error_code error;
  rulespb::SafetyReferences references;
  if (fs::exists(references_path, error)) {
    CITEKB_ASSIGN_OR_RETURN(references,
                            LoadSafetyReferences(references_path.string()));
    CITEKB_ASSIGN_OR_RETURN(std::string text,
                            ReadFile(references_path.string()));
    CITEKB_RETURN_IF_ERROR(writer.Add(
        SafetyReferencesArticle(references, references_path.string()),
        {kSafetyReferencesFile, Sha256Hex(text),
         static_cast<int64_t>(text.size())}));
  }
  if (!fs::exists(rules_path, error)) return absl::OkStatus();
  CITEKB_ASSIGN_OR_RETURN(rulespb::StackRules stack_rules,
                          LoadStackRules(rules_path.string()));
  absl::Status resolved = ResolveEvidence(references, writer, stack_rules);
  if (!resolved.ok()) {
    return absl::Status(resolved.code(), absl::StrCat(rules_path.string(), ": ",
                                                      resolved.message()));
  }
  std::string text;
  google::protobuf::TextFormat::PrintToString(stack_rules, &text);
  *stack_rules_out = std::move(stack_rules);
  return writer.SetMeta(kStackRulesMetaKey, text);
}

// The vocabulary, with the stack compounds' names, goes into the index's
// meta table when the folder has one.
absl::Status AddVocabulary(const std::string& knowledge_dir,
                           const rulespb::StackRules& stack_rules,
                           IndexWriter& writer) {
  const fs::path path = fs::path(knowledge_dir) / kVocabularyFile;
  std::error_code error;
  if (!fs::exists(path, error)) return absl::OkStatus();
  CITEKB_ASSIGN_OR_RETURN(knowledgepb::Vocabulary vocabulary,
                          LoadVocabulary(path.string()));
  absl::Status named = AddStackCompoundNames(stack_rules, vocabulary);
  if (!named.ok()) {
    return absl::Status(named.code(),
                        absl::StrCat(path.string(), ": ", named.message()));
  }
  std::string text;
  google::protobuf::TextFormat::PrintToString(vocabulary, &text);
  return writer.SetMeta(kVocabularyMetaKey, text);
}

}  // namespace

std::string Sha256Hex(absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), length));
}

absl::StatusOr<std::vector<std::string>> ListArticleFiles(
    const std::string& knowledge_dir) {
  std::error_code error;
  if (!fs::is_directory(knowledge_dir, error)) {
    return absl::NotFoundError(absl::StrCat(
        knowledge_dir, ": knowledge folder does not exist or is not a folder"));
  }
  std::vector<std::string> files;
  for (const fs::directory_entry& entry :
       fs::directory_iterator(knowledge_dir, error)) {
    const fs::path& path = entry.path();
    // Not-quite files (broken links, folders named *.txt) are listed too,
    // so that reading them fails loudly instead of silently shrinking the
    // corpus.
    if (path.extension() == ".txt" &&
        !path.filename().string().starts_with(".")) {
      files.push_back(path.string());
    }
  }
  if (error) {
    return absl::PermissionDeniedError(
        absl::StrCat(knowledge_dir, ": cannot list: ", error.message()));
  }
  if (files.empty()) {
    return absl::NotFoundError(absl::StrCat(
        knowledge_dir, ": no articles (*.txt files) in the knowledge folder"));
  }
  std::sort(files.begin(), files.end());
  return files;
}

absl::StatusOr<IndexSummary> BuildIndex(const BuildOptions& options) {
  const absl::Time start = absl::Now();
  CITEKB_ASSIGN_OR_RETURN(std::vector<std::string> files,
                          ListArticleFiles(options.knowledge_dir));
  IndexProgress progress;
  progress.files_total = static_cast<int64_t>(files.size());
  for (const std::string& file : files) {
    std::error_code error;
    progress.bytes_total += static_cast<int64_t>(fs::file_size(file, error));
  }

  CITEKB_ASSIGN_OR_RETURN(std::unique_ptr<IndexWriter> writer,
                          IndexWriter::Create(options.out_path));
  IndexSummary summary;
  {
    ArticleReader reader(files, options.knowledge_dir);
    for (size_t i = 0; i < files.size(); ++i) {
      CITEKB_ASSIGN_OR_RETURN(ParsedFile parsed, reader.Next());
      const std::vector<std::string>& warnings = parsed.article.warnings;
      summary.warnings.insert(summary.warnings.end(), warnings.begin(),
                              warnings.end());
      CITEKB_RETURN_IF_ERROR(
          writer->Add(std::move(parsed.article), parsed.file));
      ++progress.files_done;
      progress.bytes_done += parsed.file.bytes;
      if (options.on_progress) options.on_progress(progress);
    }
  }
  rulespb::StackRules stack_rules;
  CITEKB_RETURN_IF_ERROR(
      AddStackKnowledge(options.knowledge_dir, *writer, &stack_rules));
  CITEKB_RETURN_IF_ERROR(
      AddVocabulary(options.knowledge_dir, stack_rules, *writer));
  CITEKB_RETURN_IF_ERROR(writer->Commit());
  summary.counts = writer->counts();
  summary.milliseconds = absl::ToInt64Milliseconds(absl::Now() - start);
  return summary;
}

}  // namespace citekb
