// citekb-startup: how long citekb-server takes from exec to answering
// SERVING on its health check, and how much memory it holds then.
//
//   citekb-startup --server build/service/citekb-server --index var/kb.sqlite
//
// Each run picks a free port, starts the server on it, polls a TCP connect
// every millisecond until the port accepts, then calls
// grpc.health.v1.Health/Check for "citekb.v1.KnowledgeBase" (which only
// turns SERVING once Server::Start() has finished) until it says SERVING.
// The time is from just before posix_spawn to that answer, so it includes
// exec, dynamic linking, opening the index and starting gRPC. The server is
// then stopped with SIGTERM. Prints min, median and max over --runs.

#include <arpa/inet.h>
#include <fcntl.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/byte_buffer.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <future>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "bench/process_stats.h"
#include "bench/request_mix.h"
#include "indexer/base/status_macros.h"
#include "indexer/format/sqlite.h"  // CITEKB_ASSIGN_OR_RETURN

extern char** environ;

ABSL_FLAG(std::string, server, "", "The citekb-server binary.");
ABSL_FLAG(std::string, index, "", "The index to serve.");
ABSL_FLAG(int, runs, 5, "How many start-ups to time.");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(30),
          "Give up on one start-up after this.");
ABSL_FLAG(std::string, json, "",
          "Also write the results as JSON to this file.");

namespace citekb {
namespace {

using Clock = std::chrono::steady_clock;

absl::StatusOr<int> FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::UnavailableError("socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    close(fd);
    return absl::UnavailableError("cannot bind a free port");
  }
  close(fd);
  return ntohs(address.sin_port);
}

bool Accepts(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok =
      connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  close(fd);
  return ok;
}

bool Serving(grpc::GenericStub& stub) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(2));
  grpc::Slice slice(EncodeHealthCheckRequest("citekb.v1.KnowledgeBase"));
  const grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(),
                 &request, &response,
                 [&done](grpc::Status status) { done.set_value(status); });
  if (!done.get_future().get().ok()) return false;
  grpc::Slice bytes;
  if (!response.DumpToSingleSlice(&bytes).ok()) return false;
  return VerifyResponse(
             Rpc::kHealth,
             absl::string_view(reinterpret_cast<const char*>(bytes.begin()),
                               bytes.size()))
      .ok();
}

struct StartUp {
  absl::Duration to_serving;
  ProcessMemory memory;
};

absl::StatusOr<StartUp> TimeOneStartUp(const std::string& server,
                                       const std::string& index) {
  CITEKB_ASSIGN_OR_RETURN(int port, FreePort());
  const std::string listen = absl::StrCat("127.0.0.1:", port);
  std::vector<std::string> args = {
      server, "--index", index, "--listen", listen, "--log_requests=false"};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null",
                                   O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null",
                                   O_WRONLY, 0);

  const Clock::time_point start = Clock::now();
  pid_t pid = 0;
  const int error = posix_spawn(&pid, server.c_str(), &actions, nullptr,
                                argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot start ", server, ": ", strerror(error)));
  }
  const Clock::time_point give_up =
      start + absl::ToChronoNanoseconds(absl::GetFlag(FLAGS_timeout));
  absl::StatusOr<StartUp> result = absl::DeadlineExceededError(
      absl::StrCat(server, " did not report SERVING in time"));
  std::unique_ptr<grpc::GenericStub> stub;
  while (Clock::now() < give_up) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      return absl::UnavailableError(
          absl::StrCat(server, " exited during start-up"));
    }
    if (stub == nullptr && Accepts(port)) {
      stub = std::make_unique<grpc::GenericStub>(
          grpc::CreateChannel(listen, grpc::InsecureChannelCredentials()));
    }
    if (stub != nullptr && Serving(*stub)) {
      StartUp up{absl::FromChrono(Clock::now() - start), {}};
      absl::StatusOr<ProcessMemory> memory = ReadProcessMemory(pid);
      if (memory.ok()) up.memory = *memory;
      result = up;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  return result;
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Times citekb-server from exec to SERVING.\n"
      "Usage: citekb-startup --server BIN --index FILE [--runs N]");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  const std::string server = absl::GetFlag(FLAGS_server);
  const std::string index = absl::GetFlag(FLAGS_index);
  const int runs = absl::GetFlag(FLAGS_runs);
  if (rest.size() > 1 || server.empty() || index.empty() || runs < 1) {
    std::cerr << "citekb-startup: usage: citekb-startup --server BIN --index "
                 "FILE [--runs N]\n";
    return 2;
  }
  std::vector<double> ms;
  ProcessMemory memory;
  for (int i = 0; i < runs; ++i) {
    absl::StatusOr<StartUp> up = TimeOneStartUp(server, index);
    if (!up.ok()) {
      std::cerr << "citekb-startup: " << up.status().message() << "\n";
      return 1;
    }
    ms.push_back(absl::ToDoubleMilliseconds(up->to_serving));
    memory = up->memory;
  }
  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted[sorted.size() / 2];
  absl::PrintF(
      "citekb-startup: %s to SERVING in %.1f ms median (min %.1f, max %.1f, %d "
      "runs); "
      "rss then %.1f MB\n",
      index, median, sorted.front(), sorted.back(), runs,
      memory.rss_kb / 1024.0);
  const std::string json_path = absl::GetFlag(FLAGS_json);
  if (!json_path.empty()) {
    std::ofstream out(json_path);
    out << absl::StrFormat(
        "{\"index\": \"%s\", \"runs_ms\": [%s], \"median_ms\": %.3f, "
        "\"min_ms\": %.3f, "
        "\"max_ms\": %.3f, \"rss_kb\": %d}\n",
        index, absl::StrJoin(ms, ", "), median, sorted.front(), sorted.back(),
        memory.rss_kb);
    if (!out.flush()) {
      std::cerr << "citekb-startup: --json: cannot write " << json_path << "\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace
}  // namespace citekb

int main(int argc, char** argv) { return citekb::Main(argc, argv); }
