"""Training the pain evidence (``features.evidence``) on labelled clips.

The network is small and its inputs are the per-person AU measures, so what it learns is
which combinations and rhythms of facial movement are pain and which are its look-alikes.
To keep it from learning the generator instead of the face, every clip is seen several
times with its channels rescaled (one gain per channel and clip, log-normal: a front end
that follows some parts of a face more than others, a more or less expressive person),
mixed a little (cross-talk: a front end that moves one region with another, as MediaPipe
moves the brows when the jaw drops), with brows that hardly move in a quarter of the
copies (glasses rims), and shifted (a neutral estimated a little off), before the causal
averages are taken.

Frames are weighted: pain frames by how much the face shows (a stoic's unchanging face
cannot be learned from, and is not asked of it), frames of the look-alikes of pain four times
(they are where a bedside alarm goes wrong), the classes balanced.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import asdict, dataclass

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from torch import nn

from painvision.classifier.train import Clip
from painvision.datasets import ACTIVITIES, LOOK_ALIKES
from painvision.features.analytic import AnalyticScorer
from painvision.features.evidence import (
    CHANNELS,
    N_EVIDENCE_FEATURES,
    PainEvidence,
    evidence_channels,
    evidence_features,
)

logger = logging.getLogger(__name__)

__all__ = ["EvidenceConfig", "clip_channels", "evidence_set", "fit_evidence"]

_LOOK_ALIKE_CODES = [ACTIVITIES.index(a) for a in LOOK_ALIKES]


@dataclass(frozen=True)
class EvidenceConfig:
    """Training settings (recorded with the weights)."""

    hidden: int = 24
    copies: int = 3
    gain_spread: float = 0.35
    crosstalk_sd: float = 0.1
    structured_share: float = 0.5
    structured_max: float = 0.6
    frozen_brow_share: float = 0.25
    offset_sd: float = 0.25
    look_alike_weight: float = 4.0
    closing_share: float = 0.5
    members: int = 5
    epochs: int = 30
    batch: int = 4096
    lr: float = 3e-3
    weight_decay: float = 1e-3
    patience: int = 5
    seed: int = 0


@dataclass
class ClipChannels:
    """One clip's per-frame evidence inputs and labels (``weight``: of all its frames)."""

    subject: str
    t: np.ndarray
    channels: np.ndarray
    pain: np.ndarray
    pspi: np.ndarray
    activity: np.ndarray
    weight: float = 1.0


def clip_channels(clip: Clip, analytic: AnalyticScorer) -> ClipChannels:
    """The evidence inputs of a prepared clip (its own automatic neutral, as ``analyze``)."""
    n = min(len(clip.track), clip.labels["pain"].size)
    raw, ap = analytic.raw(clip.inputs.signals, clip.inputs.valid, clip.inputs.neutral.baseline)
    act = clip.labels.get("activity", np.zeros(n))
    return ClipChannels(clip.subject, clip.track.t[:n], evidence_channels(raw, ap)[:n],
                        clip.labels["pain"][:n], clip.labels["pspi"][:n], act[:n])


_BROWS = [CHANNELS.index("au4"), CHANNELS.index("au1_2")]
#: Structured cross-talk: movements that make a face-mesh front end misread other regions
#: (the eyes squeezing shut, a wide mouth, a broad smile, with the head tilting back) ...
_SOURCES = [CHANNELS.index(c) for c in ("au12", "au25", "au26", "closure")]
#: ... as brow lowering, orbit tightening and nose wrinkling (seen through MediaPipe on
#: rendered laughs and yawns behind glasses: AU4 2-3.6, AU10 2-5.8).
_TARGETS = [CHANNELS.index(c) for c in ("au4", "au6", "au7", "au9", "au10")]


def _augment(x: np.ndarray, rng: np.random.Generator, cfg: EvidenceConfig) -> np.ndarray:
    """One rescaled copy of a clip's channels: per-channel gains, a little cross-talk
    between channels (a front end that moves one region with another), in a share of
    clips brows that hardly move (glasses rims, a cap), and a neutral a little off."""
    c = x.shape[1]
    mix = np.diag(np.exp(rng.normal(0.0, cfg.gain_spread, c)))
    mix += rng.normal(0.0, cfg.crosstalk_sd, (c, c)) * (1 - np.eye(c))
    mix *= np.exp(rng.normal(0.0, 0.2))  # the whole face: a more or less expressive person
    if rng.random() < cfg.frozen_brow_share:
        mix[:, _BROWS] *= rng.uniform(0.0, 0.3)
    if rng.random() < cfg.structured_share:
        for src in _SOURCES:
            scale = 5.0 if CHANNELS[src] == "closure" else 1.0  # closure is 0-1
            mix[src, _TARGETS] += scale * rng.uniform(-0.1, cfg.structured_max, len(_TARGETS))
    offset = rng.normal(0.0, cfg.offset_sd, c)
    offset[-1] *= 0.2  # closure is a share of the eye, not FACS units
    mix[:-1, -1] = 0.0  # nothing leaks into the closure, which is measured on its own
    out = np.nan_to_num(x) @ mix + offset
    out[:, -1] = np.clip(out[:, -1], 0.0, 1.0)
    out[~np.isfinite(x).all(axis=1)] = np.nan
    return out


_ORBIT = [CHANNELS.index("au6"), CHANNELS.index("au7")]
_CLOSURE = CHANNELS.index("closure")


#: A doze keeps this far from pain frames, so the eyes' opening never marks where pain
#: starts or ends in a training copy (longer than the slow average's 2 s).
_DOZE_MARGIN_S = 3.0


def _doze(t: np.ndarray, pain: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """Eyes shutting for 2-10 s (0.5-s ramps), placed at random in the clip's longest
    stretch at least ``_DOZE_MARGIN_S`` from any pain frame; None if none is long enough."""
    if t.size == 0:
        return None
    painful = t[pain > 0.5]
    lo, hi = t[0], t[-1]
    free = []  # pain-free stretches, shrunk by the margin
    edges = [lo - _DOZE_MARGIN_S, *painful, hi + _DOZE_MARGIN_S]
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        a, b = max(a + _DOZE_MARGIN_S, lo), min(b - _DOZE_MARGIN_S, hi)
        if b - a >= 2.0:
            free.append((a, b))
    if not free:
        return None
    a, b = max(free, key=lambda ab: ab[1] - ab[0])
    length = rng.uniform(2.0, min(10.0, b - a))
    start = rng.uniform(a, b - length)
    return np.clip(np.minimum(t - start, start + length - t) / 0.5, 0.0, 1.0)


def _eyes_closing(clips: list[ClipChannels], share: float,
                  rng: np.random.Generator) -> list[ClipChannels]:
    """Each clip twice: as it is, and with its eyes closing as its orbits tighten
    (closure raised toward shut as max(AU6, AU7) reaches 2, by a random 0.6-1 of it),
    weighing ``1 - share`` and ``share`` of the clip. Pain faces shut their eyes (AU43 is
    in PSPI; eye closure is among the commonest signs of severe pain), and so do laughs,
    squints and cries; the generator shuts them mostly in laughter and yawns, which taught
    the evidence to read closed eyes as "not pain". Both pain and look-alikes get the
    closing copy, so closed eyes stop telling either way and the other cues decide. The
    copy also dozes off once (``_doze``: eyes shut for 2-10 s, at least 3 s from any pain;
    the other channels as they are, often a face at rest), so that eyes shut on a resting
    face, what a bedside camera sees most, read as rest."""
    out = []
    for c in clips:
        ch = c.channels.copy()
        orbit = np.nan_to_num(ch[:, _ORBIT]).max(axis=1, initial=0.0)  # rows are NaN whole
        level = np.clip(orbit / 2.0, 0.0, 1.0) * rng.uniform(0.6, 1.0)
        doze = _doze(c.t, c.pain, rng)  # and once, dozing off, well away from any pain
        if doze is not None:
            level = np.maximum(level, doze)
        ok = np.isfinite(ch).all(axis=1)
        ch[ok, _CLOSURE] = np.maximum(ch[ok, _CLOSURE], level[ok])
        out.append(dataclasses.replace(c, weight=c.weight * (1.0 - share)))
        out.append(dataclasses.replace(c, channels=ch, weight=c.weight * share))
    return out


def evidence_set(clips: list[ClipChannels], cfg: EvidenceConfig, copies: int,
                 rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """``(X (N, F), y (N,), w (N,), activity (N,))`` over the clips' valid frames; the first
    copy of each clip is unaugmented. For training (``copies`` > 1) each clip also comes
    with its eyes closing (``_eyes_closing``)."""
    if copies > 1 and cfg.closing_share > 0:
        clips = _eyes_closing(clips, cfg.closing_share, rng)
    xs, ys, ws, acts = [], [], [], []
    for c in clips:
        for k in range(copies):
            x = c.channels if k == 0 else _augment(c.channels, rng, cfg)
            f = evidence_features(x, c.t)
            ok = np.isfinite(f).all(axis=1)
            pain = c.pain[ok] > 0.5
            w = np.where(pain, 0.1 + np.clip(c.pspi[ok] / 2.0, 0.0, 0.9), 1.0)
            w = np.where(np.isin(c.activity[ok], _LOOK_ALIKE_CODES) & ~pain,
                         cfg.look_alike_weight, w) * c.weight
            xs.append(f[ok])
            ys.append(pain.astype(np.float32))
            ws.append(w.astype(np.float32))
            acts.append(c.activity[ok])
    return (np.concatenate(xs), np.concatenate(ys), np.concatenate(ws), np.concatenate(acts))


class _Net(nn.Module):
    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.l1 = nn.Linear(N_EVIDENCE_FEATURES, hidden)
        self.l2 = nn.Linear(hidden, 1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.l2(torch.tanh(self.l1(z)))[:, 0]


def _loss(net: _Net, z: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    return (nn.functional.binary_cross_entropy_with_logits(net(z), y, reduction="none")
            * w).sum() / w.sum()


def fit_evidence(train: list[ClipChannels], val: list[ClipChannels],
                 cfg: EvidenceConfig | None = None, info: dict | None = None
                 ) -> tuple[PainEvidence, dict[str, object]]:
    """Train ``cfg.members`` networks (seeds ``cfg.seed``, ``cfg.seed + 1``, ...) on
    ``train`` (augmented), each stopped early on ``val`` (whole subjects, unaugmented), and
    average them (``PainEvidence.average``): single networks from different seeds read
    the same held face quite differently where the data are thin (a grimace with the
    eyes shut: 0.16-0.28 across seeds before ``_eyes_closing``; a pain smile 0.32-0.77).

    Returns the evidence and a report (validation ROC-AUC of the average, share of
    non-pain frames below 0.5 by activity, each member's epochs and best loss)."""
    cfg = cfg or EvidenceConfig()
    if cfg.members < 1:
        raise ValueError("members must be at least 1")
    # unaugmented (one copy draws nothing from the generator): the same for every member
    val_set = evidence_set(val, cfg, 1, np.random.default_rng(cfg.seed))
    members, runs = [], []
    for i in range(cfg.members):
        net, history = _fit_one(train, val_set, dataclasses.replace(cfg, seed=cfg.seed + i))
        members.append(net)
        runs.append({"seed": cfg.seed + i, "epochs": len(history),
                     "best_val_loss": float(min(history))})
    evidence = PainEvidence.average(
        members, {**(info or {}), "config": asdict(cfg), "channels": list(CHANNELS)})
    xv, yv, _, av = val_set
    p = evidence.prob(xv)
    report: dict[str, object] = {
        "members": runs,
        "val_roc_auc": float(roc_auc_score(yv, p)) if 0 < yv.mean() < 1 else None,
        "val_pain_recall_at_0.5": float((p[yv > 0.5] >= 0.5).mean()) if (yv > 0.5).any()
        else None,
        "val_non_pain_below_0.5": {
            ACTIVITIES[int(a)]: float((p[(yv < 0.5) & (av == a)] < 0.5).mean())
            for a in np.unique(av[yv < 0.5])},
    }
    return evidence, report


def _fit_one(train: list[ClipChannels], val_set: tuple[np.ndarray, ...], cfg: EvidenceConfig
             ) -> tuple[PainEvidence, list[float]]:
    """One network from ``cfg.seed``, stopped early on ``val_set`` (``evidence_set``'s
    unaugmented output); returns it and its validation losses by epoch."""
    rng = np.random.default_rng(cfg.seed)
    torch.manual_seed(cfg.seed)
    x, y, w, _ = evidence_set(train, cfg, cfg.copies, rng)
    xv, yv, wv, _ = val_set
    pos = float((w * y).sum())
    neg = float((w * (1 - y)).sum())
    w = np.where(y > 0.5, w * neg / max(pos, 1e-9), w)  # balance the classes
    wv = np.where(yv > 0.5, wv * neg / max(pos, 1e-9), wv)
    mean = x.mean(axis=0)
    std = x.std(axis=0) + 1e-3
    z = torch.from_numpy(((x - mean) / std).astype(np.float32))
    zv = torch.from_numpy(((xv - mean) / std).astype(np.float32))
    tt = {k: torch.from_numpy(v.astype(np.float32)) for k, v in
          (("y", y), ("w", w), ("yv", yv), ("wv", wv))}
    net = _Net(cfg.hidden)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    best, best_state, bad, history = np.inf, None, 0, []
    for epoch in range(cfg.epochs):
        net.train()
        order = torch.from_numpy(rng.permutation(len(z)))
        for i in range(0, len(z), cfg.batch):
            idx = order[i:i + cfg.batch]
            opt.zero_grad()
            loss = _loss(net, z[idx], tt["y"][idx], tt["w"][idx])
            loss.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            vl = float(_loss(net, zv, tt["yv"], tt["wv"]))
        history.append(vl)
        logger.info("evidence epoch %d: val loss %.4f", epoch + 1, vl)
        if vl < best - 1e-4:
            best, bad = vl, 0
            best_state = {k: v.clone() for k, v in net.state_dict().items()}
        else:
            bad += 1
            if bad >= cfg.patience:
                break
    assert best_state is not None
    net.load_state_dict(best_state)
    sd = {k: v.double().numpy() for k, v in net.state_dict().items()}
    return PainEvidence(mean, std, sd["l1.weight"].T.copy(), sd["l1.bias"],
                        sd["l2.weight"][0], float(sd["l2.bias"][0]), {}), history
