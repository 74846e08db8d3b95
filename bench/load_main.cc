// citekb-load: drives one RPC of a citekb server at a fixed concurrency and
// prints throughput, latency percentiles and errors by status code.
//
//   citekb-load --target 127.0.0.1:50051 --rpc ask --concurrency 32
//               --duration 10s --warmup 2s --json ask.json
//
// Flags become LoadOptions (load_generator.h); requests come from
// request_mix.h. Exits 0 after a run, 1 when the run cannot start (no
// connection, unreadable questions), 2 on a usage error, 3 when
// --fail_on_errors is set and any call failed with a code not in
// --expected_errors.

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "bench/load_generator.h"
#include "bench/process_stats.h"
#include "bench/request_mix.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "Server address, host:port.");
ABSL_FLAG(std::string, rpc, "ask",
          "ask, ask_reference (Ask as a chat front end sends it: passages "
          "without their texts), search, evaluate_stack, list_citations, or "
          "health (grpc.health.v1.Health/Check, the floor).");
ABSL_FLAG(int, concurrency, 1, "Calls kept outstanding.");
ABSL_FLAG(int, channels, 1,
          "Channels (TCP connections) the calls are spread over.");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10),
          "How long to measure, after the warm-up (ignored with --requests).");
ABSL_FLAG(int64_t, requests, 0,
          "When positive, measure this many calls instead of a duration.");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(1),
          "Unmeasured calls first, for this long.");
ABSL_FLAG(absl::Duration, deadline, absl::Seconds(10),
          "Deadline of each call.");
ABSL_FLAG(absl::Duration, min_deadline, absl::ZeroDuration(),
          "When positive, each call's deadline is random between this and "
          "--deadline.");
ABSL_FLAG(double, cancel_fraction, 0,
          "Share of calls (0-1) the client cancels at a random moment before "
          "the deadline.");
ABSL_FLAG(std::string, questions, CITEKB_SOURCE_DIR "/tests/eval/ask_eval.txt",
          "Evaluation set whose questions (and history) Ask and Search send.");
ABSL_FLAG(std::string, json, "",
          "Also write the results as JSON to this file.");
ABSL_FLAG(std::string, label, "",
          "A name for this run, printed and put in the JSON.");
ABSL_FLAG(bool, verify, false,
          "Parse every OK response as the RPC's response message (health: "
          "must say SERVING); failures count as BAD_RESPONSE errors.");
ABSL_FLAG(bool, fail_on_errors, false, "Exit 3 when any call failed.");
ABSL_FLAG(
    std::vector<std::string>, expected_errors, {},
    "Status codes (e.g. CANCELLED,DEADLINE_EXCEEDED) that --fail_on_errors "
    "accepts: a soak's own cancellations and deadlines.");
ABSL_FLAG(int, server_pid, 0,
          "The server's process id, to report its CPU time per call and its "
          "memory (Linux /proc).");

namespace citekb {
namespace {

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

struct Report {
  LoadOptions options;
  LoadResult result;
  std::string label;
  size_t distinct_requests = 0;
  ProcessMemory server_memory;
  bool has_server_memory = false;
};

void PrintText(const Report& r) {
  const LoadOptions& o = r.options;
  const LoadResult& x = r.result;
  absl::PrintF("citekb-load%s: %s on %s, concurrency %d, %d channel%s, %s",
               r.label.empty() ? "" : absl::StrCat(" [", r.label, "]"),
               RpcName(o.rpc), o.target, o.concurrency, o.channels,
               o.channels == 1 ? "" : "s",
               o.requests > 0 ? absl::StrCat(o.requests, " calls")
                              : absl::FormatDuration(o.duration));
  absl::PrintF(" after %s warm-up, %d distinct requests\n",
               absl::FormatDuration(o.warmup), r.distinct_requests);
  absl::PrintF(
      "  requests  %d in %.2f s (%d errors; warm-up %d calls, %d errors)\n",
      x.requests, absl::ToDoubleSeconds(x.elapsed), x.errors, x.warmup_requests,
      x.warmup_errors);
  absl::PrintF("  qps       %.1f\n", x.qps);
  absl::PrintF(
      "  latency   p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  max "
      "%.3f ms"
      "  (mean %.3f ms)\n",
      Ms(x.latency.Percentile(50)), Ms(x.latency.Percentile(90)),
      Ms(x.latency.Percentile(99)), Ms(x.latency.Percentile(99.9)),
      Ms(x.latency.max()), Ms(x.latency.mean()));
  const double per_call = x.requests > 0 ? 1e6 / x.requests : 0;
  absl::PrintF("  cpu       client %.2f s (%.0f us/call)", x.client_cpu_seconds,
               x.client_cpu_seconds * per_call);
  if (x.server_cpu_seconds >= 0) {
    absl::PrintF(", server %.2f s (%.0f us/call)", x.server_cpu_seconds,
                 x.server_cpu_seconds * per_call);
  }
  absl::PrintF("\n");
  if (r.has_server_memory) {
    absl::PrintF("  server    rss %.1f MB, peak %.1f MB\n",
                 r.server_memory.rss_kb / 1024.0,
                 r.server_memory.peak_rss_kb / 1024.0);
  }
  for (const auto& [code, count] : x.errors_by_code) {
    auto message = x.error_messages.find(code);
    absl::PrintF("  error     %s %d (\"%s\")\n", code, count,
                 message == x.error_messages.end() ? "" : message->second);
  }
  if (x.warmup_errors > 0 && x.errors == 0) {
    for (const auto& [code, message] : x.error_messages) {
      absl::PrintF("  warm-up error %s (\"%s\")\n", code, message);
    }
  }
}

std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppendFormat(&out, "\\u%04x", c);
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

std::string Json(const Report& r) {
  const LoadOptions& o = r.options;
  const LoadResult& x = r.result;
  std::vector<std::string> errors;
  for (const auto& [code, count] : x.errors_by_code) {
    errors.push_back(absl::StrCat(JsonString(code), ": ", count));
  }
  std::string json = absl::StrFormat(
      "{\n  \"label\": %s,\n  \"rpc\": %s,\n  \"target\": %s,\n  "
      "\"concurrency\": %d,\n"
      "  \"channels\": %d,\n  \"distinct_requests\": %d,\n  \"requests\": %d,\n"
      "  \"errors\": %d,\n  \"errors_by_code\": {%s},\n  \"warmup_requests\": "
      "%d,\n"
      "  \"warmup_errors\": %d,\n  \"elapsed_s\": %.6f,\n  \"qps\": %.3f,\n"
      "  \"latency_ms\": {\"p50\": %.6f, \"p90\": %.6f, \"p99\": %.6f, "
      "\"p99_9\": %.6f, "
      "\"max\": %.6f, \"mean\": %.6f, \"min\": %.6f},\n"
      "  \"client_cpu_s\": %.4f,\n  \"server_cpu_s\": %.4f",
      JsonString(r.label), JsonString(RpcName(o.rpc)), JsonString(o.target),
      o.concurrency, o.channels, r.distinct_requests, x.requests, x.errors,
      absl::StrJoin(errors, ", "), x.warmup_requests, x.warmup_errors,
      absl::ToDoubleSeconds(x.elapsed), x.qps, Ms(x.latency.Percentile(50)),
      Ms(x.latency.Percentile(90)), Ms(x.latency.Percentile(99)),
      Ms(x.latency.Percentile(99.9)), Ms(x.latency.max()), Ms(x.latency.mean()),
      Ms(x.latency.min()), x.client_cpu_seconds, x.server_cpu_seconds);
  if (r.has_server_memory) {
    absl::StrAppendFormat(
        &json, ",\n  \"server_rss_kb\": %d,\n  \"server_peak_rss_kb\": %d",
        r.server_memory.rss_kb, r.server_memory.peak_rss_kb);
  }
  return json + "\n}\n";
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Load generator for citekb-server.\n"
      "Usage: citekb-load --target HOST:PORT --rpc "
      "ask|ask_reference|search|evaluate_stack|"
      "list_citations|health [--concurrency N] [--duration 10s | --requests "
      "N]");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    std::cerr << "citekb-load: unexpected argument \"" << rest[1] << "\"\n";
    return 2;
  }
  Report report;
  LoadOptions& o = report.options;
  if (!ParseRpc(absl::GetFlag(FLAGS_rpc), &o.rpc)) {
    std::cerr << "citekb-load: --rpc: unknown RPC \""
              << absl::GetFlag(FLAGS_rpc)
              << "\" (ask, ask_reference, search, evaluate_stack, "
                 "list_citations, health)\n";
    return 2;
  }
  o.target = absl::GetFlag(FLAGS_target);
  o.concurrency = absl::GetFlag(FLAGS_concurrency);
  o.channels = absl::GetFlag(FLAGS_channels);
  o.duration = absl::GetFlag(FLAGS_duration);
  o.requests = absl::GetFlag(FLAGS_requests);
  o.warmup = absl::GetFlag(FLAGS_warmup);
  o.deadline = absl::GetFlag(FLAGS_deadline);
  o.min_deadline = absl::GetFlag(FLAGS_min_deadline);
  o.cancel_fraction = absl::GetFlag(FLAGS_cancel_fraction);
  o.verify = absl::GetFlag(FLAGS_verify);
  o.server_pid = absl::GetFlag(FLAGS_server_pid);
  report.label = absl::GetFlag(FLAGS_label);

  std::vector<EvalQuestion> questions;
  if (NeedsQuestions(o.rpc)) {
    absl::StatusOr<std::vector<EvalQuestion>> loaded =
        LoadEvalQuestions(absl::GetFlag(FLAGS_questions));
    if (!loaded.ok()) {
      std::cerr << "citekb-load: " << loaded.status().message() << "\n";
      return 1;
    }
    questions = *std::move(loaded);
  }
  absl::StatusOr<RequestMix> mix = BuildRequestMix(o.rpc, questions);
  if (!mix.ok()) {
    std::cerr << "citekb-load: " << mix.status().message() << "\n";
    return 1;
  }
  report.distinct_requests = mix->requests.size();

  absl::StatusOr<LoadResult> result = RunLoad(o, *mix);
  if (!result.ok()) {
    std::cerr << "citekb-load: " << result.status().message() << "\n";
    return absl::IsInvalidArgument(result.status()) ? 2 : 1;
  }
  report.result = *std::move(result);
  if (o.server_pid > 0) {
    absl::StatusOr<ProcessMemory> memory = ReadProcessMemory(o.server_pid);
    if (memory.ok()) {
      report.server_memory = *memory;
      report.has_server_memory = true;
    }
  }
  PrintText(report);
  std::fflush(stdout);

  const std::string json_path = absl::GetFlag(FLAGS_json);
  if (!json_path.empty()) {
    std::ofstream out(json_path);
    out << Json(report);
    if (!out.flush()) {
      std::cerr << "citekb-load: --json: cannot write " << json_path << "\n";
      return 1;
    }
  }
  // Measured calls only count with --expected_errors: warm-up errors are
  // not reported by code.
  const std::vector<std::string> expected =
      absl::GetFlag(FLAGS_expected_errors);
  int64_t unexpected = expected.empty() ? report.result.warmup_errors : 0;
  for (const auto& [code, count] : report.result.errors_by_code) {
    if (std::find(expected.begin(), expected.end(), code) == expected.end()) {
      unexpected += count;
    }
  }
  if (unexpected > 0 && !expected.empty()) {
    std::cerr << "citekb-load: " << unexpected << " unexpected errors\n";
  }
  return absl::GetFlag(FLAGS_fail_on_errors) && unexpected > 0 ? 3 : 0;
}

}  // namespace
}  // namespace citekb

int main(int argc, char** argv) { return citekb::Main(argc, argv); }
