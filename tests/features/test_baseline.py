from __future__ import annotations

import numpy as np
import pytest

from painvision.errors import InputError
from painvision.features.baseline import estimate_baseline, signal_mode
from painvision.features.geometry import SIGNAL_NAMES

S = len(SIGNAL_NAMES)


def _signals(t, neutral=1.0, pain=0.8, pain_share=0.3, seed=0):
    rng = np.random.default_rng(seed)
    n = t.size
    x = np.full((n, S), neutral) + rng.normal(0, 0.005, (n, S))
    k = int(n * pain_share)
    x[n - k :] = pain + rng.normal(0, 0.005, (k, S))
    return x.astype(np.float32)


def test_mode_ignores_a_minority_of_pain_frames():
    t = np.arange(300) / 30
    base = estimate_baseline(_signals(t), t, np.ones(300, bool))
    assert base.method == "auto_mode"
    np.testing.assert_allclose(base.values, 1.0, atol=0.01)


def test_neutral_range_uses_only_those_seconds():
    t = np.arange(300) / 30
    sig = _signals(t, pain_share=0.6)  # mostly pain: the mode would be wrong
    sig[:60] = 1.0
    base = estimate_baseline(sig, t, np.ones(300, bool), neutral=(0.0, 1.9))
    assert base.method == "neutral_range" and base.neutral_s == (0.0, 1.9)
    np.testing.assert_allclose(base.values, 1.0, atol=1e-6)
    assert base.n_frames == 58  # frames 0..57 at 30 fps lie in [0, 1.9] s


def test_neutral_range_without_a_face_is_an_error():
    t = np.arange(100) / 10
    valid = t > 5
    with pytest.raises(InputError, match="no usable face"):
        estimate_baseline(_signals(t), t, valid, neutral=(0.0, 4.0))
    with pytest.raises(InputError):
        estimate_baseline(_signals(t), t, valid, neutral=(4.0, 2.0))


def test_too_few_frames_gives_nan_baseline():
    t = np.arange(5) / 10
    base = estimate_baseline(_signals(t), t, np.ones(5, bool))
    assert np.isnan(base.values).all()


@pytest.mark.parametrize("values, expected", [([], np.nan), ([2.0], 2.0), ([3.0, 3.0, 3.0], 3.0)])
def test_signal_mode_edge_cases(values, expected):
    got = signal_mode(np.array(values))
    assert (np.isnan(got) and np.isnan(expected)) or got == pytest.approx(expected)


def test_the_mode_is_scipys_kernel_density_mode():
    """signal_mode's own kernel density peaks where scipy's gaussian_kde does."""
    from scipy.stats import gaussian_kde

    from painvision.features.baseline import _kde, signal_mode

    rng = np.random.default_rng(3)
    for v in (rng.normal(0.2, 0.05, 800),
              np.concatenate([rng.normal(0.0, 0.02, 600), rng.normal(0.5, 0.1, 300)]),
              rng.gamma(2.0, 0.1, 2500)):
        grid = np.linspace(*np.percentile(v, [0.5, 99.5]), 512)
        ours, theirs = _kde(v, grid), gaussian_kde(v)(grid)
        np.testing.assert_allclose(ours / ours.max(), theirs / theirs.max(), rtol=1e-9)
        assert signal_mode(v) == grid[int(np.argmax(theirs))]
