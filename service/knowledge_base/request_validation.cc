#include "service/knowledge_base/request_validation.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "indexer/base/utf8.h"

namespace citekb {

absl::Status Invalid(absl::string_view field, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", reason));
}

absl::Status ValidateText(absl::string_view field, absl::string_view text,
                          size_t max_bytes, bool required) {
  if (absl::StripAsciiWhitespace(text).empty()) {
    return required ? Invalid(field, "must not be empty") : absl::OkStatus();
  }
  if (text.size() > max_bytes) {
    return Invalid(field, absl::StrCat("is ", text.size(),
                                       " bytes; the limit is ", max_bytes));
  }
  if (!IsStructurallyValidUtf8(text)) {
    return Invalid(field, "is not valid UTF-8");
  }
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char u = static_cast<unsigned char>(text[i]);
    const bool c0 = u < 0x20 && u != '\n' && u != '\t' && u != '\r';
    const bool c1 = u == 0xC2 && i + 1 < text.size() &&
                    static_cast<unsigned char>(text[i + 1]) < 0xA0;
    if (c0 || u == 0x7F || c1) {
      return Invalid(field, "contains control characters");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateId(absl::string_view field, absl::string_view id) {
  return ValidateText(field, id, 1000, /*required=*/false);
}

}  // namespace citekb
