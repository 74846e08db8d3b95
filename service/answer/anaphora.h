// Whether a sentence depends on the one before it: it opens on a word that
// points back ("This floods your system...", "It changes the protein's
// shape.", "Without it, D3 remains...", "Once active, it triggers...",
// "Without a control mechanism, this calcium..."). Quoted alone, such a
// sentence can say something its source does not ("it" would read as
// whatever the answer named last), so an answer gives it with the sentence
// before it or not at all.
//
//   OpensOnAnaphor("This ensures the D3 actually converts.")   == true
//   OpensOnAnaphor("Magnesium is the bottleneck for D3.")      == false
//
// Thread-safe.

#ifndef CITEKB_SERVICE_ANSWER_ANAPHORA_H_
#define CITEKB_SERVICE_ANSWER_ANAPHORA_H_

#include "absl/strings/string_view.h"

namespace citekb {

bool OpensOnAnaphor(absl::string_view sentence);

}  // namespace citekb

#endif  // CITEKB_SERVICE_ANSWER_ANAPHORA_H_
