"""How the default scorer holds up under bedside conditions: ``painvision bench robustness``.

Each clip of a labelled video dataset is run through the whole front end again with a
corruption (``bench.corruptions``) applied to its frames in bursts: ``burst_s`` seconds
clean, ``burst_s`` corrupted, and so on, as when the light is dimmed or a hand comes to the
face. Starting clean is what a real recording gives the quality checks that compare a face
with its own usual look; a condition present from the first frame to the last is caught
only by the absolute checks (``features.quality``).

Measured on the corrupted frames (the same frames of the clean run for the ``clean`` row):

- ``face_detection``: share with a face found;
- ``pspi_mae``, ``pspi_pearson``: the frames scored, against the labels;
- ``pain_roc_auc``: ``pain_prob`` against the pain label, frames scored;
- ``false_alarms_per_hour``: alarms as the monitor's alert rules raise them (causal) over
  the scores ``analyze`` gives, flagged frames left out (``watch`` judges each frame
  against the two minutes before it rather than the whole clip), outside labelled pain,
  over the whole clips;
- ``flagged``: share of frames not scored (no face, head turned, too dark, blurred,
  covered), and of frames with a face;
- ``wrong_by_4``: frames with a face that, scored anyway, would be more than 4 PSPI from
  the label; ``wrong_by_4_flagged`` is the share of those the quality checks flagged.

Tracks of every run are cached (``landmarks.cache``), so a second run skips MediaPipe.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from painvision.bench.accuracy import _auc, _streamed
from painvision.bench.corruptions import CORRUPTIONS, OCCLUSIONS, corruption
from painvision.bench.episodes import alarm_metrics
from painvision.datasets import DatasetItem, item_labels, load_dataset
from painvision.errors import InputError
from painvision.features.inputs import prepare_inputs
from painvision.features.quality import SKIP_FLAGS, assess_quality
from painvision.landmarks.cache import cached_track, default_cache_dir
from painvision.landmarks.pose import align_to_template
from painvision.live.alerts import AlertPolicy, alarm_series
from painvision.scoring import create_scorer
from painvision.types import LandmarkTrack

__all__ = ["robustness_markdown", "run_robustness"]


def _corrupted(index: np.ndarray | int, fps: float, burst_s: float) -> np.ndarray | bool:
    """Whether frame ``index`` falls in a corrupted burst (every other one, from the
    second)."""
    return (index // max(int(round(fps * burst_s)), 1)) % 2 == 1


class _Bursts:
    """``transform`` on frames in every other ``burst`` window (picklable)."""

    def __init__(self, name: str, severity: int, seed: int, fps: float, burst_s: float,
                 meshes: dict[int, np.ndarray] | None) -> None:
        self.transform = corruption(name, severity, seed, meshes)
        self.fps, self.burst_s = fps, burst_s

    def __call__(self, img: np.ndarray, i: int) -> np.ndarray:
        return self.transform(img, i) if _corrupted(i, self.fps, self.burst_s) else img


def _variant(name: str, severity: int, seed: int, burst_s: float) -> str:
    return f"robustness-v2/{name}/{severity}/seed{seed}/burst{burst_s:g}"


def _track_job(video: str, cache: str, name: str, severity: int, seed: int, fps: float,
               burst_s: float, clean: bool) -> str:
    """Extract (or find cached) one corrupted run; returns the video, for progress."""
    from painvision.landmarks.facemesh import _NativeStderrMute

    mute = _NativeStderrMute()
    mute.on()
    try:
        if clean:
            cached_track(video, cache)
        else:
            track, _ = cached_track(video, cache)
            meshes = _meshes(track) if name in OCCLUSIONS else None
            cached_track(video, cache, variant=_variant(name, severity, seed, burst_s),
                         transform=_Bursts(name, severity, seed, fps, burst_s, meshes))
    finally:
        mute.off()
    return video


def _meshes(track: LandmarkTrack) -> dict[int, np.ndarray]:
    return {int(i): track.landmarks[k] for k, i in enumerate(track.frame_index)
            if track.detected[k]}


def _pick(items: list[DatasetItem], clips_per_subject: int) -> list[DatasetItem]:
    seen: dict[str, int] = {}
    out = []
    for it in items:
        if it.video is None:
            continue
        if seen.get(it.subject, 0) < clips_per_subject:
            out.append(it)
            seen[it.subject] = seen.get(it.subject, 0) + 1
    return out


def _score_run(track: LandmarkTrack, truth: dict[str, np.ndarray], window: np.ndarray,
               scorer, policy: AlertPolicy,
               clean_anyway: np.ndarray | None = None) -> dict[str, np.ndarray | dict]:
    n = min(len(track), truth["pspi"].size)
    pose = align_to_template(track.pixels())
    quality = assess_quality(track.appearance, track.detected, pose.pose_ok)
    readable = (quality.flags & SKIP_FLAGS) == 0
    anyway = scorer.score(prepare_inputs(track, pose=pose))
    inputs = prepare_inputs(track, pose=pose, readable=readable)
    scores = scorer.score(inputs)
    live_pspi, live_prob = _streamed(scorer, inputs, track.detected)
    t = track.t[:n]
    alarm = alarm_series(t, live_pspi[:n], None if scores.pain_prob is None else
                         live_prob[:n], policy)
    ep = alarm_metrics(alarm, truth["pain"][:n], t, truth["pspi"][:n], policy.onset_threshold)
    w = window[:n]
    return {
        "detected": track.detected[:n][w],
        "flagged": (quality.flags[:n] != 0)[w],
        "pspi": scores.aus.pspi[:n][w].astype(float),
        "pspi_anyway": anyway.aus.pspi[:n][w].astype(float),
        "clean_anyway": (clean_anyway if clean_anyway is not None
                         else anyway.aus.pspi[:n][w].astype(float)),
        "prob": (scores.pain_prob[:n][w].astype(float) if scores.pain_prob is not None
                 else np.full(int(w.sum()), np.nan)),
        "truth_pspi": truth["pspi"][:n][w],
        "truth_pain": truth["pain"][:n][w],
        "episodes": {"false_alarms": ep["false_alarms"], "calm_hours": ep["calm_hours"]},
        "reasons": quality.shares(w & track.detected[:n]) if (w & track.detected[:n]).any()
        else {},
    }


def _summarise(runs: list[dict]) -> dict[str, object]:
    cat = {k: np.concatenate([r[k] for r in runs]) for k in (
        "detected", "flagged", "pspi", "pspi_anyway", "clean_anyway", "prob", "truth_pspi",
        "truth_pain")}
    scored = np.isfinite(cat["pspi"])
    err = np.abs(cat["pspi"] - cat["truth_pspi"])[scored]
    any_ok = np.isfinite(cat["pspi_anyway"])
    err_anyway = np.abs(cat["pspi_anyway"] - cat["truth_pspi"])[any_ok]
    r = (float(np.corrcoef(cat["pspi"][scored], cat["truth_pspi"][scored])[0, 1])
         if scored.sum() > 2 and cat["pspi"][scored].std() > 0
         and cat["truth_pspi"][scored].std() > 0 else None)  # r of a constant: undefined
    auc = _auc(np.where(scored, cat["prob"], np.nan), (cat["truth_pain"] > 0.5).astype(int))
    det = cat["detected"]
    wrong = det & np.isfinite(cat["pspi_anyway"]) & (
        np.abs(cat["pspi_anyway"] - cat["truth_pspi"]) > 4.0)
    # made wrong by the corruption: within 4 of the label in the clean run, not now
    made_wrong = wrong & ~(np.abs(cat["clean_anyway"] - cat["truth_pspi"]) > 4.0)
    fa = sum(r_["episodes"]["false_alarms"] for r_ in runs)
    hours = sum(r_["episodes"]["calm_hours"] for r_ in runs)
    n_det = max(int(det.sum()), 1)
    reasons: dict[str, float] = {}
    for r_ in runs:  # weighted by frames with a face
        w = int(r_["detected"].sum())
        for k, v in r_["reasons"].items():
            reasons[k] = reasons.get(k, 0.0) + v * w
    return {
        "frames": int(det.size),
        "face_detection": round(float(det.mean()), 4) if det.size else None,
        "scored": round(float(scored.mean()), 4) if det.size else None,
        "pspi_mae": round(float(err.mean()), 3) if err.size else None,
        "pspi_pearson": None if r is None else round(r, 3),
        "pspi_mae_if_scored_anyway": round(float(err_anyway.mean()), 3) if err_anyway.size
        else None,
        "pain_roc_auc": None if auc is None else round(auc, 3),
        "false_alarms_per_hour": round(fa / hours, 1) if hours > 0 else None,
        "flagged": round(float(cat["flagged"].mean()), 4) if det.size else None,
        "flagged_with_face": round(float(cat["flagged"][det].sum() / n_det), 4),
        "flag_reasons": {k: round(v / n_det, 4) for k, v in reasons.items() if v > 0},
        "wrong_by_4": int(wrong.sum()),
        "wrong_by_4_flagged": (round(float(cat["flagged"][wrong].mean()), 3)
                               if wrong.any() else None),
        "made_wrong_by_4": int(made_wrong.sum()),
        "made_wrong_by_4_flagged": (round(float(cat["flagged"][made_wrong].mean()), 3)
                                    if made_wrong.any() else None),
    }


def run_robustness(
    dataset: str | os.PathLike[str],
    *,
    corruptions: tuple[str, ...] = CORRUPTIONS,
    severities: tuple[int, ...] = (1, 2, 3),
    clips_per_subject: int = 1,
    split: str | None = None,
    burst_s: float = 6.0,
    scorer: str = "combined",
    seed: int = 0,
    workers: int = 1,
    cache_dir: str | os.PathLike[str] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, object]:
    """Every corruption at every severity over the dataset's clips (see the module
    docstring); returns a JSON-able report. With ``workers`` > 1 the front end runs in
    spawned processes: call it from a script's ``if __name__ == "__main__":`` block."""
    for c in corruptions:
        if c not in CORRUPTIONS:
            raise InputError(f"unknown corruption {c!r}: expected some of "
                             f"{', '.join(CORRUPTIONS)}")
    items = _pick(load_dataset(dataset, split), clips_per_subject)
    if not items:
        raise InputError(f"{dataset}: no clip with a video"
                         + (f" in split {split!r}" if split else ""))
    cache = str(Path(cache_dir) if cache_dir is not None else default_cache_dir())
    fps = {it.id: float(it.fps or 25.0) for it in items}
    # the front end over every run first (in parallel where asked), then the scoring
    jobs = [(str(it.video), cache, "clean", 0, seed, fps[it.id], burst_s, True)
            for it in items]
    jobs += [(str(it.video), cache, c, s, seed, fps[it.id], burst_s, False)
             for c in corruptions for s in severities for it in items]
    total = len(jobs) + len(items)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if on_progress:
            on_progress(done, total)

    if workers > 1:
        # spawned, not forked: the caller's progress bar runs a thread
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
        try:
            # the clean runs first: the occlusions need their meshes
            for batch in (jobs[:len(items)], jobs[len(items):]):
                for f in [pool.submit(_track_job, *j) for j in batch]:
                    f.result()
                    tick()
        except BaseException:  # Ctrl-C or a failure: no queued run goes on
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown()
    else:
        for j in jobs:
            _track_job(*j)
            tick()

    sc = create_scorer(scorer)
    policy = AlertPolicy()
    rows: dict[str, dict[str, object]] = {}
    per: dict[tuple[str, int], list[dict]] = {}
    for it in items:
        labels = item_labels(it)
        truth = {k: labels[k].astype(float) for k in ("pspi", "pain")}
        clean, _ = cached_track(it.video, cache)
        meshes = _meshes(clean) if set(corruptions) & set(OCCLUSIONS) else None
        window = _corrupted(clean.frame_index, fps[it.id], burst_s)
        base = _score_run(clean, truth, window, sc, policy)
        per.setdefault(("clean", 0), []).append(base)
        for c in corruptions:
            for s in severities:
                tr, _ = cached_track(it.video, cache, variant=_variant(c, s, seed, burst_s),
                                     transform=_Bursts(c, s, seed, fps[it.id], burst_s,
                                                       meshes if c in OCCLUSIONS else None))
                per.setdefault((c, s), []).append(
                    _score_run(tr, truth, window, sc, policy, base["pspi_anyway"]))
        tick()
    for (c, s), runs in per.items():
        rows[f"{c}/{s}"] = {"corruption": c, "severity": s, **_summarise(runs)}
    return {
        "dataset": str(dataset), "clips": len(items),
        "subjects": len({it.subject for it in items}),
        "minutes": round(sum(len(r["detected"]) for r in per[("clean", 0)]) * 2
                         / np.mean(list(fps.values())) / 60.0, 2),
        "burst_s": burst_s, "scorer": sc.name, "seed": seed,
        "alert_policy": policy.to_dict(), "rows": rows,
    }


def _f(v: object, digits: int = 3) -> str:
    """A number for the table; ``-`` where there is none (None, or NaN: a Pearson r of a
    constant series)."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return f"{v:.{digits}f}" if isinstance(v, float) else str(v)


def robustness_markdown(report: dict) -> str:
    """The table: one row per corruption and severity, the clean run first."""
    lines = [f"Dataset `{report['dataset']}`: {report['clips']} clips, {report['subjects']} "
             f"subjects, {report['minutes']} min; corruptions in {report['burst_s']:g}-s bursts "
             f"(every other burst), scorer {report['scorer']}; measured on the corrupted "
             "frames.", "",
             "| corruption | severity | face found | PSPI MAE | PSPI r | pain ROC-AUC | false "
             "alarms / h | flagged (of frames with a face) | PSPI MAE if flagged frames were "
             "scored | wrong by > 4 PSPI: frames, share flagged | made wrong by > 4 by the "
             "corruption: frames, share flagged |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in report["rows"].values():
        lines.append(
            f"| {row['corruption']} | {row['severity'] or '-'} | "
            f"{_f(row['face_detection'])} | {_f(row['pspi_mae'])} | {_f(row['pspi_pearson'])} | "
            f"{_f(row['pain_roc_auc'])} | {_f(row['false_alarms_per_hour'], 1)} | "
            f"{_f(row['flagged_with_face'])} | {_f(row['pspi_mae_if_scored_anyway'])} | "
            f"{row['wrong_by_4']}, {_f(row['wrong_by_4_flagged'])} | "
            f"{row['made_wrong_by_4']}, {_f(row['made_wrong_by_4_flagged'])} |")
    return "\n".join(lines) + "\n"
