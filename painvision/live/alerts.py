"""When a live score becomes a pain episode: onset, offset, refractory period.

The policy works on the PSPI of the monitored patient and, where the scorer gives one,
its pain probability (``pain_prob``), both smoothed over the recent past. PSPI says how
much of pain's face is showing; ``pain_prob`` says whether it is pain rather than a
laugh, a yawn, a sneeze or crying, which can show as much. An alarm needs both: an
episode starts when the smoothed PSPI has stayed at or above ``onset_threshold`` *and*
the smoothed ``pain_prob`` at or above ``evidence_threshold`` for ``onset_min_s``; it
ends when either has stayed low (PSPI below ``offset_threshold``, or ``pain_prob`` below
``evidence_offset``) for ``offset_min_s`` (hysteresis: the thresholds differ, so a score
hovering near one line does not flap), or when the patient's face has been missing for
``face_lost_s``. A scorer without ``pain_prob`` (``--scorer analytic``) alarms on PSPI
alone.
Pain that returns within ``refractory_s`` of an offset is announced at once, as the same
episode resuming: pain is never held back, and the nurses' station can show one
intermittent episode rather than a string of new ones.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import asdict, dataclass

import numpy as np

from painvision.errors import InputError

__all__ = ["AlertPolicy", "AlertState", "EpisodeEvent", "alarm_series"]


@dataclass(frozen=True)
class AlertPolicy:
    """Alert parameters. Defaults, and why:

    Attributes:
        smooth_s: 0.5. Causal running mean of PSPI over this many seconds. The scorer
            already removes blinks (0.5 s running median); this removes the frame-to-frame
            jitter of the face mesh without delaying an alert by more than about half of it.
        onset_threshold: 3.0. PSPI >= 3 is the stricter of the two cut-offs used in the
            literature (>= 1 and >= 3); a single frown (AU4 alone, up to 2) or squint
            does not reach it, a pain face (brow, orbit and nose/lip together) does.
        onset_min_s: 0.5. The smoothed score must stay above the onset threshold this
            long: a twitch or a sneeze passes, a grimace stays. Early warning is the point,
            so it is kept short; false alarms are held back by the threshold and this hold.
        offset_threshold: 1.5. Below this the face is back near rest (half the onset
            threshold: hysteresis).
        offset_min_s: 2.0. It must stay below that long before the episode is over, so a
            brief relaxation inside one episode does not split it in two.
        refractory_s: 30.0. An onset within this long after an offset is the same episode
            resuming: announced at once (a monitor must never hold pain back), flagged
            ``resumed`` with the episode's number and start, so that a patient whose
            grimaces come and go reads as one intermittent episode, not as many.
        face_lost_s: 5.0. An episode in progress ends (reason ``face_lost``) when the
            patient's face has not been seen this long: the monitor cannot say the pain
            goes on, and must not keep an alarm up that it cannot support.
        evidence_threshold: 0.6. The smoothed ``pain_prob`` must be at least this, beside
            the PSPI, for an onset. A laugh that squeezes the eyes shut reaches PSPI 6 or
            more by FACS, and is held back here. Chosen on the validation subjects of the
            evidence's training data (never the held-out benchmark): from 0.5 to 0.6 false
            alarms fell by a fifth to a third there, with no episode fewer announced; 0.7
            lost episodes.
        evidence_offset: 0.25. Below this (for ``offset_min_s``) the face no longer looks
            like pain and the episode ends (reason ``evidence_low``), even if PSPI stays
            up (pain turning into a yawn or a laugh). Half the onset level: hysteresis.
    """

    smooth_s: float = 0.5
    onset_threshold: float = 3.0
    onset_min_s: float = 0.5
    offset_threshold: float = 1.5
    offset_min_s: float = 2.0
    refractory_s: float = 30.0
    face_lost_s: float = 5.0
    evidence_threshold: float = 0.6
    evidence_offset: float = 0.25

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise InputError(f"alert policy: {name} must be a number >= 0, got {value!r}")
        if not 0 < self.onset_threshold <= 16:
            raise InputError(f"alert policy: onset_threshold must be in (0, 16], "
                             f"got {self.onset_threshold}")
        if self.offset_threshold > self.onset_threshold:
            raise InputError("alert policy: offset_threshold must not exceed onset_threshold "
                             f"({self.offset_threshold} > {self.onset_threshold})")
        if not 0 <= self.evidence_offset <= self.evidence_threshold <= 1:
            raise InputError("alert policy: need 0 <= evidence_offset <= evidence_threshold "
                             f"<= 1, got {self.evidence_offset} and {self.evidence_threshold}")

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class EpisodeEvent:
    """An episode starting (``onset``) or ending (``offset``).

    Attributes:
        type: ``"onset"`` or ``"offset"``.
        t: the stream time (seconds) of the frame that decided it.
        episode: running number of the episode in this monitor.
        score: smoothed PSPI at that frame.
        started_s: when the episode's score first crossed the onset threshold.
        peak: highest smoothed PSPI so far in the episode.
        duration_s: from ``started_s`` to ``t`` (offset only; 0 for an onset).
        reason: why an episode ended: ``score_low``, ``evidence_low``, ``face_lost`` or
            ``stopped``.
        aus: the AU intensities behind the score at that frame (explainability).
        resumed: an onset within ``refractory_s`` of the previous offset: the same
            episode (number and start) going on.
        pain_prob: smoothed pain probability at that frame (None without one).
        mean: mean smoothed PSPI over the episode's scored frames so far (from its
            onset, resumptions included).
    """

    type: str
    t: float
    episode: int
    score: float
    started_s: float
    peak: float
    duration_s: float = 0.0
    reason: str = ""
    aus: dict[str, float] | None = None
    resumed: bool = False
    pain_prob: float | None = None
    mean: float | None = None

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        for k in ("t", "score", "started_s", "peak", "duration_s"):
            d[k] = round(float(d[k]), 3)
        for k in ("pain_prob", "mean"):
            if d[k] is not None:
                d[k] = round(float(d[k]), 3)
        if d["aus"] is not None:
            d["aus"] = {k: round(float(v), 3) for k, v in d["aus"].items()}
        return d


class AlertState:
    """The policy's state machine over one stream. Bounded: one window of the last
    ``smooth_s`` seconds of scores."""

    def __init__(self, policy: AlertPolicy | None = None, max_window: int = 1024) -> None:
        self.policy = policy or AlertPolicy()
        self._window: deque[tuple[float, float, float]] = deque(maxlen=max_window)
        self._above_since: float | None = None
        self._below_since: float | None = None
        self._unlike_since: float | None = None
        self._last_face_t: float | None = None
        self._refractory_until = -math.inf
        self._episode = 0
        self._active = False
        self._started = 0.0
        self._peak = 0.0
        self._sum = 0.0
        self._n = 0
        self.smoothed: float | None = None
        #: smoothed pain_prob (None while the scorer gives none)
        self.smoothed_prob: float | None = None

    @property
    def active(self) -> bool:
        """An episode is in progress."""
        return self._active

    @property
    def episodes(self) -> int:
        return self._episode

    def _end(self, t: float, reason: str, aus: dict[str, float] | None) -> EpisodeEvent:
        self._active = False
        self._refractory_until = t + self.policy.refractory_s
        self._above_since = None
        self._below_since = None
        self._unlike_since = None
        return EpisodeEvent("offset", t, self._episode, self.smoothed or 0.0, self._started,
                            self._peak, t - self._started, reason, aus,
                            pain_prob=self.smoothed_prob,
                            mean=self._sum / self._n if self._n else None)

    def update(self, t: float, pspi: float | None, aus: dict[str, float] | None = None,
               pain_prob: float | None = None) -> EpisodeEvent | None:
        """Feed the frame at ``t`` (its PSPI, or None when the patient's face is not
        scored, and its pain_prob where the scorer gives one); returns the event this
        frame causes, if any."""
        p = self.policy
        if pspi is None or not math.isfinite(pspi):
            if self._active and (self._last_face_t is None
                                 or t - self._last_face_t >= p.face_lost_s):
                return self._end(t, "face_lost", None)
            if self._last_face_t is not None and t - self._last_face_t >= p.face_lost_s:
                self._window.clear()
                self.smoothed = self.smoothed_prob = None
                self._above_since = None
            return None
        self._last_face_t = t
        prob = (float(pain_prob) if pain_prob is not None and math.isfinite(pain_prob)
                else math.nan)
        self._window.append((t, float(pspi), prob))
        while self._window and self._window[0][0] < t - p.smooth_s - 1e-9:
            self._window.popleft()
        self.smoothed = sum(v for _, v, _ in self._window) / len(self._window)
        probs = [q for _, _, q in self._window if not math.isnan(q)]
        self.smoothed_prob = sum(probs) / len(probs) if probs else None
        s, q = self.smoothed, self.smoothed_prob
        if self._active:
            self._peak = max(self._peak, s)
            self._sum += s
            self._n += 1
            # Each condition has its own timer: the episode ends when either has held for
            # offset_min_s on its own.
            if s < p.offset_threshold:
                if self._below_since is None:
                    self._below_since = t
            else:
                self._below_since = None
            if q is not None and q < p.evidence_offset:
                if self._unlike_since is None:
                    self._unlike_since = t
            else:
                self._unlike_since = None
            for since, reason in ((self._below_since, "score_low"),
                                  (self._unlike_since, "evidence_low")):
                if since is not None and t - since >= p.offset_min_s - 1e-9:
                    return self._end(t, reason, aus)
            return None
        if s >= p.onset_threshold and (q is None or q >= p.evidence_threshold):
            if self._above_since is None:
                self._above_since = t
            if t - self._above_since >= p.onset_min_s - 1e-9:
                resumed = t < self._refractory_until
                self._active = True
                if resumed:
                    self._peak = max(self._peak, s)
                else:
                    self._episode += 1
                    self._started = self._above_since
                    self._peak = s
                    self._sum, self._n = 0.0, 0
                self._sum += s
                self._n += 1
                self._below_since = self._unlike_since = None
                return EpisodeEvent("onset", t, self._episode, s, self._started, self._peak,
                                    0.0, "", aus, resumed, q, self._sum / self._n)
        else:
            self._above_since = None
        return None

    def stop(self, t: float) -> EpisodeEvent | None:
        """End an open episode because monitoring stops (reason ``stopped``)."""
        return self._end(t, "stopped", None) if self._active else None


def alarm_series(t: np.ndarray, pspi: np.ndarray, pain_prob: np.ndarray | None = None,
                 policy: AlertPolicy | None = None) -> np.ndarray:
    """Where the policy would have had an episode open, frame by frame, over a recorded
    sequence: ``(T,) bool``. Used to count alarms offline as the monitor would raise them
    (``bench accuracy``); NaN scores are frames without the patient's face."""
    state = AlertState(policy)
    out = np.zeros(len(t), dtype=bool)
    probs = pain_prob if pain_prob is not None else np.full(len(t), np.nan)
    for i in range(len(t)):
        p = float(pspi[i])
        state.update(float(t[i]), p if math.isfinite(p) else None, None, float(probs[i]))
        out[i] = state.active
    return out
