// UTF-8 validity, as protobuf and RFC 3629 define it.
//
//   IsStructurallyValidUtf8("caf\xc3\xa9")  == true
//   IsStructurallyValidUtf8("\xc0\xaf")      == false  // overlong "/"

#ifndef CITEKB_INDEXER_BASE_UTF8_H_
#define CITEKB_INDEXER_BASE_UTF8_H_

#include "absl/strings/string_view.h"

namespace citekb {

// True when `text` is well-formed UTF-8: no overlong forms, no surrogates,
// nothing above U+10FFFF.
bool IsStructurallyValidUtf8(absl::string_view text);

}  // namespace citekb

#endif  // CITEKB_INDEXER_BASE_UTF8_H_
