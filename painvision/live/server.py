"""The local HTTP feed of ``painvision watch --serve`` (FastAPI on uvicorn).

- ``GET /healthz``: liveness and camera state.
- ``GET /v1/latest``: the newest reading (503 until there is one).
- ``GET /v1/status``: the monitor's neutral, alert policy and counters.
- ``GET /v1/events``: server-sent events: onset, offset, camera_lost, camera_restored,
  stopped. Each has an ``id``; a client that reconnects with ``Last-Event-ID`` gets the
  events it missed (the last 256 are kept).

Readings and events only: the server has no access to frames.

With a token (``watch --token-file``) every ``/v1/*`` route needs
``Authorization: Bearer <token>`` (compared in constant time); without it the answer is
401 with nothing about the patient. ``/healthz`` stays open for liveness probes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable

from painvision.errors import InputError

logger = logging.getLogger(__name__)

__all__ = ["Hub", "LocalServer", "create_app", "parse_bind"]

KEEPALIVE_S = 10.0


class Hub:
    """What the watch loop publishes and the server reads; safe across threads."""

    def __init__(self, keep_events: int = 256, queue_size: int = 256) -> None:
        self._lock = threading.Lock()
        self._events: deque[tuple[int, dict]] = deque(maxlen=keep_events)
        self._next_id = 1
        self._subscribers: dict[asyncio.Queue, asyncio.AbstractEventLoop] = {}
        self._queue_size = queue_size
        self.latest: dict | None = None
        self.health: dict[str, object] = {"camera": "starting"}
        self.status_fn: Callable[[], dict] | None = None
        self.started = time.time()
        self.closed = False

    def publish_reading(self, reading: dict) -> None:
        self.latest = reading

    def publish_event(self, event: dict) -> int:
        with self._lock:
            eid = self._next_id
            self._next_id += 1
            self._events.append((eid, event))
            subs = list(self._subscribers.items())
        for queue, loop in subs:
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                loop.call_soon_threadsafe(self._offer, queue, (eid, event))
        return eid

    def _offer(self, queue: asyncio.Queue, item: tuple[int, dict] | None) -> None:
        try:
            queue.put_nowait(item)
        except asyncio.QueueFull:  # a client that does not read: cut it off
            self.unsubscribe(queue)
            with contextlib.suppress(asyncio.QueueEmpty):
                queue.get_nowait()
            queue.put_nowait(None)

    def subscribe(self, after_id: int | None) -> tuple[asyncio.Queue, list[tuple[int, dict]]]:
        queue: asyncio.Queue = asyncio.Queue(self._queue_size)
        with self._lock:
            missed = [e for e in self._events if after_id is not None and e[0] > after_id]
            self._subscribers[queue] = asyncio.get_running_loop()
        return queue, missed

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        with self._lock:
            self._subscribers.pop(queue, None)

    def close(self) -> None:
        """End every event stream."""
        self.closed = True
        with self._lock:
            subs = list(self._subscribers.items())
        for queue, loop in subs:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._offer, queue, None)


def _sse(eid: int, event: dict) -> str:
    return f"id: {eid}\nevent: {event.get('type', 'message')}\ndata: {json.dumps(event)}\n\n"


def authorized(header: str | None, token: str) -> bool:
    """``Authorization: Bearer <token>``, the token compared in constant time."""
    scheme, _, given = (header or "").partition(" ")
    ok = hmac.compare_digest(given.strip().encode(), token.encode())
    return ok and scheme.lower() == "bearer"


def create_app(hub: Hub, token: str | None = None):
    """The FastAPI application over ``hub`` (``live.http_app``); with ``token``,
    ``/v1/*`` needs it.

    Raises:
        MissingExtraError: FastAPI is not installed (the ``[serve]`` extra).
    """
    from painvision.extras import require

    require("serve", "watch --serve")
    from painvision.live.http_app import create_app as create

    return create(hub, token)


def parse_bind(value: str) -> tuple[str, int]:
    """``HOST:PORT`` or ``PORT`` (host 127.0.0.1)."""
    host, _, port = value.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    try:
        p = int(port)
    except ValueError:
        raise InputError(f"--serve expects HOST:PORT or PORT, got {value!r}") from None
    if not 0 <= p <= 65535:
        raise InputError(f"--serve: port must be 0-65535, got {p}")
    return host, p


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _BindErrors(logging.Filter):
    """Holds back uvicorn's log line about an address it cannot bind, keeping its reason."""

    def __init__(self) -> None:
        super().__init__()
        self.reason: str | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if "while attempting to bind" in text:
            self.reason = text.rsplit(": ", 1)[-1]  # "address already in use"
            return False
        return True


class LocalServer:
    """uvicorn in a background thread (the main thread keeps the signal handlers)."""

    def __init__(self, hub: Hub, host: str, port: int, token: str | None = None) -> None:
        from painvision.extras import require

        require("serve", "watch --serve")
        import uvicorn

        self.host, self.port = host, port
        self.token = token
        config = uvicorn.Config(create_app(hub, token), host=host, port=port, log_config=None,
                                log_level="warning", access_log=False, lifespan="off",
                                timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, name="painvision-http", daemon=True)
        self.error: BaseException | None = None

    def _serve(self) -> None:
        try:
            self._server.run()
        except BaseException as exc:  # noqa: BLE001 - reported by start()
            self.error = exc

    def start(self, timeout: float = 10.0) -> None:
        """Start serving; raises InputError if the address cannot be bound (uvicorn's own
        log line about it is held back: the error says it, in one line)."""
        if not is_loopback(self.host):
            logger.warning("serving on %s: readings and events (no images) are reachable "
                           "from the network%s", self.host,
                           "" if self.token else ", without a token")
        uvicorn_log = logging.getLogger("uvicorn.error")
        bind_errors = _BindErrors()
        uvicorn_log.addFilter(bind_errors)
        try:
            self._thread.start()
            deadline = time.monotonic() + timeout
            while not self._server.started:
                if not self._thread.is_alive() or time.monotonic() > deadline:
                    reason = bind_errors.reason or "address in use or not available"
                    raise InputError(f"cannot serve on {self.host}:{self.port} ({reason})")
                time.sleep(0.02)
        finally:
            uvicorn_log.removeFilter(bind_errors)
        if self.port == 0:  # the port the system gave
            for srv in getattr(self._server, "servers", []):
                for sock in getattr(srv, "sockets", []):
                    self.port = int(sock.getsockname()[1])
                    break

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5.0)
