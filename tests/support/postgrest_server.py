"""A PostgREST-subset HTTP server in front of a real PostgreSQL, for the ``supabase`` client.

It speaks what ``postgrest-py`` sends for ``lib/store/supabase_repository.py``: tables under
``/rest/v1/<table>``; ``select``, ``order``, ``limit``, ``offset``, filters ``eq neq gt gte lt
lte in is cs cd`` (optionally ``not.``); ``Prefer: return=…, resolution=…, count=exact``;
``on_conflict`` and ``columns``; GET, HEAD, POST (object or array), PATCH, DELETE. Requests need
``apikey`` and ``Authorization: Bearer`` equal to the configured key. Errors carry PostgREST's
JSON shape (``code``, ``details``, ``hint``, ``message``) and status codes, SQL errors mapped
as PostgREST maps SQLSTATEs. Like Supabase, GET answers at most ``max_rows`` rows (default 1000).

``stop()`` closes the listening socket *and* every open keep-alive connection, so a client sees
the service go away as it would in production; ``start()`` again reuses the same port.
"""

from __future__ import annotations

import json
import queue
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import psycopg

from tests.support import postgrest_sql as pg
from tests.support.postgrest_sql import ApiError

REST_PREFIX = "/rest/v1/"
_WRITE_METHODS = frozenset({"POST", "PATCH", "DELETE"})


def sqlstate_status(sqlstate: str) -> int:
    """The HTTP status PostgREST answers for a PostgreSQL error code."""
    exact = {"23503": 409, "23505": 409, "25006": 405, "P0001": 400, "42883": 404}
    exact |= {"42P01": 404, "42P17": 500, "42501": 403}
    if sqlstate in exact:
        return exact[sqlstate]
    by_class = {"08": 503, "53": 503, "0L": 403, "0P": 403, "28": 403}
    server_side = ("09", "25", "2D", "38", "39", "3B", "40", "54", "55", "57", "58", "F0", "HV")
    by_class |= dict.fromkeys((*server_side, "P0", "XX"), 500)
    return by_class.get(sqlstate[:2], 400)


class PostgrestServer:
    """The server; ``url`` is what ``supabase.create_client`` takes."""

    def __init__(
        self,
        dsn: str,
        api_key: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        schema: str = "public",
        max_rows: int | None = 1000,
    ) -> None:
        self.dsn = dsn
        self.api_key = api_key
        self.schema = schema
        self.max_rows = max_rows
        self._address = (host, port)
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._idle: queue.SimpleQueue[psycopg.Connection[Any]] = queue.SimpleQueue()
        self._tables: dict[str, pg.Table] | None = None

    @property
    def url(self) -> str:
        return f"http://{self._address[0]}:{self._address[1]}"

    def start(self) -> None:
        httpd = _HttpServer(self._address, _Handler)
        httpd.app = self
        self._address = (self._address[0], int(httpd.server_address[1]))
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, args=(0.05,), name="postgrest", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._httpd is None or self._thread is None:
            return
        self._httpd.shutdown()
        self._httpd.close_connections()
        self._httpd.server_close()
        self._thread.join(timeout=5)
        self._httpd = self._thread = None
        while not self._idle.empty():
            self._idle.get().close()

    def __enter__(self) -> PostgrestServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """Answer one request: (status, headers, body)."""
        try:
            self._authorize(method, headers)
            path = urlsplit(target)
            if not path.path.startswith(REST_PREFIX):
                raise ApiError(
                    404, "PGRST125", f"Invalid path specified in request URL: {path.path}"
                )
            pairs = parse_qsl(path.query, keep_blank_values=True)
            with self._connection() as conn:
                table = self._table(conn, path.path.removeprefix(REST_PREFIX))
                return self._execute(conn, method, table, pairs, headers, body)
        except ApiError as exc:
            return exc.status, {}, json.dumps(exc.body).encode()

    def _authorize(self, method: str, headers: dict[str, str]) -> None:
        if headers.get("apikey") != self.api_key or headers.get("authorization") != (
            f"Bearer {self.api_key}"
        ):
            raise ApiError(401, "PGRST301", "Invalid API key", hint="Check the service-role key")
        profile = headers.get("content-profile" if method in _WRITE_METHODS else "accept-profile")
        if profile not in (None, self.schema):
            raise ApiError(
                406, "PGRST106", f"The schema must be one of the following: {self.schema}"
            )

    def _table(self, conn: psycopg.Connection[Any], name: str) -> pg.Table:
        if self._tables is None:
            self._tables = pg.load_tables(conn, self.schema)
        if name not in self._tables:
            raise ApiError(
                404,
                "PGRST205",
                f"Could not find the table '{self.schema}.{name}' in the schema cache",
            )
        return self._tables[name]

    def _execute(
        self,
        conn: psycopg.Connection[Any],
        method: str,
        table: pg.Table,
        pairs: list[tuple[str, str]],
        headers: dict[str, str],
        body: bytes,
    ) -> tuple[int, dict[str, str], bytes]:
        prefer = _preferences(headers.get("prefer", ""))
        query = pg.parse_query(table, pairs)
        options = dict(pairs)
        representation = method in ("GET", "HEAD") or prefer.get("return") == "representation"
        body_params: list[object] = []
        if method in ("GET", "HEAD"):
            statement = pg.select_sql(table, query, self.max_rows)
        elif method == "POST":
            rows = pg.body_rows(body)
            columns = pg.body_columns(rows, options.get("columns"))
            if not columns:
                return _response(method, 0, 0, 0, "[]" if representation else None)
            conflict = [c.strip() for c in options.get("on_conflict", "").split(",") if c.strip()]
            resolution = prefer.get("resolution")
            if resolution not in (None, "merge-duplicates", "ignore-duplicates"):
                raise pg.bad_request(f"unknown resolution {resolution}")
            statement = pg.insert_sql(table, query, columns, resolution, conflict, representation)
            body_params = [json.dumps(rows)]
        elif method == "PATCH":
            rows = pg.body_rows(body)
            if len(rows) != 1:
                raise ApiError(400, "PGRST102", "PATCH takes one JSON object")
            statement = pg.update_sql(table, query, list(rows[0]), representation)
            body_params = [json.dumps(rows[0])]
        elif method == "DELETE":
            statement = pg.delete_sql(table, query, representation)
        else:
            raise ApiError(405, "PGRST117", f"Unsupported HTTP method: {method}")
        with conn.transaction():
            result = conn.execute(statement, [*body_params, *query.params]).fetchone()
            assert result is not None  # an aggregate always yields one row
            rows_json, returned = result
            total: int | None = None
            if prefer.get("count") == "exact":
                total = returned
                if method in ("GET", "HEAD"):
                    counted = conn.execute(pg.count_sql(table, query), query.params).fetchone()
                    total = counted[0] if counted else 0
        return _response(method, query.offset, returned, total, rows_json)

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection; dropped when it broke, so a restarted PostgreSQL is reached anew."""
        conn = self._checkout()
        try:
            yield conn
        except ApiError:
            self._idle.put(conn)
            raise
        except psycopg.Error as exc:
            conn.close()
            status = sqlstate_status(exc.sqlstate) if exc.sqlstate else 503
            raise ApiError(
                status,
                exc.sqlstate or "PGRST001",
                exc.diag.message_primary or "Database client error. Retrying the connection.",
                exc.diag.message_detail,
                exc.diag.message_hint,
            ) from exc
        except BaseException:
            conn.close()
            raise
        self._idle.put(conn)

    def _checkout(self) -> psycopg.Connection[Any]:
        # An idle connection may have died with a restarted server: probe it before use.
        while True:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                break
            try:
                conn.execute("select 1")
                return conn
            except psycopg.Error:
                conn.close()
        try:
            return psycopg.connect(self.dsn, autocommit=True, options="-c TimeZone=UTC")
        except psycopg.OperationalError as exc:
            raise ApiError(
                503, "PGRST000", "Database connection error. Retrying the connection.", str(exc)
            ) from exc


def _preferences(header: str) -> dict[str, str]:
    pairs = (item.strip().partition("=") for item in header.split(","))
    return {key: value for key, _, value in pairs if key}


def _response(
    method: str, offset: int, returned: int, total: int | None, rows_json: str | None
) -> tuple[int, dict[str, str], bytes]:
    if method in ("GET", "HEAD"):
        span = f"{offset}-{offset + returned - 1}" if returned else "*"
        status = 206 if total is not None and offset + returned < total else 200
    else:
        span = "*"
        status = 201 if method == "POST" else (200 if rows_json is not None else 204)
    headers = {"Content-Range": f"{span}/{'*' if total is None else total}"}
    return status, headers, (rows_json or "").encode()


class _HttpServer(ThreadingHTTPServer):
    """Keeps track of open connections so ``close_connections`` can cut keep-alives."""

    daemon_threads = True
    app: PostgrestServer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._lock:
            for sock in self._open:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    continue
            self._open.clear()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, each response waits ~40 ms for an ACK.
    disable_nagle_algorithm = True
    server: _HttpServer

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {key.lower(): value for key, value in self.headers.items()}
        status, extra, payload = self.server.app.handle(self.command, self.path, headers, body)
        self.send_response(status)
        for key, value in extra.items():
            self.send_header(key, value)
        if payload or status not in (204, 304):
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    # http.server dispatches on these names.
    do_GET = do_HEAD = do_POST = do_PATCH = do_DELETE = _serve  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: pytest shows failures, not every request."""
