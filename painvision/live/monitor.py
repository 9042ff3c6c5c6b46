"""``PainMonitor``: frame in, reading out, for a camera at the bedside.

One frame at a time: face mesh -> the patient among the faces -> pose normalisation ->
AU signals -> scores relative to the patient's neutral -> alert policy. Nothing of the
frame is kept once ``process`` returns; memory is bounded by fixed-size windows.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from painvision.device import check_device_name, require_torch_device
from painvision.errors import InputError
from painvision.features import au_signals
from painvision.features.analytic import Calibration
from painvision.features.inputs import Neutral
from painvision.features.quality import LiveQuality
from painvision.landmarks.appearance import LookSchedule, measure_appearance
from painvision.landmarks.facemesh import SETTLE_FRAMES, FaceMeshOptions, frame_confidence
from painvision.landmarks.pose import PoseAlignment, align_to_template
from painvision.landmarks.subject import SubjectFrontEnd
from painvision.landmarks.tracking import SubjectTracker, face_box
from painvision.live.alerts import AlertPolicy, AlertState, EpisodeEvent
from painvision.live.neutral import AdaptiveNeutral, NeutralPolicy
from painvision.scoring import DEFAULT_SCORER, SCORERS, Scorer, create_scorer

logger = logging.getLogger(__name__)

__all__ = ["SCORERS", "PainMonitor", "Reading"]

#: A jump in time longer than this (a camera outage) restarts the scorers' smoothing.
GAP_RESET_S = 2.0


@dataclass(frozen=True)
class Reading:
    """What the monitor says about one frame.

    Attributes:
        t: the frame's time (seconds, as given to ``process``).
        face_detected: the patient's face was found in this frame.
        n_faces: faces in view (the patient, visitors, staff), as the face mesh found them
            in this frame or the face detector at its last look (about once a second).
        pspi: PSPI of this frame (0-16), None when not scored.
        smoothed: the alert policy's smoothed PSPI, None until there is one.
        aus: AU intensities behind ``pspi`` (FACS 0-5, AU43 0-1), None when not scored.
        pain_prob: probability that the face shows pain rather than a look-alike (laugh,
            yawn, crying...), None with the analytic scorer.
        pose: head yaw, pitch, roll in degrees, None without the patient's face.
        confidence: geometric confidence of the patient's mesh in [0, 1].
        face_box: (centre x, centre y, width) of the patient's face, as shares of the
            image width / height; None without it.
        quality: flags: ``calibrating``, ``no_face``, ``no_patient_face`` (faces are
            seen, none is the patient), ``acquiring`` (the first ``SETTLE_FRAMES`` frames
            of a face just found, not scored while MediaPipe's mesh settles),
            ``other_faces`` (visitors beside the patient),
            ``pose_out_of_range``, ``low_confidence``, and (``features.quality``, against
            the face's look over the last two minutes) ``low_light``, ``blurred``,
            ``occluded``: the frame is then not scored.
        in_episode: a pain episode is in progress.
        event: the onset or offset this frame caused, if any.
        latency_ms: time ``process`` took for this frame.
        expressions: the movements outside PSPI (``au1_2``, ``au12``, ``au15``, ``au20``,
            ``au25``, ``au26``, ``au45``), None when not scored or with the learned model.
    """

    t: float
    face_detected: bool
    n_faces: int
    pspi: float | None
    smoothed: float | None
    aus: dict[str, float] | None
    pain_prob: float | None
    pose: dict[str, float] | None
    confidence: float | None
    face_box: tuple[float, float, float] | None
    quality: tuple[str, ...]
    in_episode: bool
    event: EpisodeEvent | None
    latency_ms: float
    expressions: dict[str, float] | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready, rounded; no image data exists to include."""

        def r(v: float | None, n: int = 3) -> float | None:
            return None if v is None else round(float(v), n)

        return {
            "t": r(self.t), "face_detected": self.face_detected, "n_faces": self.n_faces,
            "pspi": r(self.pspi), "smoothed": r(self.smoothed),
            "aus": {k: r(v) for k, v in self.aus.items()} if self.aus else None,
            "pain_prob": r(self.pain_prob),
            "expressions": ({k: r(v) for k, v in self.expressions.items()}
                            if self.expressions else None),
            "pose": {k: r(v, 1) for k, v in self.pose.items()} if self.pose else None,
            "confidence": r(self.confidence),
            "face_box": [r(v) for v in self.face_box] if self.face_box else None,
            "quality": list(self.quality), "in_episode": self.in_episode,
            "event": self.event.to_dict() if self.event else None,
            "latency_ms": r(self.latency_ms, 2),
        }


def _stream_device(device: str) -> str:
    """``auto`` -> the CPU: one frame at a time the model is faster there (0.4 ms vs
    1.1 ms a frame on an H100 machine, weights/MODEL_CARD.md); ``cuda`` when asked."""
    from painvision.device import resolve_device

    return "cpu" if device.strip().lower() == "auto" else str(resolve_device(device))


class PainMonitor:
    """Live pain monitoring of one patient from a camera.

    Args:
        device: for the learned model: ``auto`` (the CPU, faster for one frame at a
            time), ``cpu`` or ``cuda``.
        neutral: ``"auto"`` (learn it over the first ``neutral_policy.warmup_s`` seconds
            of the patient's face), a number of seconds to calibrate on from the start
            (the patient is known to be at rest then), or a ``Neutral`` from an earlier
            calibration (``monitor.neutral``).
        alert: the alert policy.
        scorer: a name from ``scoring.SCORERS`` — ``"combined"`` (default, as ``painvision
            analyze``: PSPI and ``pain_prob``; an alarm needs both), ``"analytic"`` (PSPI
            alone) or ``"model"`` — or a scorer made by ``scoring.create_scorer``.
        weights: weights for a scorer given by name (see ``create_scorer``).
        neutral_policy: warm-up and adaptation of the neutral.
        bed_region: (x0, y0, x1, y1) as shares of the image: only faces whose centre is
            inside can be the patient.
        max_faces: faces the face mesh follows on each frame; 1 (the default) follows the
            patient alone and looks for other people about once a second (see
            ``landmarks.subject``).

    ``process`` may be called from any thread (calls are serialised); ``latest`` and
    ``status`` may be read from others meanwhile.
    """

    def __init__(
        self,
        device: str = "auto",
        neutral: str | float | Neutral = "auto",
        alert: AlertPolicy | None = None,
        *,
        scorer: str | Scorer = DEFAULT_SCORER,
        weights: str | os.PathLike[str] | None = None,
        neutral_policy: NeutralPolicy | None = None,
        bed_region: tuple[float, float, float, float] | None = None,
        max_faces: int = 1,
    ) -> None:
        if isinstance(scorer, str) and scorer not in SCORERS:
            raise InputError(f"unknown scorer {scorer!r}: expected one of {', '.join(SCORERS)}")
        check_device_name(device)
        if isinstance(scorer, str):  # cuda with a CPU scorer is an error, as in the CLI
            require_torch_device(device, scorer)
        if bed_region is not None:
            try:
                x0, y0, x1, y1 = (float(v) for v in bed_region)
            except (TypeError, ValueError):
                raise InputError("bed_region must be four numbers x0,y0,x1,y1, got "
                                 f"{bed_region!r}") from None
            if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
                raise InputError("bed_region must be x0,y0,x1,y1 with 0 <= x0 < x1 <= 1 "
                                 f"and 0 <= y0 < y1 <= 1, got {bed_region}")
        self.bed_region = bed_region
        self.policy = alert or AlertPolicy()
        # PyTorch is loaded only for the learned model (~470 MB resident)
        if isinstance(scorer, str):
            dev = _stream_device(device) if scorer == "model" else "cpu"  # torch: model only
            sc = create_scorer(scorer, weights=weights, device=dev)
        else:
            sc = scorer
        self.scorer_name = sc.name
        self._stream = sc.stream()
        self.device = sc.device
        self._neutral = AdaptiveNeutral(neutral_policy, Calibration.load_default())
        if isinstance(neutral, Neutral):
            self._neutral.use(neutral, "given")
        elif isinstance(neutral, str):
            if neutral != "auto":
                raise InputError(f"neutral must be 'auto', seconds or a Neutral, got {neutral!r}")
            self._neutral.collect(None)
        elif isinstance(neutral, int | float) and not isinstance(neutral, bool):
            self._neutral.collect(float(neutral))
        else:
            raise InputError(f"neutral must be 'auto', seconds or a Neutral, got {neutral!r}")
        self._options = FaceMeshOptions(max_faces=max_faces)
        self._front = SubjectFrontEnd(self._options, region=bed_region)
        self._tracker = self._front.tracker
        self._alerts = AlertState(self.policy)
        self._looks = LiveQuality()
        self._look = LookSchedule()
        self._look_flags: list[str] = []
        self._lock = threading.Lock()
        self._last_t: float | None = None
        self._last_episode_end: float | None = None
        self._frames = 0
        # frames of a face just found still to settle (landmarks.facemesh.SETTLE_FRAMES)
        self._settling = SETTLE_FRAMES
        self._latest: Reading | None = None
        self._closed = False

    # -- public state ----------------------------------------------------------
    @property
    def latest(self) -> Reading | None:
        """The last reading (safe to read from any thread)."""
        return self._latest

    @property
    def neutral(self) -> Neutral | None:
        """The patient's current neutral (None while calibrating); can be given to a new
        monitor as ``neutral=``."""
        return self._neutral.neutral

    @property
    def calibrating(self) -> bool:
        """True while a neutral is being learnt: at the start, and after
        ``calibrate(seconds=...)`` mid-stream (nothing is scored meanwhile)."""
        return not self._neutral.ready or self._neutral.collecting

    def status(self) -> dict[str, object]:
        return {"frames": self._frames, "scorer": self.scorer_name, "device": self.device,
                "neutral": self._neutral.to_dict(), "episodes": self._alerts.episodes,
                "in_episode": self._alerts.active, "alert_policy": self.policy.to_dict(),
                "bed_region": list(self.bed_region) if self.bed_region else None}

    # -- calibration -----------------------------------------------------------
    def calibrate(self, frames: Iterable[np.ndarray] | None = None, *,
                  seconds: float | None = None) -> None:
        """Set the patient's neutral.

        Args:
            frames: BGR frames showing the patient at rest, in time order (a few seconds
                of video); the neutral is their median.
            seconds: instead, take the next ``seconds`` of the stream as rest.

        Raises:
            InputError: neither or both given, or fewer than 3 frames with a usable face.
        """
        if (frames is None) == (seconds is None):
            raise InputError("calibrate() takes frames or seconds, not both or neither")
        with self._lock:
            if self._closed:
                raise InputError("this PainMonitor is closed")
            if seconds is not None:
                self._neutral.collect(seconds)
                self._reset_streams()
                return
            sig, mesh, boxes, poses = [], [], [], []
            # Video mode, as the stream itself: MediaPipe's single-image meshes sit a
            # little apart from its tracked ones, and that offset would read as expression.
            # the first sighting is the largest face near the centre, then the face nearest
            # it, however far it moved between two of these frames (they may be sparse)
            follow = SubjectTracker(max_jump=10.0, reacquire_radius=10.0)
            with SubjectFrontEnd(self._options, region=self.bed_region,
                                 tracker=follow) as front:
                for i, frame in enumerate(frames):
                    _check_frame(frame)
                    face = front.process(frame, i / 15.0).landmarks
                    if face is None:
                        continue
                    al, s, valid = _measure(face, frame)
                    if valid:
                        sig.append(s)
                        mesh.append(al.aligned[0])
                        boxes.append(face_box(face))
                        poses.append(al.yaw_pitch_roll[0])
            self._neutral.set_from(np.array(sig), np.array(mesh), np.array(boxes),
                                   "calibrated_frames", np.array(poses).reshape(-1, 3))
            self._tracker.home = self._neutral.box
            self._reset_streams()
            logger.info("neutral calibrated from %d frames", len(sig))

    # -- the frame loop ----------------------------------------------------------
    def _reset_streams(self) -> None:
        self._stream.reset()

    def process(self, frame_bgr: np.ndarray, timestamp_s: float) -> Reading:
        """Score one frame.

        Args:
            frame_bgr: ``(H, W, 3) uint8`` BGR image; not kept after the call.
            timestamp_s: its time in seconds; must increase from call to call.

        Raises:
            InputError: a malformed frame, a timestamp that does not increase, or a
                closed monitor.
        """
        _check_frame(frame_bgr)
        if not (isinstance(timestamp_s, int | float | np.number)
                and not isinstance(timestamp_s, bool)):
            raise InputError(f"timestamp_s must be a number of seconds, got {timestamp_s!r}")
        t = float(timestamp_s)
        with self._lock:
            start = time.perf_counter()
            if self._closed:
                raise InputError("this PainMonitor is closed")
            if not math.isfinite(t) or (self._last_t is not None and t <= self._last_t):
                raise InputError(f"timestamps must increase: got {t} after {self._last_t}")
            if self._last_t is not None and t - self._last_t > GAP_RESET_S:
                self._reset_streams()
                # the face may have moved while no frame came (a camera restored, a frozen
                # stream): MediaPipe's mesh then settles onto it as onto a face just found
                self._settling = SETTLE_FRAMES
            self._last_t = t
            self._frames += 1
            reading = self._score(frame_bgr, t, start)
            self._latest = reading
            if reading.event is not None:
                e = reading.event
                logger.info("pain episode %d %s at t=%.2f s (smoothed PSPI %.1f, peak %.1f%s)",
                            e.episode, e.type, e.t, e.score, e.peak,
                            f", {e.reason}" if e.reason else "")
            return reading

    def _score(self, frame: np.ndarray, t: float, start: float) -> Reading:
        found = self._front.process(frame, t)
        quality: list[str] = []
        pspi = pain_prob = conf = None
        aus = pose = box = expressions = None
        lm = found.landmarks
        if lm is None:
            quality.append("no_patient_face" if found.n_faces else "no_face")
            self._look.lost()  # look again when it is back
            self._look_flags = []
            self._settling = SETTLE_FRAMES
        else:
            if found.n_faces > 1:
                quality.append("other_faces")
            box = face_box(lm)
            al, signals, valid = _measure(lm, frame)
            aligned, ypr = al.aligned[0], al.yaw_pitch_roll[0]
            conf = float(frame_confidence(lm[None], al.residual)[0])
            pose = {"yaw": float(ypr[0]), "pitch": float(ypr[1]), "roll": float(ypr[2])}
            if not al.pose_ok[0]:
                quality.append("pose_out_of_range")
            if conf < 0.5:
                quality.append("low_confidence")
            # too dark, blurred or covered to read (features.quality): not scored
            if self._look.due(t):
                self._look_flags = self._looks.update(
                    t, measure_appearance(frame, lm, bgr=True))
            if self._look_flags:
                quality.extend(self._look_flags)
                valid = False
            if self._settling > 0:  # a face just found: its mesh is still settling
                self._settling -= 1
                quality.append("acquiring")
                valid = False
            # read against the neutral at this head pose (features.posefit)
            signals = self._neutral.correct(t, signals, ypr, valid, self._alerts.active,
                                            self._last_episode_end, self._alerts.smoothed)
            if self._neutral.collecting:
                if valid and self._neutral.add(t, signals, aligned, box, ypr):
                    self._tracker.home = self._neutral.box
                    self._reset_streams()
                    logger.info("neutral ready (%s, %d frames)", self._neutral.method,
                                self._neutral.neutral.baseline.n_frames)
            neu = self._neutral.neutral
            if neu is not None and not self._neutral.collecting:
                s, pain_prob = self._stream.update(t, aligned, signals, ypr, valid, neu)
                if s is not None:
                    aus = s.to_dict()
                    pspi = aus.pop("pspi")
                    expressions = self._stream.expressions
        if self._neutral.collecting:
            quality.append("calibrating")
        event = self._alerts.update(t, pspi, aus, pain_prob)
        if event is not None and event.type == "offset":
            self._last_episode_end = t
        if pspi is not None and lm is not None:
            self._neutral.adapt(t, signals, aligned, self._alerts.smoothed,
                                self._alerts.active, self._last_episode_end)
        return Reading(
            t=t, face_detected=lm is not None, n_faces=found.n_faces, pspi=pspi,
            smoothed=self._alerts.smoothed if pspi is not None else None, aus=aus,
            pain_prob=pain_prob, pose=pose, confidence=conf, face_box=box,
            quality=tuple(quality), in_episode=self._alerts.active, event=event,
            latency_ms=(time.perf_counter() - start) * 1000.0, expressions=expressions)

    def stop(self, t: float | None = None) -> EpisodeEvent | None:
        """End an episode in progress (reason ``stopped``), e.g. before shutting down."""
        with self._lock:
            when = t if t is not None else (self._last_t or 0.0)
            return self._alerts.stop(when)

    def close(self) -> None:
        """Release the face mesh. Further ``process`` calls raise."""
        with self._lock:
            if not self._closed:
                self._front.close()
                self._closed = True

    def __enter__(self) -> PainMonitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _measure(face: np.ndarray, frame: np.ndarray) -> tuple[PoseAlignment, np.ndarray, bool]:
    """One face's pose alignment, its AU signals ``(S,)``, and whether it can be scored."""
    h, w = frame.shape[:2]
    al = align_to_template((face * np.array([w, h, w], np.float32))[None])
    signals = au_signals(al.aligned)[0]
    return al, signals, bool(al.pose_ok[0] and np.isfinite(signals).all())


#: A frame narrower than this holds no face to read (and cannot be shrunk for the
#: detector's look without a side of 0 pixels).
MIN_FRAME_SIDE = 32


def _check_frame(frame: object) -> None:
    if not (isinstance(frame, np.ndarray) and frame.ndim == 3 and frame.shape[2] == 3
            and frame.dtype == np.uint8 and min(frame.shape[:2]) >= MIN_FRAME_SIDE):
        desc = (f"{frame.shape} {frame.dtype}" if isinstance(frame, np.ndarray)
                else type(frame).__name__)
        raise InputError(f"frame must be an (H, W, 3) uint8 BGR image at least "
                         f"{MIN_FRAME_SIDE} pixels a side, got {desc}")

