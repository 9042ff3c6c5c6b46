"""FHIR resources: every one re-parsed by the library's R4B models; the shipped CodeSystem;
references; watch events from the real alert state machine; a video's Bundle from a
real ``Timeline``."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.codesystem import CodeSystem
from fhir.resources.R4B.observation import Observation

from painvision.errors import InputError
from painvision.fhir import (
    CODE_SYSTEM_URL,
    CODES,
    check_reference,
    codesystem,
    episode_observation,
    event_resource,
    parse_recorded_at,
    video_bundle,
)
from painvision.live.alerts import AlertState
from painvision.report.timeline import Timeline
from painvision.types import AU_NAMES

ROOT = Path(__file__).resolve().parent.parent
WALL0 = 1_714_600_000.0  # Unix time of the scripted stream's t = 0
PAIN_AUS = {"au4": 3.0, "au6": 1.0, "au7": 2.5, "au9": 1.5, "au10": 0.5, "au43": 0.0}
REST_AUS = dict.fromkeys(PAIN_AUS, 0.0)
REFS = {"patient_ref": "Patient/p-17", "device_ref": "Device/bed12-cam"}


def valid(resource: dict, model=Observation) -> dict:
    """Re-parse with the library's model; the JSON it gives back must be what we had."""
    parsed = model.model_validate(resource)
    assert json.loads(parsed.model_dump_json()) == resource
    return resource


def codes(resource: dict) -> list[str]:
    return [c["code"]["coding"][0]["code"] for c in resource.get("component", [])]


def component(resource: dict, code: str) -> dict:
    return next(c for c in resource["component"] if c["code"]["coding"][0]["code"] == code)


def when(s: str) -> datetime:
    return datetime.fromisoformat(s)


def watch_records(pspi_at, seconds: float, fps: float = 15.0, mean: bool = True) -> list[dict]:
    """Event records as ``watch`` writes them (``EpisodeEvent.to_dict()`` with kind and
    wall), from the real ``AlertState`` over a scripted PSPI."""
    state, out, scores = AlertState(), [], []
    for i in range(int(seconds * fps)):
        t = i / fps
        p = pspi_at(t)
        scores.append(p)
        ev = state.update(t, p, PAIN_AUS if p >= 3 else REST_AUS, 0.9 if p >= 3 else 0.1)
        if ev is not None:
            rec = {"kind": "event", "type": ev.type, **ev.to_dict(), "wall": WALL0 + t}
            if ev.type == "offset" and mean:
                rec["mean"] = 7.5
            elif not mean:
                rec.pop("mean", None)  # as logs written before events carried it
            out.append(rec)
    return out


# ------------------------------------------------------------------ CodeSystem
def test_the_shipped_codesystem_is_the_one_built_and_validates():
    shipped = json.loads((ROOT / "docs/fhir/painvision-codesystem.json").read_text())
    assert shipped == codesystem(), "run python scripts/make_fhir_codesystem.py"
    cs = CodeSystem.model_validate(shipped)
    assert cs.url == CODE_SYSTEM_URL and cs.content == "complete"
    assert [c.code for c in cs.concept] == list(CODES) and cs.count == len(CODES)
    assert {"pain-episode", "pain-prob", *AU_NAMES} <= set(CODES)
    assert "LOINC" in cs.description


# ------------------------------------------------------------------ references
@pytest.mark.parametrize("ref", [
    "Patient/123", "Patient/a-B.9", "Patient/1/_history/2",
    "https://fhir.example.org/r4/Patient/123", "http://ehr.local/Patient/x/_history/7",
])
def test_references_accepted(ref):
    assert check_reference(ref, "Patient") == ref


@pytest.mark.parametrize("ref", [
    "", "123", "Patient 123", "patient/123", "Patient/", "Device/123", "Patient/1/x",
    "Patient/" + "9" * 65, "Patient/12\nerror: injected", "ftp://h/Patient/1",
    "https:///Patient/1", "https://h/Patient/1?x=1", "https://h/Patient/1#a",
    "urn:uuid:1f0e", "Patient/ 1",
])
def test_invalid_references_are_one_line_input_errors(ref):
    with pytest.raises(InputError) as exc:
        check_reference(ref, "Patient")
    msg = str(exc.value)
    assert "\n" not in msg and msg.startswith("invalid patient reference")
    assert "Patient/<id>" in msg


def test_recorded_at_needs_an_offset():
    assert parse_recorded_at("2024-05-01T22:10:00Z").utcoffset() == timedelta(0)
    assert parse_recorded_at("2024-05-01T22:10:00+02:00").utcoffset() == timedelta(hours=2)
    for bad in ("2024-05-01T22:10:00", "yesterday", "22:10"):
        with pytest.raises(InputError):
            parse_recorded_at(bad)


# ------------------------------------------------------------------ watch events
@pytest.mark.parametrize("with_mean", [True, False])
def test_onset_then_offset_are_one_episode_preliminary_then_final(with_mean):
    records = watch_records(lambda t: 8.0 if 2.0 <= t < 6.0 else 0.3, 12.0, mean=with_mean)
    assert [r["type"] for r in records] == ["onset", "offset"]
    onset, offset = (valid(event_resource(r, session_id="run-1", **REFS)) for r in records)
    assert onset["id"] == offset["id"] and onset["identifier"] == offset["identifier"]
    assert onset["identifier"][0]["value"] == f"urn:uuid:{onset['id']}"
    assert (onset["status"], offset["status"]) == ("preliminary", "final")
    for obs in (onset, offset):
        assert obs["code"]["coding"][0] == {"system": CODE_SYSTEM_URL, "code": "pain-episode",
                                            "display": CODES["pain-episode"][0]}
        assert obs["category"][0]["coding"][0]["code"] == "survey"
        assert obs["subject"] == {"reference": "Patient/p-17"}
        assert obs["device"] == {"reference": "Device/bed12-cam"}
        assert obs["method"]["coding"][0]["code"] == "live-monitor"
        assert obs["valueQuantity"]["code"] == "{score}"
        assert obs["valueQuantity"]["system"] == "http://unitsofmeasure.org"
        assert {"episode-number", *AU_NAMES, "pain-prob"} <= set(codes(obs))
    # the episode began at wall - (t - started_s), in both
    rec_on, rec_off = records
    start = datetime.fromtimestamp(WALL0 + rec_on["started_s"], UTC)
    for obs in (onset, offset):
        assert abs(when(obs["effectivePeriod"]["start"]) - start) < timedelta(milliseconds=2)
    assert "end" not in onset["effectivePeriod"] and "duration" not in codes(onset)
    end = when(offset["effectivePeriod"]["end"])
    assert abs(end - datetime.fromtimestamp(rec_off["wall"], UTC)) < timedelta(milliseconds=2)
    assert component(offset, "duration")["valueQuantity"]["value"] == pytest.approx(
        rec_off["duration_s"], abs=0.01)
    assert component(offset, "end-reason")["valueCodeableConcept"]["coding"][0]["code"] == \
        "ended-score-low"
    assert offset["valueQuantity"]["value"] == pytest.approx(rec_off["peak"], abs=0.01)
    assert ("pspi-mean" in codes(offset)) is with_mean
    assert component(onset, "au4")["valueQuantity"]["value"] == 3.0


def test_ids_differ_between_sessions_and_episodes_and_a_resumed_episode_keeps_its_id():
    # pain, a pause shorter than the refractory period, pain again, then a new episode
    def pspi(t: float) -> float:
        return 8.0 if 1 <= t < 3 or 7 <= t < 9 or 45 <= t < 47 else 0.2

    records = watch_records(pspi, 55.0)
    onsets = [r for r in records if r["type"] == "onset"]
    assert [(r["episode"], r["resumed"]) for r in onsets] == [(1, False), (1, True), (2, False)]
    obs = [valid(event_resource(r, session_id="run-1", **REFS)) for r in records]
    by_episode = {}
    for rec, o in zip(records, obs, strict=True):
        by_episode.setdefault(rec["episode"], set()).add(o["id"])
    assert all(len(ids) == 1 for ids in by_episode.values()) and len(by_episode) == 2
    resumed = obs[records.index(onsets[1])]
    assert resumed["status"] == "preliminary" and "end" not in resumed["effectivePeriod"]
    assert resumed["effectivePeriod"]["start"] == obs[0]["effectivePeriod"]["start"]
    other = event_resource(records[0], session_id="run-2", **REFS)
    assert other["id"] != obs[0]["id"]


def test_monitor_state_events_and_other_records():
    base = {"kind": "event", "wall": WALL0 + 1.5, "t": 1.5}
    for kind, code in (("started", "monitor-started"), ("stopped", "monitor-stopped"),
                       ("camera_lost", "camera-lost"), ("camera_restored", "camera-restored"),
                       ("no_patient_face", "no-patient-face")):
        obs = valid(event_resource(base | {"type": kind, "reason": "signal"},
                                   session_id="run-1", patient_ref="Patient/1",
                                   device_ref=None))
        assert obs["code"]["coding"][0]["code"] == "monitor-state"
        assert obs["valueCodeableConcept"]["coding"][0]["code"] == code
        assert obs["status"] == "final" and "device" not in obs
        assert when(obs["effectiveDateTime"]) == datetime.fromtimestamp(WALL0 + 1.5, UTC)
    assert event_resource({"kind": "reading", "t": 1.0, "pspi": 9.0, "wall": WALL0},
                          session_id="s", **REFS) is None
    assert event_resource(base | {"type": "something_new"}, session_id="s", **REFS) is None


def test_event_with_invalid_references_or_fields_is_an_input_error():
    onset = watch_records(lambda t: 8.0 if t >= 1 else 0.0, 3.0)[0]
    with pytest.raises(InputError, match="invalid patient reference"):
        event_resource(onset, session_id="s", patient_ref="MRN 4711", device_ref=None)
    with pytest.raises(InputError, match="invalid device reference"):
        event_resource(onset, session_id="s", patient_ref="Patient/1", device_ref="cam12")
    broken = {k: v for k, v in onset.items() if k != "started_s"}
    with pytest.raises(InputError, match="started_s"):
        event_resource(broken, session_id="s", **REFS)


def test_episode_observation_needs_aware_times():
    start = datetime(2024, 5, 1, 22, 10)
    with pytest.raises(InputError, match="timezone"):
        episode_observation(session_id="s", number=1, start=start, end=None, peak=5.0,
                            mean=None, aus=None, pain_prob=None, patient_ref="Patient/1")


# ------------------------------------------------------------------ a video's Bundle
def timeline_csv(path: Path, fps: float = 10.0, seconds: float = 70.0, face: bool = True):
    """An ``analyze`` CSV: rest, two pain stretches, a stretch without a face, rest."""
    fields = ["frame", "time_s", "face_detected", "pose_ok", "pspi", *AU_NAMES, "pain_prob"]
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fields)
        w.writeheader()
        for i in range(int(seconds * fps)):
            t = i / fps
            pain = 5 <= t < 10 or 50 <= t < 54
            seen = face and not 30 <= t < 33
            aus = (dict(PAIN_AUS, au4=3.0 + (t % 1)) if pain else REST_AUS) if seen else {}
            pspi = (aus["au4"] + max(aus["au6"], aus["au7"]) + max(aus["au9"], aus["au10"])
                    + aus["au43"]) if seen else None
            w.writerow({"frame": i, "time_s": f"{t:.3f}", "face_detected": int(seen),
                        "pose_ok": 1, "pspi": "" if pspi is None else pspi,
                        **{n: aus.get(n, "") for n in AU_NAMES},
                        "pain_prob": (0.9 if pain else 0.1) if seen else ""})
    return Timeline.from_csv(path)


def test_video_bundle_has_the_timelines_episodes_and_a_summary(tmp_path):
    tl = timeline_csv(tmp_path / "bed.csv")
    assert len(tl.episodes) == 2
    start = datetime(2024, 5, 1, 22, 10, tzinfo=timezone(timedelta(hours=2)))
    bundle = valid(video_bundle(tl, recorded_at=start, **REFS), Bundle)
    assert bundle["type"] == "collection"
    resources = [e["resource"] for e in bundle["entry"]]
    for e in bundle["entry"]:
        assert e["fullUrl"] == f"urn:uuid:{e['resource']['id']}"
        valid(e["resource"])
    summary, *episodes = resources
    assert summary["code"]["coding"][0]["code"] == "video-summary"
    assert [m["reference"] for m in summary["hasMember"]] == \
        [e["fullUrl"] for e in bundle["entry"][1:]]
    assert len(episodes) == len(tl.episodes)
    t = tl.t
    for obs, ep in zip(episodes, tl.episodes, strict=True):
        assert obs["status"] == "final" and obs["method"]["coding"][0]["code"] == \
            "video-analysis"
        assert when(obs["effectivePeriod"]["start"]) == start + timedelta(seconds=ep.start)
        assert when(obs["effectivePeriod"]["end"]) == start + timedelta(seconds=ep.end)
        assert obs["effectivePeriod"]["start"].endswith("+02:00")
        assert obs["valueQuantity"]["value"] == pytest.approx(ep.peak_pspi, abs=0.005)
        sel = (t >= ep.start) & (t <= ep.end)
        assert component(obs, "pspi-mean")["valueQuantity"]["value"] == pytest.approx(
            np.nanmean(tl.pspi[sel]), abs=0.005)
        assert component(obs, "episode-number")["valueInteger"] == ep.number
        assert component(obs, "pain-prob")["valueQuantity"]["code"] == "1"
        assert set(AU_NAMES) <= set(codes(obs))
    h = tl.headline()
    assert summary["valueQuantity"]["value"] == pytest.approx(h["pspi_mean"], abs=0.005)
    assert component(summary, "face-share")["valueQuantity"]["value"] == pytest.approx(
        100 * h["face_share"], abs=0.05)
    assert component(summary, "pspi-ge-3-share")["valueQuantity"]["unit"] == "%"
    assert component(summary, "episode-count")["valueInteger"] == 2
    # the same recording again: the same ids (a receiver updates, not duplicates)
    again = video_bundle(tl, recorded_at=start, **REFS)
    assert [e["fullUrl"] for e in again["entry"]] == [e["fullUrl"] for e in bundle["entry"]]
    # another patient's video of the same name and start: no id in common
    other = video_bundle(tl, recorded_at=start, patient_ref="Patient/other-bed")
    ids = {e["fullUrl"] for e in bundle["entry"]} | {bundle["id"]}
    assert ids.isdisjoint({e["fullUrl"] for e in other["entry"]} | {other["id"]})


def test_video_bundle_without_any_face_or_with_bad_input(tmp_path):
    tl = timeline_csv(tmp_path / "empty.csv", seconds=5.0, face=False)
    start = datetime(2024, 5, 1, 20, 0, tzinfo=UTC)
    bundle = valid(video_bundle(tl, recorded_at=start, patient_ref="Patient/1",
                                note="start estimated"), Bundle)
    (entry,) = bundle["entry"]
    summary = entry["resource"]
    assert "valueQuantity" not in summary and summary["dataAbsentReason"]["coding"][0][
        "code"] == "unknown"
    assert summary["note"] == [{"text": "start estimated"}] and "hasMember" not in summary
    assert component(summary, "episode-count")["valueInteger"] == 0
    with pytest.raises(InputError, match="timezone"):
        video_bundle(tl, recorded_at=datetime(2024, 5, 1), patient_ref="Patient/1")
    with pytest.raises(InputError, match="invalid patient reference"):
        video_bundle(tl, recorded_at=start, patient_ref="4711")


def test_the_readme_example_validates():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("### FHIR", 1)[1].split("```json", 1)[1].split("```", 1)[0]
    obs = valid(json.loads(block))
    assert obs["code"]["coding"][0]["code"] == "pain-episode"
    assert {c["code"]["coding"][0]["code"] for c in obs["component"]} <= set(CODES)
