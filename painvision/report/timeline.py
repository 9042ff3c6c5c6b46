"""What the plot and the reports show, from an analysis or a ``watch --out`` log.

A ``Timeline`` holds the per-frame (or per-reading) scores over time and the pain
episodes exactly as the monitor announces them: offline they come from the same
``AlertState`` that ``alarm_series`` runs (``AlertPolicy``), from a watch log they are its
own ``onset`` / ``offset`` events. Nothing here holds an image.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from painvision.errors import InputError
from painvision.features.quality import SKIP_FLAGS, UNREADABLE
from painvision.live.alerts import AlertPolicy, AlertState
from painvision.types import AU_NAMES

__all__ = ["AU_LABELS", "PSPI_PARTS", "Episode", "Span", "Timeline", "episodes_from_events",
           "spans_of"]

#: FACS names of the PSPI action units.
AU_LABELS: dict[str, str] = {
    "au4": "AU4 brow lowerer", "au6": "AU6 cheek raiser", "au7": "AU7 lid tightener",
    "au9": "AU9 nose wrinkler", "au10": "AU10 upper lip raiser", "au43": "AU43 eyes closed",
}
#: The four terms of PSPI = AU4 + max(AU6, AU7) + max(AU9, AU10) + AU43, as (label, AUs).
PSPI_PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("AU4", ("au4",)),
    ("max(AU6, AU7)", ("au6", "au7")),
    ("max(AU9, AU10)", ("au9", "au10")),
    ("AU43", ("au43",)),
)


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of time ``[start, end]`` in seconds of the timeline."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


def spans_of(t: np.ndarray, mask: np.ndarray, max_step: float | None = None) -> list[Span]:
    """The runs of ``mask`` over ``t`` ``(T,)`` as spans; each run ends half a frame step
    after its last frame (so one flagged frame still shows). ``max_step`` caps that step
    (readings of a watch log are sparse)."""
    t = np.asarray(t, dtype=np.float64)
    mask = np.asarray(mask, dtype=bool)
    if t.size == 0 or not mask.any():
        return []
    step = float(np.median(np.diff(t))) if t.size > 1 else 0.0
    if max_step is not None:
        step = min(step, max_step)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    out = []
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        end = float(t[b]) if b < t.size else float(t[b - 1]) + step
        out.append(Span(float(t[a]), end))
    return out


@dataclass(frozen=True)
class Episode:
    """One pain episode as the monitor announced it.

    Attributes:
        number: the monitor's episode number.
        start: when its smoothed score first crossed the onset threshold (``started_s``).
        announced: when the onset was announced (the alarm went up).
        end: when it was over (its last offset), or the end of the data.
        reason: why it ended (``score_low``, ``evidence_low``, ``face_lost``, ``stopped``).
        alarms: the stretches during which the alarm was up: one, plus one for every time
            the episode resumed within the refractory period.
        peak_pspi: highest PSPI between ``start`` and ``end`` (NaN without a score).
        dominant: the PSPI terms that carried it, strongest first: (AU label, mean
            intensity over the episode).
    """

    number: int
    start: float
    announced: float
    end: float
    reason: str
    alarms: tuple[Span, ...]
    peak_pspi: float
    dominant: tuple[tuple[str, float], ...]

    @property
    def duration(self) -> float:
        return self.end - self.start


def _dominant(aus: dict[str, np.ndarray], sel: np.ndarray) -> tuple[tuple[str, float], ...]:
    """The PSPI terms that carried the frames ``sel``: mean of each term, strongest first,
    those with at least a quarter of the total and 0.5 of intensity, at most three. A
    max() term is named after the AU that was higher on average."""
    terms = []
    for _, names in PSPI_PARTS:
        vals = [aus[n][sel].astype(np.float64) for n in names]
        vals = [v[np.isfinite(v)] for v in vals]
        if not all(v.size for v in vals):
            continue
        means = [float(v.mean()) for v in vals]
        term = float(np.max(np.stack(vals), axis=0).mean())
        terms.append((AU_LABELS[names[int(np.argmax(means))]], term))
    total = sum(v for _, v in terms)
    keep = sorted((x for x in terms if x[1] >= 0.5 and x[1] >= 0.25 * total),
                  key=lambda x: -x[1])
    return tuple((name, round(v, 2)) for name, v in keep[:3])


def episodes_from_events(events: Iterable[dict], t: np.ndarray, pspi: np.ndarray,
                         aus: dict[str, np.ndarray], end_t: float,
                         end_reason: str = "stopped") -> list[Episode]:
    """Group ``onset`` / ``offset`` events (``EpisodeEvent.to_dict()`` or watch JSON lines)
    into episodes; an episode still open at ``end_t`` ends there with ``end_reason``.
    ``t``, ``pspi`` and ``aus`` (``(T,)`` each) give its peak and dominant AUs."""
    open_: dict[int, dict] = {}
    order: list[int] = []
    for ev in events:
        kind, n = ev.get("type"), int(ev.get("episode", 0))
        if kind == "onset":
            if n not in open_:
                open_[n] = {"start": float(ev["started_s"]), "announced": float(ev["t"]),
                            "alarms": [], "end": None, "reason": ""}
                order.append(n)
            open_[n]["alarms"].append([float(ev["t"]), None])
        elif kind == "offset" and n in open_ and open_[n]["alarms"]:
            ep = open_[n]
            if ep["alarms"][-1][1] is None:
                ep["alarms"][-1][1] = float(ev["t"])
            ep["end"], ep["reason"] = float(ev["t"]), str(ev.get("reason", ""))
    out = []
    t = np.asarray(t, dtype=np.float64)
    for n in order:
        ep = open_[n]
        alarms = tuple(Span(a, end_t if b is None else b) for a, b in ep["alarms"])
        if alarms[-1].end == end_t and (ep["end"] is None or ep["end"] < alarms[-1].start):
            ep["end"], ep["reason"] = end_t, end_reason
        end = float(ep["end"])
        sel = (t >= ep["start"] - 1e-9) & (t <= end + 1e-9)
        p = pspi[sel]
        p = p[np.isfinite(p)]
        out.append(Episode(n, ep["start"], ep["announced"], end, ep["reason"], alarms,
                           float(p.max()) if p.size else math.nan, _dominant(aus, sel)))
    return out


def _f32(values: Iterable) -> np.ndarray:
    return np.array([math.nan if v is None else v for v in values], dtype=np.float32)


@dataclass(frozen=True)
class Timeline:
    """Scores over time, ready to plot and report.

    Attributes:
        t: ``(T,) float64`` seconds from the start of the video (or of the watch session).
        pspi: ``(T,) float32`` PSPI, NaN where unscored.
        aus: ``{"au4": (T,), ...}`` the six PSPI AUs, NaN where unscored.
        pain_prob: ``(T,) float32`` or None (a scorer without it).
        face: ``(T,) bool`` the subject's face was found.
        pose_ok: ``(T,) bool`` head pose within the limits (False: flagged, unscored).
        episodes: as the monitor announced them.
        alarm: ``(T,) int16`` the number of the episode whose alarm is up at each sample
            (0: none); offline exactly ``alarm_series``, from a log its ``in_episode``.
        policy: the alert policy behind them (its ``onset_threshold`` is drawn).
        camera_lost: stretches without a camera (watch logs only).
        calibrating: ``(T,) bool`` the monitor was still learning the neutral face (watch
            logs only; no score then), or None.
        clock_start: Unix time of ``t = 0`` where known (watch logs), for clock times.
        unreadable: ``(T,) bool`` a face too dark, blurred or covered to read (the quality
            flags of ``analyze`` or of a watch log; unscored), or None where not known.
        acquiring: ``(T,) bool`` a face just found whose mesh was still settling (watch
            logs' ``acquiring``: the monitor's first frames of a face; unscored), or None.
        name: what the timeline is of (a file name).
        meta: what the report states about its making (scorer, calibration, versions...).
    """

    t: np.ndarray
    pspi: np.ndarray
    aus: dict[str, np.ndarray]
    pain_prob: np.ndarray | None
    face: np.ndarray
    pose_ok: np.ndarray
    episodes: list[Episode]
    alarm: np.ndarray
    policy: AlertPolicy
    camera_lost: list[Span] = field(default_factory=list)
    calibrating: np.ndarray | None = None
    clock_start: float | None = None
    name: str = ""
    meta: dict = field(default_factory=dict)
    unreadable: np.ndarray | None = None
    acquiring: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.t.shape[0])

    @property
    def parts(self) -> dict[str, np.ndarray]:
        """The four PSPI terms by label, each ``(T,) float32`` (NaN where unscored)."""
        return {label: np.max(np.stack([self.aus[n] for n in names]), axis=0)
                for label, names in PSPI_PARTS}

    @property
    def span_s(self) -> float:
        """Seconds covered: first to last sample plus one step."""
        if len(self) == 0:
            return 0.0
        step = float(np.median(np.diff(self.t))) if len(self) > 1 else 0.0
        return float(self.t[-1] - self.t[0] + step)

    def no_face(self, max_step: float | None = None) -> list[Span]:
        return spans_of(self.t, ~self.face, max_step)

    def pose_flagged(self, max_step: float | None = None) -> list[Span]:
        return spans_of(self.t, self.face & ~self.pose_ok, max_step)

    def unreadable_spans(self, max_step: float | None = None) -> list[Span]:
        """Stretches with a face too dark, blurred or covered to score."""
        if self.unreadable is None:
            return []
        return spans_of(self.t, self.face & self.pose_ok & self.unreadable, max_step)

    def headline(self) -> dict[str, float | int | None]:
        """The numbers a reader looks at first."""
        p = self.pspi.astype(np.float64)
        fin = p[np.isfinite(p)]
        n = len(self)
        prob = None
        if self.pain_prob is not None:
            q = self.pain_prob[np.isfinite(self.pain_prob)]
            prob = float(np.mean(q >= 0.5)) if q.size else None
        return {
            "duration_s": round(self.span_s, 2),
            "samples": n,
            "face_share": float(self.face.mean()) if n else 0.0,
            "scored_share": float(np.isfinite(p).mean()) if n else 0.0,
            "pose_flagged_share": float((self.face & ~self.pose_ok).mean()) if n else 0.0,
            "unreadable_share": (float((self.face & self.pose_ok & self.unreadable).mean())
                                 if n and self.unreadable is not None else 0.0),
            "pspi_mean": float(fin.mean()) if fin.size else None,
            "pspi_p95": float(np.percentile(fin, 95)) if fin.size else None,
            "pspi_max": float(fin.max()) if fin.size else None,
            "pspi_ge_threshold_share": (float(np.mean(fin >= self.policy.onset_threshold))
                                        if fin.size else None),
            "pain_prob_ge_0.5_share": prob,
            "episodes": len(self.episodes),
            "episode_s": round(sum(e.duration for e in self.episodes), 2),
            "camera_losses": len(self.camera_lost),
            "camera_lost_s": round(sum(s.duration for s in self.camera_lost), 2),
        }

    # ----------------------------------------------------------------- builders
    @classmethod
    def from_analysis(cls, analysis, policy: AlertPolicy | None = None,
                      name: str = "") -> Timeline:
        """From ``analyze_video``'s ``Analysis``; episodes as ``alarm_series`` (the monitor's
        ``AlertState`` under ``policy``) opens and closes them over its PSPI and pain_prob."""
        policy = policy or AlertPolicy()
        t = np.asarray(analysis.t, dtype=np.float64)
        pspi = analysis.pspi
        aus = {n: np.asarray(getattr(analysis.aus, n), dtype=np.float32) for n in AU_NAMES}
        summary = analysis.summary
        q = getattr(analysis, "quality", None)
        unreadable = None if q is None else (q.flags & SKIP_FLAGS) != 0
        return cls._scored(t, pspi, aus, analysis.pain_prob,
                           np.asarray(analysis.track.detected, dtype=bool),
                           np.asarray(analysis.pose.pose_ok, dtype=bool), policy,
                           name or Path(analysis.info.path).name, _meta_of_summary(summary),
                           unreadable)

    @classmethod
    def from_csv(cls, csv_path: str | os.PathLike[str], summary: dict | None = None,
                 policy: AlertPolicy | None = None) -> Timeline:
        """From ``analyze``'s ``<stem>.csv`` (and its ``<stem>.json`` summary)."""
        import csv

        policy = policy or AlertPolicy()
        with open(csv_path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))

        def col(name: str) -> np.ndarray:
            return _f32(float(r[name]) if r.get(name) else None for r in rows)

        t = np.array([float(r["time_s"]) for r in rows], dtype=np.float64)
        aus = {n: col(n) for n in AU_NAMES}
        prob = col("pain_prob")
        unreadable = (np.array([bool(set((r.get("quality_flags") or "").split("|"))
                                     & set(UNREADABLE)) for r in rows], dtype=bool)
                      if rows and "quality_flags" in rows[0] else None)
        return cls._scored(t, col("pspi"), aus, prob if np.isfinite(prob).any() else None,
                           np.array([r["face_detected"] == "1" for r in rows], dtype=bool),
                           np.array([r.get("pose_ok", "1") == "1" for r in rows], dtype=bool),
                           policy, Path(csv_path).stem,
                           _meta_of_summary(summary) if summary else {}, unreadable)

    @classmethod
    def _scored(cls, t, pspi, aus, pain_prob, face, pose_ok, policy, name, meta,
                unreadable=None) -> Timeline:
        state = AlertState(policy)
        events = []
        alarm = np.zeros(len(t), dtype=np.int16)
        probs = pain_prob if pain_prob is not None else np.full(len(t), np.nan)
        for i in range(len(t)):  # the loop of alarm_series, keeping the events
            p = float(pspi[i])
            ev = state.update(float(t[i]), p if math.isfinite(p) else None, None,
                              float(probs[i]))
            if ev is not None:
                events.append(ev.to_dict())
            alarm[i] = state.episodes if state.active else 0
        end = float(t[-1]) if len(t) else 0.0  # an episode still open ends with the video
        episodes = episodes_from_events(events, t, pspi, aus, end, "video_ends")
        return cls(t, np.asarray(pspi, dtype=np.float32), aus,
                   None if pain_prob is None else np.asarray(pain_prob, dtype=np.float32),
                   face, pose_ok, episodes, alarm, policy, name=name, meta=meta,
                   unreadable=unreadable)

    @classmethod
    def from_watch_log(cls, path: str | os.PathLike[str]) -> Timeline:
        """From the JSON lines of ``watch --out``: readings, episode events, camera losses.

        A log that ``--append`` grew over several runs is read as one timeline: each run's
        stream time is placed after its ``started`` event's wall-clock time.

        Raises:
            InputError: not a watch log (no line with a ``kind``), or a malformed line.
        """
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError(f"cannot read {p}: no such file") from None
        except UnicodeDecodeError:
            raise InputError(f"cannot read {p}: not a text file; expected the JSON lines of "
                             "`painvision watch --out`") from None
        except OSError as exc:
            raise InputError(f"cannot read {p}: {exc.strerror or exc}") from None
        records = []
        for k, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                if k == len(text.splitlines()):  # a last line cut short by a crash
                    continue
                raise InputError(f"{p}:{k}: not a JSON line; expected the output of "
                                 "`painvision watch --out`") from None
            if not isinstance(rec, dict) or rec.get("kind") not in ("reading", "event"):
                raise InputError(f"{p}:{k}: not a watch record (no kind reading/event); "
                                 "expected the output of `painvision watch --out`")
            aus = rec.get("aus")
            numbers = [(key, rec.get(key)) for key in _NUMBERS] + (
                [(f"aus.{n}", v) for n, v in aus.items()] if isinstance(aus, dict) else [])
            for key, v in numbers:
                if v is not None and not _plain_number(v):
                    raise InputError(f"{p}:{k}: {key} is {v!r}, not a number that a watch "
                                     "writes; expected the output of `painvision watch --out`")
            records.append(rec)
        readings = [r for r in records if r["kind"] == "reading"]
        if not readings:
            raise InputError(f"{p}: no readings; expected the output of `painvision watch "
                             "--out` (a watch that ran for at least one frame)")
        try:
            return _from_records(records, p.name)
        except (TypeError, ValueError, OverflowError, AttributeError) as exc:
            raise InputError(f"{p}: a damaged watch log ({exc})") from None


#: The numbers of a watch record, each absent, null or a finite number.
_NUMBERS = ("t", "wall", "started_s", "pspi", "pain_prob", "episode")


def _plain_number(v: object) -> bool:
    """A JSON number as a watch writes it: finite, and within the clock's range."""
    return (isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            and abs(v) < 1e11)


def _meta_of_summary(summary: dict) -> dict:
    import platform

    return {
        "source": summary.get("video", {}).get("path", ""),
        "scorer": summary.get("model", {}).get("scorer"),
        "device": summary.get("model", {}).get("device"),
        "baseline": summary.get("calibration", {}).get("baseline", {}),
        "pose_coupling": summary.get("calibration", {}).get("pose_coupling"),
        "calibration": summary.get("calibration", {}).get("scorer_gains", {}),
        "video": summary.get("video", {}),
        "face_mesh": summary.get("face_mesh", {}),
        "versions": {"painvision": summary.get("painvision_version"),
                     "python": platform.python_version()},
    }


def _from_records(records: list[dict], name: str) -> Timeline:
    """Readings and events of a watch log, runs laid end to end on the clock."""
    base = None      # Unix time of the current run's t = 0
    origin = None    # Unix time of the timeline's t = 0
    t, pspi, prob, face, pose_ok, in_ep, calib = [], [], [], [], [], [], []
    unread, acq = [], []
    aus: dict[str, list] = {n: [] for n in AU_NAMES}
    events, lost, runs = [], [], []
    lost_at = None
    policy = AlertPolicy()
    scorer = None
    for rec in records:
        if rec["kind"] == "event" and rec.get("type") == "started":
            base = float(rec.get("wall", 0.0))
            runs.append({k: rec.get(k) for k in ("source", "scorer", "neutral",
                                                 "painvision_version")})
            scorer = rec.get("scorer") or scorer
            pol = rec.get("alert_policy")
            if isinstance(pol, dict):
                try:
                    policy = AlertPolicy(**{k: v for k, v in pol.items()
                                            if k in AlertPolicy.__dataclass_fields__})
                except (InputError, TypeError):
                    pass
            continue
        if base is None:  # a log without its started line: the first record's clock
            base = float(rec.get("wall", 0.0)) - float(rec.get("t", 0.0) or 0.0)
        if origin is None:
            origin = base
        rec_t = rec.get("t")
        when = base - origin + (float(rec_t) if rec_t is not None else
                                float(rec.get("wall", base)) - base)
        if rec["kind"] == "reading":
            t.append(when)
            pspi.append(rec.get("pspi"))
            prob.append(rec.get("pain_prob"))
            a = rec.get("aus") or {}
            for n in AU_NAMES:
                aus[n].append(a.get(n))
            face.append(bool(rec.get("face_detected")))
            quality = rec.get("quality") or []
            pose_ok.append("pose_out_of_range" not in quality)
            in_ep.append(bool(rec.get("in_episode")))
            calib.append("calibrating" in quality)
            unread.append(any(flag in quality for flag in UNREADABLE))
            acq.append("acquiring" in quality)
        elif rec.get("type") in ("onset", "offset"):
            ev = dict(rec)
            shift = when - float(rec_t) if rec_t is not None else 0.0
            ev["t"] = when
            ev["started_s"] = float(rec.get("started_s", rec_t or 0.0)) + shift
            ev["episode"] = (len(runs), int(rec.get("episode", 0)))  # numbers restart per run
            events.append(ev)
        elif rec.get("type") == "camera_lost" and lost_at is None:
            lost_at = when
        elif rec.get("type") in ("camera_restored", "stopped") and lost_at is not None:
            lost.append(Span(lost_at, when))
            lost_at = None
    tt = np.asarray(t, dtype=np.float64)
    order = np.argsort(tt, kind="stable")
    tt = tt[order]
    end = float(tt[-1]) if tt.size else 0.0
    if lost_at is not None:
        lost.append(Span(lost_at, max(end, lost_at)))
    pspi_a = _f32(pspi)[order]
    aus_a = {n: _f32(v)[order] for n, v in aus.items()}
    prob_a = _f32(prob)[order]
    # episode numbers restart with each run of an appended log: renumber in time order
    keys = list(dict.fromkeys(ev["episode"] for ev in events))
    renumber = {k: i + 1 for i, k in enumerate(keys)}
    for ev in events:
        ev["episode"] = renumber[ev["episode"]]
    episodes = episodes_from_events(events, tt, pspi_a, aus_a, end, "log_ends")
    alarm = np.zeros(tt.size, dtype=np.int16)
    on = np.asarray(in_ep, dtype=bool)[order]
    for e in episodes:  # number the readings that the log says were in an episode
        for a in e.alarms:
            alarm[on & (tt >= a.start - 1e-6) & (tt <= a.end + 1e-6)] = e.number
    meta = {"source": ", ".join(str(r.get("source")) for r in runs) or "",
            "scorer": scorer, "runs": runs, "alert_policy": policy.to_dict(),
            "versions": {"painvision": next((r["painvision_version"] for r in runs
                                             if r.get("painvision_version")), None)}}
    return Timeline(tt, pspi_a, aus_a, prob_a if np.isfinite(prob_a).any() else None,
                    np.asarray(face, dtype=bool)[order], np.asarray(pose_ok, dtype=bool)[order],
                    episodes, alarm, policy, camera_lost=lost,
                    calibrating=np.asarray(calib, dtype=bool)[order], clock_start=origin, name=name,
                    meta=meta, unreadable=np.asarray(unread, dtype=bool)[order],
                    acquiring=np.asarray(acq, dtype=bool)[order])
