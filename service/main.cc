// citekb-server: serves an index over gRPC until SIGTERM or SIGINT.
//
//   citekb-server --index var/citekb.sqlite --listen 127.0.0.1:50051
//   citekb-server --index var/citekb.sqlite --listen 0.0.0.0:50051
//       --tls-cert tls/server.crt --tls-key tls/server.key   (one line)
//
// Flags become ServerOptions (server.h) and nothing else happens here but
// signal handling: SIGHUP reloads the index file (as the file poll does),
// SIGTERM and SIGINT shut down gracefully. Exits 0 after a graceful
// shutdown, 1 when the server cannot start (the reason is printed), 2 on a
// usage error.
//
// Flag names may be written with dashes or underscores (--tls-cert or
// --tls_cert, --log-requests or --log_requests): dashes in a flag's name
// are turned into underscores before the flags are parsed. Durations are
// written as "1s", "500ms", "0" (for off).

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
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/server/server.h"

#ifdef CITEKB_TCMALLOC
#include <gperftools/malloc_extension.h>
#endif

namespace {
const citekb::ServerOptions kDefaults;
}  // namespace

ABSL_FLAG(std::string, index, "var/citekb.sqlite",
          "Index file written by citekb-index. Replacing it (citekb-index "
          "renames a new one into place) or SIGHUP reloads it.");
ABSL_FLAG(
    std::string, listen, kDefaults.listen,
    "Address to serve on; port 0 picks a free port (printed at start). "
    "Without TLS only loopback addresses are allowed, unless --insecure.");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain to serve TLS with (needs --tls-key).");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls-cert.");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA certificates; clients must present a certificate signed by "
          "one of them (mutual TLS).");
ABSL_FLAG(bool, insecure, false,
          "Serve plaintext on a non-loopback address (only behind a "
          "TLS-terminating proxy or on a trusted network).");
ABSL_FLAG(absl::Duration, reload_poll_interval, kDefaults.reload_poll_interval,
          "How often to check whether the index file was replaced; 0 turns "
          "it off (SIGHUP still reloads).");
ABSL_FLAG(bool, log_requests, true,
          "Write one JSON line per request to stderr.");
ABSL_FLAG(absl::Duration, log_flush_interval, kDefaults.log_flush_interval,
          "Request-log lines are written in batches, by a thread of their "
          "own, at most this long after their call; must be positive.");
ABSL_FLAG(bool, log_questions, false,
          "Include the question text in request-log lines (off by default: "
          "questions are health information).");
ABSL_FLAG(int, max_request_bytes, kDefaults.max_receive_message_bytes,
          "Largest request accepted; larger ones get RESOURCE_EXHAUSTED.");
ABSL_FLAG(int, max_concurrent_streams, kDefaults.max_concurrent_streams,
          "Calls one connection may have open at once.");
ABSL_FLAG(int, max_threads, kDefaults.max_threads,
          "KnowledgeBase calls handled at once (running or waiting for a "
          "worker thread); one more gets RESOURCE_EXHAUSTED at once.");
ABSL_FLAG(int, worker_threads, kDefaults.worker_threads,
          "Threads of the server's own that run admitted calls, in order of "
          "arrival (when they are idle, gRPC's thread runs one call at a "
          "time itself); 0: the number of cores (at least 2).");
ABSL_FLAG(int64_t, max_query_steps, kDefaults.max_query_steps,
          "SQLite steps one call's index queries may take; beyond it the "
          "call gets RESOURCE_EXHAUSTED. 0: no limit.");
ABSL_FLAG(absl::Duration, lame_duck, kDefaults.lame_duck,
          "On SIGTERM/SIGINT, how long to keep serving after health turns "
          "NOT_SERVING (set it to the readiness probe period behind a load "
          "balancer).");
ABSL_FLAG(absl::Duration, drain_timeout, kDefaults.drain_timeout,
          "Then how long in-flight calls may run before they are cancelled.");

namespace {

// Debian's Abseil is built without NDEBUG, which turns on its debug-only
// deadlock detection: every absl::Mutex lock, gRPC's included, updates a
// process-wide graph of lock order (and takes a stack trace when locks
// nest): 5% of the server's instructions per EvaluateStack, 1.6% per Ask
// (callgrind; bench/RESULTS.md). Tests that run a Server in-process keep it
// on. With tcmalloc, its per-thread caches of freed memory may grow to
// 32 MiB in all by default, a little more each time a gRPC thread frees a
// burst: over the 5-minute soak (scripts/soak.sh) resident memory crept
// from 34.6 to 37.6 MB with no leak (LeakSanitizer found none). Capped at
// 4 MiB it stays flat at 29.9 MB, and Ask's throughput is unchanged within
// noise.
void TuneProcess() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#ifdef CITEKB_TCMALLOC
  MallocExtension::instance()->SetNumericProperty(
      "tcmalloc.max_total_thread_cache_bytes", size_t{4} << 20);
#endif
}

// --help and --helpshort list this file's flags, with their defaults.
// (Abseil's default looks for flags in files named after the program,
// citekb-server.cc, and finds none.)
void SetUpUsage() {
  absl::SetProgramUsageMessage(
      "Serves a citekb index over gRPC.\n"
      "Usage: citekb-server --index FILE [--listen HOST:PORT] "
      "[--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]] [--insecure]\n"
      "Flag names may be written with dashes or underscores.");
  absl::FlagsUsageConfig config;
  config.contains_help_flags = [](absl::string_view path) {
    return absl::EndsWith(path, "service/main.cc");
  };
  config.contains_helpshort_flags = config.contains_help_flags;
  // "Flags from service/main.cc", wherever the source was built from.
  config.normalize_filename = [](absl::string_view path) {
    const size_t at = path.rfind("service/main.cc");
    return std::string(at == absl::string_view::npos ? path : path.substr(at));
  };
  absl::SetFlagsUsageConfig(config);
}

// "--tls-cert=x" -> "--tls_cert=x", "--no-insecure" -> "--no_insecure":
// dashes become underscores in the name of each "--" argument (not in its
// "=value", and not in separate values, which never start with "--" for
// these flags). "--" itself ends the flags and stays.
std::vector<char*> NormalizeFlagNames(int argc, char** argv,
                                      std::vector<std::string>& storage) {
  storage.reserve(argc);
  std::vector<char*> out;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (i > 0 && absl::StartsWith(arg, "--") && arg.size() > 2) {
      const size_t equals = arg.find('=');
      const size_t name_end = equals == std::string::npos ? arg.size() : equals;
      std::string name = absl::StrReplaceAll(
          absl::string_view(arg).substr(2, name_end - 2), {{"-", "_"}});
      arg = absl::StrCat("--", name, absl::string_view(arg).substr(name_end));
    }
    storage.push_back(std::move(arg));
    out.push_back(storage.back().data());
  }
  return out;
}

// Sets the flags from the command line (exiting for --help and for flags
// that do not parse); false, having said why, when arguments are left over.
bool ParseFlags(int argc, char** argv) {
  std::vector<std::string> storage;
  std::vector<char*> args = NormalizeFlagNames(argc, argv, storage);
  std::vector<char*> rest =
      absl::ParseCommandLine(static_cast<int>(args.size()), args.data());
  if (rest.size() > 1) {
    std::cerr << "citekb-server: unexpected argument \"" << rest[1]
              << "\" (use --index FILE --listen HOST:PORT)\n";
    return false;
  }
  return true;
}

// Blocks the signals the server handles in the calling thread, and so in
// every thread started after it, into `*signals`: only the thread that
// sigwait()s for them ever sees them, and no work happens in a signal
// handler. False, having said why, when they cannot be blocked.
bool BlockHandledSignals(sigset_t* signals) {
  sigemptyset(signals);
  sigaddset(signals, SIGTERM);
  sigaddset(signals, SIGINT);
  sigaddset(signals, SIGHUP);
  if (int error = pthread_sigmask(SIG_BLOCK, signals, nullptr); error != 0) {
    std::cerr << "citekb-server: cannot block signals: " << std::strerror(error)
              << "\n";
    return false;
  }
  return true;
}

// Where to listen and with which credentials.
void SetAddressFromFlags(citekb::ServerOptions& options) {
  options.index_path = absl::GetFlag(FLAGS_index);
  options.listen = absl::GetFlag(FLAGS_listen);
  options.tls_cert_path = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key_path = absl::GetFlag(FLAGS_tls_key);
  options.tls_client_ca_path = absl::GetFlag(FLAGS_tls_client_ca);
  options.insecure = absl::GetFlag(FLAGS_insecure);
}

// The request log.
void SetLogFromFlags(citekb::ServerOptions& options) {
  options.log_requests = absl::GetFlag(FLAGS_log_requests);
  options.log_questions = absl::GetFlag(FLAGS_log_questions);
  options.log_flush_interval = absl::GetFlag(FLAGS_log_flush_interval);
}

// What one caller may take, and how calls run.
void SetLimitsFromFlags(citekb::ServerOptions& options) {
  options.max_receive_message_bytes = absl::GetFlag(FLAGS_max_request_bytes);
  options.max_concurrent_streams = absl::GetFlag(FLAGS_max_concurrent_streams);
  options.max_threads = absl::GetFlag(FLAGS_max_threads);
  options.worker_threads = absl::GetFlag(FLAGS_worker_threads);
  options.max_query_steps = absl::GetFlag(FLAGS_max_query_steps);
}

// Reloading and shutting down.
void SetLifecycleFromFlags(citekb::ServerOptions& options) {
  options.reload_poll_interval = absl::GetFlag(FLAGS_reload_poll_interval);
  options.lame_duck = absl::GetFlag(FLAGS_lame_duck);
  options.drain_timeout = absl::GetFlag(FLAGS_drain_timeout);
}

citekb::ServerOptions ServerOptionsFromFlags() {
  citekb::ServerOptions options;
  SetAddressFromFlags(options);
  SetLogFromFlags(options);
  SetLimitsFromFlags(options);
  SetLifecycleFromFlags(options);
  return options;
}

// "citekb-server: serving ... on ADDRESS" (and the TLS line), which scripts
// and tests wait for. One write, so whoever watches stderr never sees half
// of it.
void AnnounceServing(const citekb::ServerOptions& options,
                     const citekb::Server& server) {
  std::string serving =
      absl::StrCat("citekb-server: serving ", options.index_path, " on ",
                   server.address(), "\n");
  if (!options.tls_cert_path.empty()) {
    absl::StrAppend(&serving, "citekb-server: TLS with ", options.tls_cert_path,
                    options.tls_client_ca_path.empty()
                        ? ""
                        : absl::StrCat("; clients need a certificate from ",
                                       options.tls_client_ca_path),
                    "\n");
  }
  std::cerr.write(serving.data(), static_cast<std::streamsize>(serving.size()));
  std::cerr.flush();
}

// Serves until SIGTERM or SIGINT has shut `server` down; SIGHUP reloads its
// index meanwhile. `signals` must be blocked in every thread.
void ServeUntilSignalled(citekb::Server& server, const sigset_t& signals) {
  std::thread signal_waiter([&signals, &server] {
    while (true) {
      int signal_number = 0;
      sigwait(&signals, &signal_number);
      if (signal_number == SIGHUP) {
        // Reload() logs the outcome; a refused file leaves the old index.
        server.Reload().IgnoreError();
        continue;
      }
      std::cerr << "citekb-server: " << strsignal(signal_number)
                << ", shutting down" << std::endl;
      server.Shutdown();
      return;
    }
  });
  // Only the signal thread calls Shutdown(), so when Wait() returns it has
  // received its signal and the join below cannot block for long.
  server.Wait();
  signal_waiter.join();
}

}  // namespace

int main(int argc, char** argv) {
  TuneProcess();
  SetUpUsage();
  if (!ParseFlags(argc, argv)) return 2;
  // Before gRPC starts any thread, so that every thread inherits the mask.
  sigset_t handled_signals;
  if (!BlockHandledSignals(&handled_signals)) return 1;

  const citekb::ServerOptions options = ServerOptionsFromFlags();
  absl::StatusOr<std::unique_ptr<citekb::Server>> server =
      citekb::Server::Start(options);
  if (!server.ok()) {
    std::cerr << "citekb-server: " << server.status().message() << "\n";
    return 1;
  }
  AnnounceServing(options, **server);
  ServeUntilSignalled(**server, handled_signals);
  server->reset();
  std::cerr << "citekb-server: stopped" << std::endl;
  return 0;
}
