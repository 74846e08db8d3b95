// citekb-server: serves an index over gRPC until SIGTERM or SIGINT.
//
//   citekb-server --index var/citekb.sqlite --listen 127.0.0.1:50051
//
// Flags become ServerOptions (server.h) and nothing else happens here but
// signal handling. Exits 0 after a graceful shutdown, 1 when the server
// cannot start (the reason is printed), 2 on a usage error.

#include <pthread.h>
#include <signal.h>

#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "service/server.h"

ABSL_FLAG(std::string, index, "var/citekb.sqlite",
          "Index file written by citekb-index.");
ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "Address to serve on; port 0 picks a free port (printed at start).");
ABSL_FLAG(bool, log_requests, true,
          "Write one JSON line per request to stderr.");
ABSL_FLAG(bool, log_questions, false,
          "Include the question text in request-log lines (off by default: "
          "questions are health information).");
ABSL_FLAG(int, max_request_bytes, 64 * 1024,
          "Largest request accepted; larger ones get RESOURCE_EXHAUSTED.");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Serves a citekb index over gRPC.\n"
      "Usage: citekb-server --index FILE [--listen HOST:PORT]");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    std::cerr << "citekb-server: unexpected argument \"" << rest[1]
              << "\" (use --index FILE --listen HOST:PORT)\n";
    return 2;
  }

  // Block the shutdown signals before gRPC starts any thread, so every
  // thread inherits the mask and only the sigwait() thread below ever sees
  // them: no work happens in a signal handler.
  sigset_t shutdown_signals;
  sigemptyset(&shutdown_signals);
  sigaddset(&shutdown_signals, SIGTERM);
  sigaddset(&shutdown_signals, SIGINT);
  if (int error = pthread_sigmask(SIG_BLOCK, &shutdown_signals, nullptr);
      error != 0) {
    std::cerr << "citekb-server: cannot block signals: " << std::strerror(error)
              << "\n";
    return 1;
  }

  citekb::ServerOptions options;
  options.index_path = absl::GetFlag(FLAGS_index);
  options.listen = absl::GetFlag(FLAGS_listen);
  options.log_requests = absl::GetFlag(FLAGS_log_requests);
  options.log_questions = absl::GetFlag(FLAGS_log_questions);
  options.max_receive_message_bytes = absl::GetFlag(FLAGS_max_request_bytes);

  absl::StatusOr<std::unique_ptr<citekb::Server>> server =
      citekb::Server::Start(options);
  if (!server.ok()) {
    std::cerr << "citekb-server: " << server.status().message() << "\n";
    return 1;
  }
  // One write, so whoever watches stderr for this line never sees half of it.
  const std::string serving =
      absl::StrCat("citekb-server: serving ", options.index_path, " on ",
                   (*server)->address(), "\n");
  std::cerr.write(serving.data(), static_cast<std::streamsize>(serving.size()));
  std::cerr.flush();

  std::thread signal_waiter([&shutdown_signals, s = server->get()] {
    int signal_number = 0;
    sigwait(&shutdown_signals, &signal_number);
    std::cerr << "citekb-server: " << strsignal(signal_number)
              << ", shutting down" << std::endl;
    s->Shutdown();
  });
  // Only the signal thread calls Shutdown(), so when Wait() returns it has
  // received its signal and the join below cannot block for long.
  (*server)->Wait();
  signal_waiter.join();
  server->reset();
  std::cerr << "citekb-server: stopped" << std::endl;
  return 0;
}
