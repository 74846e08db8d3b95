#include "tests/eval/eval_set.h"

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace citekb::eval {
namespace {

absl::Status Check(const EvalCase& c, const std::string& where) {
  if (c.question.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": entry ", c.id, " has no question (q:)"));
  }
  if (c.in_scope && c.expect.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": in-scope entry ", c.id, " has no expected sentence"));
  }
  return absl::OkStatus();
}

// Stores `value` in the field named `key`; false for an unknown field.
bool SetField(const std::string& key, std::string value, EvalCase& c) {
  if (key == "id") {
    c.id = std::move(value);
  } else if (key == "intent") {
    c.intent = std::move(value);
  } else if (key == "turn") {
    c.turns.push_back(std::move(value));
  } else if (key == "q") {
    c.question = std::move(value);
  } else if (key == "expect") {
    c.expect.push_back(std::move(value));
  } else if (key == "also") {
    c.also.push_back(std::move(value));
  } else if (key == "source") {
    c.sources.push_back(std::move(value));
  } else if (key == "scope") {
    c.in_scope = value == "in";
  } else {
    return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::vector<EvalCase>> LoadEvalSet(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::vector<EvalCase> cases;
  EvalCase current;
  std::string line;
  int line_number = 0;
  auto flush = [&]() -> absl::Status {
    if (current.id.empty() && current.question.empty()) return absl::OkStatus();
    absl::Status checked = Check(current, absl::StrCat(path, ":", line_number));
    if (!checked.ok()) return checked;
    cases.push_back(std::move(current));
    current = EvalCase();
    return absl::OkStatus();
  };
  while (std::getline(in, line)) {
    ++line_number;
    const absl::string_view view = absl::StripAsciiWhitespace(line);
    if (view.empty()) {
      if (absl::Status s = flush(); !s.ok()) return s;
      continue;
    }
    if (absl::StartsWith(view, "#")) continue;
    const size_t colon = view.find(':');
    const std::string key(view.substr(0, colon));
    if (colon == absl::string_view::npos ||
        !SetField(
            key,
            std::string(absl::StripAsciiWhitespace(view.substr(colon + 1))),
            current)) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ":", line_number, ": unknown field \"", key, "\""));
    }
  }
  if (absl::Status s = flush(); !s.ok()) return s;
  return cases;
}

}  // namespace citekb::eval
