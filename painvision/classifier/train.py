"""Training and cross-validating the temporal model on a dataset in the generic format.

- Clips are prepared exactly as at analysis time (``features.inputs.prepare_inputs``);
  each clip's neutral is estimated once, on the clean clip.
- Augmentation, per training window, on the landmark sequence before the features are
  computed: a keypoint-consistent 3-D rotation (+-10 deg), scale (+-10 %) and shift of
  all points together, per-point jitter, random face dropouts (0.2-1 s), and random
  frame drops (so the model sees irregular frame intervals, as a live camera gives),
  and, on half the windows, an uneven front-end response: each point's movement from the
  neutral scaled by a smooth random gain map, sometimes with the brows all but frozen
  (``features.response``: glasses rims, faces the front end follows less well), so the
  model cannot lean on one region's size of response.
- Losses per frame where a face is scored: smooth L1 on the AU intensities and on
  PSPI (the formula over the AU heads), binary cross-entropy on AU43 and on
  ``pain`` (the frame lies in a pain episode). Pain frames are rare (about 8 % of a
  generated dataset), so the pain loss weighs them up (``pos_weight``, the non-pain to
  pain ratio, at most 10); that multiplies the learned odds of pain by ``pos_weight``,
  and the finished model's pain bias is lowered by ``log(pos_weight)`` to undo it
  (``_prior_correct``), so ``pain_prob`` is a probability at the training data's base
  rate again rather than one inflated tenfold.
- Subject-grouped: cross-validation folds and the early-stopping validation set are
  made of whole subjects; the dataset's ``heldout`` split is never trained on.
"""

from __future__ import annotations

import logging
import math
import multiprocessing as mp
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from painvision.classifier.model import HEADS, TemporalPainNet
from painvision.classifier.registry import create_model
from painvision.classifier.scorer import run_model
from painvision.datasets import item_labels, load_dataset, read_landmarks
from painvision.errors import InputError
from painvision.features.geometry import N_CORE_SIGNALS, au_signals
from painvision.features.inputs import MODEL_POINTS, FrameInputs, model_features, prepare_inputs
from painvision.features.response import region_gain, scale_movement
from painvision.landmarks.cache import cached_track, default_cache_dir
from painvision.landmarks.pose import align_to_template
from painvision.metrics import pain_metrics, pspi_metrics
from painvision.types import AU_NAMES, LandmarkTrack

logger = logging.getLogger(__name__)

__all__ = ["Clip", "Fold", "TrainConfig", "balance_datasets", "cross_validate", "dataset_name",
           "evaluate",
           "fit", "load_clips", "predict", "train_and_report"]

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class TrainConfig:
    """Training settings (all recorded in the report and the weights file).

    ``inputs``: ``"all"`` features, or ``"signals"``: only the AU signal drops, head pose,
    face presence and frame interval (the model does not see the 93 points' movements;
    their input weights are held at zero, so the weights file and inference are unchanged).

    ``response_share``: share of augmented windows given an uneven front-end response
    (``features.response.region_gain`` with ``response_spread`` and
    ``brow_occlusion_share``); 0 turns it off.
    """

    model: str = "tcn_small"
    epochs: int = 40
    steps_per_epoch: int = 50
    batch: int = 16
    window: int = 256
    lr: float = 2e-3
    weight_decay: float = 1e-4
    patience: int = 8
    val_share: float = 0.15
    folds: int = 0
    seed: int = 0
    augment: bool = True
    inputs: str = "all"
    response_share: float = 0.5
    response_spread: float = 0.5
    brow_occlusion_share: float = 0.25
    extra: dict = field(default_factory=dict)


@dataclass
class Clip:
    """A prepared clip: its landmark track, labels and clean inputs."""

    id: str
    subject: str
    split: str
    track: LandmarkTrack
    labels: dict[str, np.ndarray]
    inputs: FrameInputs
    weight: float = 1.0


def _targets(labels: dict[str, np.ndarray]) -> np.ndarray:
    """``(T, 8)``: au4, au6, au7, au9, au10, au43, pspi, pain."""
    cols = [labels[n] for n in AU_NAMES] + [labels["pspi"], labels["pain"]]
    return np.stack(cols, axis=1).astype(np.float32)


def _load_item(args: tuple) -> tuple:
    item, cache_dir = args
    if item.landmarks is not None:
        track = read_landmarks(item.landmarks)
    else:
        track, _ = cached_track(item.video, cache_dir, fps=item.fps)
    return item, track


def dataset_name(root: str | os.PathLike[str]) -> str:
    """What names a dataset's subjects apart from another's (``load_clips(...,
    prefix_subjects=True)``): its folder's name as given (a link gives it another), or
    for ``.`` and ``..``, the name of the folder they are."""
    name = Path(root).name
    return name if name not in ("", "..") else Path(root).resolve().name


def load_clips(root: str | os.PathLike[str], split: str | None = None,
               on_progress: Progress | None = None, workers: int = 1,
               prefix_subjects: bool = False, cache_dir: str | os.PathLike[str] | None = None
               ) -> list[Clip]:
    """Read and prepare a dataset's clips: landmark clips as stored, video clips through
    MediaPipe (cached in ``cache_dir``, default ``landmarks.cache.default_cache_dir()``,
    in ``workers`` processes).

    ``prefix_subjects`` names subjects ``<dataset_name>/<subject>``, for training on
    several datasets whose subject names could collide.
    """
    items = load_dataset(root, split)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    args = [(item, cache) for item in items]
    if workers > 1 and any(i.landmarks is None for i in items):
        with mp.get_context("spawn").Pool(workers) as pool:
            loaded = list(pool.imap(_load_item, args))
    else:
        loaded = [_load_item(a) for a in args]
    clips = []
    for k, (item, track) in enumerate(loaded):
        labels = item_labels(item)
        n = min(len(track), labels["frame"].size)
        if n != len(track) or n != labels["frame"].size:
            logger.warning("%s: %d frames, %d labels; using the first %d", item.id, len(track),
                           labels["frame"].size, n)
            track = _cut(track, n)
            labels = {key: v[:n] for key, v in labels.items()}
        subject = f"{dataset_name(root)}/{item.subject}" if prefix_subjects else item.subject
        clips.append(Clip(item.id, subject, item.split, track, labels, prepare_inputs(track)))
        if on_progress:
            on_progress("prepare", k + 1, len(items))
    if not clips:
        raise InputError(f"{root}: no clips" + (f" in split {split!r}" if split else ""))
    return clips


def balance_datasets(clips: list[Clip]) -> dict[str, int]:
    """Weight ``clips`` so that each dataset gives an equal share of the training windows;
    returns the frames of each. A clip's dataset is its subject's ``<folder>/`` prefix
    (``load_clips(..., prefix_subjects=True)``)."""
    frames: dict[str, int] = {}
    for c in clips:
        name = c.subject.split("/")[0]
        frames[name] = frames.get(name, 0) + len(c.track)
    for c in clips:
        c.weight = sum(frames.values()) / len(frames) / frames[c.subject.split("/")[0]]
    return frames


def _cut(track: LandmarkTrack, n: int) -> LandmarkTrack:
    return LandmarkTrack(track.t[:n], track.frame_index[:n], track.landmarks[:n],
                         track.detected[:n], track.confidence[:n], track.n_faces[:n],
                         track.width, track.height)


def _augment_window(clip: Clip, start: int, length: int, rng: np.random.Generator,
                    cfg: TrainConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features ``(L, F)``, targets ``(L, 8)`` and mask ``(L,)`` for one window, augmented
    as ``cfg`` says."""
    augment = cfg.augment
    idx = np.arange(start, start + length)
    if augment and rng.random() < 0.5:  # frame drops: irregular intervals
        keep = rng.random(idx.size) > rng.uniform(0.0, 0.3)
        keep[0] = True
        idx = idx[keep]
    track = clip.track
    pts = track.pixels()[idx].astype(np.float64)
    t = track.t[idx]
    if augment:
        centre = np.nanmean(pts, axis=(0, 1))
        a, b, c = np.radians(rng.uniform(-10, 10, 3))
        rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
        ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
        rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
        scale = rng.uniform(0.9, 1.1)
        shift = rng.normal(0, 0.03 * track.width, 3) * np.array([1, 1, 0])
        pts = (pts - centre) @ (rz @ ry @ rx).T * scale + centre + shift
        iod = np.nanmedian(np.linalg.norm(pts[:, 263] - pts[:, 33], axis=-1))
        pts = pts + rng.normal(0, 0.004 * (iod if np.isfinite(iod) else 50.0), pts.shape)
        for _ in range(rng.poisson(0.5)):
            s = rng.integers(0, idx.size)
            pts[s : s + int(rng.uniform(0.2, 1.0) * 25)] = np.nan
    pose = align_to_template(pts.astype(np.float32))
    aligned = pose.aligned
    neutral_mesh = clip.inputs.neutral.mesh
    if (augment and cfg.response_share > 0
            and np.isfinite(neutral_mesh[:468]).all() and rng.random() < cfg.response_share):
        gain = region_gain(neutral_mesh, rng, cfg.response_spread, cfg.brow_occlusion_share)
        aligned = scale_movement(aligned, neutral_mesh, gain)
    signals = au_signals(aligned)
    valid = pose.pose_ok & np.isfinite(signals).all(axis=1) & clip.inputs.valid[idx]
    feats = model_features(aligned, signals, pose.yaw_pitch_roll, valid, t,
                           clip.inputs.neutral)
    return feats, _targets({k: v[idx] for k, v in clip.labels.items()}), valid


def _batch(clips: list[Clip], cfg: TrainConfig, rng: np.random.Generator):
    feats, targs, masks = [], [], []
    lengths = np.array([len(c.track) * c.weight for c in clips], dtype=float)
    for _ in range(cfg.batch):
        clip = clips[rng.choice(len(clips), p=lengths / lengths.sum())]
        n = len(clip.track)
        length = min(cfg.window, n)
        start = int(rng.integers(0, n - length + 1))
        f, y, m = _augment_window(clip, start, length, rng, cfg)
        feats.append(f)
        targs.append(y)
        masks.append(m)
    size = max(len(f) for f in feats)

    def pad(a: list[np.ndarray]) -> torch.Tensor:
        out = np.zeros((len(a), size, *a[0].shape[1:]), dtype=np.float32)
        for i, x in enumerate(a):
            out[i, size - len(x):] = x  # left-pad: the model is causal
        return torch.from_numpy(out)

    return pad(feats), pad(targs), pad([m.astype(np.float32) for m in masks])


def loss_fn(out: dict[str, torch.Tensor], y: torch.Tensor, mask: torch.Tensor,
            pos_weight: float = 1.0) -> torch.Tensor:
    """Masked multi-task loss (see module docstring)."""
    m = mask
    denom = m.sum().clamp(min=1.0)
    au = torch.stack([out[n] for n in ("au4", "au6", "au7", "au9", "au10")], dim=-1)
    l_au = (F.smooth_l1_loss(au / 5.0, y[..., :5] / 5.0, reduction="none", beta=0.1)
            .mean(-1) * m).sum() / denom
    l_pspi = (F.smooth_l1_loss(out["pspi"] / 16.0, y[..., 6] / 16.0, reduction="none",
                               beta=0.05) * m).sum() / denom
    l_43 = (F.binary_cross_entropy_with_logits(out["au43_logit"], y[..., 5], reduction="none")
            * m).sum() / denom
    pw = torch.tensor(pos_weight, device=y.device)
    l_pain = (F.binary_cross_entropy_with_logits(out["pain_logit"], y[..., 7], pos_weight=pw,
                                                 reduction="none") * m).sum() / denom
    return l_au + 2.0 * l_pspi + 0.5 * l_43 + l_pain


def predict(model: TemporalPainNet, clip: Clip, device: torch.device) -> dict[str, np.ndarray]:
    """Whole-clip outputs, NaN where the frame is not valid."""
    return run_model(model, clip.inputs.features, clip.inputs.valid, device)


def evaluate(model: TemporalPainNet, clips: list[Clip], device: torch.device
             ) -> dict[str, object]:
    """PSPI agreement and pain detection over clips (frames pooled)."""
    preds, truths, probs, pains = [], [], [], []
    for clip in clips:
        out = predict(model, clip, device)
        preds.append(out["pspi"])
        probs.append(out["pain_prob"])
        truths.append(clip.labels["pspi"])
        pains.append(clip.labels["pain"])
    pspi = pspi_metrics(np.concatenate(preds), np.concatenate(truths))
    pain = pain_metrics(np.concatenate(probs), np.concatenate(pains))
    return {"pspi": pspi, "pain_prob": pain, "clips": len(clips)}


def _val_loss(model, clips, device, pos_weight):
    model.eval()
    total, n = 0.0, 0
    with torch.inference_mode():
        for clip in clips:
            x = torch.from_numpy(clip.inputs.features[None]).to(device)
            y = torch.from_numpy(_targets(clip.labels)[None]).to(device)
            m = torch.from_numpy(clip.inputs.valid[None].astype(np.float32)).to(device)
            total += float(loss_fn(model(x), y, m, pos_weight)) * len(clip.track)
            n += len(clip.track)
    return total / max(n, 1)


def unused_inputs(inputs: str) -> np.ndarray:
    """Indices of the feature columns a model trained with ``TrainConfig.inputs`` ignores."""
    if inputs == "all":
        return np.zeros(0, dtype=np.int64)
    if inputs == "signals":
        start = N_CORE_SIGNALS
        return np.arange(start, start + 2 * len(MODEL_POINTS))
    raise InputError(f"unknown inputs {inputs!r}: expected 'all' or 'signals'")


def fit(train: list[Clip], val: list[Clip], cfg: TrainConfig, device: torch.device,
        on_progress: Progress | None = None, label: str = "train"
        ) -> tuple[TemporalPainNet, dict[str, object]]:
    """Train one model with early stopping on ``val`` (whole subjects)."""
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    model = create_model(cfg.model).to(device)
    unused = torch.from_numpy(unused_inputs(cfg.inputs)).to(device)

    def zero_unused() -> None:
        if unused.numel():
            with torch.no_grad():
                model.inp.weight[:, unused] = 0.0

    zero_unused()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(cfg.epochs, 1))
    pains = np.concatenate([c.labels["pain"][c.inputs.valid] for c in train])
    pos = float(pains.mean()) if pains.size else 0.5
    pos_weight = float(np.clip((1 - pos) / max(pos, 1e-3), 1.0, 10.0))
    best, best_state, since, history = math.inf, None, 0, []
    for epoch in range(cfg.epochs):
        model.train()
        losses = []
        for _ in range(cfg.steps_per_epoch):
            x, y, m = (v.to(device) for v in _batch(train, cfg, rng))
            loss = loss_fn(model(x), y, m, pos_weight)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            zero_unused()
            losses.append(float(loss.detach()))
        sched.step()
        v = _val_loss(model, val, device, pos_weight) if val else float(np.mean(losses))
        history.append({"epoch": epoch + 1, "train_loss": round(float(np.mean(losses)), 5),
                        "val_loss": round(v, 5)})
        if on_progress:
            on_progress(label, epoch + 1, cfg.epochs)
        if v < best - 1e-4:
            best, since = v, 0
            best_state = {k: t.detach().clone() for k, t in model.state_dict().items()}
        else:
            since += 1
            if since >= cfg.patience:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    _prior_correct(model, pos_weight)
    return model.eval(), {"epochs_run": len(history), "best_val_loss": round(best, 5),
                          "pos_weight": round(pos_weight, 3),
                          "pain_bias_correction": round(-math.log(pos_weight), 5),
                          "history": history}


def _prior_correct(model: TemporalPainNet, pos_weight: float) -> None:
    """Divide the model's odds of pain by ``pos_weight`` (lower the pain head's bias by
    its log): a loss that weighs positives ``pos_weight`` times learns those odds
    multiplied by it. Every other output is unchanged."""
    with torch.no_grad():
        model.head.bias[HEADS.index("pain")] -= math.log(pos_weight)


def _split_val(clips: list[Clip], share: float, rng: np.random.Generator
               ) -> tuple[list[Clip], list[Clip]]:
    subjects = sorted({c.subject for c in clips})
    if len(subjects) < 3 or share <= 0:
        return clips, []
    n_val = max(1, int(round(len(subjects) * share)))
    val_subjects = set(rng.choice(subjects, size=n_val, replace=False).tolist())
    return ([c for c in clips if c.subject not in val_subjects],
            [c for c in clips if c.subject in val_subjects])


@dataclass
class Fold:
    """One cross-validation fold: its model and the clips of its test subjects."""

    index: int
    test_subjects: list[str]
    model: TemporalPainNet
    info: dict[str, object]
    test: list[Clip]


def cross_validate(clips: list[Clip], cfg: TrainConfig, device: torch.device,
                   rng: np.random.Generator, on_progress: Progress | None = None,
                   extra: list[Clip] | None = None) -> Iterator[Fold]:
    """``cfg.folds`` subject-grouped folds over ``clips``: each subject is tested once, by a
    model trained (early stopping on a share of the other subjects) without it.
    ``extra`` clips join every fold's training set and are never tested on."""
    subjects = sorted({c.subject for c in clips})
    if cfg.folds > len(subjects):
        raise InputError(f"{cfg.folds} folds need at least {cfg.folds} training subjects, "
                         f"the dataset has {len(subjects)}")
    order = rng.permutation(subjects)
    for k in range(cfg.folds):
        test_subjects = set(order[k :: cfg.folds].tolist())
        rest = [c for c in clips if c.subject not in test_subjects]
        tr, va = _split_val(rest, cfg.val_share, rng)
        model, info = fit(tr + list(extra or []), va, cfg, device, on_progress,
                          label=f"fold {k + 1}")
        yield Fold(k + 1, sorted(test_subjects), model, info,
                   [c for c in clips if c.subject in test_subjects])


def train_and_report(clips: list[Clip], cfg: TrainConfig, device: torch.device,
                     on_progress: Progress | None = None
                     ) -> tuple[TemporalPainNet, dict[str, object]]:
    """Subject-grouped K-fold report (if ``cfg.folds >= 2``), then the final model on all
    training subjects, evaluated on the held-out split when the dataset has one."""
    rng = np.random.default_rng(cfg.seed)
    train_clips = [c for c in clips if c.split != "heldout"]
    held = [c for c in clips if c.split == "heldout"]
    if not train_clips:
        raise InputError("the dataset has no training clips (all are in the heldout split)")
    if not any(np.isfinite(c.labels["pspi"]).any() for c in train_clips):
        raise InputError("the training clips code no PSPI or AUs (BioVid labels only a "
                         "sample's heat level): the model learns AUs from them; train the "
                         "pain evidence on such data (painvision train --scorer combined)")
    report: dict[str, object] = {"config": asdict(cfg), "folds": [], "inputs": {
        # the signals are read at the head's pose (features.posefit) where a clip is long
        # enough: the shipped weights were trained before that, on uncorrected signals
        "clips": len(clips),
        "clips_with_pose_coupling": sum(
            1 for c in clips if c.inputs.neutral.coupling is not None
            and c.inputs.neutral.coupling.active)}}
    if cfg.folds >= 2:
        for fold in cross_validate(train_clips, cfg, device, rng, on_progress):
            report["folds"].append({"fold": fold.index, "test_subjects": fold.test_subjects,
                                    "metrics": evaluate(fold.model, fold.test, device),
                                    "epochs_run": fold.info["epochs_run"]})
    tr, va = _split_val(train_clips, cfg.val_share, rng)
    model, info = fit(tr, va, cfg, device, on_progress, label="final")
    report["final"] = {"train_subjects": sorted({c.subject for c in tr}),
                       "val_subjects": sorted({c.subject for c in va}), **info}
    if held:
        report["heldout"] = evaluate(model, held, device)
    return model, report
