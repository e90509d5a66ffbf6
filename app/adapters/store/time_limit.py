"""A time limit on each wait for PostgreSQL, kept by this side.

A PostgreSQL that hangs (its machine frozen, its processes stopped, packets dropped without a
word) leaves connections open that nothing answers: TCP keepalive does not fire while the kernel
still acknowledges, statement_timeout is the server's own, and psycopg would wait for ever,
holding a thread and a pooled connection. So each round trip on a connection (a statement, a
commit, a rollback, the ping on checkout) is watched: one thread per process shuts the
connection's socket down once it has waited longer than the limit. The wait then ends at once
with a disconnection, SQLAlchemy drops the connection from the pool, and the caller gets a 503.
Waiting for a pooled connection and opening one have their own limits (`pool_timeout`,
`connect_timeout`), set to the same by `Store`.

A write cut short before its commit was sent is rolled back by the server (its connection is
gone); one cut short while its commit was on its way may or may not be saved, and its 503 says so.

Once the store has not answered a connection's ping within the limit, it is taken for hung
(`_Hung`): one request at a time tries it again (its connection's ping, or the opening of one),
and the others meanwhile get the 503 at once, before any statement, rather than each holding a
thread and a connection for the whole limit. The first answer ends it. Only a ping sets it: a
slow statement cut short says nothing of the store, and neither does a slow failure to open a
connection (a name that resolves slowly, an address that drops what is sent to it, while the
connections already open answer). The others are refused, not kept waiting for the try: a
wait there would hold a place in the connection pool, whose own waiters are not woken when it
is given up. (A try whose packets a network lost can wait its whole limit though the store
answers again: the others are refused until it ends.)
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, exc

from app.adapters import outages
from app.errors import StoreUnavailable

DEFAULT_SECONDS = 10.0
# Work known to take long (a migration, an index built over a whole collection) runs with this
# execution option set, unwatched.
UNLIMITED = "unlimited"
UNCONFIRMED = "unconfirmed"
LOCK_SHARE = 0.8  # of the limit, the longest wait for a lock

_SOCKET = "time_limit_socket"  # in a pooled connection's `info`: its socket, ours to shut
_WAIT = "time_limit_wait"  # the round trip under way on it
_FRESH = "time_limit_fresh"  # just opened: no ping needed on its first checkout


@dataclass(eq=False)
class _Wait:
    sock: socket.socket
    deadline: float
    committing: bool
    cut: bool = field(default=False)


class _Watchdog:
    """The one thread that ends the waits past their deadline."""

    def __init__(self) -> None:
        self.forget()

    def forget(self) -> None:
        """Start afresh, as a forked child must: it has none of its parent's threads."""
        self._cond = threading.Condition()
        self._waits: set[_Wait] = set()
        self._wake_at = math.inf
        self._thread: threading.Thread | None = None

    def watch(self, wait: _Wait) -> None:
        with self._cond:
            self._waits.add(wait)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="store-time-limit", daemon=True
                )
                self._thread.start()
            elif wait.deadline < self._wake_at:
                self._cond.notify()

    def done(self, wait: _Wait) -> None:
        with self._cond:
            self._waits.discard(wait)

    def close(self, sock: socket.socket) -> None:
        # Under the lock, so that no shutdown reaches a descriptor number reused meanwhile.
        with self._cond:
            sock.close()

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                # A copy first: a connection the collector drops on this thread is checked in
                # here, and its wait taken out of the set (the lock is re-entrant).
                waits = list(self._waits)
                for wait in waits:
                    if wait.deadline <= now:
                        self._waits.discard(wait)
                        wait.cut = True
                        with contextlib.suppress(OSError):  # closed: the wait has ended anyway
                            wait.sock.shutdown(socket.SHUT_RDWR)
                self._wake_at = min((w.deadline for w in waits if not w.cut), default=math.inf)
                self._cond.wait(None if self._wake_at == math.inf else self._wake_at - now)


_watchdog = _Watchdog()
os.register_at_fork(after_in_child=_watchdog.forget)


class _Hung:
    """Whether a ping has gone unanswered past the limit since the store last answered, and
    whether a request is trying it again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hung = False
        self._trying = False

    def silent(self) -> None:
        with self._lock:
            self._hung = True

    def enter(self) -> bool:
        """Whether this request tries the store again (then `leave` must follow); a
        StoreUnavailable when another does."""
        with self._lock:
            if not self._hung:
                return False
            if self._trying:
                raise outages.answer(outages.NOT_ANSWERING)
            self._trying = True
            return True

    def leave(self, trying: bool, answered: bool) -> None:
        if not trying:
            return
        with self._lock:
            self._trying = False
            if answered:
                self._hung = False

    @contextlib.contextmanager
    def trying(self) -> Iterator[None]:
        """A round trip that may be the store's try: answered if the block ends without error."""
        trying = self.enter()
        answered = False
        try:
            yield
            answered = True
        finally:
            self.leave(trying, answered)


def connect_args(seconds: float) -> dict[str, Any]:
    """psycopg's arguments that bound the opening of a connection (libpq counts whole
    seconds, two at least), and a wait for a lock: a statement behind another's lock (a write
    to a collection while its vector index is built) ends with the server's own "lock not
    available" before the limit, a 503 saying the store is busy, not one saying it hangs."""
    lock_ms = max(1, int(seconds * 1000 * LOCK_SHARE))
    return {"connect_timeout": max(2, math.ceil(seconds)), "options": f"-c lock_timeout={lock_ms}"}


def unlimited(conn: sa.Connection) -> None:
    """The rest of `conn`'s transaction is work known to take long (a migration, the engine's
    schema), which may wait behind another server doing the same: neither watched nor held to
    the lock timeout. PostgreSQL's only."""
    conn.execution_options(**{UNLIMITED: True})
    conn.exec_driver_sql("SET LOCAL lock_timeout = 0")


def install(engine: sa.Engine, seconds: float) -> None:
    """Watch every round trip on `engine`'s connections (PostgreSQL's): each may wait
    `seconds`. It replaces `pool_pre_ping`, whose ping no event would let us watch."""
    hung = _Hung()

    def arm(info: dict[str, Any], *, committing: bool = False) -> _Wait | None:
        disarm(info)
        sock = info.get(_SOCKET)
        if sock is None:
            return None
        wait = info[_WAIT] = _Wait(sock, time.monotonic() + seconds, committing)
        _watchdog.watch(wait)
        return wait

    def disarm(info: dict[str, Any]) -> _Wait | None:
        wait: _Wait | None = info.pop(_WAIT, None)
        if wait is not None:
            _watchdog.done(wait)
        return wait

    def info_of(conn: sa.Connection | None) -> dict[str, Any]:
        if conn is None or conn.invalidated or conn.closed:
            return {}
        try:
            return conn.connection.info
        except exc.ResourceClosedError:  # its connection dropped meanwhile
            return {}

    @event.listens_for(engine, "do_connect")
    def _connecting(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        with hung.trying():
            return dialect.connect(*cargs, **cparams)

    @event.listens_for(engine, "connect")
    def _connected(dbapi_connection: Any, record: Any) -> None:
        record.info[_SOCKET] = socket.socket(fileno=os.dup(dbapi_connection.pgconn.socket))
        record.info[_FRESH] = True

    @event.listens_for(engine, "close")
    def _closed(_dbapi_connection: Any, record: Any) -> None:
        disarm(record.info)
        sock = record.info.pop(_SOCKET, None)
        if sock is not None:
            _watchdog.close(sock)

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if record.info.pop(_FRESH, False):
            return  # (opened just now: `_connecting` tried the store)
        with hung.trying():
            wait = None
            try:
                wait = arm(record.info)
                engine.dialect.do_ping(dbapi_connection)
            except Exception as error:
                if wait is not None and wait.cut:
                    hung.silent()
                    raise _failure(wait, seconds) from None
                if engine.dialect.is_disconnect(error, dbapi_connection, None):  # type: ignore[arg-type]
                    raise exc.DisconnectionError() from error  # the pool opens another
                raise
            finally:
                disarm(record.info)

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            disarm(record.info)

    @event.listens_for(engine, "before_cursor_execute")
    def _executing(
        conn: sa.Connection, _cursor: Any, _sql: str, _params: Any, context: Any, _many: bool
    ) -> None:
        if context is not None and context.execution_options.get(UNLIMITED):
            disarm(info_of(conn))
        else:
            arm(info_of(conn))

    @event.listens_for(engine, "after_cursor_execute")
    def _executed(conn: sa.Connection, *_args: Any) -> None:
        disarm(info_of(conn))

    @event.listens_for(engine, "begin")
    def _begun(conn: sa.Connection) -> None:
        disarm(info_of(conn))

    @event.listens_for(engine, "commit")
    def _committing(conn: sa.Connection) -> None:
        # A read's commit saves nothing: cut short, it is a store not answering, not a change
        # that may or may not have been saved. (The engine's own transactions say nothing:
        # taken for writes.)
        writing = conn.get_execution_options().get("write", True) is not False
        arm(info_of(conn), committing=writing)

    @event.listens_for(engine, "rollback")
    def _rolling_back(conn: sa.Connection) -> None:
        arm(info_of(conn))

    @event.listens_for(engine, "handle_error")
    def _failed(context: sa.engine.ExceptionContext) -> None:
        wait = disarm(info_of(context.connection))
        if wait is not None and wait.cut:
            raise _failure(wait, seconds)


def _failure(wait: _Wait, seconds: float) -> StoreUnavailable:
    within = f"within {seconds:g} s"
    if wait.committing:
        outages.report("store", UNCONFIRMED, f"no answer to a commit {within}")
        return StoreUnavailable(
            f"The store did not answer {within} while saving: the change may or may not "
            "have been saved. Check before trying again.",
            reason=UNCONFIRMED,
            retry_after=outages.RETRY_AFTER_SECONDS[outages.NOT_ANSWERING],
        )
    # The same answer as a store that refuses: a cut connection is gone, with its transaction.
    outages.report("store", outages.NOT_ANSWERING, f"no answer {within}")
    return outages.answer(outages.NOT_ANSWERING)
