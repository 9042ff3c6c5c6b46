"""MediaPipe face mesh (legacy ``solutions.face_mesh`` of mediapipe 0.10.21, whose model
ships inside the wheel) wrapped to return numpy arrays."""

from __future__ import annotations

import logging
import os
import sys
import threading
from dataclasses import dataclass

import cv2
import numpy as np

from painvision.errors import DependencyError, InputError
from painvision.types import N_LANDMARKS

logger = logging.getLogger(__name__)

__all__ = ["SETTLE_FRAMES", "FaceDetector", "FaceMeshExtractor", "FaceMeshOptions", "fit_frame",
           "fit_size", "frame_confidence", "settling"]


@dataclass(frozen=True, slots=True)
class FaceMeshOptions:
    """Front-end settings; they are part of what a landmark cache is keyed by.

    Attributes:
        max_faces: faces the mesh follows per frame. 1 (the default) meshes the subject
            alone, in tracking mode, and looks for other people with the face detector
            every ``scan_every_s`` (see ``landmarks.subject``); more than 1 meshes every
            face on every frame, which makes MediaPipe run its detector on each frame in
            which it finds fewer faces than that (about twice the cost with 2).
        static_image_mode: run detection on every frame (photos) instead of tracking.
        min_detection_confidence: MediaPipe's face-detector threshold.
        min_tracking_confidence: below this MediaPipe drops the track and re-detects.
        scan_every_s: seconds between looks for other people (visitors, staff) with the
            face detector on a small copy of the frame, when ``max_faces`` is 1; the
            subject is also looked for this way, every 0.25 s at most, while it is not
            found. 0: never (other faces are then neither counted nor told apart).
        max_side: frames whose longer side exceeds this many pixels are shrunk by a whole
            factor until it does (``fit_frame``) before the mesh; 0: never. The default
            reads 4K as it is and 8K at half size: on the sample upscaled to 2880x2160,
            reading it at half size moved PSPI by 0.12 a frame on average (r 0.9993),
            beyond the 0.1 the scores may move, to save 11 % of the time, since decoding
            runs beside the mesh (``scripts/downscale_agreement.py``).
    """

    max_faces: int = 1
    static_image_mode: bool = False
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    scan_every_s: float = 1.0
    max_side: int = 4096

    def __post_init__(self) -> None:
        if self.max_faces < 1:
            raise InputError(f"max_faces must be >= 1, got {self.max_faces}")
        for name in ("min_detection_confidence", "min_tracking_confidence"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise InputError(f"{name} must be in [0, 1], got {v}")
        if not self.scan_every_s >= 0.0:
            raise InputError(f"scan_every_s must be >= 0, got {self.scan_every_s}")
        if self.max_side != 0 and self.max_side < 160:
            raise InputError(f"max_side must be 0 (never downscale) or >= 160 pixels, "
                             f"got {self.max_side}")

    def to_dict(self) -> dict[str, object]:
        return {
            "max_faces": self.max_faces,
            "static_image_mode": self.static_image_mode,
            "min_detection_confidence": self.min_detection_confidence,
            "min_tracking_confidence": self.min_tracking_confidence,
            "refine_landmarks": True,
            "scan_every_s": self.scan_every_s,
            "max_side": self.max_side,
        }


class _NativeStderrMute:
    """Mutes MediaPipe's native writes to the process's stderr while its graphs start up,
    without muting Python's own.

    MediaPipe's start-up notes (TFLite delegate, absl and glog lines) go straight to file
    descriptor 2, past Python's logging, from worker threads and at unpredictable moments
    (the landmark model loads only once a face is first found, which in an empty bed can
    be hours). So descriptor 2 is pointed at /dev/null from construction until a few
    frames after the first face, or until close(); meanwhile ``sys.stderr`` and the
    logging handlers that wrote to it are given a copy of the real stderr, so warnings
    and errors of painvision (and anything else written from Python) still show. Mutes
    nest: the first turns it on, the last turns it off.
    """

    def __init__(self) -> None:
        self._on = False

    def on(self) -> None:
        global _mute_count
        if self._on:
            return
        with _mute_lock:
            if _mute_count == 0 and not _mute_start():
                return
            _mute_count += 1
            self._on = True

    def off(self) -> None:
        global _mute_count
        if not self._on:
            return
        with _mute_lock:
            self._on = False
            _mute_count -= 1
            if _mute_count == 0:
                _mute_stop()


_mute_lock = threading.Lock()
_mute_count = 0
_mute_state: dict | None = None


def _stream_handlers() -> list[logging.StreamHandler]:
    loggers = [logging.getLogger()] + [v for v in logging.Logger.manager.loggerDict.values()
                                       if isinstance(v, logging.Logger)]
    return [h for lg in loggers for h in lg.handlers if isinstance(h, logging.StreamHandler)]


def _mute_start() -> bool:
    global _mute_state
    try:
        os.fstat(2)
    except OSError:
        return False
    old = sys.stderr
    try:
        python_on_fd2 = old is not None and old.fileno() == 2
    except (AttributeError, OSError, ValueError):
        python_on_fd2 = False
    if old is not None:
        old.flush()
    saved = os.dup(2)
    stream, swapped = None, []
    if python_on_fd2:
        stream = open(os.dup(saved), "w", buffering=1,  # noqa: SIM115 - closed in stop
                      encoding=getattr(old, "encoding", None) or "utf-8",
                      errors="backslashreplace")
        sys.stderr = stream
        swapped = [h for h in _stream_handlers() if h.stream is old]
        for h in swapped:
            h.setStream(stream)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    _mute_state = {"saved": saved, "stream": stream, "old": old, "swapped": swapped}
    return True


def _mute_stop() -> None:
    global _mute_state
    st, _mute_state = _mute_state, None
    if st is None:
        return
    os.dup2(st["saved"], 2)
    os.close(st["saved"])
    stream = st["stream"]
    if stream is not None:
        for h in st["swapped"]:
            if h.stream is stream:
                h.setStream(st["old"])
        if sys.stderr is stream:
            sys.stderr = st["old"]
        stream.flush()
        stream.close()


def _import_mediapipe(solution: str = "face_mesh"):
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        from mediapipe.python import solutions
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise DependencyError(
            f"mediapipe's face mesh cannot be imported ({exc}); install it with `make setup`"
        ) from exc
    return getattr(solutions, solution)


def fit_frame(image: np.ndarray, max_side: int) -> np.ndarray:
    """``image`` shrunk by the smallest whole factor k that brings its longer side to at
    most ``max_side`` pixels (area averaging over k x k blocks, 1.6 ms for a 4K frame
    here, where resizing to an arbitrary size costs 12 ms); the same array when it
    already fits or ``max_side`` is 0. When a side is not a multiple of k, its last
    ``side % k`` pixels are left out (at most 2 of 4096 at k = 3), so normalised
    landmarks found on the result hold for the original to within that."""
    h, w = image.shape[:2]
    k = _fit_factor(w, h, max_side)
    if k == 1:
        return image
    size = (w // k, h // k)
    return cv2.resize(image[: size[1] * k, : size[0] * k], size, interpolation=cv2.INTER_AREA)


def _fit_factor(width: int, height: int, max_side: int) -> int:
    """The whole factor ``fit_frame`` shrinks by (1: not at all)."""
    if max_side <= 0 or max(width, height) <= max_side:
        return 1
    return -(-max(width, height) // max_side)


def fit_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """The ``(width, height)`` that ``fit_frame`` gives a ``width`` x ``height`` frame."""
    k = _fit_factor(width, height, max_side)
    return width // k, height // k


#: A face detector's box is wider than the mesh's face outline (``tracking.face_box``):
#: 1.10 on the bundled sample's first frame, 1.04 and 1.06 on the two bundled photos.
DETECTOR_BOX_OVER_MESH = 1.07


class FaceDetector:
    """MediaPipe's short-range face detector (the one the face mesh itself starts from,
    in the wheel), on a copy of the frame at most ``side`` pixels long (it reads 128x128).

    ``detect`` returns ``(centre x, centre y, width)`` boxes as shares of the image, the
    width scaled to the mesh's face outline, so that they compare with
    ``tracking.face_box``.
    """

    def __init__(self, min_confidence: float = 0.5, side: int = 320) -> None:
        face_detection = _import_mediapipe("face_detection")
        self.side = side
        self._det = face_detection.FaceDetection(model_selection=0,
                                                 min_detection_confidence=min_confidence)

    def detect(self, frame_bgr: np.ndarray, *, rgb: bool = False
               ) -> list[tuple[float, float, float]]:
        """Face boxes in a BGR frame (RGB with ``rgb=True``)."""
        return self.detect_small(self.small(frame_bgr, rgb=rgb))

    def small(self, frame_bgr: np.ndarray, *, rgb: bool = False) -> np.ndarray:
        """The RGB copy of a BGR frame (RGB with ``rgb=True``) that ``detect_small`` reads:
        a new array, at most ``side`` pixels long, that later changes to the frame do not
        reach."""
        small = fit_frame(frame_bgr, self.side)
        if not rgb:
            return cv2.cvtColor(small, cv2.COLOR_BGR2RGB)
        return small.copy() if small is frame_bgr else small

    def detect_small(self, image: np.ndarray) -> list[tuple[float, float, float]]:
        """Face boxes in an image made by ``small``."""
        if self._det is None:
            raise InputError("this FaceDetector is closed")
        boxes = []
        for d in self._det.process(image).detections or ():
            b = d.location_data.relative_bounding_box
            boxes.append((b.xmin + b.width / 2, b.ymin + b.height / 2,
                          max(b.width / DETECTOR_BOX_OVER_MESH, 1e-6)))
        return boxes

    def close(self) -> None:
        if self._det is not None:
            self._det.close()
            self._det = None

    def __enter__(self) -> FaceDetector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


#: A ``NormalizedLandmark`` with x, y and z set and nothing else, as serialised: field
#: tag and length (2 bytes), then a 1-byte tag and 4 little-endian float bytes for each.
_WIRE_STRIDE = 17
_WIRE_HEAD = np.array([0x0A, 15], np.uint8)
_WIRE_TAGS = np.array([0x0D, 0x15, 0x1D], np.uint8)
_WIRE_FLOATS = np.array([3, 4, 5, 6, 8, 9, 10, 11, 13, 14, 15, 16])


def _landmarks_array(face) -> np.ndarray:
    """``(N, 3) float32`` x, y, z of a ``NormalizedLandmarkList``.

    Read from its serialised bytes (20 us instead of 180 us for 478 points through the
    protobuf objects) when every landmark has exactly x, y and z, which is what the face
    mesh gives; any other layout is read field by field.
    """
    raw = np.frombuffer(face.SerializeToString(), np.uint8)
    if raw.size % _WIRE_STRIDE == 0 and raw.size:
        rows = raw.reshape(-1, _WIRE_STRIDE)
        if ((rows[:, :2] == _WIRE_HEAD).all() and (rows[:, [2, 7, 12]] == _WIRE_TAGS).all()):
            return np.ascontiguousarray(rows[:, _WIRE_FLOATS]).view("<f4").reshape(-1, 3) \
                .astype(np.float32)
    return np.array([(p.x, p.y, p.z) for p in face.landmark], dtype=np.float32)


def _lean_graph(solution):
    """A per-frame call into the face mesh's graph without its Python wrapper's per-call
    work (``SolutionBase.process`` builds a new namedtuple class and evaluates a string
    on every frame: 0.25 ms, 8 % of a 480x360 frame here). It does what that method
    does for one RGB image in and the face list out, through the same objects; None
    (and the public ``process`` is used) if this mediapipe's wrapper is not laid out as
    0.10.21's is."""
    try:
        graph = solution._graph
        in_type = solution._input_stream_type_info["image"]
        out_type = solution._output_stream_type_info["multi_face_landmarks"]
        make, content, outputs = (solution._make_packet, solution._get_packet_content,
                                  solution._graph_outputs)
        _ = solution._simulated_timestamp
    except (AttributeError, KeyError, TypeError):  # pragma: no cover - other mediapipe
        return None
    if len(solution._input_stream_type_info) != 1:  # pragma: no cover - other mediapipe
        return None

    def run(rgb: np.ndarray):
        outputs.clear()
        solution._simulated_timestamp += 33333  # as process(): a simulated 30 fps clock
        graph.add_packet_to_input_stream(
            stream="image", packet=make(in_type, rgb).at(solution._simulated_timestamp))
        graph.wait_until_idle()
        packet = outputs.get("multi_face_landmarks")
        return None if packet is None else content(out_type, packet)

    return run


class FaceMeshExtractor:
    """Runs MediaPipe's face mesh (478 points, refined eyes and lips) on BGR frames.

    Use as a context manager or call ``close()``. In video mode (the default) MediaPipe
    tracks the face from frame to frame, so frames must be fed in time order.
    """

    def __init__(self, options: FaceMeshOptions | None = None) -> None:
        self.options = options or FaceMeshOptions()
        face_mesh = _import_mediapipe()
        self._mute = _NativeStderrMute()
        self._frames_after_face = -1  # -1: no face seen yet
        self._mute.on()
        try:
            self._mesh = face_mesh.FaceMesh(
                static_image_mode=self.options.static_image_mode,
                max_num_faces=self.options.max_faces,
                refine_landmarks=True,
                min_detection_confidence=self.options.min_detection_confidence,
                min_tracking_confidence=self.options.min_tracking_confidence,
            )
        except BaseException:
            self._mute.off()
            raise
        self._lean = _lean_graph(self._mesh)

    @classmethod
    def create_from_options(cls, options: FaceMeshOptions) -> FaceMeshExtractor:
        return cls(options)

    def process(self, frame_bgr: np.ndarray, *, rgb: bool = False) -> list[np.ndarray]:
        """Faces in one frame.

        Args:
            frame_bgr: ``(H, W, 3) uint8``, BGR as OpenCV decodes it.
            rgb: the frame is RGB already (converted off the critical path, e.g. in a
                decoding thread).

        Returns:
            One ``(478, 3) float32`` array per face (x / W, y / H, z on the x scale),
            in MediaPipe's order; empty when there is no face.
        """
        if frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3 or frame_bgr.dtype != np.uint8:
            raise InputError(
                f"frame_bgr must be (H, W, 3) uint8, got {frame_bgr.shape} {frame_bgr.dtype}"
            )
        if self._mesh is None:
            raise InputError("this FaceMeshExtractor is closed")
        # an exact channel swap (same pixels): 0.16 ms against 0.73 ms for a reversed-stride
        # copy at 480x360 on a 2-core development machine
        image = frame_bgr if rgb else cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)
        found = self._lean(image) if self._lean is not None \
            else self._mesh.process(image).multi_face_landmarks
        if self._frames_after_face >= 0 or found:
            self._frames_after_face += 1
            if self._frames_after_face >= 3:
                self._mute.off()
        faces = []
        for face in found or ():
            arr = _landmarks_array(face)
            if arr.shape == (N_LANDMARKS, 3):
                faces.append(arr)
        return faces

    def close(self) -> None:
        if self._mesh is not None:
            self._mesh.close()
            self._mesh = None
        self._mute.off()

    def __enter__(self) -> FaceMeshExtractor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


#: Frames of a face just found (at the start, or again after it was lost) whose meshes are
#: not to be scored live. MediaPipe's first meshes after it finds a face come from its
#: detector's crop and settle onto the tracked face over the next frames: on a resting
#: face the AU signals of the first frame sit 7-15 thousandths of an inter-ocular distance
#: from where tracking puts them, 2-5 by the fifth frame, at the frame-to-frame floor
#: (1-2.5) by about the eighth (the sample and two held-out clips, each face lost for 1 s
#: every 2 s). Read causally that is a PSPI of 5-7 for a few frames, and above the alarm's
#: 3 for 0.4 s on its smoothed value, each time a nurse walks between the camera and the
#: bed. Counted in frames, since the mesh settles frame by frame whatever the frame rate.
SETTLE_FRAMES = 8


def settling(detected: np.ndarray, frames: int = SETTLE_FRAMES) -> np.ndarray:
    """``(T,) bool``: True on the first ``frames`` frames of each run of frames with a
    face (``detected``, ``(T,)``), whose meshes are still settling (``SETTLE_FRAMES``)."""
    d = np.asarray(detected, dtype=bool)
    out = np.zeros(d.shape, dtype=bool)
    run = 0
    for i, seen in enumerate(d.tolist()):
        run = run + 1 if seen else 0
        out[i] = seen and run <= frames
    return out


def frame_confidence(landmarks: np.ndarray, residual: np.ndarray) -> np.ndarray:
    """A geometric confidence in [0, 1] for meshes MediaPipe returned.

    The legacy face-mesh API exposes no presence score, so confidence is built from
    what can be checked: the share of the 468 mesh points inside the image, times how
    well the stable points fit the neutral template after pose alignment
    (``exp(-(residual / 0.08)^2)``, residual in inter-ocular distances).

    Args:
        landmarks: ``(T, 478, 3)`` normalised landmarks, NaN rows where no face.
        residual: ``(T,)`` alignment residual from ``pose.align_to_template``.

    Returns:
        ``(T,) float32``, 0 where there is no face.
    """
    xy = landmarks[:, :468, :2]
    with np.errstate(invalid="ignore"):
        inside = ((xy >= 0.0) & (xy <= 1.0)).all(axis=2).mean(axis=1)
        fit = np.exp(-((residual / 0.08) ** 2))
    conf = np.where(np.isfinite(residual), inside * fit, 0.0)
    return np.clip(conf, 0.0, 1.0).astype(np.float32)
