"""The garbage collector's pauses: what the server builds at startup is out of its sight while
it serves, so that a full collection walks only what requests made since."""

from __future__ import annotations

import gc

from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app


def test_the_startup_heap_is_frozen_while_serving_and_freed_after(settings: Settings) -> None:
    gc.unfreeze()
    app = create_app(settings)
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        # Modules, schemas, templates and the services: tens of thousands of objects that a
        # full collection no longer walks.
        assert gc.get_freeze_count() > 10_000
        walked = len(gc.get_objects())
        assert walked < gc.get_freeze_count() / 2
    # Shut down: another app built in this process later can see the old one collected.
    assert gc.get_freeze_count() == 0
