"""The pose coupling: signals read against the neutral at the head's pose
(``features.posefit``), on generated numbers and through MediaPipe on a real photo."""

from __future__ import annotations

import numpy as np

from painvision.features.geometry import SIGNAL_NAMES
from painvision.features.inputs import prepare_inputs
from painvision.features.posefit import (
    MAX_FIT_FRAMES,
    MAX_OFFSET,
    POSE_SCALE_DEG,
    fit_pose_coupling,
)
from painvision.landmarks.extract import extract_track
from painvision.scoring import create_scorer

S = len(SIGNAL_NAMES)


def _frames(n: int = 600, seed: int = 0, expression_at_yaw: bool = True):
    """Signals that follow the pose linearly, plus noise; in about a sixth of the frames
    an expression moves three signals by 4 AU units or so, and (``expression_at_yaw``)
    only while the head is turned to one side, so a plain least-squares fit would take
    part of it for pose."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 15.0
    ypr = np.column_stack([8 * np.sin(t / 3.0), 4 * np.sin(t / 5.0 + 1), 6 * np.sin(t / 7.0)])
    slopes = rng.normal(0, 0.005, size=(3, S))
    sig = 0.5 + (ypr / POSE_SCALE_DEG) @ slopes + rng.normal(0, 0.001, size=(n, S))
    expr = ((ypr[:, 0] > 4) & (rng.random(n) < 0.5)) if expression_at_yaw \
        else (rng.random(n) < 0.17)
    sig[expr, :3] -= 0.04
    return t, ypr, sig, slopes, expr


def test_fit_recovers_the_pose_slopes_despite_expressions_that_come_with_a_turn():
    t, ypr, sig, slopes, expr = _frames()
    assert 0.1 < expr.mean() < 0.25
    c = fit_pose_coupling(sig, ypr, np.ones(len(t), bool), t, ridge=1e-4)
    assert c.active
    np.testing.assert_allclose(c.slopes, slopes, atol=1.5e-3)
    # the expression frames keep their full movement after the correction
    corrected = c.correct(sig, ypr)
    moved = np.median(corrected[~expr, :3], axis=0) - np.median(corrected[expr, :3], axis=0)
    np.testing.assert_allclose(moved, 0.04, atol=0.004)
    # an untrimmed fit would have taken part of the expression for pose
    x = np.column_stack([np.ones(len(t)), ypr / POSE_SCALE_DEG])
    naive = np.linalg.lstsq(x, sig, rcond=None)[0][1:]
    assert np.abs(naive[0, :3] - slopes[0, :3]).min() > 5 * np.abs(c.slopes[0, :3]
                                                                    - slopes[0, :3]).max()


def test_no_correction_from_too_little_video():
    t, ypr, sig, _, _ = _frames(n=120)  # 8 s: shorter than the minimum span
    c = fit_pose_coupling(sig, ypr, np.ones(len(t), bool), t)
    assert not c.active
    assert c.correct(sig, ypr) is sig or np.array_equal(c.correct(sig, ypr), sig)
    few = fit_pose_coupling(sig[:50], ypr[:50], np.ones(50, bool))
    assert not few.active


def test_only_valid_frames_are_fitted_and_poses_beyond_the_fitted_range_are_clamped():
    t, ypr, sig, slopes, _ = _frames(expression_at_yaw=False)
    valid = np.ones(len(t), bool)
    bad = sig.copy()
    bad[::5] += 1.0  # garbage on invalid frames must not enter
    valid[::5] = False
    c = fit_pose_coupling(bad, ypr, valid, t, ridge=1e-4)
    np.testing.assert_allclose(c.slopes, slopes, atol=1.5e-3)
    edge = c.offsets(np.array([c.hi]))
    beyond = c.offsets(np.array([c.hi + 40.0]))
    np.testing.assert_allclose(beyond, edge)
    assert np.all(c.offsets(np.array([c.ref])) == 0)
    assert np.all(c.offsets(np.array([[np.nan] * 3])) == 0)


def test_no_signal_is_moved_by_more_than_the_cap_whatever_was_fitted():
    """A face that changes exactly as the head turns cannot be told from the pose's own
    effect and is fitted as pose; the correction still takes at most MAX_OFFSET of it."""
    n = 600
    t = np.arange(n) / 15.0
    ypr = np.column_stack([15 * np.sin(t / 3.0), np.zeros(n), np.zeros(n)])
    sig = np.full((n, S), 0.5) + np.random.default_rng(0).normal(0, 1e-3, (n, S))
    sig[:, 0] -= 0.1 * ypr[:, 0] / 15.0
    c = fit_pose_coupling(sig, ypr, np.ones(n, bool), t)
    assert c.slopes[0, 0] < -0.04  # fitted as pose
    assert MAX_OFFSET <= 0.005  # 0.5-1 AU unit at most
    assert np.abs(c.offsets(ypr)).max() <= 0.005 + 1e-12
    kept = c.correct(sig, ypr)[:, 0]  # 0.2 apart between the two sides, before
    assert np.median(kept[ypr[:, 0] < -14]) - np.median(kept[ypr[:, 0] > 14]) >= 0.185


def test_ridge_keeps_slopes_small_when_the_head_barely_moved():
    t, ypr, sig, _, _ = _frames(expression_at_yaw=False)
    still = ypr * 0.02  # a fraction of a degree
    rng = np.random.default_rng(1)
    noise = 0.5 + rng.normal(0, 0.002, size=sig.shape)
    c = fit_pose_coupling(noise, still, np.ones(len(t), bool), t)
    assert np.abs(c.offsets(still)).max() < 1e-3  # under a tenth of an AU unit


def test_a_tilting_head_reads_less_pain_with_the_pose_coupling(tilting_photo_clip):
    """Through MediaPipe: the tilt alone reads as AU movement; the coupling removes
    most of it."""
    _, track, _ = extract_track(tilting_photo_clip)
    scorer = create_scorer("analytic")
    inputs = prepare_inputs(track)
    assert inputs.neutral.coupling is not None and inputs.neutral.coupling.active
    with_coupling = scorer.score(inputs).aus.pspi
    # with a neutral stretch, nothing is subtracted at the stretch's own pose
    stretch = prepare_inputs(track, neutral=(0.0, 3.0))
    in_stretch = stretch.valid & (track.t <= 3.0)
    np.testing.assert_allclose(stretch.neutral.coupling.ref,
                               np.median(stretch.pose.yaw_pitch_roll[in_stretch], axis=0))
    plain = prepare_inputs(track, pose_coupling=False)
    assert plain.neutral.coupling is not None and not plain.neutral.coupling.active
    without = scorer.score(plain).aus.pspi
    assert np.isfinite(with_coupling).mean() > 0.9
    assert np.nanmean(with_coupling) < 0.7 * np.nanmean(without)
    assert np.nanpercentile(with_coupling, 95) < 0.8 * np.nanpercentile(without, 95)


def test_a_long_recording_is_fitted_on_an_evenly_spaced_sample():
    rng = np.random.default_rng(5)
    n = 120_000
    t = np.arange(n) / 25.0
    ypr = np.column_stack([8 * np.sin(t / 3.0), 4 * np.sin(t / 5.0 + 1), 6 * np.sin(t / 7.0)])
    slopes = rng.normal(0, 0.003, size=(3, S))
    sig = (0.5 + (ypr / POSE_SCALE_DEG) @ slopes + rng.normal(0, 0.001, (n, S))).astype(
        np.float32)
    c = fit_pose_coupling(sig, ypr, np.ones(n, bool), t, ridge=1e-4)
    assert 0 < c.n_frames <= MAX_FIT_FRAMES
    np.testing.assert_allclose(c.slopes, slopes, atol=5e-4)
    out = c.correct(sig, ypr)
    assert out.dtype == np.float32 and out.shape == sig.shape
    assert out.std(axis=0).max() < 0.5 * sig.std(axis=0).max()
