// citekb: the command-line client of the citekb knowledge-base server.
//
//   citekb ask "why K2 with D3?"
//   citekb --server 10.0.0.5:50051 --json search magnesium --kind faq
//
// Everything but the environment lives in cli.h, so that tests run the same
// code in-process. Flags are parsed there rather than with absl flags: those
// are process-wide globals, and per-command flags would collide.

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "clients/cli/cli.h"

int main(int argc, char** argv) {
  citekb::CliOptions options;
  if (const char* server = std::getenv("CITEKB_SERVER");
      server != nullptr && *server != '\0') {
    options.server = server;
  }
  std::vector<std::string> args(argv + 1, argv + argc);
  return citekb::RunCli(args, options, std::cout, std::cerr);
}
