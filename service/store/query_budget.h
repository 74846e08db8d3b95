// How much work the index store may do for one call: a bound on SQLite
// virtual-machine steps, the call's deadline, and whether the caller has
// given up. The store (store.h) installs an SQLite progress handler on every
// connection that charges the budget of the call running on the current thread
// and interrupts the statement as soon as the budget says stop. Ranking in
// memory (retrieval_index.h) charges it too, one step per posting read.
//
//   QueryBudget budget({.max_steps = 50'000'000, .deadline = deadline});
//   absl::StatusOr<v1::AskResponse> answer;
//   {
//     QueryBudget::Scope scope(&budget);
//     answer = kb.Ask(request);
//   }
//   if (!budget.status().ok()) answer = budget.status();  // why it stopped
//
// Why a per-thread scope instead of a parameter: the logic API
// (knowledge_base.h) takes only the request, and every store query of a call
// runs on the thread that handles the call (the store leases a connection
// to that thread for the query). The scope is RAII, nests, and is the only
// way a budget reaches the store; code running without a scope (the
// indexer, tests of the logic, Store::Open) is not limited.
//
// Not thread-safe: a budget belongs to the one thread handling its call.

#ifndef CITEKB_SERVICE_STORE_QUERY_BUDGET_H_
#define CITEKB_SERVICE_STORE_QUERY_BUDGET_H_

#include <cstdint>
#include <functional>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace citekb {

struct QueryLimits {
  // SQLite virtual-machine steps all queries of the call may take together;
  // 0 means no limit. A step is one VDBE instruction, a few nanoseconds of
  // work. Steps are counted as SQLite reports them, 1000 at a time within a
  // statement, so statements shorter than that are not counted: the limit
  // is for runaway queries, not an exact meter.
  int64_t max_steps = 0;
  // When the caller stops waiting.
  absl::Time deadline = absl::InfiniteFuture();
  // True once the caller has cancelled; may be empty. Called from the
  // progress handler, so it must be cheap.
  std::function<bool()> cancelled;
};

class QueryBudget {
 public:
  explicit QueryBudget(QueryLimits limits) : limits_(std::move(limits)) {}

  QueryBudget(const QueryBudget&) = delete;
  QueryBudget& operator=(const QueryBudget&) = delete;

  // Counts `steps` more steps. Returns false, and from then on always false,
  // once the call must stop: the step limit is passed, the deadline has
  // passed, or the caller cancelled.
  bool Charge(int64_t steps);

  // OK while the call may go on; otherwise why it was stopped:
  // RESOURCE_EXHAUSTED (step limit), DEADLINE_EXCEEDED or CANCELLED, with a
  // message saying so.
  absl::Status status() const { return stop_; }

  int64_t steps_used() const { return steps_; }

  // The budget installed on this thread by the innermost live Scope, or null.
  static QueryBudget* Current();

  // Installs a budget for the current thread for the scope's lifetime and
  // restores the previous one (usually none) on destruction.
  class Scope {
   public:
    explicit Scope(QueryBudget* budget);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    QueryBudget* const previous_;
  };

 private:
  const QueryLimits limits_;
  int64_t steps_ = 0;
  absl::Status stop_;
};

}  // namespace citekb

#endif  // CITEKB_SERVICE_STORE_QUERY_BUDGET_H_
