"""`create_app(settings)`: the ASGI application."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from app.clock import Clock, system_clock
from app.context import build_context
from app.errors import AppError, handle_app_error, handle_http_exception, handle_unexpected
from app.metrics import MetricsMiddleware
from app.metrics import endpoint as metrics_endpoint
from app.middleware.body_limit import BodyLimitMiddleware
from app.middleware.request_id import RequestIdMiddleware
from app.paths import STATIC_DIR
from app.settings import Settings, load_settings
from app.views import collections, docs, health, owner, pages, public

logger = logging.getLogger("retriever_pages")
GZIP_MINIMUM_BYTES = 600


def create_app(settings: Settings | None = None, *, clock: Clock = system_clock) -> Starlette:
    settings = settings or load_settings()
    ctx = build_context(settings, clock)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        version = await run_in_threadpool(ctx.store.migrate)
        logger.info("store ready at schema version %s", version)
        try:
            yield
        finally:
            await ctx.aclose()

    app = Starlette(
        routes=[
            *health.routes,
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            *docs.routes,
            *owner.routes,
            *collections.routes,
            *public.routes,
            *pages.routes,
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        ],
        middleware=[
            Middleware(RequestIdMiddleware, access_log=settings.access_log),
            Middleware(MetricsMiddleware, metrics=ctx.metrics),
            Middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes),
            Middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES),
        ],
        exception_handlers={
            AppError: handle_app_error,
            HTTPException: handle_http_exception,
            Exception: handle_unexpected,
        },
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    return app
