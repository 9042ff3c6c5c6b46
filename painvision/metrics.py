"""Agreement and detection metrics used by training reports and benchmarks. numpy,
scipy and scikit-learn; no painvision imports beyond errors."""

from __future__ import annotations

import numpy as np
from scipy.stats import pearsonr
from sklearn.metrics import f1_score, roc_auc_score

from painvision.errors import InputError

__all__ = ["icc_3_1", "pain_metrics", "pspi_metrics"]


def icc_3_1(a: np.ndarray, b: np.ndarray) -> float:
    """ICC(3,1), two-way mixed, consistency, single rater (Shrout & Fleiss 1979).

    Treats ``a`` and ``b`` as two raters of the same targets (frames):
    (MS_rows - MS_error) / (MS_rows + (k - 1) MS_error) with k = 2.
    """
    x = np.column_stack([np.asarray(a, float), np.asarray(b, float)])
    n, k = x.shape
    if n < 2:
        raise InputError("ICC needs at least two targets")
    grand = x.mean()
    ss_rows = k * ((x.mean(axis=1) - grand) ** 2).sum()
    ss_cols = n * ((x.mean(axis=0) - grand) ** 2).sum()
    ss_total = ((x - grand) ** 2).sum()
    ms_rows = ss_rows / (n - 1)
    ms_err = (ss_total - ss_rows - ss_cols) / ((n - 1) * (k - 1))
    denom = ms_rows + (k - 1) * ms_err
    return float((ms_rows - ms_err) / denom) if denom > 0 else float("nan")


def pspi_metrics(pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    """MAE, RMSE, Pearson r and ICC(3,1) of predicted vs true PSPI (NaN frames dropped)."""
    p = np.asarray(pred, float)
    t = np.asarray(true, float)
    ok = np.isfinite(p) & np.isfinite(t)
    p, t = p[ok], t[ok]
    if p.size < 2:
        return {"n": int(p.size), "mae": float("nan"), "rmse": float("nan"),
                "pearson": float("nan"), "icc31": float("nan")}
    r = float(pearsonr(p, t)[0]) if p.std() > 0 and t.std() > 0 else float("nan")
    return {
        "n": int(p.size),
        "mae": float(np.abs(p - t).mean()),
        "rmse": float(np.sqrt(((p - t) ** 2).mean())),
        "pearson": r,
        "icc31": icc_3_1(p, t),
    }


def pain_metrics(prob: np.ndarray, pain: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """F1 at ``threshold`` and ROC-AUC of a per-frame pain probability."""
    p = np.asarray(prob, float)
    y = np.asarray(pain, float)
    ok = np.isfinite(p) & np.isfinite(y)
    p, y = p[ok], y[ok].astype(int)
    out = {"n": int(p.size), "f1": float("nan"), "roc_auc": float("nan")}
    if p.size and y.min() != y.max():
        out["f1"] = float(f1_score(y, p >= threshold))
        out["roc_auc"] = float(roc_auc_score(y, p))
    return out
