// The `citekb` command-line client: one subcommand per KnowledgeBase RPC
// (proto/citekb/v1/knowledge_base.proto), human-readable output by default
// (format.h) and the protobuf JSON mapping with --json.
//
//   citekb [GLOBAL FLAGS] COMMAND [ARGS] [FLAGS]
//
// Commands:
//
//   ask QUESTION        Ask: the answer with numbered sources, supporting
//                       passages and suggested follow-ups.
//       --max-passages N    at most N supporting passages (server default 5)
//       --history TEXT      an earlier question, oldest first (repeatable);
//                           lets the server resolve "and how much?"
//   search QUERY        Search: matching passages with snippet and score.
//       --kind paragraph|table_row|faq   --section ID
//       --page-size N   --page-token T
//   sections            ListSections: every section id and title.
//       --article ID
//   section ID          GetSection: the section's text, tables and figures.
//   faq                 ListFaqs: questions with their answers.
//       --article ID
//   citations           ListCitations: the sources the articles cite.
//       --pmid N  --doi D  --kind pubmed|pmc|doi|web|safety_reference
//       --section ID  --text WORDS  --page-size N  --page-token T
//   citation ID         GetCitation: one source and the sentences citing it;
//                       ID may be "pmid:…", a bare PMID, a PMCID, a DOI or a
//                       URL.
//   links               ListRelatedLinks: links to other articles and tools.
//       --kind article|tool  --article ID
//   stack TEXT          EvaluateStack: doses understood and findings.
//       --timing morning|midday|evening|night
//       --with-meal | --without-meal   --serum NG_PER_ML
//       --medication NAME (repeatable)
//   help [COMMAND]      Usage, for all commands or one.
//
// Global flags, accepted before or after the command:
//   --server HOST:PORT  server address (CliOptions::server)
//   --json              print only the response as JSON
//   --timeout SECONDS   deadline of the call: "10", "2.5" or "500ms"
//   --tls               connect with TLS, trusting the system's CAs
//   --tls-ca FILE       connect with TLS, trusting the CAs in FILE (PEM)
//   --tls-cert FILE --tls-key FILE
//                       client certificate and key, for servers that
//                       require one (mutual TLS); imply --tls
//   --tls-server-name NAME
//                       name expected in the server's certificate when it is
//                       not the --server host
//   --help, -h          usage of the command (or of citekb), exit 0
//
// Flags take their value as "--flag=value" or "--flag value". Several words
// after ask/search/stack are joined with spaces, so quoting the question is
// optional. "--" ends the flags: later arguments are words even when they
// start with "-".
//
// Exit codes and messages (messages go to `err`, results to `out`):
//   0  success (also for help)
//   1  the server returned an error:
//        citekb: INVALID_ARGUMENT: question: must not be empty
//      or could not be reached in time (UNAVAILABLE, DEADLINE_EXCEEDED):
//        citekb: cannot reach server at 127.0.0.1:50051: <detail>
//   2  usage error (unknown command or flag, missing or extra argument, a
//      flag value that is not a number or not one of the listed names, a
//      --tls-* file that cannot be read or is not PEM); the message is
//      followed by the command's usage line, and no RPC is made.
//
// The client only checks syntax; ranges (for example --max-passages 50) are
// the server's to judge, so its INVALID_ARGUMENT reaches the user as is.
//
// --json prints the response with google::protobuf::util::MessageToJsonString
// using the proto field names ("next_page_token", not "nextPageToken"),
// enum value names, and omitting fields at their default value; the output
// parses back with JsonStringToMessage. Nothing else is written to `out`.
//
// Thread-safety: RunCli keeps no state between calls and may run
// concurrently from several threads, each with its own streams.

#ifndef CITEKB_CLIENTS_CLI_CLI_H_
#define CITEKB_CLIENTS_CLI_CLI_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace citekb {

// Defaults for the global flags; flags in the arguments override them.
// main() fills `server` from $CITEKB_SERVER so that RunCli itself never reads
// the environment.
struct CliOptions {
  // Address of the KnowledgeBase server, "host:port".
  std::string server = "127.0.0.1:50051";
  // Print responses as JSON instead of text.
  bool json = false;
  // Deadline for each RPC, counted from when the call starts.
  absl::Duration timeout = absl::Seconds(10);
  // TLS: on when `tls` is set or any path is given. Empty `tls_ca_path`
  // trusts the system's CAs; the client certificate and key go together.
  bool tls = false;
  std::string tls_ca_path;
  std::string tls_cert_path;
  std::string tls_key_path;
  std::string tls_server_name;
};

// Exit codes of RunCli.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // Server error or unreachable.
inline constexpr int kExitUsage = 2;    // Bad command line.

// Runs one command line. `args` excludes the program name: args[0] is the
// command (or a global flag preceding it), for example
// {"ask", "why K2 with D3?", "--max-passages", "3"}. Writes results to `out`
// and messages to `err`, and returns the exit code described above. Makes at
// most one RPC.
int RunCli(const std::vector<std::string>& args, const CliOptions& defaults,
           std::ostream& out, std::ostream& err);

}  // namespace citekb

#endif  // CITEKB_CLIENTS_CLI_CLI_H_
