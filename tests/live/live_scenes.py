"""Generated material for the live tests: the episode clip's script, a scene where a
visitor walks in, and an MJPEG-over-HTTP camera that can be switched off and on."""

from __future__ import annotations

import http.server
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from painvision.io.video import iter_frames
from painvision.synth.sequence import Blink, Episode, HeadMotion, Script

#: The episode clip: neutral, one episode starting at EPISODE_START, neutral again.
EPISODE_START = 6.0
EPISODE_END = 9.8
CLIP_FPS = 15.0


def episode_script(duration_s: float = 14.0) -> Script:
    return Script(
        duration_s=duration_s, fps=CLIP_FPS,
        episodes=(Episode(EPISODE_START, 6.6, 9.0, EPISODE_END,
                          {"au4": 3.5, "au7": 3.0, "au9": 2.5, "au10": 1.5}),),
        blinks=(Blink(1.5), Blink(4.0), Blink(11.5)),
        motion=HeadMotion(roll_deg=1.5, shift=0.02, scale=0.01))


def read_frames(path: Path) -> Iterator[tuple[np.ndarray, float]]:
    """``(image, t)`` pairs of a video, as the package's own reader gives them."""
    return ((f.image_bgr, f.t) for f in iter_frames(path))


#: The visitor scene: the patient (left) alone until VISITOR_IN, then a visitor, larger
#: and nearer the camera, slides in on the right and grimaces; later the patient has an
#: episode of their own.
VISITOR_IN = 5.0
VISITOR_GRIMACE = (6.5, 8.5)
PATIENT_EPISODE = (10.0, 13.0)


def visitor_scene(duration_s: float = 15.0, fps: float = 15.0,
                  size: tuple[int, int] = (320, 240)) -> Iterator[tuple[np.ndarray, float]]:
    """Frames (640x240) and times of the visitor scene, rendered on the fly."""
    from painvision.synth.faces import load_photo
    from painvision.synth.render import FaceRig

    patient = FaceRig(load_photo("astronaut"), size)
    visitor = FaceRig(load_photo("grace_hopper"), size)
    p_tl = Script(duration_s, fps, episodes=(
        Episode(PATIENT_EPISODE[0], PATIENT_EPISODE[0] + 0.6, PATIENT_EPISODE[1] - 0.8,
                PATIENT_EPISODE[1], {"au4": 3.5, "au7": 3.0, "au9": 2.5, "au10": 1.5}),),
        blinks=(Blink(2.0), Blink(8.0)), motion=HeadMotion(roll_deg=1.0)).timeline()
    v_tl = Script(duration_s, fps, episodes=(
        Episode(VISITOR_GRIMACE[0], VISITOR_GRIMACE[0] + 0.5, VISITOR_GRIMACE[1] - 0.5,
                VISITOR_GRIMACE[1], {"au4": 4.5, "au7": 4.0, "au9": 4.0, "au10": 3.0}),),
        motion=HeadMotion(roll_deg=2.0)).timeline()
    w, h = size
    rng = np.random.default_rng(0)
    for i in range(len(p_tl)):
        t = i / fps
        canvas = np.full((h, 2 * w, 3), 96, np.uint8)
        names = list(p_tl.drive)
        canvas[:, :w] = patient.frame({n: float(p_tl.drive[n][i]) for n in names},
                                      p_tl.head[i], float(p_tl.closure[i]))
        if t >= VISITOR_IN:
            head = v_tl.head[i].copy()
            head[5] *= 1.25  # nearer the camera: a larger face than the patient's
            tile = visitor.frame({n: float(v_tl.drive[n][i]) for n in names}, head,
                                 float(v_tl.closure[i]))
            x = int(round(w + w * max(0.0, 1.0 - (t - VISITOR_IN)))) if t < VISITOR_IN + 1 else w
            canvas[:, x:] = tile[:, : 2 * w - x]
        noise = rng.normal(0.0, 2.0, canvas.shape)
        yield np.clip(canvas + noise, 0, 255).astype(np.uint8), t


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MjpegCamera:
    """An IP camera: serves JPEG frames as multipart/x-mixed-replace over HTTP at ``fps``,
    looping over ``frames``. ``stop()`` drops every connection and refuses new ones
    (the camera goes away); ``start()`` brings it back on the same port."""

    def __init__(self, frames: list[np.ndarray], fps: float = 15.0) -> None:
        self.jpegs = [cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
                      for f in frames]
        self.fps = fps
        self.port = free_port()
        self._on = threading.Event()
        self._server: socketserver.TCPServer | None = None
        self.sent = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/stream.mjpg"

    def _handler(self):
        cam = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                k = 0
                try:
                    while cam._on.is_set():
                        jpg = cam.jpegs[k % len(cam.jpegs)]
                        self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\n"
                                         b"Content-Length: %d\r\n\r\n" % len(jpg) + jpg + b"\r\n")
                        cam.sent += 1
                        k += 1
                        time.sleep(1.0 / cam.fps)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def start(self) -> None:
        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._on.set()
        self._server = Server(("127.0.0.1", self.port), self._handler())
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._on.clear()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
