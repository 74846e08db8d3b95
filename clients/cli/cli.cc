#include "clients/cli/cli.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "citekb/v1/knowledge_base.grpc.pb.h"
#include "citekb/v1/knowledge_base.pb.h"
#include "clients/cli/format.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "indexer/base/status_macros.h"

namespace citekb {
namespace {

using v1::KnowledgeBase;

// A longer deadline than this is a typo, and a far-future deadline would
// overflow the clock arithmetic.
constexpr absl::Duration kMaxTimeout = absl::Hours(24);

// ---------------------------------------------------------------------------
// Command-line model
// ---------------------------------------------------------------------------

enum class Arity {
  kSwitch,    // --json
  kOne,       // --page-size 5, at most once
  kRepeated,  // --history "..." --history "..."
};

struct FlagSpec {
  absl::string_view name;  // Without the dashes.
  Arity arity;
  absl::string_view value_name;  // "N", "ID", "paragraph|table_row|faq".
  absl::string_view help;
};

// What a command takes besides flags.
enum class Words {
  kNone,    // sections
  kOne,     // section ID
  kJoined,  // ask why K2 with D3?  -> one question, words joined by spaces
  kHelp,    // help [COMMAND]
};

struct ParsedArgs;
struct Invocation;

struct CommandSpec {
  absl::string_view name;
  Words words;
  absl::string_view word_name;  // "QUESTION", "ID"; empty for kNone.
  absl::string_view summary;    // One line, for "citekb help".
  absl::string_view details;    // For "citekb help COMMAND".
  std::vector<FlagSpec> flags;
  int (*run)(const Invocation&);  // Null for "help".

  const FlagSpec* FindFlag(absl::string_view flag) const {
    for (const FlagSpec& spec : flags) {
      if (spec.name == flag) return &spec;
    }
    return nullptr;
  }
};

// The command line after parsing, before any value is interpreted.
struct ParsedArgs {
  // Non-flag arguments after the command, in order.
  std::vector<std::string> words;
  // Command flag values by name, in command-line order; a switch has one
  // empty value.
  std::map<std::string, std::vector<std::string>, std::less<>> flags;

  bool Has(absl::string_view flag) const {
    return flags.find(flag) != flags.end();
  }

  // The value of a kOne flag; nullptr when not given.
  const std::string* Value(absl::string_view flag) const {
    auto it = flags.find(flag);
    return it == flags.end() ? nullptr : &it->second.front();
  }

  std::vector<std::string> Values(absl::string_view flag) const {
    auto it = flags.find(flag);
    return it == flags.end() ? std::vector<std::string>() : it->second;
  }

  // The words of a kJoined/kOne command as one string.
  std::string Text() const { return absl::StrJoin(words, " "); }
};

struct Invocation {
  const CommandSpec& command;
  const ParsedArgs& args;
  const CliOptions& options;
  // Plaintext, or TLS built from the --tls* flags.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  std::ostream& out;
  std::ostream& err;
};

const std::vector<FlagSpec>& GlobalFlags() {
  static const auto* const kFlags = new std::vector<FlagSpec>{
      {"server", Arity::kOne, "HOST:PORT", "Address of the citekb server."},
      {"json", Arity::kSwitch, "",
       "Print only the response, as JSON with proto field names."},
      {"timeout", Arity::kOne, "SECONDS",
       "Deadline for the call: \"10\", \"2.5\" or \"500ms\". Default 10."},
      {"tls", Arity::kSwitch, "",
       "Connect with TLS, trusting the system's CA certificates."},
      {"tls-ca", Arity::kOne, "FILE",
       "Connect with TLS, trusting the CA certificates in FILE (PEM)."},
      {"tls-cert", Arity::kOne, "FILE",
       "Client certificate (PEM) for servers that require one; with "
       "--tls-key."},
      {"tls-key", Arity::kOne, "FILE", "Private key (PEM) of --tls-cert."},
      {"tls-server-name", Arity::kOne, "NAME",
       "Name to expect in the server's certificate, when it differs from "
       "the --server host."},
      {"help", Arity::kSwitch, "", "Show usage and exit."},
  };
  return *kFlags;
}

const FlagSpec* FindGlobalFlag(absl::string_view name) {
  for (const FlagSpec& spec : GlobalFlags()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

const std::vector<CommandSpec>& Commands();

const CommandSpec* FindCommand(absl::string_view name) {
  for (const CommandSpec& command : Commands()) {
    if (command.name == name) return &command;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------
// Usage text
// ---------------------------------------------------------------------------

std::string FlagUsage(const FlagSpec& flag) {
  std::string usage = absl::StrCat("--", flag.name);
  if (flag.arity != Arity::kSwitch)
    absl::StrAppend(&usage, " ", flag.value_name);
  return usage;
}

std::string UsageLine(const CommandSpec& command) {
  std::string line = absl::StrCat("usage: citekb ", command.name);
  switch (command.words) {
    case Words::kNone:
      break;
    case Words::kHelp:
      absl::StrAppend(&line, " [", command.word_name, "]");
      break;
    default:
      absl::StrAppend(&line, " ", command.word_name);
  }
  for (const FlagSpec& flag : command.flags) {
    absl::StrAppend(&line, " [", FlagUsage(flag), "]",
                    flag.arity == Arity::kRepeated ? "..." : "");
  }
  return line + "\n";
}

std::string FlagTable(const std::vector<FlagSpec>& flags) {
  std::vector<std::vector<std::string>> rows;
  for (const FlagSpec& flag : flags) {
    rows.push_back(
        {FlagUsage(flag),
         absl::StrCat(flag.help,
                      flag.arity == Arity::kRepeated ? " Repeatable." : "")});
  }
  return RenderColumns({}, rows, "  ");
}

std::string MainHelp(const CliOptions& defaults) {
  std::vector<std::vector<std::string>> commands;
  for (const CommandSpec& command : Commands()) {
    std::string synopsis(command.name);
    if (command.words == Words::kHelp) {
      absl::StrAppend(&synopsis, " [", command.word_name, "]");
    } else if (command.words != Words::kNone) {
      absl::StrAppend(&synopsis, " ", command.word_name);
    }
    commands.push_back({synopsis, std::string(command.summary)});
  }
  return absl::StrCat(
      "citekb asks the citekb knowledge-base server. Answers come only from\n"
      "the indexed articles and always cite their sources.\n"
      "\n"
      "usage: citekb [--server HOST:PORT] [--json] [--timeout SECONDS] "
      "[--tls-ca FILE] COMMAND [ARGS] [FLAGS]\n"
      "\n"
      "Commands:\n",
      RenderColumns({}, commands, "  "),
      "\n"
      "Global flags (before or after the command):\n",
      FlagTable(GlobalFlags()),
      "\n"
      "Default server: ",
      defaults.server,
      " (change it with --server or $CITEKB_SERVER).\n"
      "Run \"citekb help COMMAND\" for a command's flags.\n"
      "Exit status: 0 success, 1 server error or server unreachable, "
      "2 usage error.\n");
}

std::string CommandHelp(const CommandSpec& command) {
  std::string help =
      absl::StrCat(UsageLine(command), "\n", command.summary, "\n");
  if (!command.details.empty()) absl::StrAppend(&help, command.details, "\n");
  if (!command.flags.empty()) {
    absl::StrAppend(&help, "\nFlags:\n", FlagTable(command.flags));
  }
  absl::StrAppend(&help,
                  "\nGlobal flags: --server HOST:PORT, --json, "
                  "--timeout SECONDS, --tls-ca FILE ... (see \"citekb "
                  "help\").\n");
  return help;
}

// Prints the reason and how to get it right; `command` may be null when the
// command itself is what is wrong.
int UsageError(const CommandSpec* command, absl::string_view message,
               std::ostream& err) {
  err << "citekb: " << message << "\n";
  if (command != nullptr) {
    err << UsageLine(*command) << "Run \"citekb help " << command->name
        << "\" for details.\n";
  } else {
    err << "Run \"citekb help\" for the list of commands.\n";
  }
  return kExitUsage;
}

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

struct CommandLine {
  const CommandSpec* command = nullptr;  // Null until the command is read.
  ParsedArgs args;
  CliOptions options;
  bool help = false;
};

absl::StatusOr<absl::Duration> ParseTimeout(absl::string_view value) {
  absl::Duration timeout;
  double seconds = 0;
  // Plain numbers are seconds, as the flag's name promises; Abseil duration
  // syntax ("500ms") is accepted too because tests and scripts want short
  // deadlines without fractions.
  if (absl::SimpleAtod(value, &seconds) && std::isfinite(seconds)) {
    // Clamped before conversion so that 1e300 is "too long", not infinite.
    timeout = absl::Seconds(
        std::min(seconds, absl::ToDoubleSeconds(kMaxTimeout) + 1));
  } else if (!absl::ParseDuration(value, &timeout)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--timeout: \"", value,
        "\" is not a number of seconds (for example 10, 2.5 or 500ms)"));
  }
  if (timeout <= absl::ZeroDuration() || timeout > kMaxTimeout) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--timeout: \"", value, "\" must be more than 0 and at most 24h"));
  }
  return timeout;
}

absl::Status ApplyGlobalFlag(absl::string_view name, const std::string& value,
                             CommandLine* line) {
  if (name == "server") {
    if (absl::StripAsciiWhitespace(value).empty()) {
      return absl::InvalidArgumentError("--server: must not be empty");
    }
    line->options.server = value;
  } else if (name == "json") {
    line->options.json = true;
  } else if (name == "help") {
    line->help = true;
  } else if (name == "timeout") {
    absl::StatusOr<absl::Duration> timeout = ParseTimeout(value);
    if (!timeout.ok()) return timeout.status();
    line->options.timeout = *timeout;
  } else if (name == "tls") {
    line->options.tls = true;
  } else if (name == "tls-ca" || name == "tls-cert" || name == "tls-key" ||
             name == "tls-server-name") {
    if (absl::StripAsciiWhitespace(value).empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, ": must not be empty"));
    }
    line->options.tls = true;
    (name == "tls-ca"     ? line->options.tls_ca_path
     : name == "tls-cert" ? line->options.tls_cert_path
     : name == "tls-key"  ? line->options.tls_key_path
                          : line->options.tls_server_name) = value;
  }
  return absl::OkStatus();
}

// Splits `args` into the command, its words and flags, and applies global
// flags to `line->options`. Flag values are interpreted later, by the
// command, except those of global flags. On error `line->command` is set if
// the command was already read, so the caller can show its usage.
absl::Status ParseCommandLine(const std::vector<std::string>& args,
                              CommandLine* line) {
  bool flags_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!flags_done && arg == "--") {
      flags_done = true;
      continue;
    }
    if (flags_done || arg.size() < 2 || arg[0] != '-') {
      if (line->command == nullptr) {
        line->command = FindCommand(arg);
        if (line->command == nullptr) {
          return absl::InvalidArgumentError(
              absl::StrCat("unknown command \"", arg, "\""));
        }
      } else {
        line->args.words.push_back(arg);
      }
      continue;
    }

    // A flag: -x, --x, --x=value or --x value.
    absl::string_view body = arg;
    absl::ConsumePrefix(&body, "-");
    absl::ConsumePrefix(&body, "-");
    std::optional<std::string> value;
    if (size_t eq = body.find('='); eq != absl::string_view::npos) {
      value = std::string(body.substr(eq + 1));
      body = body.substr(0, eq);
    }
    std::string name(body == "h" ? "help" : body);

    bool global = true;
    const FlagSpec* spec = FindGlobalFlag(name);
    if (spec == nullptr && line->command != nullptr) {
      spec = line->command->FindFlag(name);
      global = false;
    }
    if (spec == nullptr) {
      if (line->command == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown flag \"", arg,
                         "\" (a command's own flags go after the command)"));
      }
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag \"", arg, "\" for \"citekb ",
                       line->command->name, "\""));
    }

    if (spec->arity == Arity::kSwitch) {
      if (value.has_value()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", name, " takes no value"));
      }
      value = "";
    } else if (!value.has_value()) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--", name, " needs a value (", spec->value_name, ")"));
      }
      // The next argument is the value even if it starts with "-", so that
      // "--max-passages -1" reaches the server's range check.
      value = args[++i];
    }

    if (global) {
      CITEKB_RETURN_IF_ERROR(ApplyGlobalFlag(name, *value, line));
      continue;
    }
    std::vector<std::string>& values = line->args.flags[name];
    if (spec->arity != Arity::kRepeated && !values.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, " given more than once"));
    }
    values.push_back(*std::move(value));
  }
  return absl::OkStatus();
}

// Checks the command's words against what it takes.
absl::Status CheckWords(const CommandSpec& command, const ParsedArgs& args) {
  const std::vector<std::string>& words = args.words;
  switch (command.words) {
    case Words::kNone:
      if (!words.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("unexpected argument \"", words[0], "\""));
      }
      break;
    case Words::kOne:
    case Words::kHelp:
      if (words.size() > 1) {
        return absl::InvalidArgumentError(
            absl::StrCat("unexpected argument \"", words[1], "\""));
      }
      if (command.words == Words::kOne &&
          (words.empty() || absl::StripAsciiWhitespace(words[0]).empty())) {
        return absl::InvalidArgumentError(
            absl::StrCat("missing ", command.word_name));
      }
      break;
    case Words::kJoined:
      // An explicitly empty question ("") is as missing as no question.
      if (absl::StripAsciiWhitespace(args.Text()).empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("missing ", command.word_name));
      }
      break;
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Flag values
// ---------------------------------------------------------------------------

// Each Get* leaves `*value` alone when the flag was not given.

absl::Status GetInt32(const ParsedArgs& args, absl::string_view flag,
                      int32_t* value) {
  const std::string* text = args.Value(flag);
  if (text == nullptr) return absl::OkStatus();
  if (!absl::SimpleAtoi(*text, value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": \"", *text, "\" is not a whole number"));
  }
  return absl::OkStatus();
}

absl::Status GetDouble(const ParsedArgs& args, absl::string_view flag,
                       double* value) {
  const std::string* text = args.Value(flag);
  if (text == nullptr) return absl::OkStatus();
  if (!absl::SimpleAtod(*text, value) || !std::isfinite(*value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": \"", *text, "\" is not a number"));
  }
  return absl::OkStatus();
}

template <typename Enum>
struct EnumName {
  absl::string_view name;
  Enum value;
};

// Matches case-insensitively and accepts "-" for "_" ("table-row").
template <typename Enum>
absl::Status GetEnum(const ParsedArgs& args, absl::string_view flag,
                     const std::vector<EnumName<Enum>>& names, Enum* value) {
  const std::string* text = args.Value(flag);
  if (text == nullptr) return absl::OkStatus();
  std::string wanted =
      absl::AsciiStrToLower(absl::StrReplaceAll(*text, {{"-", "_"}}));
  std::vector<absl::string_view> choices;
  for (const EnumName<Enum>& entry : names) {
    if (entry.name == wanted) {
      *value = entry.value;
      return absl::OkStatus();
    }
    choices.push_back(entry.name);
  }
  return absl::InvalidArgumentError(absl::StrCat("--", flag, ": \"", *text,
                                                 "\" is not one of ",
                                                 absl::StrJoin(choices, ", ")));
}

void GetString(const ParsedArgs& args, absl::string_view flag,
               std::string* value) {
  if (const std::string* text = args.Value(flag)) *value = *text;
}

// ---------------------------------------------------------------------------
// Calling the server
// ---------------------------------------------------------------------------

absl::StatusOr<std::string> ReadPemFile(absl::string_view flag,
                                        const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string pem((std::istreambuf_iterator<char>(in)),
                  std::istreambuf_iterator<char>());
  if (!in.is_open() || in.bad()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": cannot read \"", path, "\""));
  }
  if (!absl::StrContains(pem, "-----BEGIN ")) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": \"", path, "\" is not a PEM file"));
  }
  return pem;
}

// Plaintext unless a --tls* flag was given; the files are read here so that
// a wrong path is a usage error rather than a failed handshake.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFor(
    const CliOptions& options) {
  if (!options.tls) return grpc::InsecureChannelCredentials();
  if (options.tls_cert_path.empty() != options.tls_key_path.empty()) {
    return absl::InvalidArgumentError(
        "--tls-cert and --tls-key: give both (a client certificate and its "
        "key) or neither");
  }
  grpc::SslCredentialsOptions ssl;
  if (!options.tls_ca_path.empty()) {
    absl::StatusOr<std::string> ca = ReadPemFile("tls-ca", options.tls_ca_path);
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *std::move(ca);
  }
  if (!options.tls_cert_path.empty()) {
    absl::StatusOr<std::string> cert =
        ReadPemFile("tls-cert", options.tls_cert_path);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key =
        ReadPemFile("tls-key", options.tls_key_path);
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *std::move(cert);
    ssl.pem_private_key = *std::move(key);
  }
  return grpc::SslCredentials(ssl);
}

int ReportRpcError(const Invocation& inv, const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      inv.err << "citekb: cannot reach server at " << inv.options.server << ": "
              << (status.error_message().empty() ? "UNAVAILABLE"
                                                 : status.error_message())
              << "\n"
              << "citekb: is citekb-server running there? Use --server or "
                 "$CITEKB_SERVER to point elsewhere.\n";
      break;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      // The client sets the only deadline, so this is the server being
      // unreachable or too slow, not a bad request.
      inv.err << "citekb: cannot reach server at " << inv.options.server
              << ": no answer within "
              << absl::FormatDuration(inv.options.timeout)
              << " (DEADLINE_EXCEEDED); try a longer --timeout\n";
      break;
    default:
      // gRPC's codes have the same numbers as absl::StatusCode, whose names
      // are the canonical ones ("INVALID_ARGUMENT").
      inv.err << "citekb: "
              << absl::StatusCodeToString(
                     static_cast<absl::StatusCode>(status.error_code()))
              << ": " << status.error_message() << "\n";
      break;
  }
  return kExitFailure;
}

int PrintJson(const Invocation& inv, const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string json;
  auto status =
      google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) {
    inv.err << "citekb: cannot print the response as JSON: "
            << status.ToString() << "\n";
    return kExitFailure;
  }
  if (json.empty() || json.back() != '\n') json += '\n';
  inv.out << json;
  return kExitOk;
}

template <typename Request, typename Response>
using Rpc = grpc::Status (KnowledgeBase::Stub::*)(grpc::ClientContext*,
                                                  const Request&, Response*);

// Makes the one RPC of a command and prints its result. `format` renders the
// response as text when --json is off.
template <typename Request, typename Response, typename Format>
int Call(const Invocation& inv, const Request& request,
         Rpc<Request, Response> rpc, Format format) {
  // A fresh channel per run: the CLI makes one call per process, and sharing
  // a channel across RunCli calls would be hidden global state.
  grpc::ChannelArguments channel_args;
  if (!inv.options.tls_server_name.empty()) {
    channel_args.SetSslTargetNameOverride(inv.options.tls_server_name);
  }
  std::unique_ptr<KnowledgeBase::Stub> stub =
      KnowledgeBase::NewStub(grpc::CreateCustomChannel(
          inv.options.server, inv.credentials, channel_args));
  grpc::ClientContext context;
  context.set_deadline(
      std::chrono::time_point_cast<std::chrono::system_clock::duration>(
          std::chrono::system_clock::now() +
          absl::ToChronoNanoseconds(inv.options.timeout)));
  Response response;
  grpc::Status status = ((*stub).*rpc)(&context, request, &response);
  if (!status.ok()) return ReportRpcError(inv, status);
  if (inv.options.json) return PrintJson(inv, response);
  inv.out << format(response);
  return kExitOk;
}

// Runs a command whose request is built by `build`: a bad flag value is a
// usage error and no call is made.
template <typename Request, typename Response, typename Format>
int BuildAndCall(const Invocation& inv,
                 absl::StatusOr<Request> (*build)(const ParsedArgs&),
                 Rpc<Request, Response> rpc, Format format) {
  absl::StatusOr<Request> request = build(inv.args);
  if (!request.ok()) {
    return UsageError(&inv.command, request.status().message(), inv.err);
  }
  return Call(inv, *request, rpc, format);
}

// ---------------------------------------------------------------------------
// Commands: flags -> request
// ---------------------------------------------------------------------------

absl::StatusOr<v1::AskRequest> AskRequestFrom(const ParsedArgs& args) {
  v1::AskRequest request;
  request.set_question(args.Text());
  // Only the user's earlier questions: the CLI keeps no transcript of
  // answers, and the server resolves follow-ups against user turns.
  for (const std::string& text : args.Values("history")) {
    v1::ConversationTurn* turn = request.add_history();
    turn->set_role(v1::ROLE_USER);
    turn->set_text(text);
  }
  int32_t max_passages = 0;
  CITEKB_RETURN_IF_ERROR(GetInt32(args, "max-passages", &max_passages));
  request.set_max_passages(max_passages);
  return request;
}

const std::vector<EnumName<v1::PassageKind>>& PassageKinds() {
  static const auto* const kNames = new std::vector<EnumName<v1::PassageKind>>{
      {"paragraph", v1::PASSAGE_KIND_PARAGRAPH},
      {"table_row", v1::PASSAGE_KIND_TABLE_ROW},
      {"faq", v1::PASSAGE_KIND_FAQ},
  };
  return *kNames;
}

absl::StatusOr<v1::SearchRequest> SearchRequestFrom(const ParsedArgs& args) {
  v1::SearchRequest request;
  request.set_query(args.Text());
  v1::PassageKind kind = v1::PASSAGE_KIND_UNSPECIFIED;
  CITEKB_RETURN_IF_ERROR(GetEnum(args, "kind", PassageKinds(), &kind));
  request.set_kind(kind);
  GetString(args, "section", request.mutable_section_id());
  int32_t page_size = 0;
  CITEKB_RETURN_IF_ERROR(GetInt32(args, "page-size", &page_size));
  request.set_page_size(page_size);
  GetString(args, "page-token", request.mutable_page_token());
  return request;
}

absl::StatusOr<v1::ListSectionsRequest> ListSectionsRequestFrom(
    const ParsedArgs& args) {
  v1::ListSectionsRequest request;
  GetString(args, "article", request.mutable_article_id());
  return request;
}

absl::StatusOr<v1::GetSectionRequest> GetSectionRequestFrom(
    const ParsedArgs& args) {
  v1::GetSectionRequest request;
  request.set_id(args.Text());
  return request;
}

absl::StatusOr<v1::ListFaqsRequest> ListFaqsRequestFrom(
    const ParsedArgs& args) {
  v1::ListFaqsRequest request;
  GetString(args, "article", request.mutable_article_id());
  return request;
}

absl::StatusOr<v1::ListCitationsRequest> ListCitationsRequestFrom(
    const ParsedArgs& args) {
  static const auto* const kKinds = new std::vector<EnumName<v1::CitationKind>>{
      {"pubmed", v1::CITATION_KIND_PUBMED},
      {"pmc", v1::CITATION_KIND_PMC},
      {"doi", v1::CITATION_KIND_DOI},
      {"web", v1::CITATION_KIND_WEB},
      {"safety_reference", v1::CITATION_KIND_SAFETY_REFERENCE},
  };
  v1::ListCitationsRequest request;
  v1::CitationKind kind = v1::CITATION_KIND_UNSPECIFIED;
  CITEKB_RETURN_IF_ERROR(GetEnum(args, "kind", *kKinds, &kind));
  request.set_kind(kind);
  GetString(args, "section", request.mutable_section_id());
  GetString(args, "pmid", request.mutable_pmid());
  GetString(args, "doi", request.mutable_doi());
  GetString(args, "text", request.mutable_cited_text());
  int32_t page_size = 0;
  CITEKB_RETURN_IF_ERROR(GetInt32(args, "page-size", &page_size));
  request.set_page_size(page_size);
  GetString(args, "page-token", request.mutable_page_token());
  return request;
}

absl::StatusOr<v1::GetCitationRequest> GetCitationRequestFrom(
    const ParsedArgs& args) {
  v1::GetCitationRequest request;
  request.set_id(args.Text());
  return request;
}

absl::StatusOr<v1::ListRelatedLinksRequest> ListRelatedLinksRequestFrom(
    const ParsedArgs& args) {
  static const auto* const kKinds =
      new std::vector<EnumName<v1::RelatedLinkKind>>{
          {"article", v1::RELATED_LINK_KIND_ARTICLE},
          {"tool", v1::RELATED_LINK_KIND_TOOL},
      };
  v1::ListRelatedLinksRequest request;
  v1::RelatedLinkKind kind = v1::RELATED_LINK_KIND_UNSPECIFIED;
  CITEKB_RETURN_IF_ERROR(GetEnum(args, "kind", *kKinds, &kind));
  request.set_kind(kind);
  GetString(args, "article", request.mutable_article_id());
  return request;
}

absl::StatusOr<v1::EvaluateStackRequest> EvaluateStackRequestFrom(
    const ParsedArgs& args) {
  static const auto* const kTimings = new std::vector<EnumName<v1::Timing>>{
      {"morning", v1::TIMING_MORNING},
      {"midday", v1::TIMING_MIDDAY},
      {"evening", v1::TIMING_EVENING},
      {"night", v1::TIMING_NIGHT},
  };
  v1::EvaluateStackRequest request;
  request.set_text(args.Text());
  v1::Timing timing = v1::TIMING_UNSPECIFIED;
  CITEKB_RETURN_IF_ERROR(GetEnum(args, "timing", *kTimings, &timing));
  request.set_timing(timing);
  // with_fat_meal has presence: neither flag leaves it unset ("unstated"),
  // which the server treats differently from "without a meal".
  if (args.Has("with-meal") && args.Has("without-meal")) {
    return absl::InvalidArgumentError(
        "--with-meal and --without-meal contradict each other");
  }
  if (args.Has("with-meal")) request.set_with_fat_meal(true);
  if (args.Has("without-meal")) request.set_with_fat_meal(false);
  if (args.Has("serum")) {
    double serum = 0;
    CITEKB_RETURN_IF_ERROR(GetDouble(args, "serum", &serum));
    request.set_serum_25ohd_ng_ml(serum);
  }
  for (const std::string& medication : args.Values("medication")) {
    request.add_medications(medication);
  }
  return request;
}

// ---------------------------------------------------------------------------
// Commands: the table
// ---------------------------------------------------------------------------

int RunAsk(const Invocation& inv) {
  const std::string question = inv.args.Text();
  return BuildAndCall(inv, &AskRequestFrom, &KnowledgeBase::Stub::Ask,
                      [&](const v1::AskResponse& response) {
                        return FormatAskResponse(response, question);
                      });
}

int RunSearch(const Invocation& inv) {
  return BuildAndCall(inv, &SearchRequestFrom, &KnowledgeBase::Stub::Search,
                      &FormatSearchResponse);
}

int RunSections(const Invocation& inv) {
  return BuildAndCall(inv, &ListSectionsRequestFrom,
                      &KnowledgeBase::Stub::ListSections, &FormatSections);
}

int RunSection(const Invocation& inv) {
  return BuildAndCall(inv, &GetSectionRequestFrom,
                      &KnowledgeBase::Stub::GetSection, &FormatSection);
}

int RunFaq(const Invocation& inv) {
  return BuildAndCall(inv, &ListFaqsRequestFrom, &KnowledgeBase::Stub::ListFaqs,
                      &FormatFaqs);
}

int RunCitations(const Invocation& inv) {
  return BuildAndCall(inv, &ListCitationsRequestFrom,
                      &KnowledgeBase::Stub::ListCitations, &FormatCitations);
}

int RunCitation(const Invocation& inv) {
  return BuildAndCall(inv, &GetCitationRequestFrom,
                      &KnowledgeBase::Stub::GetCitation, &FormatCitation);
}

int RunLinks(const Invocation& inv) {
  return BuildAndCall(inv, &ListRelatedLinksRequestFrom,
                      &KnowledgeBase::Stub::ListRelatedLinks,
                      &FormatRelatedLinks);
}

int RunStack(const Invocation& inv) {
  return BuildAndCall(inv, &EvaluateStackRequestFrom,
                      &KnowledgeBase::Stub::EvaluateStack,
                      &FormatStackEvaluation);
}

const std::vector<CommandSpec>& Commands() {
  const FlagSpec page_size{"page-size", Arity::kOne, "N",
                           "Results per page; 0 means the server default."};
  const FlagSpec page_token{"page-token", Arity::kOne, "T",
                            "Continue from a previous page's next page token."};
  const FlagSpec article{"article", Arity::kOne, "ID",
                         "Only this article (its slug)."};
  static const auto* const kCommands = new std::vector<CommandSpec>{
      {"ask",
       Words::kJoined,
       "QUESTION",
       "Answer a question from the knowledge base, with numbered sources.",
       "Prints the answer (anecdotal sentences marked), the sources it cites,\n"
       "the supporting passages and questions you could ask next. Doses in\n"
       "the question are also checked as a stack.",
       {{"max-passages", Arity::kOne, "N",
         "At most N supporting passages (0: server default, 5; max 20)."},
        {"history", Arity::kRepeated, "TEXT",
         "An earlier question, oldest first, so follow-ups like \"and how "
         "much?\" resolve."}},
       &RunAsk},
      {"search",
       Words::kJoined,
       "QUERY",
       "Full-text search over passages, best match first.",
       "Matched terms are shown [in brackets] in each snippet.",
       {{"kind", Arity::kOne, "paragraph|table_row|faq",
         "Only passages of this kind."},
        {"section", Arity::kOne, "ID", "Only passages of this section."},
        page_size,
        page_token},
       &RunSearch},
      {"sections",
       Words::kNone,
       "",
       "List article sections with their ids.",
       "",
       {article},
       &RunSections},
      {"section",
       Words::kOne,
       "ID",
       "Show one section: text, tables and figures in order.",
       "ID is a section id as listed by \"citekb sections\".",
       {},
       &RunSection},
      {"faq",
       Words::kNone,
       "",
       "List the articles' FAQs with their answers.",
       "",
       {article},
       &RunFaq},
      {"citations",
       Words::kNone,
       "",
       "List the sources the articles cite, optionally filtered.",
       "Filters combine: every given filter must match.",
       {{"pmid", Arity::kOne, "N", "Only the citation with this PubMed id."},
        {"doi", Arity::kOne, "D", "Only the citation with this DOI."},
        {"kind", Arity::kOne, "pubmed|pmc|doi|web|safety_reference",
         "Only citations of this kind."},
        {"section", Arity::kOne, "ID", "Only citations made in this section."},
        {"text", Arity::kOne, "WORDS",
         "Only citations whose citing sentence contains all these words."},
        page_size,
        page_token},
       &RunCitations},
      {"citation",
       Words::kOne,
       "ID",
       "Show one source and the sentences that cite it.",
       "ID may be a citation id (pmid:11684396), a bare PMID, a PMCID, a DOI "
       "or a URL.",
       {},
       &RunCitation},
      {"links",
       Words::kNone,
       "",
       "List links from the articles to other articles and tools.",
       "",
       {{"kind", Arity::kOne, "article|tool", "Only links of this kind."},
        article},
       &RunLinks},
      {"stack",
       Words::kJoined,
       "TEXT",
       "Check a supplement stack against the documented doses and cautions.",
       "TEXT lists doses in plain words, for example\n"
       "  citekb stack \"5000 IU D3, 100 mcg K2 MK-7, 400 mg magnesium "
       "glycinate\"",
       {{"timing", Arity::kOne, "morning|midday|evening|night",
         "When the stack is taken."},
        {"with-meal", Arity::kSwitch, "", "Taken with a meal containing fat."},
        {"without-meal", Arity::kSwitch, "", "Taken without such a meal."},
        {"serum", Arity::kOne, "NG_PER_ML",
         "Latest serum 25(OH)D level in ng/mL."},
        {"medication", Arity::kRepeated, "NAME",
         "A medication taken, for example warfarin."}},
       &RunStack},
      {"help",
       Words::kHelp,
       "COMMAND",
       "Show usage, for all or one command.",
       "",
       {},
       nullptr},
  };
  return *kCommands;
}

}  // namespace

int RunCli(const std::vector<std::string>& args, const CliOptions& defaults,
           std::ostream& out, std::ostream& err) {
  CommandLine line;
  line.options = defaults;
  absl::Status parsed = ParseCommandLine(args, &line);
  if (!parsed.ok()) return UsageError(line.command, parsed.message(), err);

  if (line.help && line.command != nullptr && line.command->run != nullptr) {
    out << CommandHelp(*line.command);
    return kExitOk;
  }
  if (line.command == nullptr) {
    if (line.help) {
      out << MainHelp(defaults);
      return kExitOk;
    }
    err << "citekb: missing command\n\n" << MainHelp(defaults);
    return kExitUsage;
  }
  absl::Status words = CheckWords(*line.command, line.args);
  if (!words.ok()) return UsageError(line.command, words.message(), err);

  if (line.command->run == nullptr) {  // help [COMMAND]
    if (line.args.words.empty()) {
      out << MainHelp(defaults);
      return kExitOk;
    }
    const CommandSpec* topic = FindCommand(line.args.words[0]);
    if (topic == nullptr) {
      return UsageError(
          nullptr, absl::StrCat("unknown command \"", line.args.words[0], "\""),
          err);
    }
    out << (topic->run == nullptr ? MainHelp(defaults) : CommandHelp(*topic));
    return kExitOk;
  }

  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      ChannelCredentialsFor(line.options);
  if (!credentials.ok()) {
    return UsageError(line.command, credentials.status().message(), err);
  }
  return line.command->run(Invocation{*line.command, line.args, line.options,
                                      *std::move(credentials), out, err});
}

}  // namespace citekb
