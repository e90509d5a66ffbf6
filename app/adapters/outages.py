"""The store, the engine or the disk under them failing, as one error: `StoreUnavailable`.

PostgreSQL stopped, a full disk, a read-only volume or a database locked for too long reach
the code as SQLAlchemy, psycopg, sqlite3, OSError or tantivy errors. `unavailable` reads which
of those it is and answers the 503 for it; `Store` maps its transactions' errors with it, and
`guarded` does the same at each public method of an engine. Anything else (a bug, a bad query)
is left alone and stays a 500.

Each cause is logged once a minute per process, as one line without a traceback: an outage
refuses every request, and a traceback for each would bury the one line that says what broke.
"""

from __future__ import annotations

import errno
import functools
import logging
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import exc

from app.errors import StoreUnavailable

logger = logging.getLogger("retriever_pages")

P = ParamSpec("P")
T = TypeVar("T")
C = TypeVar("C", bound=type)

DISK_FULL = "disk_full"
READ_ONLY = "read_only"
BUSY = "busy"
IO_ERROR = "io_error"
NOT_ANSWERING = "not_answering"
MESSAGES = {
    DISK_FULL: "The disk the store writes to is full: nothing can be saved until space is freed.",
    READ_ONLY: "The store is read-only: nothing can be changed until it is writable again.",
    BUSY: "The store is busy; try again shortly.",
    IO_ERROR: "The store cannot read or write its files; try again shortly.",
    NOT_ANSWERING: "The store is not answering; try again shortly.",
}
# Waiting for an operator (space freed, the volume made writable) takes longer than a restart.
RETRY_AFTER_SECONDS = {DISK_FULL: 60, READ_ONLY: 60, BUSY: 5, IO_ERROR: 5, NOT_ANSWERING: 5}
REPORT_EVERY_SECONDS = 60.0

_ERRNOS = {
    errno.ENOSPC: DISK_FULL,
    errno.EDQUOT: DISK_FULL,
    errno.EROFS: READ_ONLY,
    errno.EIO: IO_ERROR,
}
_SQLITE_CODES = {
    sqlite3.SQLITE_FULL: DISK_FULL,
    sqlite3.SQLITE_READONLY: READ_ONLY,
    sqlite3.SQLITE_BUSY: BUSY,
    sqlite3.SQLITE_LOCKED: BUSY,
    sqlite3.SQLITE_IOERR: IO_ERROR,
    sqlite3.SQLITE_CANTOPEN: IO_ERROR,
}
_SQLSTATES = {
    "53100": DISK_FULL,
    "25006": READ_ONLY,
    "53300": BUSY,  # too many connections
    "55P03": BUSY,  # a lock not had within the lock timeout (`store/time_limit.py`)
    "58030": IO_ERROR,
}
# tantivy raises ValueError for every failure; its I/O ones start so and carry the OS's errno.
_TANTIVY_IO = re.compile(
    r"(?:An IO error occurred|Failed to open file for (?:read|write)|An error occurred in a thread)"
)
_OS_ERROR = re.compile(r"os error (\d+)|code: (\d+)")
_SQLITE_PRIMARY_CODE = 0xFF  # an extended result code's low byte is its primary code

_lock = threading.Lock()
_last_report: dict[str, float] = {}
_unreported: dict[str, int] = {}


def unavailable(error: BaseException) -> StoreUnavailable | None:
    """The 503 for an error that says the store or its disk failed (logged, once a minute per
    cause); None for any other error."""
    cause = _cause(error)
    if cause is None:
        return None
    _report(cause, error)
    return answer(cause)


def answer(cause: str) -> StoreUnavailable:
    """The 503 for `cause` (one of MESSAGES'), with when to ask again."""
    return StoreUnavailable(MESSAGES[cause], reason=cause, retry_after=RETRY_AFTER_SECONDS[cause])


def guarded(cls: C) -> C:
    """`cls` with each public method raising `StoreUnavailable` for the store's or the disk's
    failures: an engine's entry points, mapped where they are called (its own methods and
    those it inherits alike)."""
    members: dict[str, object] = {}
    for klass in reversed(cls.__mro__[:-1]):  # (not `object`'s)
        members.update(vars(klass))
    for name, member in members.items():
        if not name.startswith("_") and callable(member) and not isinstance(member, type):
            setattr(cls, name, _guard(member))
    return cls


def _guard(method: Callable[P, T]) -> Callable[P, T]:
    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(*args, **kwargs)
        except Exception as error:
            failure = unavailable(error)
            if failure is None:
                raise
            raise failure from None

    return call


def _cause(error: BaseException) -> str | None:
    if isinstance(error, exc.DBAPIError):
        cause = _cause(error.orig) if error.orig is not None else None
        if cause is not None:
            return cause
        if isinstance(error, exc.OperationalError | exc.InterfaceError):
            return NOT_ANSWERING  # refused, reset, timed out: the server is not there
        return NOT_ANSWERING if error.connection_invalidated else None
    if isinstance(error, exc.TimeoutError):
        return BUSY  # every pooled connection is taken
    if isinstance(error, sqlite3.Error):
        code = getattr(error, "sqlite_errorcode", None)
        return None if code is None else _SQLITE_CODES.get(code & _SQLITE_PRIMARY_CODE)
    if isinstance(error, OSError):
        return _ERRNOS.get(error.errno or 0)
    sqlstate = getattr(error, "sqlstate", None)  # psycopg's errors
    if isinstance(sqlstate, str):
        return _SQLSTATES.get(sqlstate)
    if isinstance(error, ValueError) and _TANTIVY_IO.match(str(error)):
        found = _OS_ERROR.search(str(error))
        number = int(found.group(1) or found.group(2)) if found else 0
        return _ERRNOS.get(number, IO_ERROR)
    return None


def report(what: str, cause: str, detail: str) -> None:
    """Log that `what` (the store, the engine) is unavailable for `cause`, as `unavailable`
    does: one line, once a minute per part and cause."""
    _report(cause, detail, what)


def _report(cause: str, error: BaseException | str, what: str = "store") -> None:
    now = time.monotonic()
    key = f"{what} {cause}"
    with _lock:
        last = _last_report.get(key)
        if last is not None and now - last < REPORT_EVERY_SECONDS:
            _unreported[key] = _unreported.get(key, 0) + 1
            return
        _last_report[key] = now
        since = _unreported.pop(key, 0)
    more = f" ({since} more since the last report)" if since else ""
    said = error if isinstance(error, str) else _first_line(error)
    logger.error("%s unavailable (%s): %s%s", what, cause, said, more)


def _first_line(error: BaseException) -> str:
    orig: Any = error.orig if isinstance(error, exc.DBAPIError) else error
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]
