// Early returns for absl::Status and absl::StatusOr, which Debian's Abseil
// (20220623) does not provide yet:
//
//   CITEKB_RETURN_IF_ERROR(writer->Add(article));
//   CITEKB_ASSIGN_OR_RETURN(auto store, Store::Open(path));
//
// Both evaluate `expr` once and return its status unchanged when it is not
// OK, so the caller's own caller decides whether to log it.

#ifndef CITEKB_INDEXER_BASE_STATUS_MACROS_H_
#define CITEKB_INDEXER_BASE_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Debian's Abseil (20220623) has no status macros.
#define CITEKB_RETURN_IF_ERROR(expr)              \
  do {                                            \
    if (absl::Status _st = (expr); !_st.ok()) {   \
      return _st;                                 \
    }                                             \
  } while (false)

#define CITEKB_CONCAT_INNER_(a, b) a##b
#define CITEKB_CONCAT_(a, b) CITEKB_CONCAT_INNER_(a, b)
#define CITEKB_ASSIGN_OR_RETURN(lhs, expr) \
  CITEKB_ASSIGN_OR_RETURN_IMPL_(CITEKB_CONCAT_(_status_or_, __LINE__), lhs, expr)
#define CITEKB_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()

#endif  // CITEKB_INDEXER_BASE_STATUS_MACROS_H_
