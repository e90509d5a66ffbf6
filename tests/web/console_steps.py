"""Steps the console's browser tests share: a live server whose owner has a `books`
collection, a retriever made through the API, a page signed in on a phone or a desktop, an
upload sent through the form, and the axe-core check of a state."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import SCREENSHOTS, owner_headers
from tests.servers import live_app
from tests.web.test_accessibility import violations
from tests.web.test_console_browser import DESKTOP, OWNER, PHONE, open_editor, signed_in

BOOKS = [
    {"document_id": "1", "title": "Dune", "maintainer": "Frank", "year": 1965},
    {"document_id": "2", "title": "Emma", "maintainer": "Jane", "year": 1815},
]
# Each test so marked runs on a desktop and a phone, in the light and the dark.
ON_EACH_DEVICE = pytest.mark.parametrize(
    ("device", "scheme"),
    [("desktop", "light"), ("phone", "light"), ("desktop", "dark"), ("phone", "dark")],
)


@contextmanager
def books_app(data_dir: Path) -> Iterator[str]:
    """A live server whose owner's collection `books` holds BOOKS; its URL."""
    with live_app(data_dir, api_keys=[OWNER]) as url:
        httpx.post(
            f"{url}/v1/collections/books/documents",
            headers=owner_headers(),
            json={"documents": BOOKS},
        ).raise_for_status()
        yield url


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`books_app` for a module's tests (a module takes it as `server = console_steps.server`)."""
    with books_app(tmp_path_factory.mktemp("books")) as url:
        yield url


def new_retriever(url: str, name: str, searched: tuple[str, ...] = ("title", "maintainer")) -> str:
    """A retriever over `books` made through the API, searching `searched`; its id."""
    created = httpx.post(
        f"{url}/v1/retrievers",
        headers=owner_headers(),
        json={
            "retriever_name": name,
            "backend": {"type": "local", "collection": "books", "search_fields": list(searched)},
        },
    )
    created.raise_for_status()
    retriever_id: str = created.json()["retriever_id"]
    return retriever_id


def signed_in_on(open_page: Callable[..., Any], server: str, device: str, scheme: str) -> Any:
    """The console signed in with the owner's key on `device` ("phone" or "desktop") in
    `scheme`, at its collections; the screenshots' folder made."""
    SCREENSHOTS.mkdir(exist_ok=True)
    options = PHONE if device == "phone" else DESKTOP
    key = OWNER.split(":", 1)[1]
    return signed_in(open_page, server, key, bypass_csp=True, color_scheme=scheme, **options)


def editor_on(
    open_page: Callable[..., Any], server: str, retriever_id: str, device: str, scheme: str
) -> Any:
    """The retriever's editor, signed in with the owner's key, on `device` ("phone" or
    "desktop") in `scheme`; the screenshots' folder made."""
    SCREENSHOTS.mkdir(exist_ok=True)
    options = PHONE if device == "phone" else DESKTOP
    return open_editor(
        open_page, server, retriever_id, bypass_csp=True, color_scheme=scheme, **options
    )


def fill_upload(page: Any, name: str, file: Path, **fields: str) -> None:
    """The console's upload form filled: the collection `name`, `file`, and each other field
    by its id's end (`id="isbn"` for `upload-id`, `lists="tags"` for `upload-lists`)."""
    page.fill("#upload-collection", name)
    for field, value in fields.items():
        page.fill(f"#upload-{field}", value)
    page.set_input_files("#upload-file", str(file))


def send_upload(page: Any) -> None:
    page.click("#upload-title ~ form button[type=submit]")


def clean(page: Any, source: str, state: str) -> None:
    """No axe-core violation on the page once loaded; `state` names it if there is."""
    page.wait_for_load_state()
    assert violations(page, source) == [], state
