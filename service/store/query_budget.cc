#include "service/store/query_budget.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace citekb {
namespace {

// The budget of the call on this thread; see the header for why this is
// per-thread rather than a parameter.
thread_local QueryBudget* current_budget = nullptr;

}  // namespace

bool QueryBudget::Charge(int64_t steps) {
  if (!stop_.ok()) return false;
  steps_ += steps;
  if (limits_.max_steps > 0 && steps_ > limits_.max_steps) {
    stop_ = absl::ResourceExhaustedError(absl::StrCat(
        "query work: the call needed more than ", limits_.max_steps,
        " index steps, the server's per-call limit; ask a narrower question"));
  } else if (limits_.deadline != absl::InfiniteFuture() &&
             absl::Now() >= limits_.deadline) {
    stop_ = absl::DeadlineExceededError(
        "deadline passed while the index was being queried");
  } else if (limits_.cancelled && limits_.cancelled()) {
    stop_ = absl::CancelledError("call cancelled by the client");
  }
  return stop_.ok();
}

QueryBudget* QueryBudget::Current() { return current_budget; }

QueryBudget::Scope::Scope(QueryBudget* budget) : previous_(current_budget) {
  current_budget = budget;
}

QueryBudget::Scope::~Scope() { current_budget = previous_; }

}  // namespace citekb
