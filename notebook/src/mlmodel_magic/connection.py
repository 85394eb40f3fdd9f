"""One kept-alive HTTP/1.1 connection to ``mlmodel serve``, for a training script's many small requests.

urllib opens a new connection for every request, and over https does a new TLS handshake each time: a
run that logs a point per step would pay that on every step. A ``Connection`` keeps one open and,
before each request, checks that the server has not closed it meanwhile (a server closes a connection
idle for a few seconds; ``mlmodel serve`` after 5), opening a new one when it has. One idle for
IDLE_REUSE_S or more is not reused at all: a request sent just as the server closes the connection
would be lost, and the client could not tell whether the server had carried it out. A request that fails
on the wire is never sent again: the server may have carried out a POST whose answer was lost, and a
point or a run must not be logged twice. The connection is left closed after any failure, so the next
request starts on a fresh one.

Through a proxy (``http_proxy`` / ``https_proxy`` in the environment, and ``no_proxy``, as urllib reads
them) requests go through urllib, one connection each, as before.
"""
from __future__ import annotations

import http.client
import select
import socket
import ssl
import threading
import urllib.error
import urllib.parse
import urllib.request
import time
from typing import Mapping, Optional, Tuple

#: Seconds a connection may have been idle and still be reused: under mlmodel serve's keep-alive time (5 s).
IDLE_REUSE_S = 4.0


class Connection:
    """Requests to one server (``url``: ``http[s]://host[:port][/prefix]``), one at a time, on one connection."""

    def __init__(self, url: str, timeout: float):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r} is not an http:// or https:// URL")
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._proxied = parts.scheme in urllib.request.getproxies() and not urllib.request.proxy_bypass(parts.hostname)
        self._conn: Optional[http.client.HTTPConnection] = None
        self._idle_since = 0.0
        # A Keras callback or a thread pool may log from several threads: one request on the wire at a time.
        self._lock = threading.Lock()
        #: How many connections this has opened (one, for a run whose requests are never IDLE_REUSE_S apart).
        self.opened = 0

    def request(self, method: str, path: str, data: Optional[bytes], headers: Mapping[str, str]) -> Tuple[int, bytes]:
        """The answer's status and body. Raises OSError (a timeout: TimeoutError) or http.client.HTTPException
        when the server cannot be reached or the connection fails."""
        if self._proxied:
            return self._through_urllib(method, path, data, headers)
        with self._lock:
            try:
                conn = self._open()
                conn.request(method, self._prefix + path, body=data, headers=dict(headers))
                res = conn.getresponse()
                body = res.read()
            except BaseException:
                # Half a request or half an answer (Ctrl-C included): this connection's state is unknown.
                self._close()
                raise
            if res.will_close:
                self._close()
            self._idle_since = time.monotonic()
            return res.status, body

    def close(self) -> None:
        with self._lock:
            self._close()

    def _open(self) -> http.client.HTTPConnection:
        if self._conn is not None and (time.monotonic() - self._idle_since >= IDLE_REUSE_S or _closed_by_server(self._conn)):
            self._close()
        if self._conn is None:
            if self._https:
                conn = http.client.HTTPSConnection(self._host, self._port, timeout=self.timeout, context=ssl.create_default_context())
            else:
                conn = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
            conn.connect()
            # http.client sends a request's headers and its body in two writes: with Nagle's algorithm on, the
            # body waits for the server's (delayed) ACK of the headers — 1 to 40 ms a request on loopback.
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._conn = conn
            self.opened += 1
        return self._conn

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _through_urllib(self, method: str, path: str, data: Optional[bytes], headers: Mapping[str, str]) -> Tuple[int, bytes]:
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=dict(headers))
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as res:
                return res.status, res.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()
        except urllib.error.URLError as e:
            # The reason (refused, unknown host, a timeout) as what the direct path raises.
            raise e.reason if isinstance(e.reason, OSError) else OSError(str(e.reason)) from None


def _closed_by_server(conn: http.client.HTTPConnection) -> bool:
    """True when the idle connection reads as ready: the server has closed it (or sent what was not asked for)."""
    if conn.sock is None:
        return False
    try:
        ready, _, _ = select.select([conn.sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(ready)
