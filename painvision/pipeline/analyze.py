"""analyze_video(): decode -> face mesh -> pose normalisation -> AU signals -> scores."""

from __future__ import annotations

import logging
import os

from painvision.classifier.scorer import ModelScorer
from painvision.device import resolve_device
from painvision.errors import InputError
from painvision.features import AnalyticScorer
from painvision.features.inputs import prepare_inputs
from painvision.landmarks.extract import Progress, extract_track
from painvision.landmarks.facemesh import FaceMeshOptions, frame_confidence
from painvision.pipeline.analysis import Analysis
from painvision.types import LandmarkTrack

logger = logging.getLogger(__name__)

__all__ = ["SCORERS", "analyze_video"]

#: Scorers analyze_video can use; the first is the default. The learned model becomes the
#: default once it clearly beats the analytic scorer on the held-out rendered benchmark;
#: today it wins on PSPI error but not clearly on correlation, and it misses a strong
#: episode on a held-out face (weights/MODEL_CARD.md).
SCORERS = ("analytic", "model")

def analyze_video(
    path: str | os.PathLike[str],
    *,
    device: str = "auto",
    neutral: tuple[float, float] | None = None,
    stride: int = 1,
    scorer: str = "analytic",
    weights: str | os.PathLike[str] | None = None,
    face_mesh: FaceMeshOptions | None = None,
    on_progress: Progress | None = None,
) -> Analysis:
    """Per-frame PSPI, its action units and (with the model) a pain probability.

    Args:
        path: the video file.
        device: ``"auto" | "cpu" | "cuda"`` for the learned model.
        neutral: (start_s, end_s) of a stretch where the face is known to be at rest,
            used as the subject's baseline; default: automatic (see ``features.baseline``).
        stride: analyse every ``stride``-th frame.
        scorer: ``"analytic"`` (the interpretable geometric scorer, default) or
            ``"model"`` (the learned temporal model, which adds ``pain_prob``).
        weights: model weights; default ``classifier.default_weights_path()``.
        face_mesh: front-end settings.
        on_progress: called as ``on_progress(done, total)`` after each analysed frame.

    Raises:
        InputError: bad arguments. VideoError: unreadable video. WeightsError: the
        model's weights are missing or unsafe.
    """
    if scorer not in SCORERS:
        raise InputError(f"unknown scorer {scorer!r}: expected one of {', '.join(SCORERS)}")
    if stride < 1:
        raise InputError(f"stride must be >= 1, got {stride}")
    dev = resolve_device(device)
    model = ModelScorer(weights, str(dev)) if scorer == "model" else None  # fail before decoding
    options = face_mesh or FaceMeshOptions()
    info, track, decoded = extract_track(path, stride=stride, options=options,
                                         on_progress=on_progress)
    inputs = prepare_inputs(track, neutral)
    track = LandmarkTrack(
        t=track.t, frame_index=track.frame_index, landmarks=track.landmarks,
        detected=track.detected, confidence=frame_confidence(track.landmarks,
                                                             inputs.pose.residual),
        n_faces=track.n_faces, width=track.width, height=track.height,
    )
    pain_prob = None
    if model is not None:
        aus, pain_prob = model.score(inputs)
        scorer_name, calibration = model.name, {"weights": str(model.weights),
                                                "model": model.config.get("model")}
    else:
        analytic = AnalyticScorer()
        aus = analytic.score(inputs.signals, track.t, inputs.valid, inputs.neutral.baseline)
        scorer_name, calibration = analytic.name, analytic.calibration.to_dict()
    logger.info("%s: %d frames analysed, face in %d", path, len(track), int(track.detected.sum()))
    return Analysis(
        info=info,
        track=track,
        pose=inputs.pose,
        signals=inputs.signals,
        aus=aus,
        pain_prob=pain_prob,
        baseline=inputs.neutral.baseline,
        scorer=scorer_name,
        calibration=calibration,
        device=str(dev),
        stride=stride,
        decoded_frames=decoded,
        face_mesh=options.to_dict(),
    )
