from __future__ import annotations

import numpy as np
import pytest

from painvision.errors import InputError
from painvision.features.analytic import AnalyticScorer, Calibration, eyes_closed, smooth
from painvision.features.baseline import Baseline
from painvision.features.geometry import SIGNAL_NAMES
from painvision.types import AUScores, AUSeries, compute_pspi

S = {n: k for k, n in enumerate(SIGNAL_NAMES)}


def test_pspi_formula():
    assert AUScores(2, 1, 3, 4, 0, 1).pspi == 2 + 3 + 4 + 1
    assert AUScores(5, 5, 5, 5, 5, 1).pspi == 16
    series = AUSeries.from_array(np.array([[1, 2, 0, 0, 3, 0], [np.nan] * 6], np.float32))
    assert series.pspi[0] == 6 and np.isnan(series.pspi[1])
    assert compute_pspi(0, 0, 0, 0, 0, 0) == 0


@pytest.mark.parametrize("bad", [dict(au4=6.0), dict(au43=2.0), dict(au7=-1.0)])
def test_au_scores_are_range_checked(bad):
    values = dict(au4=0.0, au6=0.0, au7=0.0, au9=0.0, au10=0.0, au43=0.0) | bad
    with pytest.raises(InputError):
        AUScores(**values)


def test_blink_is_not_eyes_closed_but_a_held_closure_is():
    t = np.arange(100) / 25.0
    ratio = np.ones(100)
    ratio[10:15] = 0.1  # 0.2 s: a blink
    ratio[50:75] = 0.1  # 1.0 s: eyes closed
    ratio[90] = np.nan
    au43 = eyes_closed(ratio, t, threshold=0.5, min_s=0.5)
    assert au43[10:15].sum() == 0
    assert (au43[50:75] == 1).all() and au43[:50].sum() == 0 and au43[75:90].sum() == 0
    assert np.isnan(au43[90])


def test_smoothing_removes_short_spikes_and_keeps_episodes():
    t = np.arange(200) / 25.0
    x = np.zeros(200)
    x[20:24] = 5.0  # 0.16 s transient
    x[100:160] = 3.0  # 2.4 s episode
    x[180] = np.nan
    y = smooth(x, t, median_s=0.5, mean_s=0.2)
    assert y[18:26].max() < 0.5
    assert y[115:145].min() > 2.9
    assert np.isnan(y[180])


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_smoothing_a_clip_shorter_than_the_window_keeps_its_length(n):
    """5 frames at 30 fps (a short folder of frames) are shorter than the mean window."""
    t = np.arange(n) / 30.0
    y = smooth(np.arange(n, dtype=float), t, median_s=0.5, mean_s=0.4)
    assert y.shape == (n,) and np.isfinite(y).all()


def _scorer():
    cal = Calibration(gains={"au4": {"brow_height": 100.0}, "au7": {"lower_lid_drop": 100.0}})
    return AnalyticScorer(cal, median_s=0.0, mean_s=0.0)


def test_scores_are_relative_to_the_baseline_and_clipped():
    n = 50
    t = np.arange(n) / 25.0
    sig = np.ones((n, len(SIGNAL_NAMES)), np.float32)
    sig[10:20, S["brow_height"]] -= 0.02  # brows 0.02 IOD lower -> AU4 = 2
    sig[30:40, S["brow_height"]] -= 0.2  # far lower -> clipped at 5
    sig[40:45, S["brow_height"]] += 0.05  # raised brows are not AU4
    base = Baseline(np.ones(len(SIGNAL_NAMES), np.float32), "neutral_range", 10)
    valid = np.ones(n, bool)
    valid[45] = False
    aus = _scorer().score(sig, t, valid, base)
    np.testing.assert_allclose(aus.au4[10:20], 2.0, atol=1e-4)
    assert (aus.au4[30:40] == 5.0).all() and (aus.au4[40:45] == 0).all()
    assert (aus.au7[:45] == 0).all() and (aus.au43[:45] == 0).all()
    assert np.isnan(aus.pspi[45])


def test_calibration_rejects_unknown_names():
    with pytest.raises(InputError):
        Calibration(gains={"au27": {"brow_height": 1.0}})
    with pytest.raises(InputError):
        Calibration(gains={"au4": {"smile": 1.0}})


def test_shipped_calibration_loads():
    cal = Calibration.load_default()
    assert set(cal.gains) == {"au4", "au6", "au7", "au9", "au10", "au1_2", "au12", "au15",
                              "au20", "au25", "au26"}
    # AU6 reads the cheek (it used to be 0: the cheek raise was never measured)
    assert cal.gains["au6"]["cheek_drop"] > 50
    assert 0 < cal.closed_ratio < 1 and cal.closed_min_s > 0.3
