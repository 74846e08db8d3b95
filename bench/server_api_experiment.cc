// citekb-server-api-experiment: the KnowledgeBase logic served through
// gRPC's synchronous API or its callback API, nothing else changed, to pick
// the server API by measurement (scripts/bench.sh runs citekb-load against
// both). Serves Ask, Search, ListCitations and EvaluateStack (the RPCs the
// benchmark drives) plus the default health service, without request
// logging.
//
//   citekb-server-api-experiment --api callback --index var/kb.sqlite
//
// Prints "citekb-server-api-experiment: serving on ADDRESS" on stderr, like
// citekb-server, and serves until SIGTERM or SIGINT.
//
// Sync: gRPC's own thread pool takes each call off a completion queue and
// runs the handler; a thread blocks for the whole call. Callback: the
// handler runs on gRPC's event-engine thread that read the request, and
// finishes the call by returning a reactor; no hand-off between threads.

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>

#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "citekb/v1/knowledge_base.grpc.pb.h"
#include "service/knowledge_base/knowledge_base.h"
#include "service/server/grpc_status.h"

ABSL_FLAG(std::string, index, "", "Index file written by citekb-index.");
ABSL_FLAG(std::string, listen, "127.0.0.1:0", "Address to serve on.");
ABSL_FLAG(std::string, api, "callback", "sync or callback.");
ABSL_FLAG(
    bool, mutex_deadlock_detection, true,
    "Leave Abseil's Mutex deadlock detection as the library has it (on in "
    "Debian's build, which is compiled without NDEBUG); false turns it off "
    "before any lock is taken.");

namespace citekb {
namespace {

class SyncService final : public v1::KnowledgeBase::Service {
 public:
  explicit SyncService(const KnowledgeBase& kb) : kb_(kb) {}

  grpc::Status Ask(grpc::ServerContext*, const v1::AskRequest* request,
                   v1::AskResponse* response) override {
    return Run(kb_.Ask(*request), response);
  }
  grpc::Status Search(grpc::ServerContext*, const v1::SearchRequest* request,
                      v1::SearchResponse* response) override {
    return Run(kb_.Search(*request), response);
  }
  grpc::Status ListCitations(grpc::ServerContext*,
                             const v1::ListCitationsRequest* request,
                             v1::ListCitationsResponse* response) override {
    return Run(kb_.ListCitations(*request), response);
  }
  grpc::Status EvaluateStack(grpc::ServerContext*,
                             const v1::EvaluateStackRequest* request,
                             v1::EvaluateStackResponse* response) override {
    return Run(kb_.EvaluateStack(*request), response);
  }

 private:
  template <typename Response>
  static grpc::Status Run(absl::StatusOr<Response> result, Response* response) {
    if (!result.ok()) return ToGrpcStatus(result.status());
    *response = *std::move(result);
    return grpc::Status::OK;
  }

  const KnowledgeBase& kb_;
};

class CallbackService final : public v1::KnowledgeBase::CallbackService {
 public:
  explicit CallbackService(const KnowledgeBase& kb) : kb_(kb) {}

  grpc::ServerUnaryReactor* Ask(grpc::CallbackServerContext* context,
                                const v1::AskRequest* request,
                                v1::AskResponse* response) override {
    return Run(context, kb_.Ask(*request), response);
  }
  grpc::ServerUnaryReactor* Search(grpc::CallbackServerContext* context,
                                   const v1::SearchRequest* request,
                                   v1::SearchResponse* response) override {
    return Run(context, kb_.Search(*request), response);
  }
  grpc::ServerUnaryReactor* ListCitations(
      grpc::CallbackServerContext* context,
      const v1::ListCitationsRequest* request,
      v1::ListCitationsResponse* response) override {
    return Run(context, kb_.ListCitations(*request), response);
  }
  grpc::ServerUnaryReactor* EvaluateStack(
      grpc::CallbackServerContext* context,
      const v1::EvaluateStackRequest* request,
      v1::EvaluateStackResponse* response) override {
    return Run(context, kb_.EvaluateStack(*request), response);
  }

 private:
  template <typename Response>
  static grpc::ServerUnaryReactor* Run(grpc::CallbackServerContext* context,
                                       absl::StatusOr<Response> result,
                                       Response* response) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    if (result.ok()) {
      *response = *std::move(result);
      reactor->Finish(grpc::Status::OK);
    } else {
      reactor->Finish(ToGrpcStatus(result.status()));
    }
    return reactor;
  }

  const KnowledgeBase& kb_;
};

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Usage: citekb-server-api-experiment --api sync|callback --index FILE");
  absl::ParseCommandLine(argc, argv);
  if (!absl::GetFlag(FLAGS_mutex_deadlock_detection)) {
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  }
  const std::string api = absl::GetFlag(FLAGS_api);
  if (api != "sync" && api != "callback") {
    std::cerr << "citekb-server-api-experiment: --api: sync or callback\n";
    return 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<std::unique_ptr<KnowledgeBase>> kb =
      KnowledgeBase::Open(absl::GetFlag(FLAGS_index));
  if (!kb.ok()) {
    std::cerr << "citekb-server-api-experiment: " << kb.status().message()
              << "\n";
    return 1;
  }
  SyncService sync(**kb);
  CallbackService callback(**kb);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen),
                           grpc::InsecureServerCredentials(), &port);
  if (api == "sync") {
    builder.RegisterService(&sync);
  } else {
    builder.RegisterService(&callback);
  }
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::cerr << "citekb-server-api-experiment: cannot listen\n";
    return 1;
  }
  const std::string listen = absl::GetFlag(FLAGS_listen);
  const std::string line =
      absl::StrCat("citekb-server-api-experiment: serving on ",
                   listen.substr(0, listen.rfind(':') + 1), port, "\n");
  std::cerr << line << std::flush;
  std::thread waiter([&] {
    int signal_number = 0;
    sigwait(&signals, &signal_number);
    server->Shutdown();
  });
  server->Wait();
  waiter.join();
  return 0;
}

}  // namespace
}  // namespace citekb

int main(int argc, char** argv) { return citekb::Main(argc, argv); }
