"""The README's SDK example: the walkthrough's page read and searched with the mixpeek SDK
(tests/test_walkthrough.py runs it). Run it with the owner key the walkthrough printed:
KEY=sk_... .venv/bin/python examples/sdk.py"""

import os

import mixpeek

BASE = f"http://localhost:{os.environ.get('PORT', '8000')}"
KEY = os.environ["KEY"]  # the owner key the walkthrough printed

# The publisher's side: the namespace's pages, and one read in full.
owner = mixpeek.Configuration(host=BASE, access_token=KEY, api_key={"NamespaceHeader": "shop"})
with mixpeek.ApiClient(owner) as client:
    pages = mixpeek.PublishedRetrieversApi(client)
    listed = pages.list_published_retrievers()["results"]
    entry = next(page for page in listed if page["public_name"] == "shop-products")
    page = pages.get_published_retriever_id_publish(entry["retriever_id"])
    state = "on" if page.is_active else "off"
    print(f"{page.display_config.title}: {entry['public_url']} ({state})")
    print(f"  shows {', '.join(page.display_config.exposed_fields)}")

# Anyone's side: the search the page runs, with no key.
with mixpeek.ApiClient(mixpeek.Configuration(host=BASE)) as client:
    search = mixpeek.PublicRetrieverAPIApi(client)
    answer = search.execute_retriever_name(
        "shop-products",
        mixpeek.RetrieverExecutionRequest(
            inputs={"query": "lamp"},
            filters={"AND": [{"field": "price", "operator": "lt", "value": 100}]},
        ),
    )
    print(f"{answer['pagination']['total']} lamps under $100, the first:")
    for document in answer["documents"][:5]:
        print(f"  {document['title']}  ${document['price']}")
