"""Pain episodes and video summaries as FHIR resources (``analyze --fhir``, ``watch
--notify-format fhir``).

Models and validation come from ``fhir.resources`` (8.x): its **R4B** models
(``fhir.resources.R4B``), since the package ships R5 (its default), R4B and STU3 but no
plain R4. R4B (4.3) changed nothing in ``Observation``, ``Bundle`` or ``CodeSystem`` that
the resources written here use, so what is written is also valid R4 (4.0.1). Every
resource is built from the library's models (which validate on construction) and
returned as the JSON dict of the validated model.

There is no LOINC (or SNOMED CT) code for PSPI, its action units or ``pain_prob``, so
they are coded in painvision's own CodeSystem, ``CODE_SYSTEM_URL`` (the file
``docs/fhir/painvision-codesystem.json``; ``codesystem()`` builds it). Its canonical URL
is a ``urn:uuid`` (uuid5 of ``painvision:fhir:CodeSystem`` in the URL namespace): the
project controls no web domain, and a URN claims none, never moves with the repository,
and is a valid canonical URL; a site that publishes the CodeSystem on its own terminology
server keeps the URL (a canonical URL names, it does not locate).

Layout (see the README, "FHIR"):

* one ``Observation`` per pain episode, code ``pain-episode``: ``valueQuantity`` the peak
  PSPI, ``effectivePeriod`` start (and end once it is over), status ``preliminary``
  while it is under way and ``final`` once it ended, components: episode number, mean
  PSPI, the six AU intensities, ``pain-prob``, duration, why it ended. ``method`` says
  how the numbers were made: ``video-analysis`` (per-frame PSPI over the whole episode;
  AUs and ``pain-prob`` are means over it) or ``live-monitor`` (the monitor's PSPI
  smoothed over 0.5 s; AUs and ``pain-prob`` at the frame that decided the event).
  Its ``id`` and ``identifier`` (``urn:ietf:rfc:3986`` | ``urn:uuid:...``) are a uuid5 of
  the session and the episode number, so the final Observation replaces the
  preliminary one at a receiver that updates by id or identifier.
* one summary ``Observation`` per video, code ``video-summary``.
* the monitor's own state (``started``, ``stopped``, ``camera_lost``,
  ``camera_restored``, ``no_patient_face`` events): a small ``Observation``, code
  ``monitor-state``, whose value says which, so a ward knows when the monitor was blind.

This module imports nothing of painvision but ``errors`` (it sits at the bottom of the
layers, so the live monitor and the reports can both use it); callers pass plain event
records or a ``Timeline``.
"""

from __future__ import annotations

import json
import logging
import math
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

import numpy as np

from painvision.errors import InputError

logger = logging.getLogger(__name__)

__all__ = [
    "CODE_SYSTEM_URL",
    "CODES",
    "check_reference",
    "codesystem",
    "episode_observation",
    "event_resource",
    "new_session_id",
    "parse_recorded_at",
    "video_bundle",
]

#: Canonical URL of painvision's CodeSystem (see the module docstring for why a URN).
CODE_SYSTEM_URL = "urn:uuid:cd9fc186-a8e6-543e-a8ce-cb491511f9f5"
CODE_SYSTEM_VERSION = "1.0.0"
#: Namespace of the uuid5 ids and identifiers of the resources written.
_ID_NAMESPACE = uuid.UUID("cd9fc186-a8e6-543e-a8ce-cb491511f9f5")
_UCUM = "http://unitsofmeasure.org"
_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"

_AUS = ("au4", "au6", "au7", "au9", "au10", "au43")

#: Every code of the CodeSystem: code -> (display, definition).
CODES: dict[str, tuple[str, str]] = {
    # what an Observation is
    "pain-episode": (
        "Facial pain episode (PSPI)",
        "A pain episode as painvision's monitor announces it: the smoothed PSPI (Prkachin-"
        "Solomon Pain Intensity, 0-16) has stayed at or above the alert threshold, with "
        "pain_prob where the scorer gives one. Value: the episode's peak PSPI (per-frame "
        "or smoothed: see the method codes video-analysis and live-monitor)."),
    "video-summary": (
        "Facial pain summary of a recording",
        "Scores of one analysed recording. Value: its mean PSPI over the frames where the "
        "subject's face was scored."),
    "monitor-state": (
        "Facial pain monitor state",
        "A change in what the live monitor can see (started, stopped, camera lost or "
        "restored, no patient face). Value: monitor-started, monitor-stopped, "
        "camera-lost, camera-restored or no-patient-face."),
    # how its numbers were made (Observation.method)
    "video-analysis": (
        "Scored offline over a recording",
        "painvision analyze: per-frame PSPI; an episode's peak is the highest per-frame "
        "PSPI in it, its AU and pain-prob components are their means over the episode."),
    "live-monitor": (
        "Announced by the live monitor",
        "painvision watch: PSPI smoothed over 0.5 s; an episode's peak and mean are of "
        "the smoothed PSPI, its AU and pain-prob components are the values at the frame "
        "that decided the onset or offset."),
    # components
    "pspi-mean": ("Mean PSPI", "Mean PSPI over the episode or recording (0-16)."),
    "pspi-p95": ("95th percentile of PSPI", "95th percentile of the per-frame PSPI."),
    "pspi-max": ("Highest PSPI", "Highest per-frame PSPI of the recording."),
    "pspi-ge-3-share": ("Share of time with PSPI >= 3",
                        "Percentage of scored frames with PSPI at or above 3."),
    "face-share": ("Share of time with the face found",
                   "Percentage of frames in which the subject's face was found."),
    "scored-share": ("Share of time scored",
                     "Percentage of frames scored (face found, head pose within limits)."),
    "pain-prob": ("Pain probability",
                  "Probability (0-1) that the face shows pain rather than one of its "
                  "look-alikes (laughing, crying, yawning, ...)."),
    "pain-prob-ge-0.5-share": ("Share of time with pain_prob >= 0.5",
                               "Percentage of scored frames with pain_prob at or above 0.5."),
    "au4": ("AU4 brow lowerer", "FACS action unit 4 intensity (0-5)."),
    "au6": ("AU6 cheek raiser", "FACS action unit 6 intensity (0-5)."),
    "au7": ("AU7 lid tightener", "FACS action unit 7 intensity (0-5)."),
    "au9": ("AU9 nose wrinkler", "FACS action unit 9 intensity (0-5)."),
    "au10": ("AU10 upper lip raiser", "FACS action unit 10 intensity (0-5)."),
    "au43": ("AU43 eyes closed", "FACS action unit 43: eyes closed (0-1)."),
    "episode-number": ("Episode number",
                       "Running number of the episode in its session or recording."),
    "episode-count": ("Number of pain episodes", "Pain episodes in the recording."),
    "duration": ("Duration", "Duration of the episode or recording, in seconds."),
    "end-reason": ("Why the episode ended", "Value: one of the ended-* codes."),
    # end reasons
    "ended-score-low": ("PSPI fell below the offset threshold",
                        "The smoothed PSPI stayed below the offset threshold long enough."),
    "ended-evidence-low": ("Face stopped looking like pain",
                           "The smoothed pain_prob stayed low long enough (the face turned "
                           "into a laugh, a yawn, ...)."),
    "ended-face-lost": ("Face lost", "The patient's face was not seen long enough."),
    "ended-stopped": ("Monitoring stopped", "Monitoring stopped during the episode."),
    "ended-video-ends": ("Recording ended", "The recording ended during the episode."),
    # monitor states
    "monitor-started": ("Monitoring started", "The monitor started watching."),
    "monitor-stopped": ("Monitoring stopped", "The monitor stopped watching."),
    "camera-lost": ("Camera lost",
                    "The camera stopped delivering frames: the monitor cannot see the "
                    "patient and announces nothing until it is restored."),
    "camera-restored": ("Camera restored", "Frames arrive again after a camera loss."),
    "no-patient-face": ("No patient face",
                        "Faces are seen but none is the patient: the monitor cannot score."),
}

_END_REASONS = {"score_low": "ended-score-low", "evidence_low": "ended-evidence-low",
                "face_lost": "ended-face-lost", "stopped": "ended-stopped",
                "video_ends": "ended-video-ends"}
_STATES = {"started": "monitor-started", "stopped": "monitor-stopped",
           "camera_lost": "camera-lost", "camera_restored": "camera-restored",
           "no_patient_face": "no-patient-face"}

_ID = r"[A-Za-z0-9\-.]{1,64}"


def check_reference(value: str, kind: str) -> str:
    """A FHIR literal reference to a ``kind`` resource (``"Patient"``, ``"Device"``):
    relative (``Patient/123``, optionally ``/_history/2``) or an absolute ``http(s)``
    URL ending so (``https://fhir.example.org/r4/Patient/123``). Returns it unchanged.

    Raises:
        InputError: anything else, in one line.
    """
    rel = re.compile(rf"{re.escape(kind)}/{_ID}(/_history/{_ID})?")
    ok = isinstance(value, str) and rel.fullmatch(value) is not None
    if not ok and isinstance(value, str) and "://" in value and value.isprintable():
        parts = urlsplit(value)
        tail = parts.path.split("/")
        k = len(tail) - (4 if len(tail) >= 4 and tail[-2] == "_history" else 2)
        ok = (parts.scheme in ("http", "https") and bool(parts.netloc) and not parts.query
              and not parts.fragment and " " not in value and k >= 1
              and rel.fullmatch("/".join(tail[k:])) is not None)
    if not ok:
        shown = value if not isinstance(value, str) or len(value) <= 80 else value[:77] + "..."
        raise InputError(f"invalid {kind.lower()} reference {shown!r}: expected {kind}/<id> "
                         f"(id: 1-64 letters, digits, '-' or '.') or an http(s) URL ending "
                         f"in /{kind}/<id>")
    return value


def parse_recorded_at(value: str) -> datetime:
    """``--recorded-at``: an ISO 8601 date-time with its UTC offset (``Z`` or ``+02:00``).

    Raises:
        InputError: not ISO 8601, or no offset (a local time is ambiguous in a record).
    """
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"--recorded-at: expected an ISO 8601 date-time such as "
                         f"2024-05-01T22:10:00+02:00, got {value!r}") from None
    if when.tzinfo is None or when.utcoffset() is None:
        raise InputError(f"--recorded-at: {value!r} has no UTC offset; add one, e.g. "
                         f"{when.isoformat(timespec='seconds')}+02:00 or ...Z")
    return when


def new_session_id() -> str:
    """A fresh session id for ``event_resource`` (one per ``watch`` run)."""
    return str(uuid.uuid4())


def codesystem() -> dict:
    """The painvision CodeSystem as a validated FHIR R4B ``CodeSystem`` JSON dict."""
    from fhir.resources.R4B.codesystem import CodeSystem

    cs = CodeSystem(
        id="painvision", url=CODE_SYSTEM_URL, version=CODE_SYSTEM_VERSION,
        name="PainVisionCodes", title="painvision facial pain codes", status="active",
        experimental=False, publisher="painvision project", caseSensitive=True,
        content="complete", count=len(CODES),
        description=(
            "Codes for what painvision measures from video of a face: PSPI (Prkachin-"
            "Solomon Pain Intensity, AU4 + max(AU6, AU7) + max(AU9, AU10) + AU43, 0-16), "
            "its FACS action units, pain_prob, pain episodes and the monitor's state. No "
            "LOINC or SNOMED CT code exists for PSPI, so painvision defines its own; the "
            "canonical URL is a urn:uuid because the project controls no web domain."),
        concept=[{"code": c, "display": d, "definition": f} for c, (d, f) in CODES.items()],
    )
    return _dump(cs)


class TimelineLike(Protocol):
    """What ``video_bundle`` reads of a ``painvision.report.timeline.Timeline``."""

    t: np.ndarray
    pspi: np.ndarray
    aus: dict[str, np.ndarray]
    pain_prob: np.ndarray | None
    face: np.ndarray
    episodes: Sequence[Any]

    @property
    def span_s(self) -> float: ...


# ------------------------------------------------------------------------ builders
def _dump(model: Any) -> dict:
    return json.loads(model.model_dump_json())


def _when(t: datetime) -> str:
    return t.isoformat(timespec="milliseconds")


def _coding(code: str) -> dict:
    return {"system": CODE_SYSTEM_URL, "code": code, "display": CODES[code][0]}


def _concept(code: str, text: str | None = None) -> dict:
    return {"coding": [_coding(code)], "text": text or CODES[code][0]}


def _finite(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _quantity(value: Any, unit: str, digits: int) -> dict | None:
    v = _finite(value)
    if v is None:
        return None
    return {"value": round(v, digits), "unit": unit, "system": _UCUM, "code": unit}


def _components(values: list[tuple[str, str, Any]]) -> list[dict]:
    """(code, kind, value) -> components; kind: score | prob | percent | s | int | code.
    Missing or non-finite values are left out."""
    units = {"score": ("{score}", 2), "prob": ("1", 3), "percent": ("%", 1), "s": ("s", 2)}
    out = []
    for code, kind, value in values:
        if value is None:
            continue
        if kind in units:
            q = _quantity(value, *units[kind])
            if q is not None:
                out.append({"code": _concept(code), "valueQuantity": q})
        elif kind == "int":
            out.append({"code": _concept(code), "valueInteger": int(value)})
        else:
            out.append({"code": _concept(code), "valueCodeableConcept": _concept(value)})
    return out


def _ident(session_id: str, what: str) -> str:
    if not session_id:
        raise InputError("session_id must be a non-empty string")
    return str(uuid.uuid5(_ID_NAMESPACE, f"{session_id}/{what}"))


def _observation(uid: str, *, status: str, code: str, method: str, patient_ref: str,
                 device_ref: str | None, issued: datetime, value: dict | None,
                 components: list[dict], category: bool = True,
                 **extra: Any) -> Any:
    from fhir.resources.R4B.observation import Observation

    check_reference(patient_ref, "Patient")
    if device_ref is not None:
        check_reference(device_ref, "Device")
    body: dict[str, Any] = {
        "id": uid,
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{uid}"}],
        "status": status,
        "code": _concept(code),
        "subject": {"reference": patient_ref},
        "issued": _when(issued),
        "method": _concept(method),
    }
    if category:
        body["category"] = [{"coding": [{"system": _CATEGORY, "code": "survey",
                                         "display": "Survey"}]}]
    if device_ref is not None:
        body["device"] = {"reference": device_ref}
    if value is not None:
        body.update(value)
    elif code != "monitor-state":
        body["dataAbsentReason"] = {"coding": [{"system": _ABSENT, "code": "unknown"}],
                                    "text": "no scored frame"}
    if components:
        body["component"] = components
    body.update(extra)
    return Observation(**body)


def episode_observation(*, session_id: str, number: int, start: datetime,
                        end: datetime | None, peak: float | None, mean: float | None,
                        aus: Mapping[str, float] | None, pain_prob: float | None,
                        patient_ref: str, device_ref: str | None = None,
                        method: str = "live-monitor", end_reason: str | None = None,
                        issued: datetime | None = None) -> dict:
    """One pain episode as an ``Observation`` (JSON dict of the validated model).

    Args:
        session_id: the monitor run or recording the episode belongs to; with ``number``
            it makes the Observation's ``id`` and ``identifier`` (the same for the
            preliminary and the final one).
        number: the episode's running number in that session.
        start: when the episode began (timezone-aware).
        end: when it ended, or None while it is under way (status ``preliminary``;
            ``final`` once it has an end).
        peak: highest PSPI of the episode (so far): the Observation's value.
        mean: mean PSPI over it (None: not known; left out).
        aus: AU intensities (``au4``... ``au43``) behind the score; None: left out.
        pain_prob: where the scorer gives one.
        patient_ref: ``Patient/<id>`` or an absolute URL to one (``check_reference``).
        device_ref: ``Device/<id>`` or None.
        method: ``live-monitor`` or ``video-analysis`` (what the numbers mean).
        end_reason: ``score_low``, ``evidence_low``, ``face_lost``, ``stopped`` or
            ``video_ends`` (ended episodes).
        issued: when the result was made (default: now).

    Raises:
        InputError: an invalid reference, a naive datetime, an unknown method.
    """
    if method not in ("live-monitor", "video-analysis"):
        raise InputError(f"method must be live-monitor or video-analysis, got {method!r}")
    for name, t in (("start", start), ("end", end)):
        if t is not None and t.utcoffset() is None:
            raise InputError(f"{name} must be timezone-aware, got {t.isoformat()}")
    period = {"start": _when(start)}
    if end is not None:
        period["end"] = _when(max(end, start))
    aus = aus or {}
    comps = _components(
        [("episode-number", "int", number), ("pspi-mean", "score", mean)]
        + [(n, "score", aus.get(n)) for n in _AUS]
        + [("pain-prob", "prob", pain_prob),
           ("duration", "s", (end - start).total_seconds() if end is not None else None),
           ("end-reason", "code", _END_REASONS.get(end_reason or "")
            if end is not None else None)])
    q = _quantity(peak, "{score}", 2)
    obs = _observation(
        _ident(session_id, f"episode/{int(number)}"),
        status="preliminary" if end is None else "final", code="pain-episode",
        method=method, patient_ref=patient_ref, device_ref=device_ref,
        issued=issued or datetime.now(UTC), value=None if q is None else {"valueQuantity": q},
        components=comps, effectivePeriod=period)
    return _dump(obs)


def event_resource(record: Mapping[str, Any], *, patient_ref: str, device_ref: str | None,
                   session_id: str) -> dict | None:
    """The Observation for one ``watch`` event record (a JSON line with ``kind: event``).

    ``onset`` -> the episode, ``preliminary``, no end (a resumed episode goes back to
    ``preliminary``: it is under way again); ``offset`` -> the same episode (same ``id``
    and ``identifier``), ``final``, with its end, duration, mean (when the record has
    ``mean``) and why it ended. Times: the record's ``wall`` is when the event was
    decided, its ``t`` and ``started_s`` stream seconds; the episode began at
    ``started_wall`` (set once by ``watch`` at the onset), or for older records at
    ``wall - (t - started_s)``. ``started``, ``stopped``, ``camera_lost``,
    ``camera_restored``, ``no_patient_face`` -> a ``monitor-state`` Observation at
    ``wall`` (final, one per event). Any other record (readings, unknown types) -> None.

    Raises:
        InputError: an invalid reference, or an onset/offset missing ``wall``, ``t``,
            ``started_s`` or ``episode``.
    """
    if record.get("kind") != "event":
        return None
    kind = record.get("type")
    try:
        wall = datetime.fromtimestamp(float(record["wall"]), tz=UTC)
        if kind in ("onset", "offset"):
            t, started = float(record["t"]), float(record["started_s"])
            number = int(record["episode"])
    except (KeyError, TypeError, ValueError):
        need = "wall, t, started_s and episode" if kind in ("onset", "offset") else "wall"
        raise InputError(f"watch {kind} event: expected numeric {need}, got "
                         f"{json.dumps(dict(record), default=str)[:200]}") from None
    if kind in ("onset", "offset"):
        if isinstance(record.get("started_wall"), int | float):
            # watch fixes the episode's start once, at its onset: the same in every record
            start = datetime.fromtimestamp(float(record["started_wall"]), tz=UTC)
        else:  # a log written before records carried it
            start = wall - timedelta(seconds=max(t - started, 0.0))
        ended = kind == "offset"
        return episode_observation(
            session_id=session_id, number=number, start=start, end=wall if ended else None,
            peak=record.get("peak"), mean=record.get("mean"), aus=record.get("aus"),
            pain_prob=record.get("pain_prob"), patient_ref=patient_ref,
            device_ref=device_ref, method="live-monitor",
            end_reason=str(record.get("reason", "")) if ended else None, issued=wall)
    if kind not in _STATES:
        return None
    text = CODES[_STATES[kind]][0]
    if kind == "stopped" and record.get("reason"):
        text += f" ({record['reason']})"
    uid = _ident(session_id, f"state/{kind}/{record.get('id', '')}/{record['wall']}")
    obs = _observation(uid, status="final", code="monitor-state", method="live-monitor",
                       patient_ref=patient_ref, device_ref=device_ref, issued=wall,
                       value={"valueCodeableConcept": _concept(_STATES[kind], text)},
                       components=[], category=False, effectiveDateTime=_when(wall))
    return _dump(obs)


def video_bundle(timeline: TimelineLike, *, patient_ref: str, device_ref: str | None = None,
                 recorded_at: datetime, session_id: str | None = None,
                 note: str | None = None) -> dict:
    """A ``Bundle`` (type ``collection``) for one analysed recording: a summary
    Observation (``video-summary``: mean PSPI; p95, max, share >= 3, face and scored
    shares, pain_prob >= 0.5 share, episode count, duration; ``hasMember`` the episodes),
    then one ``final`` ``pain-episode`` Observation per ``timeline.episodes`` (peak and
    mean per-frame PSPI, mean AUs and pain_prob over the episode, why it ended).

    Args:
        timeline: ``Timeline.from_analysis(analysis)`` (or any ``Timeline``).
        recorded_at: when the recording's ``t = 0`` was (timezone-aware).
        session_id: makes the ids (default: the timeline's name and ``recorded_at``, so
            analysing the same recording again gives the same ids).
        note: a note on the summary (e.g. how ``recorded_at`` was found).

    Raises:
        InputError: an invalid reference, or a naive ``recorded_at``.
    """
    from fhir.resources.R4B.bundle import Bundle

    if recorded_at.utcoffset() is None:
        raise InputError(f"recorded_at must be timezone-aware, got {recorded_at.isoformat()}")
    check_reference(patient_ref, "Patient")
    # the patient and camera are part of the ids: two beds' camera.mp4 recorded at the same
    # time must not update each other's records at a receiver
    session = session_id or (f"video/{patient_ref}/{device_ref or ''}/"
                             f"{getattr(timeline, 'name', '')}/{_when(recorded_at)}")
    now = datetime.now(UTC)
    t = np.asarray(timeline.t, dtype=np.float64)
    pspi = np.asarray(timeline.pspi, dtype=np.float64)
    prob = None if timeline.pain_prob is None else np.asarray(timeline.pain_prob, np.float64)

    def at(s: float) -> datetime:
        return recorded_at + timedelta(seconds=float(s))

    def mean(x: np.ndarray) -> float | None:
        x = x[np.isfinite(x)]
        return float(x.mean()) if x.size else None

    episodes = []
    for ep in timeline.episodes:
        sel = (t >= ep.start - 1e-9) & (t <= ep.end + 1e-9)
        episodes.append(episode_observation(
            session_id=session, number=ep.number, start=at(ep.start), end=at(ep.end),
            peak=ep.peak_pspi, mean=mean(pspi[sel]),
            aus={n: mean(np.asarray(timeline.aus[n], np.float64)[sel]) for n in _AUS
                 if n in timeline.aus},
            pain_prob=None if prob is None else mean(prob[sel]),
            patient_ref=patient_ref, device_ref=device_ref, method="video-analysis",
            end_reason=ep.reason, issued=now))
    fin = pspi[np.isfinite(pspi)]
    n = max(t.size, 1)
    qprob = None if prob is None else prob[np.isfinite(prob)]
    comps = _components([
        ("pspi-p95", "score", float(np.percentile(fin, 95)) if fin.size else None),
        ("pspi-max", "score", float(fin.max()) if fin.size else None),
        ("pspi-ge-3-share", "percent", 100 * float(np.mean(fin >= 3)) if fin.size else None),
        ("face-share", "percent", 100 * float(np.asarray(timeline.face).sum()) / n),
        ("scored-share", "percent", 100 * fin.size / n),
        ("pain-prob-ge-0.5-share", "percent",
         100 * float(np.mean(qprob >= 0.5)) if qprob is not None and qprob.size else None),
        ("episode-count", "int", len(episodes)),
        ("duration", "s", timeline.span_s),
    ])
    q = _quantity(mean(pspi), "{score}", 2)
    extra: dict[str, Any] = {"effectivePeriod": {"start": _when(recorded_at),
                                                 "end": _when(at(timeline.span_s))}}
    if episodes:
        extra["hasMember"] = [{"reference": f"urn:uuid:{e['id']}"} for e in episodes]
    if note:
        extra["note"] = [{"text": note}]
    summary = _dump(_observation(
        _ident(session, "summary"), status="final", code="video-summary",
        method="video-analysis", patient_ref=patient_ref, device_ref=device_ref,
        issued=now, value=None if q is None else {"valueQuantity": q}, components=comps,
        **extra))
    bundle_id = _ident(session, "bundle")
    bundle = Bundle(
        id=bundle_id, type="collection", timestamp=_when(now),
        identifier={"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{bundle_id}"},
        entry=[{"fullUrl": f"urn:uuid:{r['id']}", "resource": r}
               for r in [summary, *episodes]])
    logger.info("FHIR bundle for %s: %d episode(s)", getattr(timeline, "name", ""),
                len(episodes))
    return _dump(bundle)
