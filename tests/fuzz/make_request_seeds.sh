#!/usr/bin/env bash
# Regenerates corpus/request_fuzzer/ from the text-format requests below:
# each seed is request_fuzzer's selector byte (the RPC's index in the
# service) followed by the request encoded by protoc.
set -euo pipefail
cd "$(dirname "$0")"
root=../..
out=corpus/request_fuzzer
mkdir -p "$out"
rm -f "$out"/seed-*

n=0
seed() {  # seed SELECTOR TYPE TEXT
  n=$((n + 1))
  local file
  file="$(printf '%s/seed-%02d-%s' "$out" "$n" "$2")"
  printf "\\x$(printf %02x "$1")" > "$file"
  printf '%s' "$3" | protoc -I "$root/proto" --encode="citekb.v1.$2" \
    citekb/v1/knowledge_base.proto >> "$file"
}

seed 0 AskRequest 'question: "why K2 with D3?"'
seed 0 AskRequest 'question: "and how much should I take?" history { role: ROLE_USER text: "why K2 with D3?" } max_passages: 3'
seed 0 AskRequest 'question: "is 10,000 IU of D3 with MK-7 safe?" max_passages: 20'
seed 0 AskRequest 'question: "vitmin k2 dosage for arterial calcification"'
seed 1 SearchRequest 'query: "calcium" page_size: 2'
seed 1 SearchRequest 'query: "MK-7 25(OH)D" kind: PASSAGE_KIND_TABLE_ROW'
seed 1 SearchRequest 'query: "calcium" page_size: 1 page_token: "djE6MToxMjM0NQ=="'
seed 2 ListSectionsRequest 'article_id: "d3-k2-protocol-how-to-route-calcium-to-bones-not-arteries"'
seed 3 GetSectionRequest 'id: "d3-k2-protocol-how-to-route-calcium-to-bones-not-arteries#frequently-asked-questions"'
seed 4 ListFaqsRequest ''
seed 5 ListCitationsRequest 'kind: CITATION_KIND_PUBMED page_size: 5'
seed 5 ListCitationsRequest 'cited_text: "bone matrix" pmid: "11684396"'
seed 5 ListCitationsRequest 'doi: "doi:10.3390/ijms18091897"'
seed 6 GetCitationRequest 'id: "pmid:11684396"'
seed 6 GetCitationRequest 'id: "https://pubmed.ncbi.nlm.nih.gov/11684396/"'
seed 6 GetCitationRequest 'id: "PMC5613455"'
seed 7 ListRelatedLinksRequest 'kind: RELATED_LINK_KIND_TOOL'
seed 8 EvaluateStackRequest 'text: "2000iu vitamin D3, 90 mcg MK7 and magnesium malate 300mg before bed"'
seed 8 EvaluateStackRequest 'doses { compound: "vitamin D3" amount: 5000 unit: "IU" } timing: TIMING_MORNING'
echo "wrote $n seeds to $out"
