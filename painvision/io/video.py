"""Streaming video reading with container timestamps. OpenCV (FFmpeg backend) only."""

from __future__ import annotations

import logging
import os
import queue
import struct
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import cv2  # quiet: painvision/__init__.py sets OpenCV's log levels before it loads
import numpy as np

from painvision.errors import InputError, VideoError

logger = logging.getLogger(__name__)
T = TypeVar("T")

__all__ = ["IMAGE_EXTENSIONS", "VIDEO_EXTENSIONS", "Frame", "FrameReader", "VideoInfo",
           "expand_inputs", "image_files", "iter_frames", "loop_video", "prefetch",
           "probe_video"]


@dataclass(frozen=True, slots=True)
class VideoInfo:
    """What the container says about a video (frame count and duration are its estimates)."""

    path: str
    width: int
    height: int
    fps: float
    frame_count: int
    duration_s: float
    codec: str

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "frame_count": self.frame_count,
            "duration_s": self.duration_s,
            "codec": self.codec,
        }


@dataclass(frozen=True, slots=True)
class Frame:
    """A decoded frame: ``image_bgr (H, W, 3) uint8``, its decode index and time in seconds."""

    index: int
    t: float
    image_bgr: np.ndarray


#: Frame files read from a folder (an image sequence, as in the UNBC archive).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")
#: Files taken for videos when a folder of videos is given (``expand_inputs``).
VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv")
#: Frame rate of an image sequence when none is given.
SEQUENCE_FPS = 30.0


def loop_video(src: str | os.PathLike[str], out: str | os.PathLike[str], loops: int) -> int:
    """Write ``src`` played ``loops`` times over to ``out`` (MPEG-4, same size and frame
    rate), for benchmarks and tests of long videos; returns the frames written."""
    fps = probe_video(src).fps or SEQUENCE_FPS
    frames = [f.image_bgr for f in iter_frames(src)]
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    try:
        for _ in range(loops):
            for frame in frames:
                writer.write(frame)
    finally:
        writer.release()
    return loops * len(frames)


def expand_inputs(paths: list[Path]) -> list[Path]:
    """The videos named by ``paths``: a file is itself; a folder holding video files
    (``VIDEO_EXTENSIONS``, not recursive, hidden files such as macOS's ``._clip.mp4``
    left out) stands for them, in name order; any other folder is one video given as a
    sequence of frame images."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            videos = sorted(f for f in p.iterdir()
                            if f.is_file() and f.suffix.lower() in VIDEO_EXTENSIONS
                            and not f.name.startswith("."))
            out += videos or [p]
        else:
            out.append(p)
    return out


def image_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The frame images of a folder, in name order.

    Raises:
        VideoError: the folder holds no image frames.
    """
    p = Path(folder)
    files = sorted(f for f in p.iterdir()
                   if f.suffix.lower() in IMAGE_EXTENSIONS and not f.name.startswith("."))
    if not files:
        raise VideoError(f"cannot open {p}: a directory with no image frames; expected a "
                         f"video file or a folder of {'/'.join(IMAGE_EXTENSIONS)} frames")
    return files


def _open(path: str | os.PathLike[str]) -> cv2.VideoCapture:
    """The video at ``path``, its frames turned upright as its rotation metadata says (a
    phone's portrait video is stored sideways; OpenCV leaves it so unless asked)."""
    p = Path(path)
    if not p.exists():
        raise VideoError(f"cannot open {p}: no such file")
    if p.stat().st_size == 0:
        raise VideoError(f"cannot open {p}: the file is empty")
    cap = cv2.VideoCapture(str(p), cv2.CAP_FFMPEG)
    opened = cap.isOpened()
    # a cut MP4 whose index comes first opens, and would be analysed up to the cut
    problem = _mp4_problem(p, opened)
    if not opened or problem:
        cap.release()
        raise VideoError(f"cannot open {p}: " + (problem or (
            "not a video that FFmpeg can decode (unknown format, no video stream, "
            "unsupported codec or truncated)")))
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    return cap


#: What an MP4/MOV track holds, by its handler type (ISO/IEC 14496-12, 8.4.3).
_HANDLERS = {b"soun": "audio", b"text": "text", b"sbtl": "subtitles", b"subt": "subtitles",
             b"hint": "hint", b"meta": "metadata", b"tmcd": "timecode"}


def _boxes(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """``(type, payload)`` of the ISO-BMFF boxes in ``data``, one level."""
    i = 0
    while i + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, i)
        head = 8
        if size == 1 and i + 16 <= len(data):
            size, head = struct.unpack_from(">Q", data, i + 8)[0], 16
        elif size == 0:
            size = len(data) - i
        if size < head:
            return
        yield kind, data[i + head:i + size]
        i += size


def _mp4_problem(p: Path, opened: bool) -> str | None:
    """What is wrong with ``p``, read from its boxes if it is an MP4/MOV file: cut short;
    where FFmpeg did not open it (not ``opened``), also no video track or a video codec
    FFmpeg does not know. None otherwise."""
    size = p.stat().st_size
    moov = None
    with open(p, "rb") as fh:
        pos = 0
        while pos < size:
            fh.seek(pos)
            head = fh.read(16)
            if len(head) < 8:  # a few bytes of padding, after a video that opened
                if pos == 0:
                    return None  # too short to be an MP4/MOV file at all
                return None if opened else ("the file is truncated (it ends inside a box "
                                            "header); copy it again")
            n, kind = struct.unpack_from(">I4s", head)
            if pos == 0 and kind not in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"):
                return None  # not an MP4/MOV file
            skip = 8
            if n == 1 and len(head) == 16:
                n, skip = struct.unpack_from(">Q", head, 8)[0], 16
            elif n == 0:
                n = size - pos
            if n < skip:
                return None
            if pos + n > size:
                if opened and kind not in (b"mdat", b"moov", b"moof"):
                    return None  # trailing bytes that are no box, after a video that opened
                return (f"the file is truncated: it ends {pos + n - size} bytes into its "
                        f"{kind.decode('latin-1')!r} box (an interrupted copy or recording?); "
                        "copy it again")
            if kind == b"moov" and not opened:
                if n > 64 * 2**20:
                    return None  # an index this large is not read for an error message
                fh.seek(pos + skip)
                moov = fh.read(n - skip)
            pos += n
    if opened:
        return None
    if moov is None:
        return ("the file has no 'moov' box, the index MP4 writes last: the recording was not "
                "finished or the file is truncated; copy it again")
    tracks = []
    for kind, trak in _boxes(moov):
        if kind == b"trak":
            mdia = dict(_boxes(dict(_boxes(trak)).get(b"mdia", b"")))
            stbl = dict(_boxes(dict(_boxes(mdia.get(b"minf", b""))).get(b"stbl", b"")))
            tracks.append((mdia.get(b"hdlr", b"")[8:12], stbl.get(b"stsd", b"")[12:16]))
    codecs = [codec.decode("latin-1") for handler, codec in tracks if handler == b"vide"]
    if not codecs:
        held = sorted({_HANDLERS.get(h, "other data") for h, _ in tracks})
        return (f"it has no video stream ({'only ' + ' and '.join(held) if held else 'no track'}"
                "); expected a video file")
    return (f"FFmpeg cannot decode its video stream (codec {codecs[0]!r}); convert it to "
            "H.264 (e.g. ffmpeg -i IN -c:v libx264 OUT.mp4)")


def _fourcc(cap: cv2.VideoCapture) -> str:
    code = int(cap.get(cv2.CAP_PROP_FOURCC))
    chars = "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4))
    return chars if chars.isprintable() and chars.strip() else "unknown"


def probe_video(path: str | os.PathLike[str], fps: float | None = None) -> VideoInfo:
    """Read a video's container metadata without decoding it (for a folder of frames:
    the first frame's size, the frame count, and ``fps`` or ``SEQUENCE_FPS``).

    Raises:
        VideoError: the file is missing, empty, not a video, or has no video stream.
    """
    if Path(path).is_dir():
        files = image_files(path)
        first = cv2.imread(str(files[0]), cv2.IMREAD_COLOR)
        if first is None:
            raise VideoError(f"cannot read {files[0]}: not an image OpenCV can decode")
        rate = fps or SEQUENCE_FPS
        return VideoInfo(str(path), first.shape[1], first.shape[0], rate, len(files),
                         len(files) / rate, "image-sequence")
    cap = _open(path)
    try:
        width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if width <= 0 or height <= 0:
            raise VideoError(f"cannot open {path}: no video stream")
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        count = max(int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0), 0)
        duration = count / fps if fps > 0 else 0.0
        return VideoInfo(str(path), width, height, fps, count, duration, _fourcc(cap))
    finally:
        cap.release()


class FrameReader:
    """Iterates every ``stride``-th decoded frame with its presentation time.

    Frames are streamed: one is held in memory at a time. Skipped frames are only
    grabbed (demuxed and decoded by FFmpeg, not converted), which is cheaper than
    reading them. Time comes from the container's timestamps; where the container
    gives none (or they stop increasing) it falls back to ``index / fps`` and logs it.
    After iteration, ``decoded`` holds how many frames the video had in all.

    Raises (when iterated):
        VideoError: the file cannot be opened or no frame decodes at all.
    """

    def __init__(self, path: str | os.PathLike[str], stride: int = 1,
                 fps: float | None = None) -> None:
        if stride < 1:
            raise InputError(f"stride must be >= 1, got {stride}")
        self.path = path
        self.stride = stride
        self.fps = fps
        self.decoded = 0

    def _images(self) -> Iterator[Frame]:
        rate = self.fps or SEQUENCE_FPS
        files = image_files(self.path)
        for index, f in enumerate(files):
            self.decoded = index + 1
            if index % self.stride:
                continue
            image = cv2.imread(str(f), cv2.IMREAD_COLOR)
            if image is None:
                logger.warning("%s: %s is not a readable image; stopping there", self.path, f)
                break
            yield Frame(index, index / rate, image)

    def __iter__(self) -> Iterator[Frame]:
        if Path(self.path).is_dir():
            yield from self._images()
            return
        path, stride = self.path, self.stride
        cap = _open(path)
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        index = -1
        yielded = 0
        last_t = -np.inf
        warned = False
        try:
            while True:
                if not cap.grab():
                    break
                index += 1
                self.decoded = index + 1
                t_ms = cap.get(cv2.CAP_PROP_POS_MSEC)
                t = t_ms / 1000.0 if t_ms is not None and t_ms >= 0 else float("nan")
                if not np.isfinite(t) or (index > 0 and t <= last_t):
                    if fps > 0:
                        t = index / fps
                        if not warned:
                            logger.warning("%s: container timestamps unusable; using index/fps",
                                           path)
                            warned = True
                    else:
                        t = last_t + 1.0 / 30.0 if np.isfinite(last_t) else 0.0
                last_t = t
                if index % stride:
                    continue
                ok, image = cap.retrieve()
                if not ok or image is None:
                    logger.warning("%s: frame %d could not be decoded; stopping there",
                                   path, index)
                    break
                yielded += 1
                yield Frame(index, t, image)
        finally:
            cap.release()
        if yielded == 0:
            raise VideoError(f"cannot read {path}: no frame could be decoded (empty or truncated)")


def prefetch(items: Iterable[T], depth: int = 8) -> Iterator[T]:
    """Iterate ``items`` in a background thread, at most ``depth`` ahead.

    Overlaps decoding (which releases the GIL inside FFmpeg) with whatever the consumer
    does with each frame (the face mesh), so the pipeline runs at the speed of the
    slower of the two instead of their sum. Memory stays bounded by ``depth`` frames.
    Exceptions from the producer are raised in the consumer; stopping early stops it.
    """
    q: queue.Queue = queue.Queue(maxsize=max(depth, 1))
    stop = threading.Event()
    done = object()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        q.put((True, item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put((True, done))
        except BaseException as exc:  # handed to the consumer
            q.put((False, exc))

    thread = threading.Thread(target=produce, name="painvision-decode", daemon=True)
    thread.start()
    try:
        while True:
            ok, item = q.get()
            if not ok:
                raise item
            if item is done:
                return
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                thread.join(timeout=0.05)


def iter_frames(path: str | os.PathLike[str], stride: int = 1) -> Iterator[Frame]:
    """Every ``stride``-th frame of a video, streamed (see ``FrameReader``)."""
    return iter(FrameReader(path, stride))
