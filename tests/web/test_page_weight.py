"""The search page's budget: the demo's page of 20 results, with its filters panel, sort menu and
the search box's suggestions, and every stylesheet and script it links weigh at most 18 KiB gzip,
as the server sends them (the performance target is 25 KiB)."""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.testclient import TestClient

from app.services.demo import DEMO_PUBLIC_NAME, seed_demo
from app.settings import Settings
from app.web.app import create_app

BUDGET = 18 * 1024


def test_the_demo_page_stays_within_its_weight_budget(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()
    seed_demo(settings)
    with TestClient(create_app(settings), headers={"Accept-Encoding": "gzip"}) as client:
        page = client.get(f"/r/{DEMO_PUBLIC_NAME}?query=a")
        assert page.text.count('<li class="card"') == 20
        assert '<aside id="filters"' in page.text
        linked = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page.text)
        linked += re.findall(r'<script src="([^"]+)"', page.text)
        assert len(linked) >= 2
        sizes = [page.num_bytes_downloaded]
        for url in linked:
            response = client.get(url)
            assert response.headers["content-encoding"] == "gzip"
            sizes.append(response.num_bytes_downloaded)
    assert page.headers["content-encoding"] == "gzip"
    assert sum(sizes) <= BUDGET, sizes
