// Parses a request message from its wire bytes, and when that fails says
// which field is at fault.
//
// gRPC's own parsing answers a request it cannot parse with INTERNAL and an
// empty message, which blames the server for the client's bytes and tells
// the client nothing. The usual cause is a `string` field that is not valid
// UTF-8 (proto3 forbids it, and clients in other languages or hand-made
// bytes can send it anyway). ParseRequest answers INVALID_ARGUMENT instead,
// naming the field the way the logic's own validation does:
//
//   ParseRequest(bytes, &ask_request)
//     -> OK
//     -> INVALID_ARGUMENT "question: is not valid UTF-8"
//     -> INVALID_ARGUMENT "history[2].text: is not valid UTF-8"
//     -> INVALID_ARGUMENT "request: is not a valid citekb.v1.AskRequest
//        (malformed protobuf encoding)"
//
// Only parsing is judged here; what the values mean is checked by the logic
// (knowledge_base.h). No gRPC headers: the gRPC adaptor feeds it the bytes.
//
// Thread-safe; no I/O.

#ifndef CITEKB_SERVICE_SERVER_REQUEST_PARSER_H_
#define CITEKB_SERVICE_SERVER_REQUEST_PARSER_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace citekb {

// Parses `bytes` into `*request` (cleared first). On failure `*request` is
// unspecified and the status is INVALID_ARGUMENT.
absl::Status ParseRequest(absl::string_view bytes,
                          google::protobuf::Message* request);

}  // namespace citekb

#endif  // CITEKB_SERVICE_SERVER_REQUEST_PARSER_H_
