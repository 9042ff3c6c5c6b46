"""Properties of the geometry, checked on many generated meshes (hypothesis).

- Pose normalisation: any rotation, translation and scale of a mesh gives the same aligned
  mesh and the same AU signals.
- The head-pose coupling moves no signal by more than its cap, whatever the recording.
- Any finite input gives finite measures: the AU signals of a finite face are finite, and
  the scorers' AUs are finite and in range on every frame they call valid, however
  distorted the mesh (a degenerate one is flagged invalid, never a NaN or an infinity).
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from painvision.features.geometry import au_signals
from painvision.features.inputs import prepare_inputs
from painvision.landmarks.pose import align_to_template, load_template
from painvision.scoring import create_scorer
from painvision.types import AU_NAMES, LandmarkTrack

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _rotation(q: np.ndarray) -> np.ndarray:
    """A proper rotation from any non-zero 4-vector (a quaternion, normalised here)."""
    w, x, y, z = q / np.linalg.norm(q)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def _face(expression: np.ndarray, iod_px: float = 60.0) -> np.ndarray:
    """The template in pixels, with a per-point displacement (an expression)."""
    return (load_template().astype(np.float64) + expression) * iod_px + np.array(
        [240.0, 180.0, 0.0])


quaternions = arrays(np.float64, 4, elements=st.floats(-1, 1)).filter(
    lambda q: np.linalg.norm(q) > 0.1)
expressions = arrays(np.float64, (478, 3), elements=st.floats(-0.03, 0.03))


@SETTINGS
@given(expression=expressions, q=quaternions,
       scale=st.floats(0.05, 20.0), shift=arrays(np.float64, 3, elements=st.floats(-1e4, 1e4)))
def test_rotation_translation_and_scale_leave_the_normalised_features_unchanged(
        expression, q, scale, shift):
    mesh = _face(expression)
    moved = (mesh - mesh.mean(axis=0)) @ _rotation(q).T * scale + shift
    a = align_to_template(mesh[None].astype(np.float32))
    b = align_to_template(moved[None].astype(np.float32))
    assert np.allclose(a.aligned, b.aligned, atol=2e-3)
    sa, sb = au_signals(a.aligned), au_signals(b.aligned)
    assert np.isfinite(sa).all()
    assert np.allclose(sa, sb, atol=2e-3, rtol=1e-3)


@SETTINGS
@given(expression=arrays(np.float64, (478, 3), elements=st.floats(-0.3, 0.3)),
       q=quaternions)
def test_au_signals_of_any_finite_face_are_finite(expression, q):
    mesh = (_face(expression) - 100.0) @ _rotation(q).T
    pose = align_to_template(mesh[None].astype(np.float32))
    sig = au_signals(pose.aligned)
    assert np.isfinite(sig).all()


@SETTINGS
@given(meshes=arrays(np.float32, (6, 478, 3),
                     elements=st.floats(-1e3, 1e3, width=32, allow_subnormal=False)),
       mode=st.sampled_from(["random", "collapsed", "face"]))
def test_scorers_give_finite_in_range_aus_on_every_frame_they_call_valid(meshes, mode):
    if mode == "collapsed":  # every point in the same place: no pose can be fitted
        meshes = np.repeat(meshes[:, :1], 478, axis=1)
    elif mode == "face":  # faces whose points are pushed around at random
        meshes = (_face(np.zeros((478, 3)))[None] + 0.05 * meshes).astype(np.float32)
    n = len(meshes)
    track = LandmarkTrack(t=np.arange(n) / 25.0, frame_index=np.arange(n),
                          landmarks=meshes / np.float32(480.0), detected=np.ones(n, bool),
                          confidence=np.ones(n, np.float32), n_faces=np.ones(n, np.int16),
                          width=480, height=480)
    inputs = prepare_inputs(track)
    for name in ("combined", "analytic"):
        scores = create_scorer(name).score(inputs)
        for au in AU_NAMES:
            v = getattr(scores.aus, au)[inputs.valid]
            assert np.isfinite(v).all(), (name, au)
            assert (v >= 0).all() and (v <= (1 if au == "au43" else 5)).all(), (name, au)
        if scores.pain_prob is not None:
            p = scores.pain_prob[inputs.valid]
            assert np.isfinite(p).all() and ((p >= 0) & (p <= 1)).all()
        # frames it cannot score are empty, not made up
        assert not np.isfinite(scores.aus.pspi[~inputs.valid]).any()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(100, 900),
       amplitude=st.floats(0.0, 40.0), effect=st.floats(0.0, 0.2),
       nan_share=st.floats(0.0, 0.3))
def test_the_pose_coupling_never_moves_a_signal_by_more_than_its_cap(seed, n, amplitude, effect,
                                                                    nan_share):
    """Whatever the recording (any head motion, any signal change that follows it, missing
    frames), the correction moves no signal by more than MAX_OFFSET, keeps finite values
    finite and missing ones missing."""
    from painvision.features.posefit import MAX_OFFSET, fit_pose_coupling

    rng = np.random.default_rng(seed)
    t = np.arange(n) / 10.0
    ypr = rng.normal(0, 1, (n, 3)).cumsum(axis=0) * amplitude / np.sqrt(n)
    sig = (0.5 + effect * np.tanh(ypr[:, :1] / 10.0) + rng.normal(0, 0.002, (n, 12))
           ).astype(np.float32)
    gone = rng.random(n) < nan_share
    sig[gone] = np.nan
    c = fit_pose_coupling(sig, ypr, ~gone, t)
    out = c.correct(sig, ypr)
    assert out.shape == sig.shape and out.dtype == sig.dtype
    assert np.array_equal(np.isnan(out), np.isnan(sig))
    moved = np.abs(out[~gone].astype(np.float64) - sig[~gone])
    assert moved.max(initial=0.0) <= MAX_OFFSET + 1e-6
