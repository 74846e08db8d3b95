#include "tests/support/server_test_support.h"

#include <fcntl.h>
#include <grpcpp/support/byte_buffer.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/unknown_field_set.h"
#include "gtest/gtest.h"
#include "indexer/corpus_indexer.h"
#include "tests/support/test_support.h"

extern char** environ;

namespace citekb::testing {
namespace {

// ---------------------------------------------------------------------------
// Protobuf wire format, just enough for health and reflection.
// ---------------------------------------------------------------------------

// A length-delimited field (strings and sub-messages).
std::string LengthDelimitedField(int number, const std::string& value) {
  std::string out(1, static_cast<char>((number << 3) | 2));
  for (size_t n = value.size();; n >>= 7) {
    if (n < 0x80) {
      out.push_back(static_cast<char>(n));
      break;
    }
    out.push_back(static_cast<char>((n & 0x7F) | 0x80));
  }
  return out + value;
}

grpc::ByteBuffer ToByteBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string FromByteBuffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const grpc::Slice& slice : slices) {
    out.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return out;
}

// The ServingStatus in a HealthCheckResponse { ServingStatus status = 1; }
// (absent = UNKNOWN); -1 when the bytes do not parse.
int ParseServingStatus(const std::string& bytes) {
  google::protobuf::UnknownFieldSet fields;
  if (!fields.ParseFromString(bytes)) return -1;
  int serving_status = 0;
  for (int i = 0; i < fields.field_count(); ++i) {
    if (fields.field(i).number() == 1 &&
        fields.field(i).type() == google::protobuf::UnknownField::TYPE_VARINT) {
      serving_status = static_cast<int>(fields.field(i).varint());
    }
  }
  return serving_status;
}

// The length-delimited fields numbered `number` in the message `bytes`.
std::vector<std::string> Submessages(const std::string& bytes, int number) {
  using google::protobuf::UnknownField;
  std::vector<std::string> out;
  google::protobuf::UnknownFieldSet fields;
  if (!fields.ParseFromString(bytes)) return out;
  for (int i = 0; i < fields.field_count(); ++i) {
    if (fields.field(i).number() == number &&
        fields.field(i).type() == UnknownField::TYPE_LENGTH_DELIMITED) {
      out.push_back(fields.field(i).length_delimited());
    }
  }
  return out;
}

// The service names in a ServerReflectionResponse
// { ListServiceResponse list_services_response = 6; }, where
// ListServiceResponse { repeated ServiceResponse service = 1; } and
// ServiceResponse { string name = 1; }.
std::vector<std::string> ServiceNames(const std::string& response) {
  std::vector<std::string> names;
  for (const std::string& list : Submessages(response, 6)) {
    for (const std::string& service : Submessages(list, 1)) {
      for (const std::string& name : Submessages(service, 1)) {
        names.push_back(name);
      }
    }
  }
  return names;
}

}  // namespace

std::unique_ptr<grpc::ClientContext> ContextWithDeadline(
    std::chrono::milliseconds timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + timeout);
  return context;
}

HealthResult CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                         const std::string& service,
                         std::chrono::milliseconds timeout) {
  grpc::GenericStub stub(channel);
  auto context = ContextWithDeadline(timeout);
  // HealthCheckRequest { string service = 1; }
  const grpc::ByteBuffer request =
      ToByteBuffer(LengthDelimitedField(1, service));
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(context.get(), "/grpc.health.v1.Health/Check",
                 grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status status) { done.set_value(status); });
  std::future<grpc::Status> status = done.get_future();
  // The context deadline ends the call; the margin only guards the test.
  if (status.wait_for(timeout + std::chrono::seconds(5)) !=
      std::future_status::ready) {
    ADD_FAILURE() << "health check did not complete";
    context->TryCancel();
  }
  HealthResult result{.status = status.get()};
  if (result.status.ok()) {
    result.serving_status = ParseServingStatus(FromByteBuffer(response));
  }
  return result;
}

bool WaitUntilServing(const std::shared_ptr<grpc::Channel>& channel,
                      const std::string& service) {
  const auto give_up = std::chrono::steady_clock::now() + kWait;
  while (std::chrono::steady_clock::now() < give_up) {
    if (CheckHealth(channel, service).serving_status == kServing) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

HealthWatch::HealthWatch(const std::shared_ptr<grpc::Channel>& channel,
                         const std::string& service)
    : stub_(std::make_unique<grpc::GenericStub>(channel)) {
  context_.set_deadline(std::chrono::system_clock::now() + 3 * kWait);
  stream_ = stub_->PrepareCall(&context_, "/grpc.health.v1.Health/Watch", &cq_);
  stream_->StartCall(reinterpret_cast<void*>(1));
  if (!Await(1)) return;
  // HealthCheckRequest { string service = 1; }
  stream_->Write(ToByteBuffer(LengthDelimitedField(1, service)),
                 reinterpret_cast<void*>(2));
  if (!Await(2)) return;
  stream_->WritesDone(reinterpret_cast<void*>(3));
  open_ = Await(3);
}

HealthWatch::~HealthWatch() {
  context_.TryCancel();
  grpc::Status status;
  stream_->Finish(&status, reinterpret_cast<void*>(5));
  cq_.Shutdown();
  void* tag;
  bool ok;
  while (cq_.Next(&tag, &ok)) {
  }
}

bool HealthWatch::Await(intptr_t expected) {
  void* tag = nullptr;
  bool ok = false;
  return cq_.AsyncNext(&tag, &ok, std::chrono::system_clock::now() + kWait) ==
             grpc::CompletionQueue::GOT_EVENT &&
         reinterpret_cast<intptr_t>(tag) == expected && ok;
}

int HealthWatch::Next() {
  if (!open_) return -1;
  grpc::ByteBuffer response;
  stream_->Read(&response, reinterpret_cast<void*>(4));
  if (!Await(4)) {
    // Ended, failed, or kWait passed with the read still pending: either
    // way the stream is of no further use, and ~HealthWatch cancels it.
    open_ = false;
    return -1;
  }
  return ParseServingStatus(FromByteBuffer(response));
}

absl::StatusOr<std::vector<std::string>> ListServicesByReflection(
    const std::shared_ptr<grpc::Channel>& channel) {
  grpc::GenericStub stub(channel);
  auto context = ContextWithDeadline();
  grpc::CompletionQueue cq;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> stream =
      stub.PrepareCall(
          context.get(),
          "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
          &cq);
  // Runs one operation to completion (the context deadline bounds it).
  auto await = [&cq](intptr_t expected) {
    void* tag = nullptr;
    bool ok = false;
    const auto deadline =
        std::chrono::system_clock::now() + kWait + std::chrono::seconds(5);
    return cq.AsyncNext(&tag, &ok, deadline) ==
               grpc::CompletionQueue::GOT_EVENT &&
           reinterpret_cast<intptr_t>(tag) == expected && ok;
  };
  // ServerReflectionRequest { oneof { string list_services = 7; } }
  const grpc::ByteBuffer request = ToByteBuffer(LengthDelimitedField(7, ""));
  grpc::ByteBuffer response;
  grpc::Status status;
  absl::Status failure;
  stream->StartCall(reinterpret_cast<void*>(1));
  if (!await(1)) failure = absl::InternalError("reflection: start failed");
  if (failure.ok()) {
    stream->Write(request, reinterpret_cast<void*>(2));
    if (!await(2)) failure = absl::InternalError("reflection: write failed");
  }
  if (failure.ok()) {
    stream->WritesDone(reinterpret_cast<void*>(3));
    if (!await(3))
      failure = absl::InternalError("reflection: writes-done failed");
  }
  if (failure.ok()) {
    stream->Read(&response, reinterpret_cast<void*>(4));
    if (!await(4)) failure = absl::InternalError("reflection: read failed");
  }
  if (!failure.ok()) context->TryCancel();
  stream->Finish(&status, reinterpret_cast<void*>(5));
  {
    void* tag;
    bool ok;
    cq.AsyncNext(
        &tag, &ok,
        std::chrono::system_clock::now() + kWait + std::chrono::seconds(5));
  }
  cq.Shutdown();
  {
    void* tag;
    bool ok;
    while (cq.Next(&tag, &ok)) {
    }
  }
  if (!failure.ok()) return failure;
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        status.error_message());
  }
  return ServiceNames(FromByteBuffer(response));
}

Child::Child(std::vector<std::string> args, std::string output_path)
    : output_path_(std::move(output_path)) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO,
                                   output_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) !=
      0) {
    pid_ = -1;
  }
  posix_spawn_file_actions_destroy(&actions);
}

Child::~Child() {
  if (pid_ > 0 && !exited_) {
    kill(pid_, SIGKILL);
    int ignored;
    waitpid(pid_, &ignored, 0);
  }
}

bool Child::Signal(int signal) {
  return pid_ > 0 && !exited_ && kill(pid_, signal) == 0;
}

int Child::WaitForExit(std::chrono::milliseconds timeout) {
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < give_up) {
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

std::string Child::Output() const {
  std::ifstream in(output_path_);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string Child::WaitForLine(absl::string_view text) const {
  const auto give_up = std::chrono::steady_clock::now() + kWait;
  while (std::chrono::steady_clock::now() < give_up) {
    std::string output = Output();
    const size_t at = output.find(std::string(text));
    if (at != std::string::npos && output.find('\n', at) != std::string::npos) {
      return output;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return "";
}

// The port from "citekb-server: serving <index> on 127.0.0.1:<port>", or 0.
int ServingPort(const std::string& output) {
  const std::string kPrefix = " on 127.0.0.1:";
  const size_t at = output.find(kPrefix);
  if (at == std::string::npos) return 0;
  const size_t start = at + kPrefix.size();
  const size_t end = output.find('\n', start);
  int port = 0;
  if (!absl::SimpleAtoi(output.substr(start, end - start), &port)) return 0;
  return port;
}

// ---------------------------------------------------------------------------
// Streams.
// ---------------------------------------------------------------------------

std::string LockedStringStream::Buf::str() const {
  std::lock_guard lock(mu_);
  return data_;
}

std::streamsize LockedStringStream::Buf::xsputn(const char* s,
                                                std::streamsize n) {
  std::lock_guard lock(mu_);
  data_.append(s, static_cast<size_t>(n));
  return n;
}

int LockedStringStream::Buf::overflow(int c) {
  if (c == traits_type::eof()) return traits_type::not_eof(c);
  const char ch = static_cast<char>(c);
  xsputn(&ch, 1);
  return c;
}

bool LockedStringStream::WaitFor(absl::string_view text) const {
  const auto give_up = std::chrono::steady_clock::now() + kWait;
  while (std::chrono::steady_clock::now() < give_up) {
    if (str().find(std::string(text)) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

bool GateBuf::WaitForWriter() {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, kWait, [this] { return entered_; });
}

void GateBuf::Open() {
  std::lock_guard lock(mu_);
  open_ = true;
  cv_.notify_all();
}

std::string GateBuf::written() const {
  std::lock_guard lock(mu_);
  return written_;
}

std::streamsize GateBuf::xsputn(const char* s, std::streamsize n) {
  std::unique_lock lock(mu_);
  entered_ = true;
  cv_.notify_all();
  cv_.wait_for(lock, kWait, [this] { return open_; });
  written_.append(s, static_cast<size_t>(n));
  return n;
}

int GateBuf::overflow(int c) {
  char ch = static_cast<char>(c);
  xsputn(&ch, 1);
  return c;
}

bool StallRequestLog(GateBuf& gate,
                     const std::shared_ptr<grpc::Channel>& channel) {
  // ListSectionsRequest {} is no bytes at all.
  const auto list_sections = [&channel] {
    grpc::GenericStub stub(channel);
    auto context = ContextWithDeadline();
    const grpc::ByteBuffer request = ToByteBuffer("");
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    stub.UnaryCall(context.get(), "/citekb.v1.KnowledgeBase/ListSections",
                   grpc::StubOptions(), &request, &response,
                   [&done](grpc::Status status) { done.set_value(status); });
    return done.get_future().get();  // The deadline bounds the wait.
  };
  const grpc::Status first = list_sections();
  if (!first.ok()) {
    ADD_FAILURE() << "the call to stall the log failed: "
                  << first.error_message();
    return false;
  }
  if (!gate.WaitForWriter()) {
    ADD_FAILURE() << "the request log's writer never reached the gate";
    return false;
  }
  const grpc::Status second = list_sections();
  if (!second.ok()) {
    ADD_FAILURE() << "the call to fill the log failed: "
                  << second.error_message();
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Indexes.
// ---------------------------------------------------------------------------

absl::Status BuildIndexOf(const std::vector<std::string>& articles,
                          const std::string& out_path) {
  TempDir knowledge;
  for (const std::string& article : articles) {
    std::error_code error;
    std::filesystem::copy_file(
        article,
        knowledge.File(std::filesystem::path(article).filename().string()),
        error);
    if (error) {
      return absl::InternalError(
          absl::StrCat("cannot copy ", article, ": ", error.message()));
    }
  }
  return BuildIndex({.knowledge_dir = knowledge.path(),
                     .out_path = out_path,
                     .on_progress = nullptr})
      .status();
}

}  // namespace citekb::testing
