"""A retriever over a Mixpeek upstream made through the console's forms (with their CSRF
tokens), against a real upstream on loopback: created, its page published, and searched on
the public page; each value the API refuses told beside its field, the upstream address
policy included; the key named by its secret, never shown."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app
from tests.helpers import NAMESPACE, OWNER_KEY, owner_headers
from tests.servers import LiveServer
from tests.web.test_console import form_value, sign_in
from tests.web.test_console_editor import editor_url, save
from tests.web.test_console_pages import HOSTILE, inert

KEY = "sk_mixpeek_console_0123456789"
EDITOR_KEY = "test-editor-key-0123456789"
NEW = "/console/retrievers/new"


@dataclass
class Upstream:
    """A Mixpeek-compatible execute endpoint that records what it was sent."""

    requests: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> Starlette:
        async def execute(request: Request) -> Response:
            self.requests.append(
                {
                    "path": request.url.path,
                    "authorization": request.headers.get("authorization"),
                    "namespace": request.headers.get("x-namespace"),
                    "body": await request.json(),
                }
            )
            documents = [
                {"document_id": "m1", "title": "Brass lamp from Mixpeek", "price": 42},
                {"document_id": "m2", "payload": {"title": "Paper lantern", "price": 9}},
            ]
            return JSONResponse({"documents": documents})

        return Starlette(routes=[Route("/v1/retrievers/{rid}/execute", execute, methods=["POST"])])


@pytest.fixture
def upstream() -> Iterator[tuple[Upstream, str]]:
    state = Upstream()
    with LiveServer(state.app()) as server:
        yield state, server.url


@pytest.fixture
def console(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    """Signed in as the owner; the tests' upstreams on 127.0.0.1 are allowed, no other
    internal address is; the namespace has the key as the secret "mixpeek-key"."""
    settings = make_settings(
        api_keys=[f"{NAMESPACE}:{OWNER_KEY}", f"{NAMESPACE}:{EDITOR_KEY}@editor"],
        upstream_allow=["127.0.0.1"],
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        made = client.post(
            "/v1/organizations/secrets",
            headers=owner_headers(),
            json={"secret_name": "mixpeek-key", "secret_value": KEY},
        )
        assert made.status_code == 200, made.text
        sign_in(client, OWNER_KEY)
        yield client


def the_form(client: TestClient) -> str:
    response = client.get(f"{NEW}?source=mixpeek")
    assert response.status_code == 200
    return response.text


def create(client: TestClient, **fields: str) -> Any:
    """The Mixpeek form sent as a browser sends it, its CSRF token from the page."""
    data = {
        "csrf": form_value(the_form(client), "csrf"),
        "source": "mixpeek",
        "retriever_name": "mixpeek lamps",
        "base_url": "https://api.example.test",
        "upstream_retriever_id": "ret_lamps",
        "upstream_namespace": "ns_shop",
        "api_key_secret_name": "mixpeek-key",
        **fields,
    }
    return client.post(NEW, data=data, follow_redirects=False)


def error_of(html: str, name: str) -> str:
    found = re.search(rf'<p class="field-error" id="{name}-error">([^<]*)</p>', html)
    assert found, f"no error beside {name}"
    return found[1]


def retrievers(client: TestClient) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = client.get("/v1/retrievers", headers=owner_headers()).json()[
        "results"
    ]
    return found


def test_the_form_offers_the_secrets_by_name_and_says_which_addresses_are_refused(
    console: TestClient,
) -> None:
    html = the_form(console)
    assert 'aria-current="page">A Mixpeek retriever</a>' in html
    assert re.search(r'<select id="api_key_secret_name" name="api_key_secret_name" required', html)
    assert '<option value="mixpeek-key">mixpeek-key</option>' in html
    assert KEY not in html
    assert "An address inside this server&#39;s network is refused: loopback" in html
    assert "RETRIEVER_PAGES_UPSTREAM_ALLOW" in html
    # The collection form is one link away, and back.
    assert f'href="{NEW}"' in html
    assert 'href="/console/retrievers/new?source=mixpeek"' in console.get(NEW).text


def test_made_through_the_console_published_and_searched_on_the_public_page(
    console: TestClient, upstream: tuple[Upstream, str]
) -> None:
    state, base_url = upstream
    response = create(console, base_url=base_url)
    assert response.status_code == 303, response.text
    retriever_id = re.fullmatch(
        r"/console/retrievers/([^/?]+)\?done=created", response.headers["location"]
    )
    assert retriever_id
    rid = retriever_id[1]
    (made,) = retrievers(console)
    assert made["backend"] == {
        "type": "mixpeek",
        "base_url": base_url,
        "retriever_id": "ret_lamps",
        "namespace": "ns_shop",
        "api_key_secret_name": "mixpeek-key",
    }
    # The page editor: an upstream's fields are typed, one a line.
    saved = save(console, rid, exposed_fields="title\nprice", title="Lamps from Mixpeek")
    assert saved.status_code == 303, saved.text[:2000]
    page = console.get(editor_url(rid)).text
    csrf = form_value(page, "csrf")
    published = console.post(
        editor_url(rid, "publish"),
        data={"csrf": csrf, "public_name": "mixpeek-lamps"},
        follow_redirects=False,
    )
    assert published.status_code == 303, published.text[:2000]
    public = console.get("/r/mixpeek-lamps?query=lamp")
    assert public.status_code == 200
    assert "Lamps from Mixpeek" in public.text
    assert "Brass lamp from Mixpeek" in public.text
    assert "Paper lantern" in public.text  # found under the upstream's payload
    assert KEY not in public.text
    assert base_url not in public.text
    sent = state.requests[-1]
    assert sent["path"] == "/v1/retrievers/ret_lamps/execute"
    assert sent["authorization"] == f"Bearer {KEY}"
    assert sent["namespace"] == "ns_shop"
    listed = console.get("/console/retrievers").text
    assert "mixpeek lamps" in listed
    assert 'href="/r/mixpeek-lamps"' in listed


@pytest.mark.parametrize(
    ("fields", "name", "says"),
    [
        ({"base_url": "http://10.1.2.3"}, "base_url", "an internal address"),
        ({"base_url": "http://169.254.169.254/latest"}, "base_url", "an internal address"),
        ({"base_url": "http://[::1]:8000"}, "base_url", "an internal address"),
        ({"base_url": "http://192.168.0.10"}, "base_url", "an internal address"),
        ({"base_url": "ftp://api.example.test"}, "base_url", "http(s) URL"),
        ({"base_url": "https://user:pw@api.example.test"}, "base_url", "user or password"),
        ({"base_url": "https://api.example.test/?x=1"}, "base_url", "?query"),
        ({"base_url": ""}, "base_url", "http(s) URL"),
        ({"upstream_retriever_id": "../admin"}, "upstream_retriever_id", "no '/', '?', '..'"),
        ({"upstream_namespace": "ns\r\nX-Injected: 1"}, "upstream_namespace", "letters"),
        ({"api_key_secret_name": "nope"}, "api_key_secret_name", "No secret named 'nope'"),
        ({"api_key_secret_name": ""}, "api_key_secret_name", "Choose the secret"),
        ({"retriever_name": "bad/name"}, "retriever_name", "letters"),
    ],
)
def test_a_value_refused_is_told_beside_its_field_and_kept(
    console: TestClient, fields: dict[str, str], name: str, says: str
) -> None:
    response = create(console, **fields)
    assert response.status_code == 422, response.text[:500]
    html = response.text
    assert says in error_of(html, name).replace("&#39;", "'")
    assert re.search(rf'id="{name}" name="{name}"[^>]*aria-invalid="true"', html)
    assert 'name="source" value="mixpeek"' in html  # still the Mixpeek form
    for other in ("base_url", "upstream_retriever_id", "upstream_namespace"):
        if other != name:
            assert f'value="{fields.get(other, "")}"' in html or other not in fields
    assert KEY not in html
    assert retrievers(console) == []


def test_the_values_typed_stay_and_a_name_taken_is_told_beside_it(console: TestClient) -> None:
    first = create(console, base_url="https://api.example.test")
    assert first.status_code == 303
    again = create(console, base_url="https://other.example.test/v2")
    assert again.status_code == 409
    assert "already exists" in error_of(again.text, "retriever_name")
    assert 'value="https://other.example.test/v2"' in again.text
    assert 'value="ret_lamps"' in again.text
    assert '<option value="mixpeek-key" selected>' in again.text


def test_a_key_goes_to_one_upstream_only(console: TestClient) -> None:
    assert create(console, base_url="https://api.example.test").status_code == 303
    other = create(console, retriever_name="elsewhere", base_url="https://evil.example.test")
    assert other.status_code == 422
    assert "sent only to the upstream it was first used with" in error_of(
        other.text, "api_key_secret_name"
    )


def test_an_editor_names_the_secret_and_sees_no_list(console: TestClient) -> None:
    sign_in(console, EDITOR_KEY)
    html = the_form(console)
    assert '<input id="api_key_secret_name" name="api_key_secret_name"' in html
    assert "mixpeek-key" not in html
    assert create(console).status_code == 303


def test_every_refusal_is_told_at_once(console: TestClient) -> None:
    """The address policy is told beside the address even while other fields are wrong."""
    response = create(
        console, retriever_name="bad/name", base_url="http://10.9.8.7", upstream_namespace=""
    )
    assert response.status_code == 422
    html = response.text
    assert "letters" in error_of(html, "retriever_name")
    assert "10.9.8.7, an internal address" in error_of(html, "base_url")
    assert error_of(html, "upstream_namespace")


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_are_shown_inert(console: TestClient, value: str) -> None:
    fields = ("retriever_name", "base_url", "upstream_retriever_id", "upstream_namespace")
    response = create(console, **dict.fromkeys(fields, value), api_key_secret_name=value[:100])
    assert response.status_code == 422
    inert(response.text)
    assert retrievers(console) == []
