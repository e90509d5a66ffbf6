"""The search box's suggestions (`static/typeahead.js`) in Chromium: the WAI-ARIA combobox
pattern driven by the keyboard alone and by the mouse, axe with the list open, no question
while a key is held down, old answers never over new ones, inside an embed, behind a
password; and where there are none: an upstream's retriever, a publisher who turned them off,
a browser without JavaScript."""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.paths import SAMPLE_CATALOG
from app.services.demo import DEMO_DISPLAY_CONFIG
from app.services.importing import import_file
from app.settings import Settings
from app.web.app import create_app
from tests.helpers import (
    SCREENSHOTS,
    browse_config,
    local_backend,
    owner_headers,
    publish_backend,
    publish_over_upstream,
)
from tests.servers import LiveServer, free_port
from tests.web import test_accessibility, test_browser

browser = test_browser.browser
open_page = test_browser.open_page
host_site = test_browser.host_site
axe_source = test_accessibility.axe_source

PASSWORD = "open sesame"
BOX = "#in-query"
LIST = "#in-query-suggestions"
SEARCH_FIELDS = ["title", "description", "brand", "category", "tags"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844, "is_mobile": True, "has_touch": True}


def _upstream() -> Starlette:
    async def execute(request: Request) -> Response:
        query = str((await request.json()).get("inputs", {}).get("query") or "everything")
        documents = [{"document_id": f"d{n}", "title": f"{query} {n}"} for n in range(3)]
        return JSONResponse({"documents": documents, "pagination": {"total": 3}})

    return Starlette(routes=[Route("/v1/retrievers/{rid}/execute", execute, methods=["POST"])])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo's catalog and page ("shop"), a password-protected twin ("locked"), the same
    page with suggestions turned off ("quiet"), and a retriever over an upstream ("remote")."""
    port = free_port()
    url = f"http://localhost:{port}"
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("typeahead"),
        public_url=url,
        api_keys=["acme:test-owner-key-0123456789"],
        upstream_allow=["127.0.0.1"],
    )
    app = create_app(settings)
    import_file(app.state.services.engine, "acme", "products", SAMPLE_CATALOG)
    quiet = copy.deepcopy(DEMO_DISPLAY_CONFIG)
    quiet["extensions"]["typeahead"] = False
    backend = {**local_backend(), "search_fields": SEARCH_FIELDS}
    with (
        LiveServer(_upstream()) as upstream,
        LiveServer(app, port=port, host="localhost"),
        httpx.Client(base_url=url) as client,
    ):
        publish_backend(client, "shop", backend, DEMO_DISPLAY_CONFIG)
        publish_backend(client, "quiet", backend, quiet)
        rid = publish_backend(client, "locked", backend, DEMO_DISPLAY_CONFIG)
        client.post(
            "/v1/organizations/secrets",
            headers=owner_headers(),
            json={"secret_name": "pw", "secret_value": PASSWORD},
        ).raise_for_status()
        client.patch(
            f"/v1/retrievers/{rid}/publish",
            headers=owner_headers(),
            json={"password_secret_name": "pw"},
        ).raise_for_status()
        remote = browse_config(exposed_fields=["title"], field_config={}, logo_url=None)
        remote["components"] = {}
        publish_over_upstream(client, "remote", upstream.url, remote, "sk_remote")
        yield url


def _asked(page: Any) -> list[str]:
    """The words of each question the page sends the typeahead, as it sends them."""
    questions: list[str] = []

    def sent(request: Any) -> None:
        if "/typeahead?" in request.url:
            questions.append(parse_qs(urlsplit(request.url).query)["q"][0])

    page.on("request", sent)
    return questions


def _options(page: Any) -> list[str]:
    texts: list[str] = page.locator(f"{LIST} [role=option]").all_inner_texts()
    return texts


def _combobox(page: Any) -> dict[str, Any]:
    """The box's and the list's ARIA state, as a screen reader reads it."""
    state: dict[str, Any] = page.evaluate(
        """box => {
          const input = document.querySelector(box);
          const list = document.getElementById(input.getAttribute('aria-controls'));
          const active = input.getAttribute('aria-activedescendant');
          return {
            role: input.getAttribute('role'),
            autocomplete: input.getAttribute('aria-autocomplete'),
            expanded: input.getAttribute('aria-expanded'),
            list_role: list && list.getAttribute('role'),
            list_shown: !!list && !list.hidden && list.offsetHeight > 0,
            active: active && document.getElementById(active).textContent,
            selected: list ? [...list.querySelectorAll('[role=option][aria-selected=true]')]
              .map(o => o.textContent) : [],
            announced: input.parentNode.querySelector('[aria-live]').textContent,
          };
        }""",
        BOX,
    )
    return state


def test_the_keyboard_alone_picks_a_suggestion_and_searches_it(
    server: str, open_page: Callable[..., Any]
) -> None:
    page = open_page(viewport=DESKTOP)
    page.goto(f"{server}/r/shop")
    page.evaluate("window.notReloaded = true")
    for _ in range(10):  # to the box by Tab, past the page's header
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "in-query":
            break
    closed = _combobox(page)
    assert closed == {
        "role": "combobox",
        "autocomplete": "list",
        "expanded": "false",
        "list_role": "listbox",
        "list_shown": False,
        "active": None,
        "selected": [],
        "announced": "",
    }
    page.keyboard.type("la", delay=60)
    page.locator(f"{LIST} [role=option]").first.wait_for()
    offered = _options(page)
    assert offered[:4] == ["lamp", "lark", "large", "lay"]
    opened = _combobox(page)
    assert opened["expanded"] == "true"
    assert opened["list_shown"] is True
    assert opened["active"] is None  # the words are still being edited
    assert opened["selected"] == []
    assert opened["announced"] == f"{len(offered)} suggestions"
    page.keyboard.press("ArrowDown")
    assert (_combobox(page)["active"], _combobox(page)["selected"]) == ("lamp", ["lamp"])
    page.keyboard.press("ArrowDown")
    assert (_combobox(page)["active"], _combobox(page)["selected"]) == ("lark", ["lark"])
    page.keyboard.press("ArrowUp")
    assert (_combobox(page)["active"], _combobox(page)["selected"]) == ("lamp", ["lamp"])
    page.keyboard.press("ArrowUp")  # from the first to the last
    assert _combobox(page)["active"] == offered[-1]
    page.keyboard.press("ArrowDown")  # and round again
    assert _combobox(page)["active"] == "lamp"
    assert page.evaluate("document.activeElement.id") == "in-query"  # focus stays in the box
    page.keyboard.press("Enter")
    page.wait_for_url("**query=lamp")
    page.wait_for_selector("#results:not([aria-busy]) .card")
    assert page.input_value(BOX) == "lamp"
    assert _combobox(page)["expanded"] == "false"
    assert _combobox(page)["list_shown"] is False
    assert _combobox(page)["announced"] == ""
    marked = page.locator(".card .title mark").all_inner_texts()
    assert marked
    assert all(word.lower() == "lamp" for word in marked)
    assert page.evaluate("window.notReloaded") is True  # searched in place, as a typed search
    # The search is a link like any other: opened afresh, it shows the same.
    page.goto(page.url)
    assert page.input_value(BOX) == "lamp"
    assert page.locator(".card .title mark").first.inner_text().lower() == "lamp"


def test_escape_closes_the_list_then_clears_the_box(
    server: str, open_page: Callable[..., Any]
) -> None:
    page = open_page(viewport=DESKTOP)
    page.goto(f"{server}/r/shop")
    page.focus(BOX)
    page.keyboard.type("ke", delay=60)
    page.locator(f"{LIST} [role=option]").first.wait_for()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Escape")
    state = _combobox(page)
    assert (state["expanded"], state["list_shown"], state["active"]) == ("false", False, None)
    assert page.input_value(BOX) == "ke"  # the words stay
    page.keyboard.press("ArrowDown")  # the list comes back, its first suggestion chosen
    assert _combobox(page)["expanded"] == "true"
    assert _combobox(page)["active"] == _options(page)[0]
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    assert page.input_value(BOX) == ""
    assert _combobox(page)["expanded"] == "false"
    # Tab leaves the box and closes the list, choosing nothing.
    page.keyboard.type("ke", delay=60)
    page.locator(f"{LIST} [role=option]").first.wait_for()
    page.keyboard.press("Tab")
    assert _combobox(page)["expanded"] == "false"
    assert page.input_value(BOX) == "ke"


def test_a_click_on_a_suggestion_searches_it(server: str, open_page: Callable[..., Any]) -> None:
    page = open_page(viewport=DESKTOP)
    page.goto(f"{server}/r/shop")
    page.click(BOX)
    page.keyboard.type("kett", delay=60)
    page.locator(f"{LIST} [role=option]", has_text="kettlebell").click()
    page.wait_for_url("**query=kettlebell")
    page.wait_for_selector("#results:not([aria-busy]) .card")
    assert page.input_value(BOX) == "kettlebell"
    assert _combobox(page)["expanded"] == "false"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_open_list_has_no_accessibility_violations(
    server: str, open_page: Callable[..., Any], axe_source: str, scheme: str
) -> None:
    for viewport in (DESKTOP, PHONE):
        page = open_page(bypass_csp=True, color_scheme=scheme, **_context(viewport))
        page.goto(f"{server}/r/shop")
        page.focus(BOX)
        page.keyboard.type("l", delay=60)
        page.locator(f"{LIST} [role=option]").first.wait_for()
        page.keyboard.press("ArrowDown")
        assert _combobox(page)["active"] == "lumen"
        assert test_accessibility.violations(page, axe_source) == []


def _context(viewport: dict[str, Any]) -> dict[str, Any]:
    """A browser context's options for a viewport (a phone's touch and scale with it)."""
    size = {"width": viewport["width"], "height": viewport["height"]}
    return {"viewport": size, **{k: v for k, v in viewport.items() if k not in size}}


def test_a_key_held_down_asks_nothing_until_it_is_let_go(
    server: str, open_page: Callable[..., Any]
) -> None:
    page = open_page(viewport=DESKTOP)
    page.goto(f"{server}/r/shop")
    asked = _asked(page)
    page.focus(BOX)
    with page.expect_response(lambda r: "/typeahead?" in r.url):
        page.keyboard.type("lamp", delay=40)  # quicker than the pause: one question
    assert asked == ["lamp"]
    # Backspace held down for a second: the first press, then the keyboard's repeats.
    for _ in range(3):
        page.keyboard.down("Backspace")
        page.wait_for_timeout(350)  # longer than the pause between questions
    assert page.input_value(BOX) == "l"
    assert asked == ["lamp"]
    page.keyboard.up("Backspace")
    page.locator(f"{LIST} [role=option]", has_text="lumen").first.wait_for()
    page.wait_for_timeout(400)
    assert asked == ["lamp", "l"]
    # Words asked about already are not asked again.
    page.keyboard.type("amp", delay=200)
    page.keyboard.press("Backspace")
    page.wait_for_timeout(400)
    assert asked.count("lamp") == 1
    assert asked[-1] == "lam"


def test_an_old_answer_never_replaces_a_newer_one(
    server: str, open_page: Callable[..., Any]
) -> None:
    page = open_page(viewport=DESKTOP)
    page.goto(f"{server}/r/shop")
    asked = _asked(page)
    aborted: list[str] = []
    page.on(
        "requestfailed",
        lambda r: (
            aborted.append(parse_qs(urlsplit(r.url).query)["q"][0])
            if "/typeahead?" in r.url
            else None
        ),
    )
    late: list[tuple[Any, Any]] = []

    def slow_first(route: Any) -> None:
        # The server's real answer to "k", held back until the test lets it go.
        if parse_qs(urlsplit(route.request.url).query)["q"] == ["k"]:
            late.append((route, route.fetch()))
        else:
            route.continue_()

    page.route("**/typeahead?*", slow_first)
    page.focus(BOX)
    page.keyboard.type("k")
    page.wait_for_timeout(400)  # "k" is asked for, and its answer is on its way...
    assert asked == ["k"]
    page.keyboard.type("ni", delay=40)  # ...when the words change
    page.locator(f"{LIST} [role=option]", has_text="knife").wait_for()
    assert _options(page) == ["knife", "knit"]
    assert asked == ["k", "kni"]
    assert aborted == ["k"]  # never two questions in flight
    route, answer = late[0]
    body = answer.json()
    assert "kitchen" in body["suggestions"]  # the old answer had other suggestions
    with contextlib.suppress(test_browser.playwright_api.Error):  # the page gave up on it
        route.fulfill(response=answer, body=json.dumps(body))
    page.wait_for_timeout(400)
    assert _options(page) == ["knife", "knit"]


def test_suggestions_work_inside_the_embed(
    host_site: Callable[[str], str], open_page: Callable[..., Any]
) -> None:
    page = open_page(viewport={"width": 1000, "height": 900})
    page.goto(host_site("shop"))
    frame = page.wait_for_selector("iframe").content_frame()
    frame.wait_for_selector(".card")
    frame.focus(BOX)
    page.keyboard.type("la", delay=60)
    frame.locator(f"{LIST} [role=option]").first.wait_for()
    assert frame.locator(f"{LIST} [role=option]").all_inner_texts()[0] == "lamp"
    assert frame.get_attribute(BOX, "aria-expanded") == "true"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    frame.wait_for_url("**query=lamp**")
    frame.wait_for_selector("#results:not([aria-busy]) .card")
    assert "/r/shop/embed" in frame.url
    assert frame.input_value(BOX) == "lamp"
    assert page.url == host_site("shop")  # the host page stays where it was


def test_a_locked_page_asks_nothing_until_it_is_unlocked(
    server: str, open_page: Callable[..., Any]
) -> None:
    page = open_page(viewport=DESKTOP)
    asked = _asked(page)
    page.goto(f"{server}/r/locked")
    assert page.locator("[role=combobox], [data-typeahead]").count() == 0
    page.fill("#password", PASSWORD)
    page.click("form.unlock button")
    page.wait_for_selector(".card")
    assert asked == []
    # Unlocked by its cookie, which the typeahead reads as the page does.
    page.focus(BOX)
    page.keyboard.type("la", delay=60)
    page.locator(f"{LIST} [role=option]").first.wait_for()
    assert asked == ["la"]
    assert _options(page)[0] == "lamp"


@pytest.mark.parametrize("name", ["remote", "quiet"])
def test_no_suggestions_where_there_are_none_to_give(
    server: str, open_page: Callable[..., Any], name: str
) -> None:
    page = open_page(viewport=DESKTOP)
    asked = _asked(page)
    page.goto(f"{server}/r/{name}")
    page.focus(BOX)
    page.keyboard.type("la", delay=60)
    page.wait_for_timeout(700)
    assert asked == []
    assert page.locator("[role=combobox], [role=listbox]").count() == 0
    assert page.get_attribute(BOX, "type") == "search"  # a plain search box, as before
    # (The page's Page fails the test on any console or page error.)


def test_without_javascript_the_box_is_a_plain_search_field(
    server: str, open_page: Callable[..., Any]
) -> None:
    page = open_page(java_script_enabled=False, viewport=DESKTOP)
    page.goto(f"{server}/r/shop")
    assert page.locator("[role=combobox], [role=listbox], [aria-expanded]").count() == 0
    page.fill(BOX, "kettle")
    page.keyboard.press("Enter")
    page.wait_for_url("**query=kettle**")
    assert page.input_value(BOX) == "kettle"
    titles = page.locator(".card .title").all_inner_texts()
    assert titles
    assert all("Kettle" in title for title in titles)


def test_the_page_says_where_to_ask_only_when_it_may(server: str) -> None:
    with httpx.Client(base_url=server) as client:
        shop = client.get("/r/shop").text
        assert 'data-typeahead="/v1/public/retrievers/shop/typeahead"' in shop
        assert "/static/typeahead." in shop
        for name in ("quiet", "remote", "locked"):
            page = client.get(f"/r/{name}").text
            assert "data-typeahead" not in page
            assert "/static/typeahead." not in page
        # The policy is as strict as before: scripts from this server only, none inline.
        policy = client.get("/r/shop").headers["content-security-policy"]
        assert "script-src 'self';" in policy
        assert "unsafe-inline" not in policy


def test_a_bad_typeahead_switch_is_refused_by_name(server: str) -> None:
    config = copy.deepcopy(DEMO_DISPLAY_CONFIG)
    config["extensions"]["typeahead"] = "off"
    with httpx.Client(base_url=server) as client:
        rid = client.post(
            "/v1/retrievers",
            headers=owner_headers(),
            json={"retriever_name": "bad", "backend": local_backend()},
        ).json()["retriever_id"]
        refused = client.post(
            f"/v1/retrievers/{rid}/publish",
            headers=owner_headers(),
            json={"public_name": "bad", "display_config": config},
        )
    assert refused.status_code == 422
    assert "extensions.typeahead must be true" in refused.text


def _open_list(page: Any, server: str, width: int) -> None:
    """The demo's page with the list open for "k" and its second suggestion chosen, under the
    box, as wide as it, within the screen, each suggestion a finger's height."""
    page.goto(f"{server}/r/shop")
    page.focus(BOX)
    page.keyboard.type("k", delay=60)
    page.locator(f"{LIST} [role=option]").first.wait_for()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    # The results for "k" came in under the open list (searched as typed): their pictures too.
    page.wait_for_url("**query=k")
    page.wait_for_selector("#results:not([aria-busy]) .card")
    for _ in range(100):  # (polled from outside: the page's CSP rightly refuses eval)
        if page.evaluate("[...document.images].every(image => image.complete)"):
            break
        page.wait_for_timeout(100)
    assert _combobox(page)["active"] == _options(page)[1]
    box = page.locator(BOX).bounding_box()
    listed = page.locator(LIST).bounding_box()
    assert abs(listed["x"] - box["x"]) <= 1
    assert abs(listed["width"] - box["width"]) <= 1
    assert box["y"] + box["height"] <= listed["y"] <= box["y"] + box["height"] + 8
    assert listed["x"] + listed["width"] <= width
    heights = [o.bounding_box()["height"] for o in page.locator(f"{LIST} [role=option]").all()]
    assert min(heights) >= 44


def test_the_open_list_on_a_desktop(server: str, open_page: Callable[..., Any]) -> None:
    page = open_page(**_context(DESKTOP))
    _open_list(page, server, DESKTOP["width"])
    page.screenshot(path=str(SCREENSHOTS / "typeahead-desktop.png"))


def test_the_open_list_on_a_phone(server: str, open_page: Callable[..., Any]) -> None:
    page = open_page(**_context(PHONE))
    _open_list(page, server, PHONE["width"])
    page.screenshot(path=str(SCREENSHOTS / "typeahead-phone.png"))


def test_the_words_typed_are_never_suggested(server: str, open_page: Callable[..., Any]) -> None:
    # On a phone the list covers the Search button: it never offers what is already typed.
    page = open_page(viewport=DESKTOP)
    page.goto(f"{server}/r/shop")
    page.click(BOX)
    page.keyboard.type("kett", delay=60)
    page.locator(f"{LIST} [role=option]", has_text="kettlebell").first.wait_for()
    with page.expect_response(lambda r: "/typeahead?" in r.url and "kettlebell" in r.url) as got:
        page.keyboard.type("lebell", delay=60)
    assert "kettlebell" in [str(s).lower() for s in got.value.json()["suggestions"]]
    page.wait_for_timeout(200)
    assert "kettlebell" not in [o.strip().lower() for o in _options(page)]
