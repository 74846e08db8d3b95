#include "indexer/corpus_indexer.h"

#include <google/protobuf/text_format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "indexer/article_parser.h"
#include "indexer/index_schema.h"
#include "indexer/stack_knowledge.h"

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

// The safety references become an article; the stack rules, resolved
// against everything added so far, go into the index's meta table.
absl::Status AddStackKnowledge(const std::string& knowledge_dir, IndexWriter& writer) {
  const fs::path references_path = fs::path(knowledge_dir) / kSafetyReferencesFile;
  const fs::path rules_path = fs::path(knowledge_dir) / kStackRulesFile;
  std::error_code error;
  rulespb::SafetyReferences references;
  if (fs::exists(references_path, error)) {
    CITEKB_ASSIGN_OR_RETURN(references, LoadSafetyReferences(references_path.string()));
    CITEKB_ASSIGN_OR_RETURN(std::string text, ReadFile(references_path.string()));
    CITEKB_RETURN_IF_ERROR(writer.Add(
        SafetyReferencesArticle(references, references_path.string()),
        {kSafetyReferencesFile, Sha256Hex(text), static_cast<int64_t>(text.size())}));
  }
  if (!fs::exists(rules_path, error)) return absl::OkStatus();
  CITEKB_ASSIGN_OR_RETURN(rulespb::StackRules stack_rules,
                          LoadStackRules(rules_path.string()));
  absl::Status resolved = ResolveEvidence(references, writer, stack_rules);
  if (!resolved.ok()) {
    return absl::Status(resolved.code(),
                        absl::StrCat(rules_path.string(), ": ", resolved.message()));
  }
  std::string text;
  google::protobuf::TextFormat::PrintToString(stack_rules, &text);
  return writer.SetMeta(kStackRulesMetaKey, text);
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
    if (path.extension() == ".txt" && !path.filename().string().starts_with(".")) {
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
  for (const std::string& file : files) {
    CITEKB_ASSIGN_OR_RETURN(std::string text, ReadFile(file));
    // Stored relative to the knowledge folder so that checksums compare
    // across machines and checkouts.
    const std::string relative =
        fs::path(file).lexically_relative(options.knowledge_dir).string();
    CITEKB_ASSIGN_OR_RETURN(Article article, ParseArticle(text, file));
    CITEKB_RETURN_IF_ERROR(writer->Add(
        article, {relative, Sha256Hex(text), static_cast<int64_t>(text.size())}));
    summary.warnings.insert(summary.warnings.end(), article.warnings.begin(),
                            article.warnings.end());
    ++progress.files_done;
    progress.bytes_done += static_cast<int64_t>(text.size());
    if (options.on_progress) options.on_progress(progress);
  }
  CITEKB_RETURN_IF_ERROR(AddStackKnowledge(options.knowledge_dir, *writer));
  CITEKB_RETURN_IF_ERROR(writer->Commit());
  summary.counts = writer->counts();
  summary.milliseconds = absl::ToInt64Milliseconds(absl::Now() - start);
  return summary;
}

}  // namespace citekb
