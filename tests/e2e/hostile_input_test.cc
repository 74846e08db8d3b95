// Hostile and malformed requests against a real server on a free port.
//
// Every case is one request to one RPC, sent as raw bytes through
// grpc::GenericStub: most are ordinary messages written in text format, the
// rest are bytes no typed stub would send (strings that are not UTF-8,
// broken wire format, oversized messages). Each must get the expected status
// code and a message that says what is wrong, and after each one the server
// must still report SERVING and answer a normal question. The same requests
// then arrive all at once from several threads.
//
// The stack evaluator's rules are tested in stack_evaluator_test.cc; here
// EvaluateStack only gets its hostile numbers, units, enums and text.

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/status.h>

#include <chrono>
#include <cstdint>
#include <future>
#include <iostream>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "citekb/v1/knowledge_base.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/unknown_field_set.h"
#include "gtest/gtest.h"
#include "indexer/corpus_indexer.h"
#include "service/server/server.h"
#include "tests/support/test_support.h"

namespace citekb {
namespace {

using ::testing::HasSubstr;
using Code = grpc::StatusCode;

constexpr auto kWait = std::chrono::seconds(10);
constexpr char kService[] = "citekb.v1.KnowledgeBase";
// The server's message size limit here; the oversized cases send more.
constexpr int kMaxRequestBytes = 64 * 1024;

// ---------------------------------------------------------------------------
// Protobuf wire format by hand, for bytes no typed stub would send.
// ---------------------------------------------------------------------------

std::string Varint(uint64_t n) {
  std::string out;
  for (; n >= 0x80; n >>= 7)
    out.push_back(static_cast<char>((n & 0x7F) | 0x80));
  out.push_back(static_cast<char>(n));
  return out;
}

std::string VarintField(int number, uint64_t value) {
  return Varint(static_cast<uint64_t>(number) << 3) + Varint(value);
}

std::string BytesField(int number, const std::string& value) {
  return Varint((static_cast<uint64_t>(number) << 3) | 2) +
         Varint(value.size()) + value;
}

// ---------------------------------------------------------------------------
// Calls through the generic stub.
// ---------------------------------------------------------------------------

struct Reply {
  grpc::Status status;
  std::string bytes;
};

Reply Call(const std::shared_ptr<grpc::Channel>& channel,
           const std::string& method, const std::string& request) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kWait);
  grpc::Slice slice(request);
  const grpc::ByteBuffer buffer(&slice, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &buffer, &response,
                 [&done](grpc::Status status) { done.set_value(status); });
  std::future<grpc::Status> status = done.get_future();
  // The deadline ends the call; the margin only guards the test.
  if (status.wait_for(kWait + std::chrono::seconds(5)) !=
      std::future_status::ready) {
    context.TryCancel();
    return {grpc::Status(Code::DEADLINE_EXCEEDED, "the call never finished"),
            ""};
  }
  Reply reply{status.get(), ""};
  std::vector<grpc::Slice> slices;
  if (reply.status.ok() && response.Dump(&slices).ok()) {
    for (const grpc::Slice& s : slices) {
      reply.bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
  }
  return reply;
}

// grpc.health.v1.Health/Check for the whole server; true when SERVING.
bool IsServing(const std::shared_ptr<grpc::Channel>& channel) {
  const Reply reply = Call(channel, "/grpc.health.v1.Health/Check", "");
  google::protobuf::UnknownFieldSet fields;
  if (!reply.status.ok() || !fields.ParseFromString(reply.bytes)) return false;
  for (int i = 0; i < fields.field_count(); ++i) {
    if (fields.field(i).number() == 1 && fields.field(i).varint() == 1)
      return true;
  }
  return false;
}

// A normal question still gets a cited answer.
bool AnswersNormally(const std::shared_ptr<grpc::Channel>& channel) {
  v1::AskRequest request;
  request.set_question("why K2 with D3?");
  const Reply reply = Call(channel, absl::StrCat("/", kService, "/Ask"),
                           request.SerializeAsString());
  v1::AskResponse response;
  return reply.status.ok() && response.ParseFromString(reply.bytes) &&
         response.answered() && response.citations_size() > 0;
}

// ---------------------------------------------------------------------------
// The cases.
// ---------------------------------------------------------------------------

struct HostileCase {
  std::string rpc;          // Method name in citekb.v1.KnowledgeBase.
  std::string description;  // For failure messages.
  std::string request;      // Bytes on the wire.
  Code code;
  std::string message;  // Substring of the status message; "" for OK.
};

// A request written in text format for `rpc`'s request type; dies on a typo
// in the table.
std::string Text(const std::string& rpc, const std::string& text) {
  const google::protobuf::MethodDescriptor* method =
      v1::AskRequest::descriptor()
          ->file()
          ->FindServiceByName("KnowledgeBase")
          ->FindMethodByName(rpc);
  if (method == nullptr) {
    ADD_FAILURE() << "no RPC " << rpc;
    return "";
  }
  std::unique_ptr<google::protobuf::Message> message(
      google::protobuf::MessageFactory::generated_factory()
          ->GetPrototype(method->input_type())
          ->New());
  if (!google::protobuf::TextFormat::ParseFromString(text, message.get())) {
    ADD_FAILURE() << "bad text-format request for " << rpc << ": " << text;
  }
  return message->SerializeAsString();
}

HostileCase T(std::string rpc, std::string text, Code code,
              std::string message) {
  std::string request = Text(rpc, text);
  std::string description =
      text.size() > 80 ? text.substr(0, 77) + "..." : text;
  return {std::move(rpc), std::move(description), std::move(request), code,
          std::move(message)};
}

HostileCase Raw(std::string rpc, std::string description, std::string bytes,
                Code code, std::string message) {
  return {std::move(rpc), std::move(description), std::move(bytes), code,
          std::move(message)};
}

// Text-format string literal: escapes quotes and backslashes only.
std::string Quoted(const std::string& text) {
  return absl::StrCat(
      "'", absl::StrReplaceAll(text, {{"\\", "\\\\"}, {"'", "\\'"}}), "'");
}

// Page tokens a client could forge from a real one: the same (decoded)
// token with another offset.
struct Tokens {
  std::string search;     // From Search "calcium", page_size 1.
  std::string citations;  // From ListCitations, page_size 1.
};

std::string WithOffset(const std::string& token, const std::string& offset) {
  std::string decoded;
  if (!absl::WebSafeBase64Unescape(token, &decoded)) return "undecodable";
  std::vector<std::string> parts = absl::StrSplit(decoded, ':');
  if (parts.size() != 3) return "unexpected-token-format";
  parts[1] = offset;
  return absl::WebSafeBase64Escape(absl::StrJoin(parts, ":"));
}

std::vector<HostileCase> Cases(const Tokens& tokens) {
  const std::string kBadUtf8[] = {
      "why \xFF K2?",          // a byte that never occurs in UTF-8
      "why \xC0\xAF K2?",      // an overlong '/'
      "why \xED\xA0\x80 K2?",  // a UTF-16 surrogate
      "why K2 \xE2\x82",       // cut off mid-character
  };
  const std::string huge(kMaxRequestBytes + 1000, 'k');
  const std::string big_question(60000, 'q');  // Fits the message limit.
  const std::string many_words = [] {
    std::string words;
    for (int i = 0; words.size() < 990; ++i)
      absl::StrAppend(&words, "w", i, " ");
    return words;
  }();

  const std::string many_doses = [] {
    std::string doses;
    for (int i = 0; i < 51; ++i) {
      absl::StrAppend(&doses, "doses { compound: 'D3' amount: 1 unit: 'IU' } ");
    }
    return doses;
  }();

  std::vector<HostileCase> cases = {
      // --- Ask: text ---
      T("Ask", "question: ''", Code::INVALID_ARGUMENT,
        "question: must not be empty"),
      T("Ask", "question: ' \\t\\n\\r '", Code::INVALID_ARGUMENT,
        "question: must not be empty"),
      T("Ask", "max_passages: 3", Code::INVALID_ARGUMENT,
        "question: must not be empty"),
      T("Ask", absl::StrCat("question: ", Quoted(std::string(1001, 'x'))),
        Code::INVALID_ARGUMENT, "question: is 1001 bytes; the limit is 1000"),
      T("Ask", absl::StrCat("question: ", Quoted(big_question)),
        Code::INVALID_ARGUMENT, "question: is 60000 bytes; the limit is 1000"),
      T("Ask", "question: 'why\\000K2?'", Code::INVALID_ARGUMENT,
        "question: contains control characters"),
      T("Ask", "question: 'why \\033[31mK2\\033[0m?'", Code::INVALID_ARGUMENT,
        "question: contains control characters"),
      T("Ask", "question: 'why K2\\177?'", Code::INVALID_ARGUMENT,
        "question: contains control characters"),
      T("Ask", "question: 'why\u0085K2?'",
        Code::INVALID_ARGUMENT,  // C1 "next line"
        "question: contains control characters"),
      Raw("Ask", "question with a 0xFF byte", BytesField(1, kBadUtf8[0]),
          Code::INVALID_ARGUMENT, "question: is not valid UTF-8"),
      Raw("Ask", "question with an overlong form", BytesField(1, kBadUtf8[1]),
          Code::INVALID_ARGUMENT, "question: is not valid UTF-8"),
      Raw("Ask", "question with a surrogate", BytesField(1, kBadUtf8[2]),
          Code::INVALID_ARGUMENT, "question: is not valid UTF-8"),
      Raw("Ask", "question cut off mid-character", BytesField(1, kBadUtf8[3]),
          Code::INVALID_ARGUMENT, "question: is not valid UTF-8"),
      // FTS5 and SQL syntax are just words: answered or refused, never an
      // error.
      T("Ask", R"(question: '"')", Code::OK, ""),
      T("Ask", R"(question: '"K2 with D3')", Code::OK, ""),
      T("Ask", "question: 'K2* ^D3 NEAR(calcium arteries, 2)'", Code::OK, ""),
      T("Ask", "question: 'K2 AND D3 OR NOT calcium'", Code::OK, ""),
      T("Ask", "question: 'AND OR NOT NEAR'", Code::OK, ""),
      T("Ask", "question: 'body:calcium section_title:K2 {body text}: D3'",
        Code::OK, ""),
      T("Ask", "question: '((((K2 with D3)'", Code::OK, ""),
      T("Ask", "question: \"K2'); DROP TABLE passages; --\"", Code::OK, ""),
      T("Ask", "question: '\\' OR 1=1 UNION SELECT * FROM sqlite_master --'",
        Code::OK, ""),
      T("Ask", absl::StrCat("question: ", Quoted(many_words)), Code::OK, ""),
      T("Ask", "question: '\u202Ewhy K2\u202C \u200B\uFEFF \U0001F600'",
        Code::OK, ""),
      // --- Ask: numbers and history ---
      T("Ask", "question: 'why K2?' max_passages: -1", Code::INVALID_ARGUMENT,
        "max_passages: must be between 0"),
      T("Ask", "question: 'why K2?' max_passages: 21", Code::INVALID_ARGUMENT,
        "max_passages: must be between 0 (default 5) and 20"),
      T("Ask", "question: 'why K2?' max_passages: -2147483648",
        Code::INVALID_ARGUMENT, "max_passages: must be between 0"),
      T("Ask", "question: 'why K2?' max_passages: 2147483647",
        Code::INVALID_ARGUMENT, "max_passages: must be between 0"),
      // An int32 sent as a 64-bit varint is cut to 32 bits, as protobuf
      // specifies: 2^33 + 3 reads as 3.
      Raw("Ask", "max_passages of 2^33 + 3",
          BytesField(1, "why K2?") + VarintField(3, (uint64_t{1} << 33) + 3),
          Code::OK, ""),
      T("Ask",
        absl::StrCat(
            "question: 'and how much?'",
            absl::StrJoin(std::vector<std::string>(
                              21, " history { role: ROLE_USER text: 'K2' }"),
                          "")),
        Code::INVALID_ARGUMENT, "history: has 21 turns; the limit is 20"),
      Raw(
          "Ask", "5000 empty history turns",
          [] {
            std::string bytes = BytesField(1, "why K2?");
            for (int i = 0; i < 5000; ++i) bytes += BytesField(2, "");
            return bytes;
          }(),
          Code::INVALID_ARGUMENT, "history: has 5000 turns; the limit is 20"),
      T("Ask", "question: 'and?' history { role: 99 text: 'K2' }",
        Code::INVALID_ARGUMENT, "history[0].role: is not a known role"),
      T("Ask", "question: 'and?' history { role: -1 text: 'K2' }",
        Code::INVALID_ARGUMENT, "history[0].role: is not a known role"),
      T("Ask",
        "question: 'and?' history { role: ROLE_USER text: 'K2' } history { "
        "role: ROLE_USER text: 'a\\001b' }",
        Code::INVALID_ARGUMENT, "history[1].text: contains control characters"),
      Raw("Ask", "history text that is not UTF-8",
          BytesField(1, "and how much?") +
              BytesField(2, VarintField(1, 1) + BytesField(2, "K2")) +
              BytesField(2, VarintField(1, 1) + BytesField(2, kBadUtf8[0])),
          Code::INVALID_ARGUMENT, "history[1].text: is not valid UTF-8"),
      // --- Ask: wire format ---
      Raw("Ask", "truncated varint", "\x18\xFF", Code::INVALID_ARGUMENT,
          "request: is not a valid citekb.v1.AskRequest (malformed protobuf "
          "encoding)"),
      Raw("Ask", "length past the end", "\x0A\x7Fwhy", Code::INVALID_ARGUMENT,
          "is not a valid citekb.v1.AskRequest"),
      Raw("Ask", "start-group without an end", "\x0B\x08\x01",
          Code::INVALID_ARGUMENT, "is not a valid citekb.v1.AskRequest"),
      Raw("Ask", "field number 0", std::string("\x00\x01", 2),
          Code::INVALID_ARGUMENT, "is not a valid citekb.v1.AskRequest"),
      // Wrong wire type or unknown field: skipped as unknown, per protobuf.
      Raw("Ask", "question sent as a varint", VarintField(1, 42),
          Code::INVALID_ARGUMENT, "question: must not be empty"),
      Raw("Ask", "unknown fields around a question",
          VarintField(99, 7) + BytesField(1, "why K2?") +
              BytesField(1000, "\xFF\xFE"),
          Code::OK, ""),
      Raw("Ask", "oversized message", BytesField(1, huge),
          Code::RESOURCE_EXHAUSTED, "larger than max"),

      // --- Search ---
      T("Search", "query: ''", Code::INVALID_ARGUMENT,
        "query: must not be empty"),
      T("Search", "query: 'the and of'", Code::INVALID_ARGUMENT,
        "query: has no searchable words"),
      T("Search", R"(query: '"*^():{}-+')", Code::INVALID_ARGUMENT,
        "query: has no searchable words"),
      T("Search", absl::StrCat("query: ", Quoted(std::string(1000, 'a'))),
        Code::INVALID_ARGUMENT, "query: has no searchable words"),
      T("Search", "query: 'NEAR(calcium arteries, 2)'", Code::OK, ""),
      T("Search", "query: 'calcium AND OR NOT'", Code::OK, ""),
      T("Search", "query: 'passage_fts:calcium body:K2 - title:x'", Code::OK,
        ""),
      T("Search", "query: 'calc* ^vitamin \"\"\"'", Code::OK, ""),
      T("Search", "query: '%_%\\' OR \\'1\\'=\\'1'", Code::OK, ""),
      T("Search", "query: 'calcium' kind: 42", Code::INVALID_ARGUMENT,
        "kind: is not a known passage kind"),
      T("Search", "query: 'calcium' kind: -2147483648", Code::INVALID_ARGUMENT,
        "kind: is not a known passage kind"),
      T("Search", "query: 'calcium' page_size: -1", Code::INVALID_ARGUMENT,
        "page_size: must not be negative"),
      T("Search", "query: 'calcium' page_size: 2147483647", Code::OK, ""),
      T("Search", "query: 'calcium' section_id: '\\' OR 1=1 --'", Code::OK, ""),
      Raw("Search", "section_id that is not UTF-8",
          BytesField(1, "calcium") + BytesField(3, kBadUtf8[0]),
          Code::INVALID_ARGUMENT, "section_id: is not valid UTF-8"),
      T("Search", "query: 'calcium' page_token: 'garbage'",
        Code::INVALID_ARGUMENT,
        "page_token: is not a token this server issued"),
      T("Search", "query: 'calcium' page_token: '!!!!'", Code::INVALID_ARGUMENT,
        "page_token: is not a token this server issued"),
      T("Search",
        absl::StrCat("query: 'calcium' page_token: ",
                     Quoted(std::string(5000, 'A'))),
        Code::INVALID_ARGUMENT,
        "page_token: is not a token this server issued"),
      T("Search",
        absl::StrCat("query: 'arteries' page_size: 1 page_token: ",
                     Quoted(tokens.search)),
        Code::INVALID_ARGUMENT,
        "page_token: belongs to a different query or filter"),
      T("Search",
        absl::StrCat("query: 'calcium' page_size: 1 page_token: ",
                     Quoted(WithOffset(tokens.search, "-5"))),
        Code::INVALID_ARGUMENT,
        "page_token: is not a token this server issued"),
      T("Search",
        absl::StrCat("query: 'calcium' page_size: 1 page_token: ",
                     Quoted(WithOffset(tokens.search, "99999999999999999999"))),
        Code::INVALID_ARGUMENT,
        "page_token: is not a token this server issued"),
      // A forged offset near INT32_MAX: an empty page, not an overflow.
      T("Search",
        absl::StrCat("query: 'calcium' page_size: 100 page_token: ",
                     Quoted(WithOffset(tokens.search, "2147483647"))),
        Code::OK, ""),

      // --- ListSections ---
      T("ListSections", "article_id: '\\' OR 1=1 --'", Code::OK, ""),
      T("ListSections", "article_id: '%'", Code::OK, ""),
      T("ListSections",
        absl::StrCat("article_id: ", Quoted(std::string(1001, 'a'))),
        Code::INVALID_ARGUMENT, "article_id: is 1001 bytes; the limit is 1000"),
      T("ListSections", "article_id: 'd3\\nk2\\bx'", Code::INVALID_ARGUMENT,
        "article_id: contains control characters"),
      Raw("ListSections", "article_id that is not UTF-8",
          BytesField(1, kBadUtf8[2]), Code::INVALID_ARGUMENT,
          "article_id: is not valid UTF-8"),

      // --- GetSection ---
      T("GetSection", "", Code::INVALID_ARGUMENT, "id: must not be empty"),
      T("GetSection", "id: '*'", Code::NOT_FOUND, "id: no section \"*\""),
      T("GetSection", "id: '\\' OR \\'1\\'=\\'1'", Code::NOT_FOUND,
        "id: no section"),
      T("GetSection", "id: '../../etc/passwd#x'", Code::NOT_FOUND,
        "id: no section"),
      T("GetSection", absl::StrCat("id: ", Quoted(std::string(5000, '#'))),
        Code::INVALID_ARGUMENT, "id: is 5000 bytes; the limit is 1000"),
      Raw("GetSection", "id that is not UTF-8", BytesField(1, kBadUtf8[1]),
          Code::INVALID_ARGUMENT, "id: is not valid UTF-8"),

      // --- ListFaqs ---
      T("ListFaqs", "article_id: 'no-such-article'", Code::OK, ""),
      T("ListFaqs", "article_id: 'x\\037y'", Code::INVALID_ARGUMENT,
        "article_id: contains control characters"),
      Raw("ListFaqs", "article_id that is not UTF-8",
          BytesField(1, kBadUtf8[3]), Code::INVALID_ARGUMENT,
          "article_id: is not valid UTF-8"),

      // --- ListCitations ---
      T("ListCitations", "kind: 99", Code::INVALID_ARGUMENT,
        "kind: is not a known citation kind"),
      T("ListCitations", "pmid: 'abc'", Code::INVALID_ARGUMENT,
        "pmid: must be digits"),
      T("ListCitations", "pmid: '-1'", Code::INVALID_ARGUMENT,
        "pmid: must be digits"),
      T("ListCitations", "pmid: '1 OR 1=1'", Code::INVALID_ARGUMENT,
        "pmid: must be digits"),
      T("ListCitations", absl::StrCat("pmid: ", Quoted(std::string(900, '9'))),
        Code::OK, ""),
      T("ListCitations", "doi: '\\'; DROP TABLE sources; --'", Code::OK, ""),
      T("ListCitations", "cited_text: 'NEAR(bone'", Code::OK, ""),
      T("ListCitations", "cited_text: 'bone* OR col:matrix'", Code::OK, ""),
      T("ListCitations", R"(cited_text: '"')", Code::INVALID_ARGUMENT,
        "cited_text: has no searchable words"),
      T("ListCitations", "page_size: -5", Code::INVALID_ARGUMENT,
        "page_size: must not be negative"),
      T("ListCitations",
        absl::StrCat("page_size: 1 page_token: ", Quoted(tokens.search)),
        Code::INVALID_ARGUMENT,
        "page_token: belongs to a different query or filter"),
      T("ListCitations",
        absl::StrCat("page_size: 1 page_token: ",
                     Quoted(WithOffset(tokens.citations, "2147483647"))),
        Code::OK, ""),
      Raw("ListCitations", "cited_text that is not UTF-8",
          BytesField(5, kBadUtf8[0]), Code::INVALID_ARGUMENT,
          "cited_text: is not valid UTF-8"),

      // --- GetCitation ---
      T("GetCitation", "id: ''", Code::INVALID_ARGUMENT,
        "id: must not be empty"),
      T("GetCitation", "id: 'pmid:'", Code::NOT_FOUND,
        "id: no citation \"pmid:\""),
      T("GetCitation", "id: 'pmc'", Code::NOT_FOUND, "id: no citation"),
      T("GetCitation", "id: 'pmcid:'", Code::NOT_FOUND, "id: no citation"),
      T("GetCitation", "id: '10.'", Code::NOT_FOUND, "id: no citation"),
      T("GetCitation", "id: 'https://'", Code::NOT_FOUND, "id: no citation"),
      T("GetCitation", "id: 'http://[::1]:99999/%00?%ZZ#'", Code::NOT_FOUND,
        "id: no citation"),
      T("GetCitation", "id: 'https://pubmed.ncbi.nlm.nih.gov/'",
        Code::NOT_FOUND, "id: no citation"),
      T("GetCitation", "id: '99999999999999999999999999'", Code::NOT_FOUND,
        "id: no citation"),
      T("GetCitation", absl::StrCat("id: ", Quoted(std::string(2001, '1'))),
        Code::INVALID_ARGUMENT, "id: is 2001 bytes; the limit is 2000"),
      Raw("GetCitation", "id that is not UTF-8", BytesField(1, kBadUtf8[2]),
          Code::INVALID_ARGUMENT, "id: is not valid UTF-8"),

      // --- ListRelatedLinks ---
      T("ListRelatedLinks", "kind: 7", Code::INVALID_ARGUMENT,
        "kind: is not a known link kind"),
      T("ListRelatedLinks", "kind: -2147483648", Code::INVALID_ARGUMENT,
        "kind: is not a known link kind"),
      T("ListRelatedLinks", "article_id: '\\' OR \\'\\'=\\''", Code::OK, ""),
      Raw("ListRelatedLinks", "article_id that is not UTF-8",
          BytesField(1, kBadUtf8[1]), Code::INVALID_ARGUMENT,
          "article_id: is not valid UTF-8"),
      Raw("ListRelatedLinks", "oversized message", BytesField(1, huge),
          Code::RESOURCE_EXHAUSTED, "larger than max"),

      // --- EvaluateStack: numbers, units, enums, text ---
      T("EvaluateStack", "", Code::INVALID_ARGUMENT,
        "doses: the stack is empty"),
      T("EvaluateStack", "text: ' \\t\\n '", Code::INVALID_ARGUMENT,
        "doses: the stack is empty"),
      T("EvaluateStack", "doses { compound: 'D3' amount: nan unit: 'IU' }",
        Code::INVALID_ARGUMENT, "doses[0].amount: must be a finite number"),
      T("EvaluateStack", "doses { compound: 'D3' amount: inf unit: 'IU' }",
        Code::INVALID_ARGUMENT, "doses[0].amount: must be a finite number"),
      T("EvaluateStack", "doses { compound: 'D3' amount: -inf unit: 'IU' }",
        Code::INVALID_ARGUMENT, "doses[0].amount: must be a finite number"),
      T("EvaluateStack", "doses { compound: 'D3' amount: -5 unit: 'IU' }",
        Code::INVALID_ARGUMENT, "doses[0].amount: must be positive"),
      T("EvaluateStack",
        "doses { compound: 'D3' amount: 5000 unit: 'IU' } "
        "doses { compound: 'K2' unit: 'mcg' }",
        Code::INVALID_ARGUMENT, "doses[1].amount: must be positive, got 0"),
      T("EvaluateStack", "doses { compound: 'D3' amount: 1e308 unit: 'IU' }",
        Code::INVALID_ARGUMENT, "doses[0].amount: "),
      T("EvaluateStack", "doses { compound: 'D3' amount: 5e-324 unit: 'IU' }",
        Code::OK, ""),
      T("EvaluateStack",
        "doses { compound: 'D3' amount: 5000 unit: 'tablets' }",
        Code::INVALID_ARGUMENT, "doses[0].unit: unknown unit \"tablets\""),
      T("EvaluateStack", "doses { compound: 'K2' amount: 100 unit: 'IU' }",
        Code::INVALID_ARGUMENT,
        "doses[0].unit: \"IU\" does not fit Vitamin K2"),
      T("EvaluateStack", "doses { compound: '' amount: 100 unit: 'mcg' }",
        Code::INVALID_ARGUMENT, "doses[0].compound: must not be empty"),
      T("EvaluateStack",
        "doses { compound: 'D3\\001' amount: 100 unit: 'mcg' }",
        Code::INVALID_ARGUMENT,
        "doses[0].compound: contains control characters"),
      Raw("EvaluateStack", "compound that is not UTF-8",
          BytesField(1, BytesField(1, kBadUtf8[0])), Code::INVALID_ARGUMENT,
          "doses[0].compound: is not valid UTF-8"),
      T("EvaluateStack", "text: \"5000 IU D3'); DROP TABLE passages; --\"",
        Code::OK, ""),
      T("EvaluateStack", "text: 'NEAR(5000 IU D3 AND K2* ^100 mcg'", Code::OK,
        ""),
      T("EvaluateStack", absl::StrCat("text: ", Quoted(std::string(2001, 'x'))),
        Code::INVALID_ARGUMENT, "text: is 2001 bytes; the limit is 2000"),
      T("EvaluateStack", "text: 'I feel tired lately'", Code::INVALID_ARGUMENT,
        "text: no dose could be read"),
      T("EvaluateStack", "text: '5000 IU'", Code::INVALID_ARGUMENT,
        "names no compound"),
      T("EvaluateStack", "text: '99999999999999999999 IU D3'",
        Code::INVALID_ARGUMENT, "is not plausible"),
      T("EvaluateStack", "text: '5000 IU D3' timing: 99",
        Code::INVALID_ARGUMENT, "timing: unknown value 99"),
      T("EvaluateStack", "text: '5000 IU D3' serum_25ohd_ng_ml: nan",
        Code::INVALID_ARGUMENT, "serum_25ohd_ng_ml: "),
      T("EvaluateStack", "text: '5000 IU D3' serum_25ohd_ng_ml: -1",
        Code::INVALID_ARGUMENT, "serum_25ohd_ng_ml: "),
      T("EvaluateStack", "text: '5000 IU D3' serum_25ohd_ng_ml: 1e9",
        Code::INVALID_ARGUMENT, "serum_25ohd_ng_ml: "),
      T("EvaluateStack", "text: '5000 IU D3' medications: ''",
        Code::INVALID_ARGUMENT, "medications[0]: must not be empty"),
      T("EvaluateStack", many_doses, Code::INVALID_ARGUMENT,
        "doses: has 51 doses; the limit is 50"),
      Raw("EvaluateStack", "oversized message", BytesField(6, huge),
          Code::RESOURCE_EXHAUSTED, "larger than max"),

      // --- Not an RPC at all ---
      Raw("NoSuchMethod", "unknown method", "", Code::UNIMPLEMENTED, ""),
  };
  return cases;
}

class HostileInputTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    index_dir_ = new testing::TempDir();
    absl::StatusOr<IndexSummary> summary =
        BuildIndex({.knowledge_dir = testing::SourcePath("knowledge"),
                    .out_path = index_dir_->File("kb.sqlite"),
                    .on_progress = nullptr});
    ASSERT_TRUE(summary.ok()) << summary.status();
  }
  static void TearDownTestSuite() {
    delete index_dir_;
    index_dir_ = nullptr;
  }

  void SetUp() override {
    ServerOptions options;
    options.index_path = index_dir_->File("kb.sqlite");
    options.listen = "127.0.0.1:0";
    options.log = &log_;
    options.max_receive_message_bytes = kMaxRequestBytes;
    absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                   grpc::InsecureChannelCredentials());
    ASSERT_TRUE(IsServing(channel_));
    ASSERT_TRUE(AnswersNormally(channel_));
  }

  // Real page tokens to forge from.
  Tokens FetchTokens() {
    Tokens tokens;
    v1::SearchResponse search;
    const Reply s = Call(channel_, absl::StrCat("/", kService, "/Search"),
                         Text("Search", "query: 'calcium' page_size: 1"));
    if (s.status.ok() && search.ParseFromString(s.bytes))
      tokens.search = search.next_page_token();
    v1::ListCitationsResponse citations;
    const Reply c =
        Call(channel_, absl::StrCat("/", kService, "/ListCitations"),
             Text("ListCitations", "page_size: 1"));
    if (c.status.ok() && citations.ParseFromString(c.bytes)) {
      tokens.citations = citations.next_page_token();
    }
    EXPECT_FALSE(tokens.search.empty());
    EXPECT_FALSE(tokens.citations.empty());
    return tokens;
  }

  Reply Send(const HostileCase& c) {
    return Call(channel_, absl::StrCat("/", kService, "/", c.rpc), c.request);
  }

  static testing::TempDir* index_dir_;
  std::ostringstream log_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

testing::TempDir* HostileInputTest::index_dir_ = nullptr;

std::string Describe(const HostileCase& c) {
  return absl::StrCat(c.rpc, " ", absl::CHexEscape(c.description));
}

TEST_F(HostileInputTest, EachGetsTheRightStatusAndTheServerKeepsServing) {
  const std::vector<HostileCase> cases = Cases(FetchTokens());
  ASSERT_GE(cases.size(), 40u);
  absl::flat_hash_set<std::string> rpcs;
  for (const HostileCase& c : cases) {
    SCOPED_TRACE(Describe(c));
    rpcs.insert(c.rpc);
    const Reply reply = Send(c);
    EXPECT_EQ(reply.status.error_code(), c.code)
        << reply.status.error_message();
    EXPECT_THAT(reply.status.error_message(), HasSubstr(c.message));
    ASSERT_TRUE(IsServing(channel_)) << "health check failed after the case";
    ASSERT_TRUE(AnswersNormally(channel_))
        << "a normal Ask failed after the case";
  }
  // Every RPC.
  const google::protobuf::ServiceDescriptor* service =
      v1::AskRequest::descriptor()->file()->FindServiceByName("KnowledgeBase");
  for (int i = 0; i < service->method_count(); ++i) {
    EXPECT_TRUE(rpcs.contains(service->method(i)->name()))
        << service->method(i)->name();
  }
  std::cout << "hostile requests tried: " << cases.size() << " across "
            << rpcs.size() << " method names (every RPC and one that does "
            << "not exist)\n";
}

// The same requests at once from several threads: connection pooling and
// statement reuse must hold up under a mix of failures and successes.
TEST_F(HostileInputTest, ConcurrentHostileRequestsGetTheSameAnswers) {
  const std::vector<HostileCase> cases = Cases(FetchTokens());
  constexpr int kThreads = 4;
  std::vector<std::thread> threads;
  std::vector<int> mismatches(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = 0; i < cases.size(); ++i) {
        const HostileCase& c = cases[(i + t * 7) % cases.size()];
        const Reply reply = Send(c);
        if (reply.status.error_code() != c.code) ++mismatches[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(mismatches[t], 0) << "thread " << t;
  EXPECT_TRUE(IsServing(channel_));
  EXPECT_TRUE(AnswersNormally(channel_));
}

// Every request the server could not parse, or refused, is in the request
// log with its code, like any other request.
TEST_F(HostileInputTest, UnparseableRequestsAreLogged) {
  Send(Raw("Search", "not UTF-8", BytesField(1, "\xFF"), Code::INVALID_ARGUMENT,
           ""));
  server_->Shutdown();  // Writes every line.
  EXPECT_THAT(
      log_.str(),
      HasSubstr("\"method\":\"Search\",\"status\":\"INVALID_ARGUMENT\""));
}

}  // namespace
}  // namespace citekb
