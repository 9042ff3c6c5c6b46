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
