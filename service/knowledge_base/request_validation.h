// Checks of request fields, each failing with INVALID_ARGUMENT and a
// message that names the field and the reason: "question: must not be
// empty".
//
//   CITEKB_RETURN_IF_ERROR(
//       ValidateText("question", request.question(), 1000, /*required=*/true));
//
// Thread-safe: plain functions of their arguments.

#ifndef CITEKB_SERVICE_KNOWLEDGE_BASE_REQUEST_VALIDATION_H_
#define CITEKB_SERVICE_KNOWLEDGE_BASE_REQUEST_VALIDATION_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace citekb {

// INVALID_ARGUMENT with the message "<field>: <reason>".
absl::Status Invalid(absl::string_view field, absl::string_view reason);

// User text: not blank (when `required`; blank text is otherwise fine and
// not checked further), at most `max_bytes`, valid UTF-8 (strictly: gRPC
// callers are held to it by the parser, direct callers are not), and no
// control characters but whitespace: not C0, not DEL, not C1
// (U+0080..U+009F).
absl::Status ValidateText(absl::string_view field, absl::string_view text,
                          size_t max_bytes, bool required);

// An optional id or id filter: ValidateText with a limit of 1000 bytes.
absl::Status ValidateId(absl::string_view field, absl::string_view id);

}  // namespace citekb

#endif  // CITEKB_SERVICE_KNOWLEDGE_BASE_REQUEST_VALIDATION_H_
