#include "service/server/request_parser.h"

#include <climits>
#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "indexer/base/utf8.h"

namespace citekb {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;

// Request messages nest one level (history turns, doses); this only stops
// a hostile encoding of a future recursive type from recursing without end.
constexpr int kMaxDepth = 16;

enum class Walk { kClean, kBadString, kMalformed };

// Walks `bytes` as an encoding of `type`, looking for the first string field
// whose value is not UTF-8; `*bad_field` gets its path ("history[2].text").
// Unknown fields are skipped as the parser skips them.
Walk FindBadString(absl::string_view bytes, const Descriptor& type,
                   const std::string& path, int depth, std::string* bad_field) {
  if (depth > kMaxDepth) return Walk::kMalformed;
  CodedInputStream input(reinterpret_cast<const uint8_t*>(bytes.data()),
                         static_cast<int>(bytes.size()));
  absl::flat_hash_map<int, int> occurrences;  // For repeated fields' indices.
  while (true) {
    const uint32_t tag = input.ReadTag();
    if (tag == 0) {
      return input.CurrentPosition() == static_cast<int>(bytes.size())
                 ? Walk::kClean
                 : Walk::kMalformed;
    }
    const FieldDescriptor* field =
        type.FindFieldByNumber(WireFormatLite::GetTagFieldNumber(tag));
    const bool walkable = field != nullptr &&
                          WireFormatLite::GetTagWireType(tag) ==
                              WireFormatLite::WIRETYPE_LENGTH_DELIMITED &&
                          (field->type() == FieldDescriptor::TYPE_STRING ||
                           field->type() == FieldDescriptor::TYPE_MESSAGE);
    if (!walkable) {
      if (!WireFormatLite::SkipField(&input, tag)) return Walk::kMalformed;
      continue;
    }
    uint32_t length = 0;
    if (!input.ReadVarint32(&length)) return Walk::kMalformed;
    const int start = input.CurrentPosition();
    if (!input.Skip(static_cast<int>(length))) return Walk::kMalformed;
    const absl::string_view value = bytes.substr(start, length);
    std::string name =
        absl::StrCat(path, path.empty() ? "" : ".", field->name());
    if (field->is_repeated()) {
      absl::StrAppend(&name, "[", occurrences[field->number()]++, "]");
    }
    if (field->type() == FieldDescriptor::TYPE_STRING) {
      if (!IsStructurallyValidUtf8(value)) {
        *bad_field = std::move(name);
        return Walk::kBadString;
      }
      continue;
    }
    const Walk inner = FindBadString(value, *field->message_type(), name,
                                     depth + 1, bad_field);
    if (inner != Walk::kClean) return inner;
  }
}

}  // namespace

absl::Status ParseRequest(absl::string_view bytes,
                          google::protobuf::Message* request) {
  request->Clear();
  const std::string& type_name = request->GetDescriptor()->full_name();
  if (bytes.size() > static_cast<size_t>(INT_MAX)) {
    return absl::InvalidArgumentError(
        absl::StrCat("request: is too large to be a ", type_name));
  }
  // Looking for bad strings first also keeps the parser from logging a
  // line per bad request, which a client could use to flood the log.
  std::string bad_field;
  if (FindBadString(bytes, *request->GetDescriptor(), "", 0, &bad_field) ==
      Walk::kBadString) {
    return absl::InvalidArgumentError(
        absl::StrCat(bad_field, ": is not valid UTF-8"));
  }
  if (request->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "request: is not a valid ", type_name, " (malformed protobuf encoding)"));
}

}  // namespace citekb
