"""Accuracy of the scorers on a labelled dataset (generic format or UNBC layout).

Besides frame-level PSPI and AU agreement, it counts alarms as the bedside monitor would
raise them (``live.alerts.alarm_series`` with the default ``AlertPolicy``: PSPI and, for
scorers that have one, ``pain_prob``): episode recall and onset delay, false alarms per
hour, and for datasets with an ``activity`` label (``painvision synth``), alarms per hour
and the share of frames with ``pain_prob`` >= 0.5 during each look-alike of pain.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score, roc_auc_score

from painvision.bench.episodes import alarm_metrics, runs
from painvision.datasets import ACTIVITIES, item_labels, load_dataset, read_landmarks
from painvision.errors import InputError
from painvision.features.inputs import prepare_inputs
from painvision.landmarks.cache import cached_track, default_cache_dir
from painvision.landmarks.facemesh import settling
from painvision.live.alerts import AlertPolicy, alarm_series
from painvision.metrics import pain_metrics, pspi_metrics
from painvision.scoring import create_scorer
from painvision.types import AU_NAMES

__all__ = ["accuracy_markdown", "activity_alarms", "non_pain_shares", "pooled_metrics",
           "run_accuracy", "sample_auc"]


def _auc(score: np.ndarray, y: np.ndarray) -> float | None:
    ok = np.isfinite(score)
    if not ok.any() or y[ok].min() == y[ok].max():
        return None
    return float(roc_auc_score(y[ok], score[ok]))


def pooled_metrics(pred: dict[str, np.ndarray], truth: dict[str, np.ndarray]
                   ) -> dict[str, object]:
    """PSPI agreement, per-AU MAE and r, PSPI >= 1 and >= 3 detection, and the pain
    score's ROC-AUC over frames pooled (``pred`` has the AUs, ``pspi``, ``pain_score``)."""
    out: dict[str, object] = {"pspi": pspi_metrics(pred["pspi"], truth["pspi"])}
    au = {}
    for name in AU_NAMES:  # frames the dataset codes (BioVid codes none: NaN)
        p, t = pred[name], truth[name]
        ok = np.isfinite(p) & np.isfinite(t)
        r = (float(np.corrcoef(p[ok], t[ok])[0, 1])
             if ok.sum() > 2 and p[ok].std() > 0 and t[ok].std() > 0 else None)
        au[name] = {"mae": float(np.abs(p[ok] - t[ok]).mean()) if ok.any() else None,
                    "pearson": r}
    out["aus"] = au
    coded = np.isfinite(truth["pspi"])
    for k in (1, 3):
        y = (truth["pspi"] >= k).astype(int)
        ok = np.isfinite(pred["pspi"]) & coded
        out[f"pspi_ge_{k}"] = {
            "f1": float(f1_score(y[ok], pred["pspi"][ok] >= k)) if ok.any() else None,
            "roc_auc": _auc(np.where(coded, pred["pspi"], np.nan), y),
        }
    out["pain_roc_auc"] = _auc(pred["pain_score"], truth["pain"].astype(int))
    return out


#: Frames outside pain episodes where the face does something else: label column and the
#: level above which it counts (used when the dataset has these columns, as synth's do).
_CONFOUNDERS = {
    "smiles": ("au12", 0.5),
    "talking/yawning/chewing": ("au26", 0.5),
    "blinks": ("au45", 0.0),
    "brow raises": ("au1", 0.5),
}


def non_pain_shares(score: np.ndarray, truth: dict[str, np.ndarray], threshold: float
              ) -> dict[str, dict[str, float | int | None]]:
    """Share of non-pain frames whose pain score stays below ``threshold``, overall and
    during each confounder the labels mark."""
    calm = truth["pain"] == 0
    masks = {"all non-pain frames": calm}
    for name, (column, level) in _CONFOUNDERS.items():
        if column in truth:
            masks[name] = calm & (truth[column] > level)
    out = {}
    for name, mask in masks.items():
        s = score[mask & np.isfinite(score)]
        out[name] = {"frames": int(s.size),
                     "share_below": float((s < threshold).mean()) if s.size else None}
    return out


def _streamed(scorer, inputs, detected: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """PSPI and pain_prob as the live monitor computes them, one frame at a time (causal
    smoothing, AU43 only once a closure has lasted, the first frames of a face just found
    left unscored: ``landmarks.facemesh.settling``), with the recording's neutral."""
    stream = scorer.stream()
    n = len(inputs.t)
    pspi = np.full(n, np.nan)
    prob = np.full(n, np.nan)
    valid = inputs.valid & ~settling(detected)
    for i in range(n):
        aus, q = stream.update(float(inputs.t[i]), inputs.pose.aligned[i], inputs.signals[i],
                               inputs.pose.yaw_pitch_roll[i], bool(valid[i]),
                               inputs.neutral)
        if aus is not None:
            pspi[i] = aus.pspi
            prob[i] = np.nan if q is None else q
    return pspi, prob


def activity_alarms(alarm: np.ndarray, prob: np.ndarray | None, truth: dict[str, np.ndarray],
                    t: np.ndarray) -> dict[str, dict[str, float]]:
    """Per activity (outside pain): seconds of it, alarms that started during it (false
    alarms), and frames with ``pain_prob`` >= 0.5. Needs the ``activity`` label."""
    if "activity" not in truth:
        return {}
    act = truth["activity"].astype(int)
    calm = truth["pain"] <= 0.5
    dt = float(np.median(np.diff(t))) if t.size > 1 else 0.0
    onsets = [a for a, _ in runs(alarm) if truth["pain"][a] <= 0.5]  # false alarms
    out = {}
    for code in np.unique(act[calm]):
        sel = calm & (act == code)
        p = prob[sel] if prob is not None else np.zeros(0)
        p = p[np.isfinite(p)]
        out[ACTIVITIES[code] if code < len(ACTIVITIES) else str(code)] = {
            "seconds": float(sel.sum() * dt),
            "alarms": float(sum(1 for a in onsets if act[a] == code)),
            "frames_prob_ge_0.5": float((p >= 0.5).sum()),
            "frames_prob": float(p.size),
        }
    return out


#: A sample's pain score: this percentile of its frames' (robust to a stray frame).
SAMPLE_PERCENTILE = 90


def sample_auc(clips: list[dict]) -> float | None:
    """ROC-AUC over whole samples, as datasets labelled per sample are scored (BioVid: a
    sample's heat level): each clip whose ``pain`` label is the same on every frame, scored
    by the ``SAMPLE_PERCENTILE``-th percentile of its frames' pain score. None unless both
    kinds of sample are there."""
    scores, labels = [], []
    for c in clips:
        pain = c["truth"]["pain"] > 0.5
        score = c["pred"]["pain_score"]
        score = score[np.isfinite(score)]
        if pain.size and (pain.all() or not pain.any()) and score.size:
            scores.append(float(np.percentile(score, SAMPLE_PERCENTILE)))
            labels.append(int(pain[0]))
    if len(set(labels)) < 2:
        return None
    return float(roc_auc_score(labels, scores))


def _merge_activity(per_clip: list[dict]) -> dict[str, dict[str, float | None]]:
    total: dict[str, dict[str, float]] = {}
    for clip in per_clip:
        for name, v in clip.items():
            acc = total.setdefault(name, dict.fromkeys(v, 0.0))
            for k, x in v.items():
                acc[k] += x
    return {name: {"minutes": v["seconds"] / 60.0,
                   "alarms_per_hour": (v["alarms"] / (v["seconds"] / 3600.0)
                                       if v["seconds"] > 0 else None),
                   "alarms": v["alarms"],
                   "share_prob_ge_0.5": (v["frames_prob_ge_0.5"] / v["frames_prob"]
                                         if v["frames_prob"] > 0 else None)}
            for name, v in sorted(total.items(), key=lambda kv: ACTIVITIES.index(kv[0])
                                  if kv[0] in ACTIVITIES else 99)}


def _episodes(per_clip: list[dict]) -> dict[str, float | None]:
    true = sum(c["true_episodes"] for c in per_clip)
    det = sum(c["detected_episodes"] for c in per_clip)
    found = sum(c["found"] for c in per_clip)
    fa = sum(c["false_alarms"] for c in per_clip)
    hours = sum(c["calm_hours"] for c in per_clip)
    delays = np.array([d for c in per_clip for d in c["delays_s"]])
    shown = sum(c.get("shown_episodes", 0) for c in per_clip)
    shown_found = sum(c.get("shown_found", 0) for c in per_clip)
    return {
        "true_episodes": true, "detected_episodes": det,
        "recall": found / true if true else None,
        "shown_episodes": shown,
        "recall_shown": shown_found / shown if shown else None,
        "precision": (det - fa) / det if det else None,
        "false_alarms_per_hour": fa / hours if hours > 0 else None,
        "onset_delay_s_median": float(np.median(delays)) if delays.size else None,
        "onset_delay_s_p95": float(np.percentile(delays, 95)) if delays.size else None,
    }


#: Fewer subjects than this get no interval: resampling 2 subjects has 3 outcomes, 4 has
#: 35, so their percentiles are not a 95 % interval (the estimate can sit on its edge).
MIN_BOOT_SUBJECTS = 5


def run_accuracy(
    dataset: str | os.PathLike[str],
    scorers: tuple[str, ...] = ("combined", "analytic"),
    *,
    weights: str | os.PathLike[str] | None = None,
    evidence: str | os.PathLike[str] | None = None,
    policy: AlertPolicy | None = None,
    split: str | None = None,
    device: str = "auto",
    cache_dir: str | os.PathLike[str] | None = None,
    threshold: float = 0.5,
    n_boot: int = 1000,
    seed: int = 0,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, object]:
    """Frame-level, episode-level, per-subject and bootstrap metrics for each scorer.

    Scorers by name (``scoring.SCORERS``); ``weights`` is the learned model's, ``evidence``
    the combined scorer's pain evidence. The pain score for ROC-AUC, F1 and the non-pain
    shares is ``pain_prob`` where the scorer has one, else PSPI / 16. Episodes are the
    alarms ``policy`` (default ``AlertPolicy()``) raises on each scorer's live stream (the
    causal PSPI and pain_prob the monitor computes, with the recording's neutral);
    matched to the labels by ``episodes.alarm_metrics``. A true episode counts as
    *shown* when its labelled PSPI reaches the policy's onset threshold (an episode the
    face never shows that strongly is not one an alarm at that threshold can be asked to
    catch), and recall is given over all and over shown ones. Landmarks extracted from
    videos are cached (``cache_dir``), so a second run skips MediaPipe.
    """
    items = load_dataset(dataset, split)
    if not items:
        raise InputError(f"{dataset}: no clips" + (f" in split {split!r}" if split else ""))
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    policy = policy or AlertPolicy()
    made = {s: create_scorer(s, weights=weights if s == "model" else
                             (evidence if s == "combined" else None), device=device)
            for s in scorers}
    per: dict[str, list[dict]] = {s: [] for s in scorers}
    has_prob = dict.fromkeys(scorers, False)
    hits = 0
    for k, item in enumerate(items):
        if item.landmarks is not None:
            track, hit = read_landmarks(item.landmarks), True
        else:
            track, hit = cached_track(item.video, cache, fps=item.fps)
        hits += int(hit)
        labels = item_labels(item)
        n = min(len(track), labels["frame"].size)
        inputs = prepare_inputs(track)
        truth = {name: labels[name][:n].astype(float) for name in (*AU_NAMES, "pspi", "pain")}
        extra = [c for c, _ in _CONFOUNDERS.values()] + ["activity"]
        for name in extra:  # confounder labels, where the dataset has them
            if name in labels and name not in truth:
                truth[name] = labels[name][:n].astype(float)
        t = track.t[:n]
        for s, sc in made.items():
            scores = sc.score(inputs)
            aus, prob = scores.aus, scores.pain_prob
            has_prob[s] = prob is not None
            score = prob if prob is not None else aus.pspi / 16.0
            pred = {name: getattr(aus, name)[:n].astype(float) for name in AU_NAMES}
            pred["pspi"] = aus.pspi[:n].astype(float)
            pred["pain_score"] = score[:n].astype(float)
            p = prob[:n].astype(float) if prob is not None else None
            live_pspi, live_prob = _streamed(sc, inputs, track.detected)
            alarm = alarm_series(t, live_pspi[:n], live_prob[:n] if p is not None else None,
                                 policy)
            episodes = alarm_metrics(alarm, truth["pain"], t, truth["pspi"],
                                     policy.onset_threshold)
            per[s].append({"subject": item.subject, "pred": pred, "truth": truth,
                           "episodes": episodes,
                           "activity": activity_alarms(alarm, p, truth, t)})
        if on_progress:
            on_progress(k + 1, len(items))
    report: dict[str, object] = {"dataset": str(dataset), "clips": len(items),
                                 "subjects": len({i.subject for i in items}),
                                 "cache_hits": hits, "alert_policy": policy.to_dict(),
                                 "scorers": {}}
    rng = np.random.default_rng(seed)
    for s, clips in per.items():
        def cat(part: str, key: str, sel: list[dict]) -> np.ndarray:
            return np.concatenate([c[part][key] for c in sel])

        keys = (*AU_NAMES, "pspi", "pain_score")
        pred = {key: cat("pred", key, clips) for key in keys}
        truth_keys = [k for k in clips[0]["truth"] if all(k in c["truth"] for c in clips)]
        truth = {key: cat("truth", key, clips) for key in truth_keys}
        entry = pooled_metrics(pred, truth)
        entry["pain_f1"] = pain_metrics(pred["pain_score"], truth["pain"], threshold)["f1"]
        entry["sample_pain_roc_auc"] = sample_auc(clips)
        entry["non_pain"] = non_pain_shares(pred["pain_score"], truth, threshold)
        entry["episodes"] = _episodes([c["episodes"] for c in clips])
        entry["activities"] = _merge_activity([c["activity"] for c in clips])
        entry["pain_score"] = "pain_prob" if has_prob[s] else "PSPI / 16"
        subjects = sorted({c["subject"] for c in clips})
        by_subject = {}
        for subj in subjects:
            sel = [c for c in clips if c["subject"] == subj]
            by_subject[subj] = pspi_metrics(cat("pred", "pspi", sel), cat("truth", "pspi", sel))
        entry["per_subject"] = by_subject
        boots = {"pearson": [], "mae": [], "pain_roc_auc": []}
        if len(subjects) >= MIN_BOOT_SUBJECTS and n_boot > 0:
            for _ in range(n_boot):
                draw = rng.choice(subjects, size=len(subjects), replace=True)
                sel = [c for subj in draw for c in clips if c["subject"] == subj]
                m = pspi_metrics(cat("pred", "pspi", sel), cat("truth", "pspi", sel))
                boots["pearson"].append(m["pearson"])
                boots["mae"].append(m["mae"])
                auc = _auc(cat("pred", "pain_score", sel), cat("truth", "pain", sel).astype(int))
                boots["pain_roc_auc"].append(np.nan if auc is None else auc)
        entry["ci95_over_subjects"] = {
            k: ([float(np.nanpercentile(v, 2.5)), float(np.nanpercentile(v, 97.5))]
                if v and np.isfinite(v).any() else None) for k, v in boots.items()}
        report["scorers"][s] = entry
    return report


def _f(v: object, digits: int = 3) -> str:
    return "-" if v is None or (isinstance(v, float) and not np.isfinite(v)) else \
        f"{v:.{digits}f}"


def accuracy_markdown(report: dict) -> str:
    """Headline table, episode table and per-AU table."""
    few = report["subjects"] < MIN_BOOT_SUBJECTS
    lines = [f"Dataset `{report['dataset']}`: {report['clips']} clips, "
             f"{report['subjects']} subjects"
             + (f" (no intervals: they need {MIN_BOOT_SUBJECTS} subjects or more)." if few
                else "."), "",
             "| scorer | PSPI MAE | RMSE | Pearson r [95 % CI] | ICC(3,1) | F1 PSPI≥1 | F1 PSPI≥3 "
             "| ROC-AUC PSPI≥3 | pain ROC-AUC | pain F1 |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, s in report["scorers"].items():
        p = s["pspi"]
        ci = s["ci95_over_subjects"]["pearson"]
        ci_text = f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else ""
        lines.append(
            f"| {name} | {_f(p['mae'])} | {_f(p['rmse'])} | {_f(p['pearson'])}{ci_text} | "
            f"{_f(p['icc31'])} | {_f(s['pspi_ge_1']['f1'])} | {_f(s['pspi_ge_3']['f1'])} | "
            f"{_f(s['pspi_ge_3']['roc_auc'])} | {_f(s['pain_roc_auc'])} ({s['pain_score']}) | "
            f"{_f(s['pain_f1'])} |")
    samples = {n: s.get("sample_pain_roc_auc") for n, s in report["scorers"].items()}
    if any(v is not None for v in samples.values()):
        lines += ["", f"Per sample (each clip labelled pain or not throughout, scored by the "
                  f"{SAMPLE_PERCENTILE}th percentile of its frames' pain score): ROC-AUC "
                  + ", ".join(f"{n} {_f(v)}" for n, v in samples.items()) + "."]
    lines += ["", "Alarms as the monitor raises them (`AlertPolicy` defaults; a *shown* episode "
              "is one whose labelled PSPI reaches the onset threshold):", "",
              "| scorer | true episodes | recall | shown episodes | recall (shown) | precision "
              "| false alarms / h | onset delay median (s) | p95 (s) |",
              "|---|---|---|---|---|---|---|---|---|"]
    for name, s in report["scorers"].items():
        e = s["episodes"]
        lines.append(
            f"| {name} | {e['true_episodes']} | {_f(e['recall'])} | {e.get('shown_episodes', '-')} "
            f"| {_f(e.get('recall_shown'))} | {_f(e['precision'])} | "
            f"{_f(e['false_alarms_per_hour'], 1)} | {_f(e['onset_delay_s_median'], 2)} | "
            f"{_f(e['onset_delay_s_p95'], 2)} |")
    first_acts = next(iter(report["scorers"].values())).get("activities") or {}
    if first_acts:
        names = list(report["scorers"])
        lines += ["", "Outside pain, by what the face is doing: alarms per hour (and the share "
                  "of frames with pain_prob >= 0.5, where the scorer has it):", "",
                  "| activity | minutes | " + " | ".join(names) + " |",
                  "|---|---|" + "---|" * len(names)]
        for a, v in first_acts.items():
            cells = []
            for s in report["scorers"].values():
                x = s["activities"].get(a, {})
                share = x.get("share_prob_ge_0.5")
                cells.append(_f(x.get("alarms_per_hour"), 1)
                             + ("" if share is None else f" ({100 * share:.1f} %)"))
            lines.append(f"| {a} | {v['minutes']:.1f} | " + " | ".join(cells) + " |")
    first = next(iter(report["scorers"].values()))
    if "non_pain" in first:
        names = list(report["scorers"])
        lines += ["", "| pain score < 0.5 on | frames | " + " | ".join(names) + " |",
                  "|---|---|" + "---|" * len(names)]
        for k, v in first["non_pain"].items():
            cells = [_f(None if s["non_pain"][k]["share_below"] is None
                        else 100 * s["non_pain"][k]["share_below"], 1) + " %"
                     for s in report["scorers"].values()]
            lines.append(f"| {k} | {v['frames']} | " + " | ".join(cells) + " |")
    lines += ["", "| scorer | " + " | ".join(f"{a} MAE / r" for a in AU_NAMES) + " |",
              "|---|" + "---|" * len(AU_NAMES)]
    for name, s in report["scorers"].items():
        cells = [f"{_f(s['aus'][a]['mae'], 2)} / {_f(s['aus'][a]['pearson'], 2)}" for a in AU_NAMES]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
