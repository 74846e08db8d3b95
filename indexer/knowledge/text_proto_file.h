// Reads a protobuf text-format file of the knowledge folder, reporting
// errors as "file:line:column: message".
//
//   rulespb::StackRules rules;
//   CITEKB_RETURN_IF_ERROR(ReadTextProtoFile("knowledge/stack_rules.textproto",
//                                            rules));

#ifndef CITEKB_INDEXER_KNOWLEDGE_TEXT_PROTO_FILE_H_
#define CITEKB_INDEXER_KNOWLEDGE_TEXT_PROTO_FILE_H_

#include <string>

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace citekb {

// NOT_FOUND when the file cannot be read; INVALID_ARGUMENT with every
// parse error, each with its line and column.
absl::Status ReadTextProtoFile(const std::string& path,
                               google::protobuf::Message& message);

}  // namespace citekb

#endif  // CITEKB_INDEXER_KNOWLEDGE_TEXT_PROTO_FILE_H_
