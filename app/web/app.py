"""`create_app(settings)`: the ASGI application."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect
from starlette.routing import Mount

from app.adapters.clock import Clock, system_clock
from app.adapters.threads import in_thread
from app.errors import AppError
from app.paths import STATIC_DIR
from app.services.wiring import build_services
from app.settings import Settings, load_settings
from app.web.assets import Static
from app.web.direct import Direct
from app.web.errors import (
    handle_app_error,
    handle_disconnect,
    handle_http_exception,
    handle_unexpected,
)
from app.web.middleware.front import Front
from app.web.views import (
    analytics,
    collections,
    console,
    detail,
    docs,
    health,
    listings,
    marketplace,
    owner,
    page_api,
    pages,
    plugin_pages,
    plugins,
    public,
    relevance,
    tab_pages,
)
from app.web.views import versions as page_versions

logger = logging.getLogger("retriever_pages")
GZIP_MINIMUM_BYTES = 600


def create_app(settings: Settings | None = None, *, clock: Clock = system_clock) -> Starlette:
    settings = settings or load_settings()
    services = build_services(settings, clock)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        version = await in_thread(services.store.migrate)
        logger.info("store ready at schema version %s", version)
        # Everything made so far (modules, schemas, templates, the services) lives as long as
        # the process: out of the collector's sight, so that a full collection walks only what
        # requests made since. Unfrozen at shutdown, so that a process that builds one app after
        # another (the tests) still collects the old ones. (docs/design.md, "The collector and
        # the GIL")
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            await services.aclose()

    app = Starlette(
        routes=[
            # The public API first: it is what is hit hardest.
            *public.routes,
            *page_api.public_routes,
            *listings.routes,
            *pages.routes,
            *tab_pages.routes,
            *detail.routes,
            *owner.routes,
            *page_api.routes,
            *analytics.routes,
            *relevance.routes,
            *page_versions.routes,
            *collections.routes,
            *marketplace.routes,  # before plugins: /v1/plugins/install is not a tag
            *plugins.routes,
            *plugin_pages.routes,
            *health.routes,
            *docs.routes,
            *console.routes,
            Mount("/static", Static(directory=STATIC_DIR), name="static"),
        ],
        middleware=[
            # Request id and access log, metrics, a proxied client's share, the body limit,
            # private answers and gzip, in that order, as one layer (front.py).
            Middleware(
                Front,
                metrics=services.metrics,
                max_bytes=settings.max_body_bytes,
                share=settings.effective_max_connections_per_client,
                trusted=settings.trusted_proxies,
                access_log=settings.access_log,
                gzip_minimum=GZIP_MINIMUM_BYTES,
            ),
            # The public execute served here without the router's layers (direct.py).
            Middleware(Direct),
        ],
        exception_handlers={
            AppError: handle_app_error,
            ClientDisconnect: handle_disconnect,
            HTTPException: handle_http_exception,
            Exception: handle_unexpected,
        },
        lifespan=lifespan,
    )
    # Starlette's own slash redirect writes the Host header into Location; ours (in
    # app/web/errors.py) answers with a relative one.
    app.router.redirect_slashes = False
    app.state.services = services
    return app
