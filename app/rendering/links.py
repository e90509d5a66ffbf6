"""Where a result card's links go: its detail view and its similar items, under its page."""

from __future__ import annotations

from dataclasses import dataclass

from app import urls
from app.kept import Kept

PATHS_KEPT = 8192  # results' detail paths kept (`Links.detail`): their ids quoted once
ID_CHARS = 200  # only the paths of ids this short are kept: what is kept stays small
_details: Kept[tuple[str, str], str] = Kept(PATHS_KEPT)


@dataclass(frozen=True)
class Links:
    """Where a card's links go: the page of the retriever `public_name`, and `query` its
    current query string (kept by the detail view's way back)."""

    public_name: str
    query: str = ""

    def detail(self, document_id: str) -> str:
        """The result's own page, with this search's query for the way back (its path kept
        per retriever and document: the id quoted once, not on every page listing it)."""
        path = _details.get((self.public_name, document_id))
        if path is None:
            path = urls.detail(self.public_name, document_id)
            if len(document_id) <= ID_CHARS:
                _details.put((self.public_name, document_id), path)
        return f"{path}?{self.query}" if self.query else path

    def similar(self, document_id: str) -> str:
        """The documents like this one, with the search's query and filters kept for the way
        back (the list itself is the document's neighbours within those filters)."""
        return urls.similar(self.public_name, document_id, self.query)
