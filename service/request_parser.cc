#include "service/request_parser.h"

#include <climits>
#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"

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

bool IsStructurallyValidUtf8(absl::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    size_t length;
    uint32_t code_point;
    uint32_t smallest;  // Below this the sequence is an overlong form.
    if ((lead & 0xE0) == 0xC0) {
      length = 2, code_point = lead & 0x1F, smallest = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3, code_point = lead & 0x0F, smallest = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4, code_point = lead & 0x07, smallest = 0x10000;
    } else {
      return false;  // A continuation byte, or 0xF8..0xFF.
    }
    if (text.size() - i < length) return false;
    for (size_t k = 1; k < length; ++k) {
      const unsigned char next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (next & 0x3F);
    }
    if (code_point < smallest || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return false;
    }
    i += length;
  }
  return true;
}

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
