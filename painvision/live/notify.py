"""Alerts that reach the ward: a durable outbox on local disk and a delivery thread that
POSTs every event to a URL, in order, until it is taken.

- ``Outbox``: events go into an SQLite file (WAL, each insert committed) before anything
  is sent, so an event raised while the network is down, or just before the process is
  killed, is delivered when it comes back. Each event gets an idempotency key
  (``<session>-<seq>``) that a receiver uses to drop duplicates: delivery is at least
  once, so a receiver that answered too slowly may see an event twice.
- ``Notifier``: one background thread, oldest first, never skipping ahead (in order);
  after a failure (no connection, a timeout, any answer but 2xx) it waits and retries
  the same event with capped exponential backoff (1 s, 2 s, 4 s ... at most 60 s). The
  frame loop only inserts into the outbox (well under a millisecond), so a receiver that
  is down, slow or answers garbage never holds frames up.
- Secrets (a bearer token, an HMAC key) come from a file or the environment, never from
  the command line; they are not logged.

Headers of every POST: ``Content-Type`` (``application/json``, or ``application/fhir+json``
with ``fmt="fhir"``), ``Idempotency-Key``, ``X-Painvision-Event-Type``; with a token
``Authorization: Bearer ...``; with an HMAC key ``X-Painvision-Timestamp`` (Unix seconds)
and ``X-Painvision-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import sqlite3
import stat
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from painvision.errors import InputError

logger = logging.getLogger(__name__)

__all__ = ["NOTIFY_EVENTS", "Notifier", "Outbox", "read_secret"]

#: The event types that are sent (readings are not).
NOTIFY_EVENTS = ("started", "onset", "offset", "camera_lost", "camera_restored",
                 "no_patient_face", "patient_face_restored", "stopped")
BACKOFF_S = (1.0, 60.0)  # first wait, cap


def read_secret(path: str | os.PathLike[str] | None, what: str,
                env: str | None = None) -> str | None:
    """A secret from ``path`` (first line), or else from the environment variable ``env``
    (None without either).

    A file that others can read gives a warning; a missing or empty one an error.

    Raises:
        InputError: the file cannot be read or is empty.
    """
    if path is None:
        value = os.environ.get(env, "").strip() if env else ""
        return value or None
    p = Path(path)
    try:
        mode = p.stat().st_mode
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read the {what} file {p}: {exc.strerror}") from None
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        logger.warning("the %s file %s can be read by other users; chmod 600 it", what, p)
    value = text.strip().splitlines()[0].strip() if text.strip() else ""
    if not value:
        raise InputError(f"the {what} file {p} is empty")
    return value


class Outbox:
    """Events waiting to be delivered, in an SQLite file; safe across threads.

    Args:
        path: the database file (created with its folder; kept between runs).
        session: this run's id, the first part of each idempotency key (default: new).
    """

    def __init__(self, path: str | os.PathLike[str], session: str | None = None) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():  # health data: readable by this user only
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        except OSError as exc:
            raise InputError(f"cannot create the outbox {self.path}: "
                             f"{exc.strerror or exc}") from None
        try:
            self._db = sqlite3.connect(str(self.path), check_same_thread=False,
                                       isolation_level=None, timeout=10.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # survives a killed process
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                "key TEXT UNIQUE NOT NULL, type TEXT NOT NULL, created REAL NOT NULL, "
                "body TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, "
                "last_error TEXT, delivered REAL)")
        except sqlite3.Error as exc:
            raise InputError(f"cannot open the outbox {self.path}: {exc}") from None
        try:  # an existing outbox that others could read: this user's alone from now on
            st = self.path.stat()
            if st.st_mode & 0o077 and st.st_uid == os.getuid():
                os.chmod(self.path, 0o600)
                logger.info("%s made readable by its owner only (it holds health data)",
                            self.path)
        except OSError:
            pass
        self._lock = threading.Lock()
        self.session = session or uuid.uuid4().hex[:12]
        self._seq = 0

    def put(self, event_type: str, body: dict) -> str:
        """Store one event to send; returns its idempotency key."""
        with self._lock:
            self._seq += 1
            key = f"{self.session}-{self._seq}"
            self._db.execute("INSERT INTO outbox (key, type, created, body) VALUES (?,?,?,?)",
                             (key, event_type, time.time(), json.dumps(body)))
        return key

    def next_pending(self) -> tuple[int, str, str, str] | None:
        """The oldest undelivered event: ``(id, key, type, body)``."""
        with self._lock:
            return self._db.execute(
                "SELECT id, key, type, body FROM outbox WHERE delivered IS NULL "
                "ORDER BY id LIMIT 1").fetchone()

    def delivered(self, row_id: int) -> None:
        with self._lock:
            self._db.execute("UPDATE outbox SET delivered=?, last_error=NULL, "
                             "attempts=attempts+1 WHERE id=?", (time.time(), row_id))

    def failed(self, row_id: int, error: str) -> None:
        with self._lock:
            self._db.execute("UPDATE outbox SET last_error=?, attempts=attempts+1 WHERE id=?",
                             (error[:500], row_id))

    def backlog(self) -> int:
        with self._lock:
            return self._db.execute(
                "SELECT COUNT(*) FROM outbox WHERE delivered IS NULL").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()


@dataclass
class DeliveryState:
    delivered: int = 0
    failures: int = 0
    last_error: str | None = None
    last_error_wall: float | None = None
    last_delivered_wall: float | None = None


class Notifier:
    """Delivers an ``Outbox`` to ``url`` from a background thread (see the module).

    Args:
        outbox: where events wait.
        url: ``http://`` or ``https://`` address the events are POSTed to.
        fmt: ``"json"`` (the event as ``watch`` writes it, plus ``idempotency_key``) or
            ``"fhir"`` (a FHIR resource, made by ``to_fhir``).
        token: bearer token, or None.
        hmac_key: key to sign each body with, or None.
        timeout_s: how long one POST may take.
        to_fhir: with ``fmt="fhir"``: event record -> FHIR resource dict, or None for an
            event that has none (it is then not sent). Called as the event is stored.
    """

    def __init__(self, outbox: Outbox, url: str, *, fmt: str = "json",
                 token: str | None = None, hmac_key: str | None = None,
                 timeout_s: float = 5.0,
                 to_fhir: Callable[[dict], dict | None] | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InputError(f"--notify expects an http:// or https:// URL, got {url!r}")
        if "@" in parts.netloc:  # never echoed: it holds a password
            raise InputError("--notify: a user or password in the URL is not supported "
                             "(and would be logged with it); give a bearer token with "
                             "--notify-token-file or PAINVISION_NOTIFY_TOKEN")
        if fmt not in ("json", "fhir"):
            raise InputError(f"unknown notify format {fmt!r}: expected json or fhir")
        if fmt == "fhir" and to_fhir is None:
            raise InputError("the fhir notify format needs a FHIR converter")
        if parts.scheme == "http" and (token or hmac_key) and parts.hostname not in (
                "127.0.0.1", "localhost", "::1"):
            logger.warning("--notify sends its credentials over plain http to %s; use https",
                           parts.hostname)
        self.outbox = outbox
        self.url = url
        self.fmt = fmt
        self._token = token
        self._hmac = hmac_key.encode() if hmac_key else None
        self.timeout_s = timeout_s
        self._to_fhir = to_fhir
        self.state = DeliveryState()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._flushing = False
        self._thread = threading.Thread(target=self._run, name="painvision-notify",
                                        daemon=True)

    # -- producer side (the frame loop) ---------------------------------------------
    def __call__(self, record: dict) -> None:
        """A ``watch`` sink: events of ``NOTIFY_EVENTS`` go into the outbox."""
        if record.get("kind") != "event" or record.get("type") not in NOTIFY_EVENTS:
            return
        body = dict(record)
        body.pop("id", None)
        try:
            if self.fmt == "fhir":
                # made now, so that what waits in the outbox is what will be sent, whatever
                # a later run is configured with
                body = self._to_fhir(body)
                if body is None:
                    return
            self.outbox.put(record["type"], {"format": self.fmt, "payload": body})
        except Exception as exc:  # never let delivery stop the monitoring itself
            logger.error("cannot queue the %s event for delivery: %s", record.get("type"), exc)
            self.state.last_error, self.state.last_error_wall = str(exc), time.time()
            return
        self._wake.set()

    def start(self) -> Notifier:
        self._thread.start()
        return self

    def status(self) -> dict[str, object]:
        s = self.state
        return {"url_host": urlsplit(self.url).hostname, "format": self.fmt,
                "backlog": self.outbox.backlog(), "delivered": s.delivered,
                "failures": s.failures, "last_error": s.last_error,
                "last_error_wall": s.last_error_wall,
                "last_delivered_wall": s.last_delivered_wall}

    def close(self, flush_s: float = 10.0) -> int:
        """Stop the thread after trying for up to ``flush_s`` to deliver what is left;
        returns how many stay in the outbox (sent at the next start)."""
        deadline = time.monotonic() + flush_s
        last_nudge = 0.0
        self._flushing = True  # one retry a second: not one warning a second
        while self.outbox.backlog() and time.monotonic() < deadline and self._thread.is_alive():
            if time.monotonic() - last_nudge >= 1.0:  # retry now, at most once a second
                self._wake.set()
                last_nudge = time.monotonic()
            time.sleep(0.05)
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.timeout_s + 1.0)
        left = self.outbox.backlog()
        if left:
            logger.warning("%d event(s) not delivered yet; they stay in %s and go out at "
                           "the next start", left, self.outbox.path)
        return left

    # -- the delivery thread -------------------------------------------------------
    def _run(self) -> None:
        """Deliver until stopped. An error of the outbox itself (a full disk under its
        database) is logged and retried after the longest backoff: the thread never dies,
        or later alerts would wait for it in vain."""
        last = None
        while not self._stop.is_set():
            try:
                self._deliver()
            except Exception as exc:  # noqa: BLE001 - logged; delivery goes on
                error = f"outbox: {exc}"
                if error != last:  # the traceback once, not at every retry
                    logger.exception("the alert delivery failed; trying again in %.0f s, "
                                     "or at the next event", BACKOFF_S[1])
                last = error
                self.state.failures += 1
                self.state.last_error, self.state.last_error_wall = error, time.time()
                self._wake.wait(BACKOFF_S[1])
                self._wake.clear()

    def _deliver(self) -> None:
        wait = BACKOFF_S[0]
        while not self._stop.is_set():
            row = self.outbox.next_pending()
            if row is None:
                self._wake.wait(1.0)
                self._wake.clear()
                continue
            row_id, key, event_type, body = row
            error = self._post(key, event_type, json.loads(body))
            if error is None:
                self.outbox.delivered(row_id)
                self.state.delivered += 1
                self.state.last_delivered_wall = time.time()
                wait = BACKOFF_S[0]
                continue
            self.outbox.failed(row_id, error)
            self.state.failures += 1
            self.state.last_error, self.state.last_error_wall = error, time.time()
            (logger.debug if self._flushing else logger.warning)(
                "delivering %s %s failed (%s); trying again within %.0f s, or at the next "
                "event", event_type, key, error, wait)
            # a new event, or close() wanting to flush, cuts the wait short
            self._wake.wait(wait)
            self._wake.clear()
            if self._stop.is_set():
                break
            wait = min(wait * 2.0, BACKOFF_S[1])

    def _post(self, key: str, event_type: str, record: dict) -> str | None:
        """One attempt; None when the receiver took it, else why not."""
        if record.get("format") == "fhir":
            payload, ctype = record["payload"], "application/fhir+json"
        else:
            payload, ctype = record["payload"] | {"idempotency_key": key}, "application/json"
        data = json.dumps(payload, separators=(",", ":")).encode()
        headers = {"Content-Type": ctype, "Idempotency-Key": key,
                   "X-Painvision-Event-Type": event_type, "User-Agent": "painvision-notify"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        if self._hmac:
            ts = str(int(time.time()))
            sig = hmac.new(self._hmac, ts.encode() + b"." + data, hashlib.sha256).hexdigest()
            headers |= {"X-Painvision-Timestamp": ts, "X-Painvision-Signature": f"sha256={sig}"}
        req = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:  # noqa: S310
                resp.read(65536)
                if 200 <= resp.status < 300:
                    return None
                return f"HTTP {resp.status}"
        except urllib.error.HTTPError as exc:
            return f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            return f"{type(exc).__name__}: {reason}"
