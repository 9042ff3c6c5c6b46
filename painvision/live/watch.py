"""The ``painvision watch`` loop: a source's frames through a ``PainMonitor``, readings
and events out as JSON lines and over the local HTTP feed.

Every line is one JSON object with ``kind`` = ``reading`` or ``event``; events have a
``type``: ``started``, ``onset``, ``offset``, ``camera_lost``, ``camera_restored``,
``stopped``. ``wall`` is the Unix time the line was made. Nothing of a frame is written.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from painvision._version import __version__
from painvision.fileio import json_safe
from painvision.live.monitor import PainMonitor, Reading
from painvision.live.server import Hub
from painvision.live.sources import FilePlayer, LiveCapture, SourceSpec

logger = logging.getLogger(__name__)

__all__ = ["JsonLines", "StopFlag", "WatchSummary", "run_watch"]


#: Seconds without the patient's face before ``no_patient_face`` is announced.
NO_PATIENT_FACE_S = 10.0


class StopFlag(threading.Event):
    """A stop request with its reason (``signal``, ``output_closed``, ...)."""

    def __init__(self) -> None:
        super().__init__()
        self.reason = "signal"

    def request(self, reason: str) -> None:
        if not self.is_set():
            self.reason = reason
        self.set()


class JsonLines:
    """Writes one JSON object per line and flushes it (a reader sees whole lines).

    ``on_closed`` is called once if the reader goes away (a closed pipe: ``watch ... |
    head``); nothing more is written to it then. Any other write error (a full disk) is
    logged once and kept in ``error``, and nothing more is written either: the other
    sinks (the alerts above all) go on.
    """

    def __init__(self, stream: TextIO, on_closed: Callable[[], None] | None = None,
                 name: str = "the JSON lines") -> None:
        self.stream = stream
        self.on_closed = on_closed
        self.name = name
        self.closed = False
        self.error: OSError | None = None

    def __call__(self, record: dict) -> None:
        if self.closed:
            return
        try:
            self.stream.write(json.dumps(json_safe(record), separators=(",", ":"),
                                         allow_nan=False) + "\n")
            self.stream.flush()
        except BrokenPipeError:
            self.closed = True
            if self.on_closed is not None:
                self.on_closed()
        except OSError as exc:
            self.closed = True
            self.error = exc
            logger.error("cannot write %s any more (%s); monitoring goes on without them",
                         self.name, exc.strerror or exc)


@dataclass
class WatchSummary:
    frames: int = 0
    readings_written: int = 0
    events: int = 0
    episodes: int = 0
    camera_lost: int = 0
    frames_dropped: int = 0
    stopped_by: str = ""


class _Emitter:
    """Serialises records from the frame loop and the capture thread to all sinks."""

    def __init__(self, sinks: list[Callable[[dict], None]], hub: Hub | None) -> None:
        self.sinks = sinks
        self.hub = hub
        self.lock = threading.Lock()
        self.summary = WatchSummary()
        self._started_wall: dict[object, float] = {}

    def event(self, event_type: str, body: dict) -> None:
        wall = round(time.time(), 3)
        record = {"kind": "event", "type": event_type, **body, "wall": wall}
        if event_type in ("onset", "offset") and "started_s" in body:
            # the episode's start as a clock time, fixed once at its onset, so that every
            # record of the episode says the same (a file played faster than real time
            # would otherwise move it)
            n = body.get("episode")
            if n not in self._started_wall:
                self._started_wall[n] = round(wall - (body["t"] - body["started_s"]), 3)
            record["started_wall"] = self._started_wall[n]
        with self.lock:
            self.summary.events += 1
            if event_type == "camera_lost":
                self.summary.camera_lost += 1
            if self.hub is not None:
                record["id"] = self.hub.publish_event(record)
                if event_type in ("camera_lost", "camera_restored"):
                    self.hub.health["camera"] = "lost" if event_type == "camera_lost" else "ok"
            self._send(record)

    def _send(self, record: dict) -> None:
        """To every sink; one that fails does not keep the record from the others."""
        for sink in self.sinks:
            try:
                sink(record)
            except Exception:  # noqa: BLE001 - logged; a monitor must not stop for one sink
                logger.exception("an output failed on a %s record; the others still get it",
                                 record.get("type", record.get("kind")))

    def reading(self, reading: Reading, write: bool) -> None:
        record = {"kind": "reading", **reading.to_dict(), "wall": round(time.time(), 3)}
        record.pop("event")
        with self.lock:
            if self.hub is not None:
                self.hub.publish_reading(record)
                self.hub.health.update(camera="ok", frames=self.summary.frames,
                                       last_reading_wall=record["wall"])
            if write:
                self.summary.readings_written += 1
                self._send(record)


def run_watch(
    monitor: PainMonitor,
    spec: SourceSpec,
    *,
    sinks: list[Callable[[dict], None]],
    stop: threading.Event,
    hub: Hub | None = None,
    realtime: bool = False,
    every_s: float = 0.5,
    stall_s: float = 5.0,
    status_extra: Callable[[], dict] | None = None,
    absent_s: float = NO_PATIENT_FACE_S,
) -> WatchSummary:
    """Run until the file ends or ``stop`` is set; returns counters.

    Live sources never end by themselves: a failing camera is reported
    (``camera_lost``) and reopened with backoff until it comes back. When the patient's
    face has not been found for ``absent_s`` while frames arrive (out of bed, turned to
    the wall, covered), ``no_patient_face`` is announced once, and
    ``patient_face_restored`` when it is back. ``status_extra`` adds to ``/v1/status``.
    """
    out = _Emitter(sinks, hub)
    if hub is not None:
        hub.status_fn = monitor.status if status_extra is None \
            else (lambda: monitor.status() | status_extra())
        # the kind of source only: /healthz is open, and a camera's address or a file's
        # path (bed12_mrn48213) can say who the patient is
        hub.health.update(camera="starting", source=spec.kind, frames=0)
    out.event("started", {"source": spec.describe(), "painvision_version": __version__,
                          "scorer": monitor.scorer_name,
                          "neutral": monitor.status()["neutral"]["method"],
                          "alert_policy": monitor.policy.to_dict()})
    last_written = -float("inf")
    last_t = 0.0
    missing_since: float | None = None
    announced = False

    def handle(image, t: float) -> None:
        nonlocal last_written, last_t, missing_since, announced
        reading = monitor.process(image, t)
        if reading.face_detected:
            if announced:
                out.event("patient_face_restored", {"t": round(t, 3), "missing_s": round(
                    t - missing_since, 3)})
            missing_since, announced = None, False
        else:
            if missing_since is None or t < last_t:
                missing_since = t
            if not announced and t - missing_since >= absent_s:
                announced = True
                out.event("no_patient_face", {"t": round(t, 3), "since_s": round(
                    missing_since, 3), "n_faces": reading.n_faces})
        last_t = t
        out.summary.frames += 1
        if reading.event is not None:
            if reading.event.type == "onset" and not reading.event.resumed:
                out.summary.episodes += 1
            out.event(reading.event.type, reading.event.to_dict())
        write = t - last_written >= every_s - 1e-9
        if write:
            last_written = t
        out.reading(reading, write)

    if spec.live:
        capture = LiveCapture(spec, lambda kind, body: out.event(kind, body),
                              stall_s=stall_s).start()
        try:
            while not stop.is_set():
                frame = capture.latest(timeout=0.5)
                if frame is None:
                    capture.check_stall()
                    continue
                handle(frame.image_bgr, frame.t)
        finally:
            capture.stop()
            out.summary.frames_dropped = capture.frames_dropped
        out.summary.stopped_by = getattr(stop, "reason", "signal")
    else:
        player = FilePlayer(spec, realtime, stop)
        try:
            while (frame := player.next()) is not None:
                handle(frame.image_bgr, frame.t)
        finally:
            player.close()
            out.summary.frames_dropped = player.frames_dropped
        out.summary.stopped_by = (getattr(stop, "reason", "signal") if stop.is_set()
                                  else "end_of_video")
    final = monitor.stop(last_t)
    if final is not None:
        out.event("offset", final.to_dict())
    out.event("stopped", {"reason": out.summary.stopped_by, "frames": out.summary.frames,
                          "frames_dropped": out.summary.frames_dropped})
    if hub is not None:
        hub.health["camera"] = "stopped"
    return out.summary
