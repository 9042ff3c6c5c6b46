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

``train_evidence`` is the whole recipe over one or more labelled datasets (each weighing
the same, a share of each one's subjects held back to stop training): the shipped weights
come from it (``scripts/train_pain_evidence.py``), and ``painvision train --scorer
combined`` runs it on a user's own recordings, real faces above all.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
from sklearn.metrics import f1_score, roc_auc_score
from torch import nn

from painvision.classifier.train import Clip, Progress
from painvision.datasets import ACTIVITIES, LOOK_ALIKES
from painvision.errors import InputError
from painvision.features.analytic import AnalyticScorer
from painvision.features.evidence import (
    CHANNELS,
    N_EVIDENCE_FEATURES,
    PainEvidence,
    evidence_channels,
    evidence_features,
)

logger = logging.getLogger(__name__)

__all__ = ["EvidenceConfig", "check_folds", "clip_channels", "evidence_metrics", "evidence_set",
           "fit_evidence", "fold_plan", "preflight", "rest_readings", "split_subjects",
           "train_evidence"]

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
    act = np.asarray(clip.labels.get("activity", np.zeros(n)), float)
    act = np.where(np.isfinite(act), np.rint(act), 0.0)  # codes are whole; none where blank
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
    rest = rest_readings(clips)  # a subject's clips are all in one set: split by subject
    for c in clips:
        shown = _shown_pspi(c, rest[c.subject])
        for k in range(copies):
            x = c.channels if k == 0 else _augment(c.channels, rng, cfg)
            f = evidence_features(x, c.t)
            ok = np.isfinite(f).all(axis=1)
            pain = c.pain[ok] > 0.5
            # a pain frame weighs by how much the face shows
            w = np.where(pain, 0.1 + np.clip(shown[ok] / 2.0, 0.0, 0.9), 1.0)
            w = np.where(np.isin(c.activity[ok], _LOOK_ALIKE_CODES) & ~pain,
                         cfg.look_alike_weight, w) * c.weight
            xs.append(f[ok])
            ys.append(pain.astype(np.float32))
            ws.append(w.astype(np.float32))
            acts.append(c.activity[ok])
    return (np.concatenate(xs), np.concatenate(ys), np.concatenate(ws), np.concatenate(acts))


_PSPI_PARTS = [[CHANNELS.index(a) for a in part]
               for part in (("au4",), ("au6", "au7"), ("au9", "au10"))]


def _read_pspi(c: ClipChannels) -> np.ndarray:
    """PSPI read from each frame's unsmoothed AU measures (AU43 left out); NaN without a
    face."""
    x = np.clip(c.channels, 0.0, 5.0)
    return sum(x[:, part].max(axis=1) for part in _PSPI_PARTS)


def rest_readings(clips: Sequence[ClipChannels]) -> dict[str, float]:
    """Per subject, the median of ``_read_pspi`` over their frames outside pain: what the
    measures read on that person's face at rest (MediaPipe's jitter, a face that looks
    frowny at rest). 0 for a subject without such frames."""
    reads: dict[str, list[np.ndarray]] = {}
    for c in clips:
        r = _read_pspi(c)
        reads.setdefault(c.subject, []).append(r[(c.pain <= 0.5) & np.isfinite(r)])
    return {s: float(np.median(np.concatenate(v))) if sum(x.size for x in v) else 0.0
            for s, v in reads.items()}


def _shown_pspi(c: ClipChannels, rest: float = 0.0) -> np.ndarray:
    """How much pain each frame's face shows: its labelled PSPI, or where the dataset codes
    none (BioVid labels a sample's heat level), the PSPI read on it above what the same
    person's face reads at rest (``rest_readings``), so that a face at rest inside a pain
    sample weighs about as little as a coded PSPI of 0 does."""
    read = np.maximum(np.nan_to_num(_read_pspi(c) - rest), 0.0)
    pspi = np.asarray(c.pspi)
    return np.where(np.isfinite(pspi), pspi, read).astype(pspi.dtype, copy=False)


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
                 cfg: EvidenceConfig | None = None, info: dict | None = None,
                 on_progress: Progress | None = None, label: str = "pain evidence"
                 ) -> tuple[PainEvidence, dict[str, object]]:
    """Train ``cfg.members`` networks (seeds ``cfg.seed``, ``cfg.seed + 1``, ...) on
    ``train`` (augmented), each stopped early on ``val`` (whole subjects, unaugmented), and
    average them (``PainEvidence.average``): single networks from different seeds read
    the same held face quite differently where the data are thin (a grimace with the
    eyes shut: 0.16-0.28 across seeds before ``_eyes_closing``; a pain smile 0.32-0.77).

    Returns the evidence and a report (validation ROC-AUC of the average, share of
    non-pain frames below 0.5 by activity, each member's epochs and best loss).
    ``on_progress(label, done, total)`` follows the epochs of all members."""
    cfg = cfg or EvidenceConfig()
    if cfg.members < 1:
        raise ValueError("members must be at least 1")
    # unaugmented (one copy draws nothing from the generator): the same for every member
    val_set = evidence_set(val, cfg, 1, np.random.default_rng(cfg.seed))
    members, runs = [], []
    total = cfg.members * cfg.epochs
    for i in range(cfg.members):
        def epoch_done(epoch: int, i: int = i) -> None:
            if on_progress is not None:
                on_progress(label, i * cfg.epochs + epoch, total)

        net, history = _fit_one(train, val_set, dataclasses.replace(cfg, seed=cfg.seed + i),
                                epoch_done)
        epoch_done(cfg.epochs)  # stopped early: the member is done all the same
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
            _activity_name(int(a)): float((p[(yv < 0.5) & (av == a)] < 0.5).mean())
            for a in np.unique(av[yv < 0.5])},
    }
    return evidence, report


def _fit_one(train: list[ClipChannels], val_set: tuple[np.ndarray, ...], cfg: EvidenceConfig,
             on_epoch: Callable[[int], None] | None = None
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
        if on_epoch is not None:
            on_epoch(epoch + 1)
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


def split_subjects(datasets: Sequence[Sequence[ClipChannels]], share: float,
                   rng: np.random.Generator) -> tuple[list[ClipChannels], list[ClipChannels]]:
    """``(train, val)``: from each dataset in turn, ``round(share * subjects)`` of its
    subjects (at least one) held back whole for validation; a dataset of fewer than 3
    subjects gives them all to training."""
    train: list[ClipChannels] = []
    val: list[ClipChannels] = []
    for clips in datasets:
        subjects = sorted({c.subject for c in clips})
        held: set[str] = set()
        if len(subjects) >= 3 and share > 0:
            held = set(rng.choice(subjects, size=max(1, round(share * len(subjects))),
                                  replace=False).tolist())
        train += [c for c in clips if c.subject not in held]
        val += [c for c in clips if c.subject in held]
    return train, val


def evidence_metrics(evidence: PainEvidence, clips: Sequence[ClipChannels],
                     threshold: float = 0.5) -> dict[str, object]:
    """Frame-level: pain ROC-AUC and F1 of ``pain_prob`` at ``threshold``, and the share of
    non-pain frames below it, over all and by what the face does (the ``activity`` label,
    where the dataset has one; ``none`` otherwise)."""
    return _frame_metrics([evidence.prob(evidence_features(c.channels, c.t)) for c in clips],
                          clips, threshold)


def _frame_metrics(probs: Sequence[np.ndarray], clips: Sequence[ClipChannels],
                   threshold: float = 0.5) -> dict[str, object]:
    """``evidence_metrics`` from each clip's ``pain_prob``, already computed."""
    ps, ys, acts = [], [], []
    for prob, c in zip(probs, clips, strict=True):
        p = np.asarray(prob, dtype=np.float64)
        ok = np.isfinite(p)
        ps.append(p[ok])
        ys.append(c.pain[ok] > 0.5)
        acts.append(np.asarray(c.activity)[ok].astype(int))
    p = np.concatenate(ps) if ps else np.zeros(0)
    y = np.concatenate(ys) if ys else np.zeros(0, bool)
    act = np.concatenate(acts) if acts else np.zeros(0, int)
    both = bool(y.any() and (~y).any())
    return {
        "frames": int(p.size), "pain_frames": int(y.sum()),
        "roc_auc": float(roc_auc_score(y, p)) if both else None,
        "f1": float(f1_score(y, p >= threshold)) if both else None,
        "non_pain_below": float((p[~y] < threshold).mean()) if (~y).any() else None,
        "non_pain_below_by_activity": {
            _activity_name(a): float((p[~y & (act == a)] < threshold).mean())
            for a in np.unique(act[~y]).tolist()},
    }


def _activity_name(code: int) -> str:
    """An ``activity`` code's name; a code the dataset made up, as a number."""
    return ACTIVITIES[code] if 0 <= code < len(ACTIVITIES) else str(code)


def fold_plan(subjects: Sequence[str], folds: int, seed: int) -> list[set[str]]:
    """The test subjects of each of ``folds`` subject-grouped folds (its own random
    stream: asking for folds does not change the final evidence's split)."""
    order = np.random.default_rng([seed, 1]).permutation(sorted(set(subjects)))
    return [set(order[k::folds].tolist()) for k in range(folds)]


def check_folds(datasets: Sequence[Sequence[str]], folds: int, seed: int) -> None:
    """Every fold must leave one dataset 3 subjects or more (training and early stopping).

    Raises:
        InputError: it does not; the message gives the largest ``folds`` that would.
    """
    if folds == 0:
        return
    if folds == 1 or folds < 0:
        raise InputError("folds must be 0 (no cross-validation) or at least 2")
    every = sorted({s for part in datasets for s in part})

    def works(n: int) -> bool:
        return all(any(len(set(part) - test) >= 3 for part in datasets)
                   for test in fold_plan(every, n, seed))

    if folds <= len(every) and works(folds):
        return
    # fewer folds test more subjects at once, more folds fewer: the nearest that works
    fits = sorted((n for n in range(2, len(every) + 1) if works(n)),
                  key=lambda n: (abs(n - folds), n))
    advice = f"--folds {fits[0]} works" if fits else "give more subjects, or no folds"
    if folds > len(every):
        raise InputError(f"{folds} folds need at least {folds} training subjects, the data "
                         f"have {len(every)}; {advice}")
    raise InputError(f"with {folds} folds a fold keeps too few subjects: each must keep 3 "
                     f"of one dataset to train on and to stop training; {advice}")


def preflight(datasets: Sequence[Sequence[tuple[str, str, np.ndarray]]], folds: int = 0,
              seed: int = 0) -> None:
    """What can be said of labelled data before any face is read (MediaPipe on a large
    archive takes hours): per dataset, ``(subject, split, pain labels)`` of each clip.

    Raises:
        InputError: nothing to train on, no pain frame or no other, no dataset of 3
            subjects, folds that cannot work, or a fold or the final fit whose training
            subjects hold one kind of frame only.
    """
    train = [[_Labelled(s, np.asarray(p) > 0.5) for s, split, p in part if split != "heldout"]
             for part in datasets]
    pain = sum(int(c.pain.sum()) for part in train for c in part)
    frames = sum(c.pain.size for part in train for c in part)
    _check_whole(train, pain, frames - pain, folds, seed)
    # the splits depend on the subjects and the seed alone: each training part must hold
    # pain and other frames by its labels (by its faces, too, once they are read)
    for where, _, tr, _ in _splits(train, folds, seed, _VAL_SHARE):
        have = {bool(x) for c in tr for x in np.unique(c.pain)}
        if have != {False, True}:
            raise InputError(_PART_ONE_CLASS.format(where=where, what="no pain frame" if True
                                                    not in have else "only pain frames",
                                                    fix=_more(folds)))


@dataclass(frozen=True)
class _Labelled:
    """A clip as ``preflight`` sees it: whose, and its pain labels."""

    subject: str
    pain: np.ndarray


def _check_whole(train: Sequence[Sequence], pain: int, other: int, folds: int, seed: int,
                 what: str = "") -> None:
    """The checks on all the training clips together (anything with a ``subject``), with
    their ``pain`` and ``other`` frames counted (``what``: which frames were counted)."""
    if not any(train):
        raise InputError("no training clips (all are in the heldout split)")
    if pain == 0 or other == 0:
        raise InputError(_ONE_CLASS.format(("no pain frame" if pain == 0 else
                                            "only pain frames") + what))
    subjects = [sorted({c.subject for c in part}) for part in train]
    if max(len(part) for part in subjects) < 3:
        raise InputError(_TOO_FEW)
    check_folds(subjects, folds, seed)


def _splits(datasets: Sequence[Sequence], folds: int, seed: int, share: float
            ) -> Iterator[tuple[str, set[str] | None, list, list]]:
    """``(name, test subjects, training clips, held-back clips)`` of each fold, then of the
    final fit (test subjects None), for ``train_evidence`` and ``preflight`` alike: the
    folds from ``fold_plan`` and their own random stream, the final split from ``seed``
    alone (anything with a ``subject``)."""
    if folds >= 2:
        every = [c.subject for part in datasets for c in part]
        rng = np.random.default_rng([seed, 2])  # the folds' own validation draws
        for k, test in enumerate(fold_plan(every, folds, seed)):
            tr, va = split_subjects([[c for c in part if c.subject not in test]
                                     for part in datasets], share, rng)
            yield f"fold {k + 1}", test, tr, va
    tr, va = split_subjects(datasets, share, np.random.default_rng(seed))
    yield "final", None, tr, va


def _more(folds: int) -> str:
    return "give more subjects" + (", or fewer folds" if folds else "")


_VAL_SHARE = 0.15
_PART_ONE_CLASS = ("{where}: the subjects it trains on have {what} (the others are held "
                   "back to stop training, or tested); {fix}")
_ONE_CLASS = ("the training clips have {}: the pain evidence learns pain against what else "
              "faces do, and needs both")
_TOO_FEW = ("too few subjects to hold any back to stop training: the pain evidence needs a "
            "dataset of at least 3 subjects")


def _usable(clips: Sequence[ClipChannels]) -> tuple[int, int]:
    """Frames with a face: ``(pain, other)``."""
    pain = other = 0
    for c in clips:
        ok = np.isfinite(c.channels).all(axis=1)
        p = c.pain[ok] > 0.5
        pain += int(p.sum())
        other += int((~p).sum())
    return pain, other


def _check_parts(train: Sequence[ClipChannels], val: Sequence[ClipChannels], where: str,
                 warnings: list[str]) -> None:
    """A training part needs faces in pain and others; the subjects that stop training
    need faces (one class alone stops it on that class: said, not refused)."""
    pain, other = _usable(train)
    if pain == 0 or other == 0:
        raise InputError(_PART_ONE_CLASS.format(
            where=where, what=("no pain frame" if pain == 0 else "only pain frames")
            + " with a face", fix=_more(where != "final")))
    held = sorted({c.subject for c in val})
    pain, other = _usable(val)
    if pain + other == 0:
        raise InputError(f"{where}: no face was found in any frame of the subjects held back "
                         f"to stop training ({', '.join(held)})")
    if pain == 0 or other == 0:
        warnings.append(f"{where}: the subjects held back to stop training "
                        f"({', '.join(held)}) have " + ("no pain frame" if pain == 0 else
                                                       "only pain frames")
                        + " with a face, so training stops on one kind of frame alone")


def train_evidence(datasets: Sequence[Sequence[Clip]], cfg: EvidenceConfig | None = None,
                   *, folds: int = 0, val_share: float = _VAL_SHARE, info: dict | None = None,
                   analytic: AnalyticScorer | None = None,
                   on_progress: Progress | None = None) -> tuple[PainEvidence, dict]:
    """The pain evidence trained on labelled datasets (``classifier.train.load_clips``'s
    clips, one list per dataset; the ``pain`` label, and ``activity`` where there is one).

    Each dataset weighs the same however long it is. Clips of a dataset's ``heldout``
    split are never trained on; the finished evidence is measured on them. With ``folds``
    >= 2, subject-grouped cross-validation first (``fold_plan``): each training subject is
    tested once, by an evidence trained without it (its own subjects held back for early
    stopping). Then the final evidence on every training subject, ``val_share`` of each
    dataset's subjects held back to stop training (``split_subjects``); the same whether
    or not there were folds. ``report["warnings"]``: what makes the result less to be
    trusted (said, not refused).

    Raises:
        InputError: no training clips, no pain frame or no other frame with a face to
            learn from, no subject to hold back, or folds that cannot work.
    """
    cfg = cfg or EvidenceConfig()
    analytic = analytic or AnalyticScorer()
    train_sets: list[list[ClipChannels]] = []
    heldout: list[ClipChannels] = []
    sizes = []
    for clips in datasets:
        chans = [clip_channels(c, analytic) for c in clips if c.split != "heldout"]
        heldout += [clip_channels(c, analytic) for c in clips if c.split == "heldout"]
        frames = sum(len(c.t) for c in chans)
        train_sets.append([dataclasses.replace(c, weight=1.0 / frames) for c in chans]
                          if frames else [])
        sizes.append({"clips": len(chans), "subjects": len({c.subject for c in chans}),
                      "frames": int(frames)})
    every = [c for part in train_sets for c in part]
    pain, other = _usable(every)
    _check_whole(train_sets, pain, other, folds, cfg.seed, " with a face")
    warnings: list[str] = []
    report: dict[str, object] = {"config": asdict(cfg), "datasets": sizes, "folds": [],
                                 "warnings": warnings}
    pooled_probs, pooled_clips = [], []
    for where, test, tr, va in _splits(train_sets, folds, cfg.seed, val_share):
        _check_parts(tr, va, where, warnings)
        if test is None:  # the final fit
            evidence, fit_report = fit_evidence(
                tr, va, cfg, info={"datasets": sizes, **(info or {})},
                on_progress=on_progress, label=where)
            report["final"] = {"train_subjects": sorted({c.subject for c in tr}),
                               "val_subjects": sorted({c.subject for c in va}),
                               "validation": evidence_metrics(evidence, va), **fit_report}
            continue
        ev, _ = fit_evidence(tr, va, cfg, on_progress=on_progress, label=where)
        test_clips = [c for c in every if c.subject in test]
        probs = [ev.prob(evidence_features(c.channels, c.t)) for c in test_clips]
        report["folds"].append({"fold": len(report["folds"]) + 1,
                                "test_subjects": sorted(test),
                                "metrics": _frame_metrics(probs, test_clips)})
        pooled_probs += probs
        pooled_clips += test_clips
    if report["folds"]:  # every subject read by the fold's evidence not trained on it
        report["folds_pooled"] = _frame_metrics(pooled_probs, pooled_clips)
    if heldout:
        report["heldout"] = evidence_metrics(evidence, heldout)
    for w in warnings:  # the caller says them (report["warnings"]): logged quietly here
        logger.info("%s", w)
    return evidence, report
