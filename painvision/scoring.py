"""One interface for every scorer: ``create_scorer(name)`` for ``analyze``, ``bench`` and the
live monitor alike.

| scorer | PSPI and its AUs | ``pain_prob`` | needs PyTorch |
|---|---|---|---|
| ``combined`` (default) | analytic (geometric) | pain evidence (``features.evidence``) | no |
| ``analytic`` | analytic | none | no |
| ``model`` | the learned temporal model | the model's | no (ONNX Runtime); CUDA does |

``combined`` keeps PSPI exactly as the analytic scorer reads it (so it is never worse than
it) and adds ``pain_prob``, which tells pain from its look-alikes; an alarm needs both
(``live.alerts``). The movements outside PSPI (brow raise, lip-corner pull, lips apart,
jaw drop, ...) come with the two geometric scorers, so every reading can show why.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from painvision.errors import InputError
from painvision.features.analytic import EXPRESSION_AUS, AnalyticScorer, AnalyticStream
from painvision.features.evidence import EvidenceStream, PainEvidence
from painvision.features.inputs import FrameInputs, Neutral
from painvision.types import AUScores, AUSeries

__all__ = ["DEFAULT_SCORER", "EXPRESSION_OUTPUTS", "SCORERS", "ScoreStream", "Scorer", "Scores",
           "create_scorer"]

#: Scorer names; the first is the default.
SCORERS: tuple[str, ...] = ("combined", "analytic", "model")
DEFAULT_SCORER = SCORERS[0]
#: What the expression measures are called in outputs (``au1_2`` ... ``au26``, ``au45``).
EXPRESSION_OUTPUTS: tuple[str, ...] = (*EXPRESSION_AUS, "au45")


@dataclass(frozen=True)
class Scores:
    """A sequence's scores: the PSPI AUs, ``pain_prob`` ``(T,)`` (None without one) and the
    expression measures (name -> ``(T,)``; empty for the model)."""

    aus: AUSeries
    pain_prob: np.ndarray | None
    expressions: dict[str, np.ndarray] = field(default_factory=dict)


class ScoreStream(Protocol):
    """A scorer one frame at a time (causal)."""

    expressions: dict[str, float] | None

    def reset(self) -> None: ...

    def update(self, t: float, aligned: np.ndarray, signals: np.ndarray, ypr: np.ndarray,
               valid: bool, neutral: Neutral) -> tuple[AUScores | None, float | None]: ...


class Scorer(Protocol):
    """What ``create_scorer`` returns."""

    name: str
    #: whether ``score`` reads the model's mesh points (``FrameInputs.features``)
    needs_points: bool
    device: str

    def score(self, inputs: FrameInputs) -> Scores: ...

    def stream(self) -> ScoreStream: ...

    def describe(self) -> dict[str, object]: ...


class _GeometricStream:
    def __init__(self, analytic: AnalyticScorer, evidence: PainEvidence | None) -> None:
        self._analytic = analytic
        self._au = AnalyticStream(analytic)
        self._ev = EvidenceStream(evidence, analytic) if evidence is not None else None
        self.expressions: dict[str, float] | None = None

    def reset(self) -> None:
        self._au.reset()
        if self._ev is not None:
            self._ev.reset()

    def update(self, t: float, aligned: np.ndarray, signals: np.ndarray, ypr: np.ndarray,
               valid: bool, neutral: Neutral) -> tuple[AUScores | None, float | None]:
        # the frame's AU readings once, for the AUs and the evidence alike
        raw, ap = self._analytic.raw(np.asarray(signals)[None, :], np.array([valid]),
                                     neutral.baseline)
        aus = self._au.update_raw(t, raw[0], float(ap[0]))
        prob = (self._ev.update_raw(t, raw[0], float(ap[0]))
                if self._ev is not None else None)
        self.expressions = self._au.expressions if aus is not None else None
        return aus, (prob if aus is not None else None)


class GeometricScorer:
    """The analytic scorer, with the pain evidence when given one (``combined``)."""

    needs_points = False
    device = "cpu"

    def __init__(self, evidence: PainEvidence | None = None,
                 analytic: AnalyticScorer | None = None) -> None:
        self.analytic = analytic or AnalyticScorer()
        self.evidence = evidence
        self.name = (self.analytic.name if evidence is None
                     else f"{self.analytic.name}+{evidence.name}")

    def score(self, inputs: FrameInputs) -> Scores:
        a = self.analytic
        raw, ap = a.raw(inputs.signals, inputs.valid, inputs.neutral.baseline)  # once
        prob = (self.evidence.prob_from_raw(raw, ap, inputs.t)
                if self.evidence is not None else None)
        return Scores(a.series_from_raw(raw, ap, inputs.t), prob,
                      a.expressions_from_raw(raw, ap, inputs.t))

    def stream(self) -> ScoreStream:
        return _GeometricStream(self.analytic, self.evidence)

    def describe(self) -> dict[str, object]:
        d: dict[str, object] = {"analytic": self.analytic.calibration.to_dict()}
        if self.evidence is not None:
            info = self.evidence.info
            d["pain_evidence"] = {"name": self.evidence.name,
                                  "trained_by": info.get("trained_by"),
                                  "datasets": info.get("datasets")}
        return d


class LearnedScorer:
    """The learned temporal model: PyTorch where installed, else its ONNX export on ONNX
    Runtime (``classifier.scorer``); loaded here and only here."""

    needs_points = True

    def __init__(self, weights: str | os.PathLike[str] | None, device: str) -> None:
        from painvision.classifier.scorer import ModelScorer

        self.model = ModelScorer(weights, device)
        self.name = self.model.name
        self.device = str(self.model.device)

    def score(self, inputs: FrameInputs) -> Scores:
        aus, prob = self.model.score(inputs)
        return Scores(aus, prob)

    def stream(self) -> ScoreStream:
        from painvision.classifier.scorer import ModelStream

        return ModelStream(self.model)

    def describe(self) -> dict[str, object]:
        return {"weights": str(self.model.weights), "model": self.model.config.get("model")}


def create_scorer(name: str = DEFAULT_SCORER, *, weights: str | os.PathLike[str] | None = None,
                  device: str = "auto") -> Scorer:
    """A scorer by name (``SCORERS``).

    Args:
        name: ``combined`` (default), ``analytic`` or ``model``.
        weights: for ``combined``, a pain-evidence JSON file (default: the shipped one);
            for ``model``, a weights file (default: the shipped model).
        device: for ``model``: ``auto | cpu | cuda`` (the others run on the CPU).

    Raises:
        InputError: an unknown name. WeightsError: weights missing or unusable.
    """
    if name not in SCORERS:
        raise InputError(f"unknown scorer {name!r}: expected one of {', '.join(SCORERS)}")
    if name == "model":
        return LearnedScorer(weights, device)
    if name == "analytic":
        if weights is not None:
            raise InputError("the analytic scorer takes no weights")
        return GeometricScorer(None)
    return GeometricScorer(PainEvidence.load(weights))
