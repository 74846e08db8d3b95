#include "indexer/format/fts_tokenizer.h"

#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "indexer/base/status_macros.h"

namespace citekb {
namespace {

// FTS5 truncates longer terms to this many bytes, both when it indexes and
// when it parses a query (FTS5_MAX_TOKEN_SIZE in fts5Int.h); so do we.
constexpr int kMaxTermBytes = 32768;

int FlagsFor(FtsTokenizer::Purpose purpose) {
  switch (purpose) {
    case FtsTokenizer::Purpose::kQuery:
      return FTS5_TOKENIZE_QUERY;
    case FtsTokenizer::Purpose::kAux:
      return FTS5_TOKENIZE_AUX;
    case FtsTokenizer::Purpose::kDocument:
      break;
  }
  return FTS5_TOKENIZE_DOCUMENT;
}

int OnToken(void* context, int flags, const char* token, int bytes, int start,
            int end) {
  auto& on_token =
      *static_cast<absl::FunctionRef<void(const FtsTokenizer::Token&)>*>(
          context);
  on_token({.term = absl::string_view(
                token, static_cast<size_t>(std::min(bytes, kMaxTermBytes))),
            .start = start,
            .end = end,
            .colocated = (flags & FTS5_TOKEN_COLOCATED) != 0});
  return SQLITE_OK;
}

}  // namespace

absl::StatusOr<std::unique_ptr<FtsTokenizer>> FtsTokenizer::Create(
    absl::string_view spec) {
  std::vector<std::string> words =
      absl::StrSplit(spec, ' ', absl::SkipWhitespace());
  if (words.empty()) {
    return absl::InvalidArgumentError("tokenizer: the spec is empty");
  }
  // The module lives in a connection's FTS5 registry; an in-memory
  // connection of our own keeps it for the tokenizer's lifetime.
  CITEKB_ASSIGN_OR_RETURN(
      Database db,
      OpenDatabase(":memory:", SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX));
  fts5_api* api = nullptr;
  {
    CITEKB_ASSIGN_OR_RETURN(Statement query,
                            Statement::Prepare(db.get(), "SELECT fts5(?1)"));
    sqlite3_bind_pointer(query.get(), 1, &api, "fts5_api_ptr", nullptr);
    CITEKB_RETURN_IF_ERROR(query.Step().status());
  }
  if (api == nullptr) return absl::InternalError("SQLite has no FTS5");
  fts5_tokenizer module{};
  void* module_context = nullptr;
  if (api->xFindTokenizer(api, words[0].c_str(), &module_context, &module) !=
      SQLITE_OK) {
    return absl::InvalidArgumentError(
        absl::StrCat("tokenizer: FTS5 has no tokenizer \"", words[0], "\""));
  }
  std::vector<std::string> arguments(words.begin() + 1, words.end());
  auto tokenizer = std::unique_ptr<FtsTokenizer>(new FtsTokenizer(
      std::move(db), module, module_context, std::move(arguments)));
  // Arguments are checked when an instance is made: make one now, so that a
  // bad spec fails here and not on the first text.
  CITEKB_ASSIGN_OR_RETURN(Instance first, tokenizer->NewInstance());
  tokenizer->ReturnInstance(std::move(first));
  return tokenizer;
}

FtsTokenizer::~FtsTokenizer() {
  absl::MutexLock lock(&mu_);
  idle_.clear();  // Before db_, which owns the module.
}

absl::StatusOr<FtsTokenizer::Instance> FtsTokenizer::NewInstance() const {
  std::vector<const char*> argv;
  for (const std::string& argument : arguments_)
    argv.push_back(argument.c_str());
  ::Fts5Tokenizer* instance = nullptr;
  if (module_.xCreate(module_context_, argv.data(),
                      static_cast<int>(argv.size()), &instance) != SQLITE_OK ||
      instance == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("tokenizer: FTS5 refuses the arguments \"",
                     absl::StrJoin(arguments_, " "), "\""));
  }
  return Instance(instance, InstanceDeleter{module_.xDelete});
}

absl::StatusOr<FtsTokenizer::Instance> FtsTokenizer::TakeInstance() const {
  {
    absl::MutexLock lock(&mu_);
    if (!idle_.empty()) {
      Instance instance = std::move(idle_.back());
      idle_.pop_back();
      return instance;
    }
  }
  return NewInstance();
}

void FtsTokenizer::ReturnInstance(Instance instance) const {
  absl::MutexLock lock(&mu_);
  idle_.push_back(std::move(instance));
}

absl::Status FtsTokenizer::Tokenize(
    absl::string_view text, Purpose purpose,
    absl::FunctionRef<void(const Token&)> on_token) const {
  if (text.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return absl::InvalidArgumentError("tokenizer: the text is over 2 GB");
  }
  CITEKB_ASSIGN_OR_RETURN(Instance instance, TakeInstance());
  const int rc =
      module_.xTokenize(instance.get(), &on_token, FlagsFor(purpose),
                        text.data(), static_cast<int>(text.size()), OnToken);
  ReturnInstance(std::move(instance));
  if (rc != SQLITE_OK) {
    return absl::ResourceExhaustedError(
        absl::StrCat("tokenizer: ", sqlite3_errstr(rc)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> FtsTokenizer::Terms(
    absl::string_view text) const {
  std::vector<std::string> terms;
  CITEKB_RETURN_IF_ERROR(
      Tokenize(text, Purpose::kQuery, [&terms](const Token& token) {
        if (!token.colocated) terms.emplace_back(token.term);
      }));
  return terms;
}

}  // namespace citekb
