#!/usr/bin/env bash
# The README's API walkthrough, runnable as written against a server on $PORT (default 8000)
# that shares this shell's RETRIEVER_PAGES_DATA_DIR (tests/test_walkthrough.py runs it).
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=http://localhost:${PORT:-8000}
RP=${RP:-.venv/bin/retriever-pages}  # scripts/install (or scripts/demo) put it there

# Documents for the embedded engine, and an owner key for the namespace "shop".
$RP import app/sample/catalog.jsonl --namespace shop --collection products
KEY=$($RP keys create --namespace shop)
echo "Owner key for the namespace shop: $KEY  (shown once: only its hash is stored)"
H=(-H "Authorization: Bearer $KEY" -H "X-Namespace: shop" -H "Content-Type: application/json")
# Each call prints the server's answer; one that fails prints the server's error, and stops.
call() {
  local answer
  answer=$(curl -sS --fail-with-body "$@") || { echo "$answer" >&2; exit 1; }
  echo "$answer"
}

# A retriever over the collection, then its page (examples/publish.json is the display config),
# unless a run before this one published it already.
if curl -sf -o /dev/null "$BASE/v1/public/retrievers/shop-products/config"; then
  echo "shop-products is published already (by an earlier run); it stays as it is."
else
  CREATED=$(call "${H[@]}" "$BASE/v1/retrievers" -d '{
    "retriever_name": "products",
    "backend": {"type": "local", "collection": "products",
                "search_fields": ["title", "description", "brand"]}
  }')
  RETRIEVER_ID=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["retriever_id"])' "$CREATED")
  call "${H[@]}" "$BASE/v1/retrievers/$RETRIEVER_ID/publish" -d @examples/publish.json; echo
  call "${H[@]}" -X PATCH "$BASE/v1/retrievers/$RETRIEVER_ID/publish" \
    -d '{"rate_limit_config": {"tier": "elevated"}}'; echo
fi

# A search, as anyone may run it: words, and Mixpeek's filter tree over exposed fields.
call "$BASE/v1/public/retrievers/shop-products/execute" -H "Content-Type: application/json" -d '{
  "inputs": {"query": "lamp"},
  "filters": {"AND": [{"field": "price", "operator": "lt", "value": 100},
                      {"field": "in_stock", "operator": "eq", "value": true}]},
  "pagination": {"method": "offset", "page_number": 1, "page_size": 5}
}'; echo
echo "The page: $BASE/r/shop-products"
