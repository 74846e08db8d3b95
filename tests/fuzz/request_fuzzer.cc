// libFuzzer target: request parsing and validation, then the logic, for
// every KnowledgeBase RPC, on a small index built once at start-up from
// knowledge/.
//
// Input: one selector byte, then the request. The low bits of the selector
// pick the RPC. With the high bit clear the rest is the request's wire
// bytes, parsed as the server parses them (request_parser.h); with it set
// the rest is put as is into the request's main text field, so that the
// logic's own checks see bytes the parser would have refused (invalid
// UTF-8, any length). Any status is fine; a crash, leak, hang or sanitizer
// report is not, and neither is a response that cannot be serialized.

#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "citekb/v1/knowledge_base.pb.h"
#include "indexer/corpus_indexer.h"
#include "service/knowledge_base/knowledge_base.h"
#include "service/server/request_parser.h"

namespace {

namespace v1 = ::citekb::v1;

std::string* index_dir = nullptr;
const citekb::KnowledgeBase* kb = nullptr;

void RemoveIndexDir() {
  std::error_code ignored;
  if (index_dir != nullptr) std::filesystem::remove_all(*index_dir, ignored);
}

void Die(const std::string& message) {
  std::fprintf(stderr, "%s\n", message.c_str());
  std::abort();
}

template <typename Request, typename Response>
void Run(absl::StatusOr<Response> (citekb::KnowledgeBase::*method)(
             const Request&) const,
         absl::string_view payload, bool raw_text,
         std::string* (Request::*text_field)()) {
  Request request;
  if (raw_text) {
    (request.*text_field)()->assign(payload.data(), payload.size());
  } else if (!citekb::ParseRequest(payload, &request).ok()) {
    return;
  }
  absl::StatusOr<Response> response = (kb->*method)(request);
  if (response.ok()) {
    std::string bytes;
    if (!response->SerializeToString(&bytes))
      Die("response does not serialize");
  } else if (response.status().message().empty()) {
    Die("an error without a message");
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  char dir_template[] = "/tmp/citekb-request-fuzzer-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) Die("mkdtemp failed");
  index_dir = new std::string(dir_template);
  std::atexit(RemoveIndexDir);
  const std::string index_path = *index_dir + "/kb.sqlite";
  absl::StatusOr<citekb::IndexSummary> summary =
      citekb::BuildIndex({.knowledge_dir = CITEKB_SOURCE_DIR "/knowledge",
                          .out_path = index_path});
  if (!summary.ok()) Die(summary.status().ToString());
  absl::StatusOr<std::unique_ptr<citekb::KnowledgeBase>> opened =
      citekb::KnowledgeBase::Open(index_path);
  if (!opened.ok()) Die(opened.status().ToString());
  kb = opened->release();  // Lives as long as the process.
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  const bool raw_text = (selector & 0x80) != 0;
  const absl::string_view payload(reinterpret_cast<const char*>(data + 1),
                                  size - 1);
  using KB = citekb::KnowledgeBase;
  switch ((selector & 0x7F) % 9) {
    case 0:
      Run(&KB::Ask, payload, raw_text, &v1::AskRequest::mutable_question);
      break;
    case 1:
      Run(&KB::Search, payload, raw_text, &v1::SearchRequest::mutable_query);
      break;
    case 2:
      Run(&KB::ListSections, payload, raw_text,
          &v1::ListSectionsRequest::mutable_article_id);
      break;
    case 3:
      Run(&KB::GetSection, payload, raw_text,
          &v1::GetSectionRequest::mutable_id);
      break;
    case 4:
      Run(&KB::ListFaqs, payload, raw_text,
          &v1::ListFaqsRequest::mutable_article_id);
      break;
    case 5:
      Run(&KB::ListCitations, payload, raw_text,
          &v1::ListCitationsRequest::mutable_cited_text);
      break;
    case 6:
      Run(&KB::GetCitation, payload, raw_text,
          &v1::GetCitationRequest::mutable_id);
      break;
    case 7:
      Run(&KB::ListRelatedLinks, payload, raw_text,
          &v1::ListRelatedLinksRequest::mutable_article_id);
      break;
    case 8:
      Run(&KB::EvaluateStack, payload, raw_text,
          &v1::EvaluateStackRequest::mutable_text);
      break;
  }
  return 0;
}
