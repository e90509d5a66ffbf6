"""Each collection's text fields in the order they first appeared, which Typesense does not
keep (it lists a collection's fields by name): in one more collection, `{prefix}fields`, a
document a collection and field, made by the first write to carry the field and never
replaced (`create`, not `upsert`), so that writers at once, in one process or several, each
add theirs and none is lost. The order is the first write's time.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from typesense import exceptions

from app.adapters import texts
from app.adapters.engine.typesense.names import token

PER_PAGE = 250


class TextFields:
    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.name = name

    def learn(self, collection: str, bodies: list[dict[str, Any]]) -> None:
        """Keep the text fields of these documents that the collection did not have."""
        fields = texts.text_fields_of(bodies)
        if not fields:
            return
        known = set(self.of(collection))
        new = [field for field in fields if field not in known]
        if not new:
            return
        self._create()
        seq = time.time_ns() // 1000
        rows = [
            {"id": token(f"{collection}\x00{field}"), "of": token(collection), "field": field,
             "seq": seq + n}
            for n, field in enumerate(new)
        ]  # fmt: skip
        answers = self.client.collections[self.name].documents.import_(rows, {"action": "create"})
        for answer in answers:  # (one there already: another writer's, first)
            if not answer.get("success") and "already exists" not in str(answer.get("error")):
                raise RuntimeError(f"Typesense refused a text field: {answer.get('error')}")

    def of(self, collection: str) -> list[str]:
        """The collection's text fields, in the order they first appeared."""
        found: list[str] = []
        page = 1
        while True:
            try:
                answer = self.client.collections[self.name].documents.search({
                    "q": "*", "filter_by": f"of:={token(collection)}", "sort_by": "seq:asc",
                    "include_fields": "field", "per_page": PER_PAGE, "page": page,
                })  # fmt: skip
            except exceptions.ObjectNotFound:
                return []
            found += [hit["document"]["field"] for hit in answer["hits"]]
            if len(answer["hits"]) < PER_PAGE:
                return found
            page += 1

    def forget(self, collection: str) -> None:
        """The collection is gone: so are its fields."""
        with contextlib.suppress(exceptions.ObjectNotFound):
            self.client.collections[self.name].documents.delete(
                {"filter_by": f"of:={token(collection)}"}
            )

    def _create(self) -> None:
        with contextlib.suppress(exceptions.ObjectAlreadyExists):
            self.client.collections.create({
                "name": self.name,
                "fields": [
                    {"name": "of", "type": "string"},
                    {"name": "field", "type": "string", "index": False, "optional": True},
                    {"name": "seq", "type": "int64"},
                ],
            })  # fmt: skip
