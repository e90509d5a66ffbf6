"""The public execute served straight from the front layer: what Starlette's exception
middleware, its router and the route's request-response wrapper would do for it, in one call.

The execute is the API's hottest call. On its way to the view, Starlette would make a `Request`
twice, wrap `send` twice to learn whether the answer has started, match the path against each
route before it, and check the query parameters through a parsed `QueryParams`. `Direct` sits
just inside `Front` (app/web/middleware/front.py): a POST whose path the execute's route matches
is served here, with the scope, the exception handlers and the error answers the way the router
would have made them; every other request goes on to Starlette as before (a GET to the execute's
path too: its 405 is the router's). Only a path the execute's route takes is served here, and
no route before it in the table takes one (`Direct` refuses to be built otherwise).
(docs/performance.md, "The execute without the router")
"""

from __future__ import annotations

import re
from typing import Any

from starlette._utils import is_async_callable
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Mount, Route, Router, WebSocketRoute, compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from app.web.routing import MethodRoute, known_parameters

EXECUTE = "/v1/public/retrievers/{public_name}/execute"


class Direct:
    def __init__(self, app: ASGIApp, *, path: str = EXECUTE, method: str = "POST") -> None:
        if not isinstance(app, ExceptionMiddleware) or not isinstance(app.app, Router):
            raise TypeError("Direct goes just outside Starlette's exception middleware")
        self.app = app
        self.router = app.app
        self.route = _route(self.router, path, method)
        self.method = method
        self.pattern = self.route.path_regex
        self.handler = self.route.handlers[method]
        self.operation = self.route.operations.get(method.lower())
        # The same objects the exception middleware puts in the scope for every request.
        self.handlers: tuple[dict[Any, Any], dict[int, Any]] = (
            app._exception_handlers,
            app._status_handlers,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == self.method
            and not scope.get("root_path")  # Starlette would match the path less the root
        ):
            match = self.pattern.match(scope["path"])
            if match is not None:
                await self._serve(scope, receive, send, match.group(1))
                return
        await self.app(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, name: str) -> None:
        """The exception middleware's marks, the router's and the route's, then the view and
        its answer; an error raised by either answered by the handler the exception
        middleware would have chosen, in the same shape (app/web/errors.py)."""
        scope["starlette.exception_handlers"] = self.handlers
        if "router" not in scope:
            scope["router"] = self.router
        scope["route"] = self.route
        scope["endpoint"] = self.route.endpoint
        scope["path_params"] = {**scope.get("path_params", {}), "public_name": name}
        request = Request(scope, receive, send)
        started = False  # the view raised before `response` began: nothing has been sent
        try:
            if self.operation is not None and scope["query_string"] and request.query_params:
                known_parameters(self.operation, request)
            response = await self.handler(request)
            started = True  # a Response sends its start first: whatever it raises came after
            await response(scope, receive, send)
        except Exception as exc:
            # Starlette answers an error in two nested layers (the route's, then the exception
            # middleware's): an error raised by the first's handler is the second's to answer.
            sent = [started]
            try:
                await self._answer(request, exc, sent, send)
            except Exception as again:
                if again is exc:
                    raise
                await self._answer(request, again, sent, send)

    async def _answer(self, request: Request, exc: Exception, sent: list[bool], send: Send) -> None:
        """What `starlette._exception_handler.wrap_app_handling_exceptions` does with `exc`;
        `sent[0]`: whether the answer has started."""
        exception_handlers, status_handlers = self.handlers
        handler = None
        if isinstance(exc, HTTPException):
            handler = status_handlers.get(exc.status_code)
        if handler is None:
            for cls in type(exc).__mro__:
                if cls in exception_handlers:
                    handler = exception_handlers[cls]
                    break
        if handler is None:
            raise exc  # the server-error middleware's, outside the front layer
        if sent[0]:
            raise RuntimeError("Caught handled exception, but response already started.") from exc
        response: Response | None
        if is_async_callable(handler):
            response = await handler(request, exc)
        else:  # as Starlette runs a plain function: in a thread
            response = await run_in_threadpool(handler, request, exc)
        if response is not None:
            sent[0] = True
            await response(request.scope, request.receive, send)
        exc.__traceback__ = None


def _route(router: Router, path: str, method: str) -> MethodRoute:
    """The route for `path`, once no route before it takes a path of its form: tried on the
    execute's path with made-up names, and on each earlier route's own path (its parameters
    filled in) with and without the execute's tail ("/execute") after it, for a literal name
    or a mount."""
    pattern = compile_path(path)[0]
    tail = path.rsplit("}", 1)[-1]
    named = [_PARAM.sub(value, path) for value in _SAMPLES]
    for route in router.routes:
        if isinstance(route, MethodRoute) and route.path == path:
            if method not in route.handlers:
                raise ValueError(f"{path} takes no {method}")
            if hasattr(route.app, "app"):  # a layer around its view: middleware, a body limit
                raise ValueError(f"{path} has layers of its own, which Direct would pass over")
            return route
        if not isinstance(route, Route | Mount | WebSocketRoute):
            raise ValueError(f"{route!r} comes before {path}: which paths it takes is unknown")
        probes = list(named)
        for value in _SAMPLES:
            filled = _PARAM.sub(value, route.path)
            probes += [filled, filled.rstrip("/") + tail]
        for probe in probes:
            scope = {"type": "http", "method": method, "path": probe, "headers": []}
            if pattern.match(probe) and route.matches(scope)[0] is not Match.NONE:
                raise ValueError(f"{route.path} comes before {path} and takes {probe}")
    raise ValueError(f"no route for {path}")


_PARAM = re.compile(r"\{[^}]*\}")
# Values each of Starlette's convertors takes (str, path, int, float, uuid).
_SAMPLES = ("probe", "0", "0.0", "00000000-0000-0000-0000-000000000000")
