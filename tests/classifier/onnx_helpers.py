"""Generated inputs and the scorer's outputs as arrays, for ``test_onnx.py`` and the
subprocesses it starts without PyTorch (so: no torch here)."""

from __future__ import annotations

import numpy as np

from painvision.classifier.scorer import ModelScorer, ModelStream
from painvision.features.inputs import FrameInputs
from painvision.synth.identity import sample_identities
from painvision.synth.meshgen import MeshGenerator
from painvision.synth.sequence import Blink, Episode, Script
from painvision.types import AU_NAMES, LandmarkTrack


def generated_track(seconds: float = 24.0, seed: int = 0) -> LandmarkTrack:
    """Generated landmarks with a pain episode, blinks, a 1-s face loss and dropped frames
    (uneven frame intervals): the paths the features take on a real video. Events sit at
    the same shares of any ``seconds`` (8 s or more)."""
    k = seconds / 24.0
    gen = MeshGenerator(sample_identities(2, "train", 3)[1])
    tl = Script(seconds, 25.0,
                episodes=(Episode(6.0 * k, 7.0 * k, 10.0 * k, 11.5 * k,
                                  {"au4": 3.5, "au7": 3.0, "au10": 2.0}),),
                blinks=(Blink(3.0 * k), Blink(14.0 * k))).timeline()
    lm, det = gen.sequence(tl, np.random.default_rng(seed))
    n = len(tl)
    det, lm = det.copy(), lm.copy()
    det[n * 2 // 3: n * 2 // 3 + 25] = False  # 1 s without a face
    lm[~det] = np.nan
    keep = np.ones(n, bool)
    a, b = n // 6, n * 5 // 12
    keep[[a, a + 1, b, b + 1, b + 2, n * 5 // 6]] = False  # dropped: dt of 2-4 frames
    idx = np.flatnonzero(keep)
    return LandmarkTrack(t=tl.t[idx], frame_index=idx, landmarks=lm[idx], detected=det[idx],
                         confidence=det[idx].astype(np.float32),
                         n_faces=det[idx].astype(np.int16), width=640, height=480)


def offline_outputs(scorer: ModelScorer, inputs: FrameInputs) -> np.ndarray:
    aus, prob = scorer.score(inputs)
    return np.stack([*(getattr(aus, n) for n in AU_NAMES), aus.pspi, prob], -1)


def streamed_outputs(scorer: ModelScorer, inputs: FrameInputs) -> np.ndarray:
    stream = ModelStream(scorer)
    rows = []
    for k in range(len(inputs.t)):
        aus, prob = stream.update(float(inputs.t[k]), inputs.pose.aligned[k],
                                  inputs.signals[k], inputs.pose.yaw_pitch_roll[k],
                                  bool(inputs.valid[k]), inputs.neutral)
        rows.append(np.full(len(AU_NAMES) + 2, np.nan) if aus is None else
                    [*(getattr(aus, n) for n in AU_NAMES), aus.pspi, prob])
    return np.asarray(rows, np.float64)
