from __future__ import annotations

import numpy as np
import pytest

from painvision.errors import InputError
from painvision.features import SIGNAL_NAMES
from painvision.live import AdaptiveNeutral, NeutralPolicy

S = len(SIGNAL_NAMES)
BROW = SIGNAL_NAMES.index("brow_height")
REST = np.linspace(0.2, 0.9, S).astype(np.float32)
MESH = np.zeros((478, 3), np.float32)
BOX = (0.5, 0.5, 0.3)


def warmed(policy: NeutralPolicy | None = None, seconds: float | None = None,
           fps: float = 10.0) -> AdaptiveNeutral:
    rng = np.random.default_rng(0)
    neu = AdaptiveNeutral(policy or NeutralPolicy(warmup_s=5.0))
    neu.collect(seconds)
    k = 0
    while not neu.ready:
        sig = REST + rng.normal(0, 0.0005, S).astype(np.float32)
        if k % 5 == 0 and seconds is None:  # a fifth of the warm-up is a pain face
            sig[BROW] -= 0.05
        neu.add(k / fps, sig, MESH, BOX)
        k += 1
    return neu


def test_automatic_warmup_finds_the_rest_face_despite_some_pain():
    neu = warmed()
    assert neu.method == "auto"
    np.testing.assert_allclose(neu.neutral.baseline.values, REST, atol=0.003)
    assert neu.box == pytest.approx(BOX)


def test_calibrating_seconds_takes_the_median():
    neu = warmed(seconds=2.0)
    assert neu.method == "calibrated_seconds"
    np.testing.assert_allclose(neu.neutral.baseline.values, REST, atol=0.002)


def test_pain_frames_never_move_the_neutral():
    neu = warmed()
    before = neu.neutral.baseline.values.copy()
    pain = REST.copy()
    pain[BROW] -= 0.05
    for k in range(2000):  # far more than the time constant, all while in pain
        assert not neu.adapt(10 + k / 10, pain, MESH, smoothed=6.0, in_episode=True,
                             last_episode_end=None)
    # ... nor frames that look at rest but come right after an episode
    assert not neu.adapt(300.0, REST, MESH, 0.1, False, last_episode_end=290.0)
    np.testing.assert_array_equal(neu.neutral.baseline.values, before)


def test_rest_frames_adapt_slowly_and_the_drift_is_capped():
    neu = warmed(NeutralPolicy(warmup_s=5.0, adapt_tau_s=60.0, max_drift_au=1.0))
    shifted = neu.neutral.baseline.values.copy()
    shifted[BROW] -= 0.004  # less than max_step_au: a slow change of posture
    t = 10.0
    neu.adapt(t, shifted, MESH, 0.1, False, None)
    unit = 1.0 / 108.49  # brow_height's AU4 gain in the shipped calibration
    for k in range(5 * 60 * 10):  # five minutes at 10 fps, five time constants
        t += 0.1
        assert neu.adapt(t, shifted, MESH, 0.1, False, None)
        shifted = neu.neutral.baseline.values.copy()
        shifted[BROW] -= 0.004  # keeps creeping, always "just below" the step limit
        if k == 100:  # after 10 s: slow
            assert 0 < REST[BROW] - neu.neutral.baseline.values[BROW] < 0.1 * unit
    drift = REST[BROW] - neu.neutral.baseline.values[BROW]
    assert drift == pytest.approx(unit, rel=0.05)  # stopped at the cap: 1 AU unit
    assert neu.drift_au() == pytest.approx(1.0, abs=0.06)


def test_frames_far_from_the_neutral_are_not_learned():
    neu = warmed()
    far = neu.neutral.baseline.values.copy()
    far[BROW] -= 0.02  # two AU units: an expression, even if the smoothed PSPI is low
    assert not neu.adapt(20.0, far, MESH, 0.1, False, None)


def test_calibration_from_too_few_frames_is_refused():
    neu = AdaptiveNeutral()
    with pytest.raises(InputError, match="at least 3 frames"):
        neu.set_from(np.zeros((2, S)), np.zeros((2, 478, 3)), np.zeros((2, 3)), "x")


def test_warmup_memory_is_a_fixed_reservoir():
    neu = AdaptiveNeutral(NeutralPolicy(warmup_s=1000.0, reservoir=64))
    neu.collect(None)
    for k in range(5000):
        neu.add(k / 100, REST, MESH, BOX)
    assert neu._buf_sig.shape == (64, S) and neu._seen == 5000


def _turning(t: float) -> np.ndarray:
    """Head pose (yaw, pitch, roll in degrees) of a patient turning on the pillow."""
    return np.array([8 * np.sin(t / 3.0), 6 * np.sin(t / 2.0 + 1.0), 6 * np.sin(t / 4.0)])


SLOPES = np.random.default_rng(3).normal(0, 0.0015, size=(3, S))  # per 10 degrees: within the cap


def _posed(t: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    ypr = _turning(t)
    return (REST + ypr / 10.0 @ SLOPES + rng.normal(0, 0.0005, S)).astype(np.float32), ypr


def test_live_pose_coupling_is_learnt_from_rest_frames_and_removes_the_pose():
    rng = np.random.default_rng(0)
    neu = AdaptiveNeutral(NeutralPolicy(warmup_s=5.0))
    neu.collect(None)
    t = 0.0
    while not neu.ready:  # calibration at the pose the patient first lies in
        sig, ypr = _posed(t, rng)
        neu.add(t, neu.correct(t, sig, ypr, True, False, None), MESH, BOX, ypr)
        t += 0.1
    assert neu.coupling is None
    raw_errors, errors = [], []
    while t < 80.0:
        sig, ypr = _posed(t, rng)
        in_episode = 40.0 <= t < 50.0
        if in_episode:  # a pain face, with the head turned: never learnt as pose
            sig = sig.copy()
            sig[BROW] -= 0.05
        out = neu.correct(t, sig, ypr, True, in_episode, None if t < 50 else 50.0)
        if not in_episode and t > 30.0:
            raw_errors.append(np.abs(sig - neu.neutral.baseline.values).max())
            errors.append(np.abs(out - neu.neutral.baseline.values).max())
        t += 0.1
    assert neu.coupling is not None and neu.coupling.active
    assert neu.to_dict()["pose_frames"] >= 100
    # the pose at calibration is where nothing is subtracted
    np.testing.assert_allclose(neu.coupling.ref, np.median(
        [_turning(k * 0.1) for k in range(int(5.0 / 0.1) + 1)], axis=0), atol=0.5)
    assert np.median(errors) < 0.4 * np.median(raw_errors)
    # the pain episode (brow 0.05 lower while the head was turned) was not learnt as pose
    np.testing.assert_allclose(neu.coupling.slopes[:, BROW], SLOPES[:, BROW], atol=6e-4)


def test_live_pose_coupling_can_be_switched_off_and_restarts_with_a_new_neutral():
    rng = np.random.default_rng(1)
    off = AdaptiveNeutral(NeutralPolicy(warmup_s=5.0, pose_coupling=False))
    on = AdaptiveNeutral(NeutralPolicy(warmup_s=5.0))
    for neu in (off, on):
        neu.collect(None)
        for k in range(600):
            t = k * 0.1
            sig, ypr = _posed(t, rng)
            out = neu.correct(t, sig, ypr, True, False, None)
            if neu.collecting:
                neu.add(t, out, MESH, BOX, ypr)
            if neu is off:
                assert out is sig
    assert off.coupling is None and on.coupling is not None
    on.collect(2.0)  # a new calibration: the old pose fit goes
    assert on.coupling is None and on.to_dict()["pose_frames"] == 0
    with pytest.raises(InputError):
        NeutralPolicy(pose_refit_s=0.0)


def test_a_given_neutral_does_not_lock_the_pose_reference_to_the_first_frame():
    """A neutral handed in from elsewhere has no pose of its own: the first frame (here
    with the head turned 20 degrees) must not become where nothing is subtracted."""
    from painvision.features import Baseline
    from painvision.features.inputs import Neutral

    rng = np.random.default_rng(2)
    neu = AdaptiveNeutral(NeutralPolicy())
    neu.use(Neutral(Baseline(REST.copy(), "given", 10), MESH), "given")
    sig, _ = _posed(0.0, rng)
    neu.correct(0.0, sig, np.array([20.0, 0.0, 0.0]), True, False, None)
    t = 0.1
    while t < 40.0:
        sig, ypr = _posed(t, rng)
        neu.correct(t, sig, ypr, True, False, None)
        t += 0.1
    assert neu.coupling is not None
    assert np.abs(neu.coupling.ref[0]) < 3.0  # the usual pose, not the first frame's 20
    # a neutral that carries its own coupling keeps its reference pose
    carried = AdaptiveNeutral(NeutralPolicy())
    carried.use(Neutral(Baseline(REST.copy(), "given", 10), MESH, neu.coupling), "given")
    t = 0.0
    while t < 40.0:
        sig, ypr = _posed(t, rng)
        carried.correct(t, sig, ypr, True, False, None)
        t += 0.1
    np.testing.assert_allclose(carried.coupling.ref, neu.coupling.ref)


def test_faces_on_their_way_to_an_alarm_do_not_feed_the_pose_fit():
    rng = np.random.default_rng(4)
    neu = warmed()
    t = 10.0
    while t < 60.0:  # smoothed PSPI at 4 all along: nothing may be learnt from it
        sig, ypr = _posed(t, rng)
        out = neu.correct(t, sig, ypr, True, False, None, smoothed=4.0)
        assert out is sig
        t += 0.1
    assert neu.coupling is None
