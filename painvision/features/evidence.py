"""Pain evidence: how likely a face is in pain rather than doing one of pain's look-alikes.

PSPI counts what a face does, as FACS codes it: a big laugh (cheeks raised, eyes squeezed
shut, upper lip up) or a sneeze scores as high as a grimace. Whether it *is* pain is a
separate question, and this module answers it with ``pain_prob``, read from inputs that
mean the same on every face:

- every measured AU (``analytic.ALL_GRADED``: the PSPI AUs, brow raise, lip-corner pull and
  depression, lip stretch, lips apart, jaw drop), each the change from the person's own
  neutral in FACS units (per-person scale: distances in inter-ocular distances, gains
  fitted one AU at a time), and how far the eyes have closed (1 - aperture / the
  person's neutral aperture);
- over time, causally: a fast (0.3 s) and a slow (2 s) exponential average of each, and
  how much the mouth and lip corners oscillate about their fast average, averaged over
  1 s (the pulses of laughter, talking, sobbing).

A small two-layer network (``PainEvidence``, numpy; weights trained by
``scripts/train_pain_evidence.py`` and shipped as JSON) turns these into ``pain_prob``.
Everything is causal, so the live stream (``EvidenceStream``) gives the numbers offline
scoring gives, frame for frame.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from painvision.errors import InputError, WeightsError
from painvision.features.analytic import ALL_GRADED, AnalyticScorer
from painvision.features.baseline import Baseline

__all__ = ["CHANNELS", "N_EVIDENCE_FEATURES", "EvidenceStream", "PainEvidence",
           "evidence_channels", "evidence_features"]

#: Per-frame inputs: every graded AU (FACS units from the person's neutral) and the closure.
CHANNELS: tuple[str, ...] = (*ALL_GRADED, "closure")
#: Channels whose oscillation is measured (laughter, talking and sobbing pulse at 1-5 Hz).
RHYTHM: tuple[str, ...] = ("au12", "au25", "au26")
FAST_S, SLOW_S, RHYTHM_S = 0.3, 2.0, 1.0
#: A gap longer than this (no face, or no frame) restarts the averages.
GAP_RESET_S = 2.0
N_EVIDENCE_FEATURES = 2 * len(CHANNELS) + len(RHYTHM)
_RHYTHM_IDX = np.array([CHANNELS.index(c) for c in RHYTHM])
_LOW, _HIGH = -1.0, 6.0


def evidence_channels(raw: np.ndarray, aperture_ratio: np.ndarray) -> np.ndarray:
    """``(T, 11)`` unsmoothed AUs (``AnalyticScorer.raw``) and ``(T,)`` aperture ratio ->
    ``(T, len(CHANNELS)) float64`` inputs, clipped to a sane range; NaN rows stay NaN."""
    raw = np.atleast_2d(np.asarray(raw, dtype=np.float64))
    closure = 1.0 - np.asarray(aperture_ratio, dtype=np.float64).reshape(-1, 1)
    x = np.concatenate([np.clip(raw, _LOW, _HIGH), np.clip(closure, 0.0, 1.0)], axis=1)
    x[~np.isfinite(x).all(axis=1)] = np.nan
    return x


class _Averages:
    """The causal exponential averages, one frame at a time (state: 2 x C + R numbers)."""

    def __init__(self) -> None:
        self.fast: np.ndarray | None = None
        self.slow: np.ndarray | None = None
        self.rhythm: np.ndarray | None = None
        self.last_t: float | None = None

    def reset(self) -> None:
        self.fast = self.slow = self.rhythm = None
        self.last_t = None

    def update(self, t: float, x: np.ndarray | None) -> np.ndarray | None:
        """Feed the frame at ``t`` (``x`` None or non-finite: no face); returns its
        features, or None for a frame without a face."""
        if x is None or not np.isfinite(x).all():
            if self.last_t is not None and t - self.last_t > GAP_RESET_S:
                self.reset()
            return None
        if self.fast is None or self.last_t is None or t - self.last_t > GAP_RESET_S:
            self.fast = x.copy()
            self.slow = x.copy()
            self.rhythm = np.zeros(len(RHYTHM))
        else:
            dt = min(max(t - self.last_t, 0.0), 1.0)
            a_f = 1.0 - math.exp(-dt / FAST_S)
            a_s = 1.0 - math.exp(-dt / SLOW_S)
            a_r = 1.0 - math.exp(-dt / RHYTHM_S)
            self.fast += a_f * (x - self.fast)
            self.slow += a_s * (x - self.slow)
            dev = np.abs(x[_RHYTHM_IDX] - self.fast[_RHYTHM_IDX])
            self.rhythm += a_r * (dev - self.rhythm)
        self.last_t = t
        return np.concatenate([self.fast, self.slow, self.rhythm])


def evidence_features(channels: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``(T, len(CHANNELS))`` inputs and ``(T,)`` times -> ``(T, N_EVIDENCE_FEATURES)``
    causal features, NaN rows where the input row is NaN. Same recursion as the stream."""
    x = np.asarray(channels, dtype=np.float64)
    out = np.full((x.shape[0], N_EVIDENCE_FEATURES), np.nan)
    avg = _Averages()
    for i in range(x.shape[0]):
        f = avg.update(float(t[i]), x[i])
        if f is not None:
            out[i] = f
    return out


@dataclass(frozen=True)
class PainEvidence:
    """The pain-evidence network: standardise, one hidden layer (tanh), logistic output.

    Attributes:
        mean, std: ``(F,)`` feature standardisation.
        w1: ``(F, H)``, b1 ``(H,)``, w2 ``(H,)``, b2: the layers.
        info: where the weights come from (training data, report).
    """

    mean: np.ndarray
    std: np.ndarray
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: float
    info: dict

    def __post_init__(self) -> None:
        f = N_EVIDENCE_FEATURES
        h = self.b1.shape[0]
        shapes = {"mean": (self.mean.shape, (f,)), "std": (self.std.shape, (f,)),
                  "w1": (self.w1.shape, (f, h)), "w2": (self.w2.shape, (h,))}
        for name, (got, want) in shapes.items():
            if got != want:
                raise WeightsError(f"pain evidence weights: {name} is {got}, expected {want}")
        arrays = (self.mean, self.std, self.w1, self.b1, self.w2, np.array([self.b2]))
        if not all(np.isfinite(a).all() for a in arrays) or (self.std <= 0).any():
            raise WeightsError("pain evidence weights: non-finite values or a scale <= 0")

    @property
    def name(self) -> str:
        return str(self.info.get("name", "pain-evidence"))

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> PainEvidence:
        """The shipped weights (``features/data/pain_evidence.json``) or a JSON file of the
        same form. JSON only: nothing is unpickled."""
        if path is None:
            text = (resources.files("painvision.features") / "data"
                    / "pain_evidence.json").read_text(encoding="utf-8")
            where = "the shipped pain evidence"
        else:
            p = Path(path)
            if p.is_dir():
                raise WeightsError(f"pain evidence weights {p}: it is a folder; give the "
                                   "JSON file")
            if not p.is_file():
                raise WeightsError(f"pain evidence weights not found: {p}")
            where = str(p)
            try:
                text = p.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as e:
                raise WeightsError(f"{where}: cannot read pain evidence weights ({e})") from None
        try:
            d = json.loads(text)
            if tuple(d["channels"]) != CHANNELS:
                raise WeightsError(f"{where}: made for inputs {d['channels']}, this version "
                                   f"reads {list(CHANNELS)}")
            return cls(np.asarray(d["mean"], float), np.asarray(d["std"], float),
                       np.asarray(d["w1"], float), np.asarray(d["b1"], float),
                       np.asarray(d["w2"], float), float(d["b2"]), dict(d.get("info", {})))
        except (KeyError, TypeError, ValueError) as e:
            raise WeightsError(f"{where}: not pain evidence weights ({e})") from None

    def to_dict(self) -> dict[str, object]:
        return {"channels": list(CHANNELS), "features": N_EVIDENCE_FEATURES,
                "mean": self.mean.tolist(), "std": self.std.tolist(), "w1": self.w1.tolist(),
                "b1": self.b1.tolist(), "w2": self.w2.tolist(), "b2": self.b2,
                "info": self.info}

    def prob(self, features: np.ndarray) -> np.ndarray:
        """``(T, F)`` features -> ``(T,) float32`` pain probability, NaN where a row is NaN."""
        f = np.atleast_2d(np.asarray(features, dtype=np.float64))
        ok = np.isfinite(f).all(axis=1)
        out = np.full(f.shape[0], np.nan)
        if ok.any():
            z = (f[ok] - self.mean) / self.std
            h = np.tanh(z @ self.w1 + self.b1)
            out[ok] = 1.0 / (1.0 + np.exp(-(h @ self.w2 + self.b2)))
        return out.astype(np.float32)

    def score(self, signals: np.ndarray, t: np.ndarray, valid: np.ndarray, baseline: Baseline,
              analytic: AnalyticScorer) -> np.ndarray:
        """``(T,) float32`` pain_prob of a sequence, NaN where the frame is not valid."""
        if len(signals) != len(t):
            raise InputError(f"signals ({len(signals)}) and t ({len(t)}) differ in length")
        return self.prob_from_raw(*analytic.raw(signals, valid, baseline), t)

    def prob_from_raw(self, raw: np.ndarray, ap: np.ndarray, t: np.ndarray) -> np.ndarray:
        """``score`` from ``AnalyticScorer.raw``'s output."""
        return self.prob(evidence_features(evidence_channels(raw, ap), np.asarray(t, float)))

    @classmethod
    def average(cls, members: list[PainEvidence], info: dict | None = None) -> PainEvidence:
        """One network whose output is the mean of the members' logits, exactly: each
        member's standardisation is folded into its first layer (rescaled to a shared
        one), their hidden units are put side by side and the output layer averages
        them. Networks trained from different seeds disagree most where the data say
        least; their average does not hang on one seed's luck there."""
        if not members:
            raise InputError("average() needs at least one network")
        mean = np.mean([m.mean for m in members], axis=0)
        std = np.mean([m.std for m in members], axis=0)
        k = len(members)
        w1, b1, w2 = [], [], []
        for m in members:
            w1.append((std / m.std)[:, None] * m.w1)
            b1.append(m.b1 + ((mean - m.mean) / m.std) @ m.w1)
            w2.append(m.w2 / k)
        return cls(mean, std, np.concatenate(w1, axis=1), np.concatenate(b1),
                   np.concatenate(w2), float(np.mean([m.b2 for m in members])),
                   dict(info if info is not None else members[0].info))


class EvidenceStream:
    """``PainEvidence`` one frame at a time, for a live camera: the same features as
    ``evidence_features`` (the same recursion), so the same ``pain_prob`` as offline."""

    def __init__(self, evidence: PainEvidence, analytic: AnalyticScorer) -> None:
        self.evidence = evidence
        self.analytic = analytic
        self._avg = _Averages()

    def reset(self) -> None:
        """Forget the past (a new subject, a long gap)."""
        self._avg.reset()

    def update(self, t: float, signals: np.ndarray, valid: bool, baseline: Baseline
               ) -> float | None:
        """pain_prob of the frame at ``t``, None when it is not valid."""
        raw, ap = self.analytic.raw(np.asarray(signals)[None, :], np.array([valid]), baseline)
        return self.update_raw(t, raw[0], float(ap[0]))

    def update_raw(self, t: float, raw: np.ndarray, ap: float) -> float | None:
        """``update`` from the frame's row of ``AnalyticScorer.raw`` (NaN when the frame is
        not valid) and its aperture ratio."""
        f = self._avg.update(t, evidence_channels(raw[None, :], np.array([ap]))[0])
        return None if f is None else float(self.evidence.prob(f[None])[0])
