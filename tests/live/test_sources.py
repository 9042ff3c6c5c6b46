"""The live capture thread: it never dies, whatever goes wrong while it reads."""

from __future__ import annotations

import time
from pathlib import Path

import cv2

from painvision.live import sources
from painvision.live.sources import Backoff, LiveCapture, SourceSpec

SAMPLE = Path(__file__).resolve().parents[2] / "sample_videos" / "astronaut_pain.mp4"


def test_an_error_while_capturing_is_a_lost_camera_and_capture_goes_on(monkeypatch):
    """The first opening of the source raises (as a driver bug might): the camera is
    reported lost, and after the backoff the capture opens the source again and frames
    flow (before, the thread died and watch waited for frames for ever)."""
    real_open, calls, statuses = sources._open, [], []

    def flaky_open(spec, timeout_s) -> cv2.VideoCapture:
        calls.append(spec)
        if len(calls) == 1:
            raise RuntimeError("driver fell over")
        return real_open(spec, timeout_s)

    monkeypatch.setattr(sources, "_open", flaky_open)
    capture = LiveCapture(SourceSpec("file", str(SAMPLE)),
                          lambda kind, body: statuses.append((kind, body)),
                          backoff=Backoff(first=0.1)).start()
    try:
        deadline = time.monotonic() + 20
        frame = None
        while frame is None and time.monotonic() < deadline:
            frame = capture.latest(timeout=0.5)
    finally:
        capture.stop()
    assert frame is not None and frame.image_bgr.shape == (360, 480, 3)
    kinds = [k for k, _ in statuses]
    assert kinds[:2] == ["camera_lost", "camera_restored"], statuses
    assert "driver fell over" in statuses[0][1]["reason"]
