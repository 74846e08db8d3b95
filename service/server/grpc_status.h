// The one conversion from the logic's absl::Status to the grpc::Status an
// RPC returns. Every canonical code keeps its number (absl::StatusCode and
// grpc::StatusCode share the google.rpc.Code numbering) and the message is
// kept as written, so "question: must not be empty" reaches the client
// verbatim.
//
//   return ToGrpcStatus(kb.Ask(request).status());
//
// Status payloads are not carried over: citekb's logic does not use them.

#ifndef CITEKB_SERVICE_SERVER_GRPC_STATUS_H_
#define CITEKB_SERVICE_SERVER_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace citekb {

// OK maps to grpc::Status::OK (with no message); any other code maps to the
// grpc code with the same number and the same message. A code outside the
// canonical range (which absl::Status never produces itself) becomes UNKNOWN.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace citekb

#endif  // CITEKB_SERVICE_SERVER_GRPC_STATUS_H_
