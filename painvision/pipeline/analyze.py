"""analyze_video(): decode -> face mesh -> pose normalisation -> AU signals -> scores."""

from __future__ import annotations

import logging
import os

import numpy as np

from painvision.device import check_device_name, require_torch_device
from painvision.errors import InputError
from painvision.features.inputs import InputsAccumulator
from painvision.features.quality import SKIP_FLAGS, assess_quality
from painvision.landmarks.extract import Progress, TrackReader, concat_tracks
from painvision.landmarks.facemesh import FaceMeshOptions, frame_confidence
from painvision.pipeline.analysis import Analysis
from painvision.scoring import DEFAULT_SCORER, SCORERS, Scorer, create_scorer
from painvision.types import LandmarkTrack

logger = logging.getLogger(__name__)

__all__ = ["SCORERS", "analyze_video"]


def analyze_video(
    path: str | os.PathLike[str],
    *,
    device: str = "auto",
    neutral: tuple[float, float] | None = None,
    stride: int = 1,
    scorer: str | Scorer = DEFAULT_SCORER,
    weights: str | os.PathLike[str] | None = None,
    face_mesh: FaceMeshOptions | None = None,
    on_progress: Progress | None = None,
    keep_landmarks: bool = False,
    decode_thread: bool = True,
) -> Analysis:
    """Per-frame PSPI, its action units and (with the model) a pain probability.

    Args:
        path: the video file.
        device: ``"auto" | "cpu" | "cuda"`` for the learned model (the other scorers run
            on the CPU and do not load PyTorch).
        neutral: (start_s, end_s) of a stretch where the face is known to be at rest,
            used as the subject's baseline; default: automatic (see ``features.baseline``).
        stride: analyse every ``stride``-th frame.
        scorer: a name from ``scoring.SCORERS`` — ``"combined"`` (default: the geometric
            PSPI with the pain evidence's ``pain_prob``), ``"analytic"`` (PSPI alone) or
            ``"model"`` (the learned temporal model) — or a scorer made by
            ``scoring.create_scorer``.
        weights: weights for a scorer given by name (see ``create_scorer``).
        face_mesh: front-end settings.
        on_progress: called as ``on_progress(done, total)`` after each analysed frame.
        keep_landmarks: keep the face meshes in ``Analysis.track.landmarks``
            (``(T, 478, 3)``, 5.7 kB a frame); by default they are dropped as the video is
            read and that array is ``(T, 0, 3)``.
        decode_thread: decode in a background thread beside the face mesh (faster alone;
            off in ``analyze --jobs`` workers, where every core is busy already).

    Raises:
        InputError: bad arguments. VideoError: unreadable video. WeightsError: the
        model's weights are missing or unsafe.
    """
    if isinstance(scorer, str) and scorer not in SCORERS:
        raise InputError(f"unknown scorer {scorer!r}: expected one of {', '.join(SCORERS)}")
    if stride < 1:
        raise InputError(f"stride must be >= 1, got {stride}")
    if neutral is not None and not (
            isinstance(neutral, tuple | list) and len(neutral) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in neutral)):
        raise InputError(f"neutral must be (start_s, end_s) in seconds, got {neutral!r}")
    check_device_name(device)
    if isinstance(scorer, str):  # cuda with a CPU scorer is an error, as in the CLI
        require_torch_device(device, scorer)
    # Loaded before decoding, so that bad weights fail at once; PyTorch only for the model.
    sc = create_scorer(scorer, weights=weights, device=device) if isinstance(scorer, str) \
        else scorer
    options = face_mesh or FaceMeshOptions()
    # Chunk by chunk: each piece of the track is aligned and measured, then its meshes are
    # dropped (unless asked for), so memory grows by ~0.1 kB a frame, not by the meshes.
    reader = TrackReader(path, stride=stride, options=options, on_progress=on_progress,
                         decode_thread=decode_thread)
    acc = InputsAccumulator(model_points=sc.needs_points)
    parts = []
    for chunk in reader.chunks():
        pose = acc.add(chunk)
        kept = (chunk.landmarks if keep_landmarks
                else np.empty((len(chunk), 0, 3), dtype=np.float32))
        parts.append(LandmarkTrack(
            t=chunk.t, frame_index=chunk.frame_index, landmarks=kept, detected=chunk.detected,
            confidence=frame_confidence(chunk.landmarks, pose.residual),
            n_faces=chunk.n_faces, width=chunk.width, height=chunk.height,
            appearance=chunk.appearance))
        del chunk, pose
    track = concat_tracks(parts)
    del parts
    # frames too dark, blurred or covered to read are not scored (features.quality)
    quality = assess_quality(track.appearance, track.detected, acc.pose_ok)
    inputs = acc.finish(neutral, readable=(quality.flags & SKIP_FLAGS) == 0)
    info, decoded = reader.info, reader.decoded
    scores = sc.score(inputs)
    logger.info("%s: %d frames analysed, face in %d", path, len(track), int(track.detected.sum()))
    return Analysis(
        info=info,
        track=track,
        pose=inputs.pose,
        signals=inputs.signals,
        aus=scores.aus,
        pain_prob=scores.pain_prob,
        baseline=inputs.neutral.baseline,
        pose_coupling=(inputs.neutral.coupling.to_dict() if inputs.neutral.coupling is not None
                       else None),
        scorer=sc.name,
        calibration=sc.describe(),
        device=sc.device,
        stride=stride,
        decoded_frames=decoded,
        face_mesh=options.to_dict(),
        expressions=scores.expressions,
        quality=quality,
    )
