"""Where live frames come from: a camera index, a V4L2 device, a network stream, or a
video file (played as fast as possible, or at its own pace with ``realtime``).

Live sources are read by a capture thread that keeps only the newest frame (a slow
consumer drops frames rather than falling behind the patient), and that reopens the
source with exponential backoff when it fails or stalls.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2

from painvision.errors import InputError
from painvision.io.video import Frame, FrameReader, probe_video

logger = logging.getLogger(__name__)

__all__ = ["Backoff", "FilePlayer", "LiveCapture", "SourceSpec", "parse_source"]


@dataclass(frozen=True)
class SourceSpec:
    """A parsed SOURCE: ``kind`` is camera, device, url or file."""

    kind: str
    target: int | str

    @property
    def live(self) -> bool:
        return self.kind != "file"

    def describe(self) -> str:
        if self.kind == "url":  # never echo credentials in logs or outputs
            s = str(self.target)
            if "@" in s.split("://", 1)[-1].split("/", 1)[0]:
                scheme, rest = s.split("://", 1)
                return f"{scheme}://***@{rest.split('@', 1)[1]}"
        return f"{self.kind} {self.target}"


def parse_source(value: str) -> SourceSpec:
    """``0`` -> camera 0; ``/dev/video0`` -> V4L2 device; ``rtsp://...``, ``http://...``
    -> network stream; anything else -> a video file, which must exist."""
    v = value.strip()
    if not v:
        raise InputError("SOURCE is empty: give a camera index, a device, a URL or a video file")
    if v.isdigit():
        return SourceSpec("camera", int(v))
    if "://" in v:
        return SourceSpec("url", v)
    if v.startswith("/dev/"):
        return SourceSpec("device", v)
    path = Path(v)
    if path.is_dir():
        raise InputError(f"{v} is a folder: watch reads one video file (or a camera index, "
                         "/dev/video*, or URL)")
    if not path.is_file():
        raise InputError(f"{v}: no such video file (or a camera index, /dev/video*, or URL)")
    probe_video(path)  # a file that is not a video fails here, before anything is written
    return SourceSpec("file", str(path))


def _open(spec: SourceSpec, timeout_s: float) -> cv2.VideoCapture:
    ms = int(timeout_s * 1000)
    if spec.kind == "url":
        cap = cv2.VideoCapture(str(spec.target), cv2.CAP_FFMPEG,
                               [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms,
                                cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms])
    else:
        cap = cv2.VideoCapture(spec.target)
    if spec.kind in ("file", "url"):  # a phone video's rotation, as analyze honours it
        cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    return cap


class Backoff:
    """Retry delays: ``first``, doubling, at most ``cap`` seconds."""

    def __init__(self, first: float = 0.5, cap: float = 10.0) -> None:
        self.first = first
        self.cap = cap
        self.delay = first

    def next(self) -> float:
        d = self.delay
        self.delay = min(self.delay * 2.0, self.cap)
        return d

    def reset(self) -> None:
        self.delay = self.first


StatusCallback = Callable[[str, dict], None]


class LiveCapture:
    """Reads a live source in a thread; ``latest()`` hands out the newest frame once.

    Calls ``on_status("camera_lost", {...})`` once when reading fails, stalls for
    ``stall_s`` or the source cannot be opened (the retries that follow are logged, not
    reported again), and ``on_status("camera_restored", {...})`` when frames flow again.
    Frame times are seconds since the capture started (monotonic clock), so they keep
    increasing across outages.
    """

    def __init__(self, spec: SourceSpec, on_status: StatusCallback, *, stall_s: float = 5.0,
                 backoff: Backoff | None = None) -> None:
        self.spec = spec
        self.on_status = on_status
        self.stall_s = stall_s
        self.backoff = backoff or Backoff()
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._t0 = time.monotonic()
        self._lost = False
        self.attempts = 0
        self._last_frame = time.monotonic()
        self.frames_read = 0
        self.frames_dropped = 0
        self._thread = threading.Thread(target=self._run, name="painvision-capture", daemon=True)

    @property
    def lost(self) -> bool:
        return self._lost

    def start(self) -> LiveCapture:
        self._thread.start()
        return self

    def _now(self) -> float:
        return time.monotonic() - self._t0

    def _set_lost(self, why: str, retry_in: float) -> None:
        """One ``camera_lost`` per outage; the retries that follow are only logged."""
        self.attempts += 1
        if self._lost:
            logger.info("camera still lost (%s), retry %d in %.1f s", why, self.attempts,
                        retry_in)
            return
        self._lost = True
        if self.frames_read == 0:  # it never worked: a wrong index or URL is likely
            logger.warning("camera not available (%s): %s; no frame has come from it yet, "
                           "so check the camera index, device or URL; retrying until "
                           "stopped", self.spec.describe(), why)
        else:
            logger.warning("camera lost (%s): %s", self.spec.describe(), why)
        self.on_status("camera_lost", {"t": round(self._now(), 3), "reason": why,
                                       "retry_in_s": round(retry_in, 2)})

    def _run(self) -> None:
        """Capture until stopped. An unexpected error is logged, reported as a lost
        camera, and capture starts again after the backoff: the thread never dies."""
        while not self._stop.is_set():
            try:
                self._capture()
            except Exception as exc:  # noqa: BLE001 - logged; capture starts again
                logger.exception("the capture failed")
                delay = self.backoff.next()
                try:
                    self._set_lost(f"capture failed: {exc}", delay)
                except Exception:  # noqa: BLE001 - an output's own error, logged there
                    logger.exception("reporting the lost camera failed")
                self._stop.wait(delay)

    def _capture(self) -> None:
        while not self._stop.is_set():
            cap = _open(self.spec, self.stall_s)
            try:
                opened = cap.isOpened()
                if opened:
                    self._read(cap)
            finally:
                cap.release()
            if self._stop.is_set():
                break
            delay = self.backoff.next()
            self._set_lost("no frame from the source" if opened else
                           "cannot open the source", delay)
            self._stop.wait(delay)

    def _read(self, cap: cv2.VideoCapture) -> None:
        """Frames from an opened source, until it fails or capture is stopped."""
        ok_since_open = False
        while not self._stop.is_set():
            ok, img = cap.read()
            if not ok or img is None:
                return
            if not ok_since_open:
                ok_since_open = True
                self.backoff.reset()
            self._last_frame = time.monotonic()
            if self._lost:
                self._lost = False
                logger.warning("camera restored (%s)", self.spec.describe())
                self.on_status("camera_restored", {"t": round(self._now(), 3),
                                                   "attempts": self.attempts})
                self.attempts = 0
            with self._cond:
                if self._frame is not None:
                    self.frames_dropped += 1
                self._frame = Frame(self.frames_read, self._now(), img)
                self.frames_read += 1
                self._cond.notify_all()

    def check_stall(self) -> None:
        """Report ``camera_lost`` if the source is open but has sent nothing for
        ``stall_s`` (a frozen camera; the reader itself gives up after its own timeout)."""
        idle = time.monotonic() - self._last_frame
        if not self._lost and idle > self.stall_s:
            self._set_lost(f"no frame for {idle:.1f} s", 0.0)

    def latest(self, timeout: float) -> Frame | None:
        """The newest frame not handed out yet, waiting up to ``timeout`` seconds."""
        with self._cond:
            if self._frame is None:
                self._cond.wait(timeout)
            frame, self._frame = self._frame, None
            return frame

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        self._thread.join(timeout=self.stall_s + 1.0)


class FilePlayer:
    """Frames of a video file with their container timestamps (``io.video.FrameReader``).

    With ``realtime``, frames are released at the pace of their timestamps from the
    first call of ``next``; frames whose time has already passed are skipped (counted
    in ``frames_dropped``), as a camera would drop them for a slow consumer.

    Raises:
        VideoError: the file cannot be opened as a video.
    """

    def __init__(self, spec: SourceSpec, realtime: bool, stop: threading.Event) -> None:
        self.spec = spec
        self.realtime = realtime
        self._stop = stop
        info = probe_video(str(spec.target))  # fails here, in one line, for a bad file
        self.fps = info.fps if math.isfinite(info.fps) and info.fps > 0 else 25.0
        self._frames = iter(FrameReader(str(spec.target)))
        self._start: float | None = None
        self.frames_dropped = 0

    def next(self) -> Frame | None:
        """The next frame to process, or None at the end (or when stopped)."""
        for frame in self._frames:
            if self._stop.is_set():
                return None
            if not self.realtime:
                return frame
            if self._start is None:
                self._start = time.monotonic() - frame.t
            wait = self._start + frame.t - time.monotonic()
            if wait > 0:
                self._stop.wait(wait)
                return frame
            if -wait <= 1.5 / self.fps:
                return frame
            self.frames_dropped += 1  # late by more than a frame: drop it
        return None

    def close(self) -> None:
        self._frames.close()  # releases the capture
