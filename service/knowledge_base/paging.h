// AIP-158 paging for the listing RPCs: page sizes, and page tokens that are
// opaque to clients and tied to the query they came from.
//
//   CITEKB_ASSIGN_OR_RETURN(int page_size, PageSize(request.page_size()));
//   CITEKB_ASSIGN_OR_RETURN(int offset,
//                           ParsePageToken(request.page_token(), query_key));
//   ... list `page_size` results from `offset` ...
//   if (int64_t{offset} + page_size < total)
//     response.set_next_page_token(PageToken(offset + page_size, query_key));
//
// A query key is any string that names a query and its filters (not the
// page): a token is only accepted with the key it was made for. Tokens are
// stable across processes and builds, so a token from one replica works on
// another.
//
// Thread-safe: plain functions of their arguments.

#ifndef CITEKB_SERVICE_KNOWLEDGE_BASE_PAGING_H_
#define CITEKB_SERVICE_KNOWLEDGE_BASE_PAGING_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace citekb {

inline constexpr int kDefaultPageSize = 10;
inline constexpr int kMaxPageSize = 100;

// The page size to use for a request's page_size: kDefaultPageSize for 0,
// at most kMaxPageSize (larger requests are coerced, not refused).
// INVALID_ARGUMENT naming page_size when negative.
absl::StatusOr<int> PageSize(int requested);

// The token of the page that starts at `offset`.
std::string PageToken(int offset, absl::string_view query_key);

// The offset a request's page_token names: 0 for an empty token.
// INVALID_ARGUMENT naming page_token for a token this server did not issue
// or one made for another query key.
absl::StatusOr<int> ParsePageToken(absl::string_view token,
                                   absl::string_view query_key);

}  // namespace citekb

#endif  // CITEKB_SERVICE_KNOWLEDGE_BASE_PAGING_H_
