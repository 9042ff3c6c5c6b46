from __future__ import annotations

import numpy as np
import pytest

from painvision.metrics import icc_3_1, pain_metrics, pspi_metrics


def test_icc_against_shrout_and_fleiss_table():
    # Shrout & Fleiss (1979), Table 2: 6 targets, 4 judges; ICC(3,1) = 0.71.
    x = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9],
                  [6, 2, 4, 7]], float)
    n, k = x.shape
    grand = x.mean()
    ms_r = k * ((x.mean(1) - grand) ** 2).sum() / (n - 1)
    ss_c = n * ((x.mean(0) - grand) ** 2).sum()
    ms_e = (((x - grand) ** 2).sum() - ms_r * (n - 1) - ss_c) / ((n - 1) * (k - 1))
    assert (ms_r - ms_e) / (ms_r + (k - 1) * ms_e) == pytest.approx(0.71, abs=0.005)
    # The two-rater function agrees with the same formula on two of the judges.
    a, b = x[:, 0], x[:, 3]
    pair = np.column_stack([a, b])
    g = pair.mean()
    msr = 2 * ((pair.mean(1) - g) ** 2).sum() / 5
    mse = (((pair - g) ** 2).sum() - msr * 5 - 6 * ((pair.mean(0) - g) ** 2).sum()) / 5
    assert icc_3_1(a, b) == pytest.approx((msr - mse) / (msr + mse))


def test_icc_ignores_a_constant_offset_but_not_noise():
    rng = np.random.default_rng(0)
    a = rng.uniform(0, 10, 200)
    assert icc_3_1(a, a + 3.0) == pytest.approx(1.0)
    assert icc_3_1(a, a + rng.normal(0, 3, 200)) < 0.9


def test_pspi_metrics_by_hand():
    m = pspi_metrics(np.array([0.0, 2.0, 4.0, np.nan]), np.array([0.0, 1.0, 5.0, 3.0]))
    assert m["n"] == 3
    assert m["mae"] == pytest.approx(2 / 3)
    assert m["rmse"] == pytest.approx(np.sqrt(2 / 3))
    assert m["pearson"] == pytest.approx(np.corrcoef([0, 2, 4], [0, 1, 5])[0, 1])


def test_pain_metrics_by_hand():
    m = pain_metrics(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1]))
    assert m["roc_auc"] == pytest.approx(0.75)
    assert m["f1"] == pytest.approx(2 / 3)  # one true positive, one false negative
    assert np.isnan(pain_metrics(np.array([0.2, 0.3]), np.array([0, 0]))["roc_auc"])
