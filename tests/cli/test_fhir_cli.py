"""``analyze --fhir``, run as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle

pytestmark = pytest.mark.mediapipe

EXE = Path(sys.executable).with_name("painvision")
START = "2024-05-01T22:10:00+02:00"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(EXE), *args], capture_output=True, text=True, timeout=300)


def one_line_error(res: subprocess.CompletedProcess) -> str:
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    return lines[0]


@pytest.mark.parametrize("args, says", [
    (["--patient-ref", "MRN 4711"], "invalid patient reference 'MRN 4711'"),
    (["--patient-ref", "Patient/1", "--device-ref", "bed 12"], "invalid device reference"),
    ([], "--fhir needs --patient-ref"),
    (["--patient-ref", "Patient/1", "--recorded-at", "2024-05-01T22:10"], "no UTC offset"),
])
def test_bad_fhir_options_fail_in_one_line_before_any_video_is_read(short_clip, tmp_path,
                                                                     args, says):
    out = tmp_path / "out"
    t0 = time.monotonic()
    line = one_line_error(run("analyze", str(short_clip), "--out", str(out), "--fhir", *args))
    assert says in line
    assert time.monotonic() - t0 < 20  # no analysis ran (the clip takes longer)
    assert not out.exists()


def test_fhir_options_without_fhir_are_refused(short_clip, tmp_path):
    line = one_line_error(run("analyze", str(short_clip), "--out", str(tmp_path / "o"),
                              "--patient-ref", "Patient/1"))
    assert "only apply to --fhir" in line


def test_analyze_fhir_writes_a_valid_bundle_of_the_timelines_episodes(short_clip, tmp_path):
    from painvision.pipeline import analyze_video
    from painvision.report.timeline import Timeline

    out = tmp_path / "out"
    res = run("analyze", str(short_clip), "--out", str(out), "-q", "--fhir",
              "--patient-ref", "Patient/p-17", "--device-ref", "Device/bed12-cam",
              "--recorded-at", START)
    assert res.returncode == 0, res.stderr
    path = out / "short.fhir.json"
    bundle = json.loads(path.read_text())
    Bundle.model_validate(bundle)  # every resource in it, by the library's R4B models
    summary, *episodes = (e["resource"] for e in bundle["entry"])
    assert summary["code"]["coding"][0]["code"] == "video-summary"
    assert all(r["subject"] == {"reference": "Patient/p-17"} for r in [summary, *episodes])
    assert all(r["device"] == {"reference": "Device/bed12-cam"} for r in [summary, *episodes])
    expected = Timeline.from_analysis(analyze_video(short_clip)).episodes
    assert expected, "the short clip holds a pain episode"
    start = datetime.fromisoformat(START)
    assert len(episodes) == len(expected)
    for obs, ep in zip(episodes, expected, strict=True):
        assert obs["status"] == "final"
        period = obs["effectivePeriod"]
        assert abs(datetime.fromisoformat(period["start"]) - start
                   - timedelta(seconds=ep.start)) < timedelta(milliseconds=2)
        assert abs(datetime.fromisoformat(period["end"]) - start
                   - timedelta(seconds=ep.end)) < timedelta(milliseconds=2)
        assert obs["valueQuantity"]["value"] == pytest.approx(ep.peak_pspi, abs=0.005)
    assert not list(out.glob(".*"))  # no temporary file left

    # an existing Bundle is refused before any work, and kept
    path.write_text("mine")
    for ext in (".csv", ".json"):
        (out / f"short{ext}").unlink()
    line = one_line_error(run("analyze", str(short_clip), "--out", str(out), "-q", "--fhir",
                              "--patient-ref", "Patient/p-17"))
    assert "short.fhir.json exists" in line and path.read_text() == "mine"
    assert not (out / "short.csv").exists()


def test_fhir_in_jobs_workers_with_the_start_estimated_from_the_file(short_clip,
                                                                      no_face_clip, tmp_path):
    out = tmp_path / "out"
    res = run("analyze", str(short_clip), str(no_face_clip), "--out", str(out), "--fhir",
              "--patient-ref", "https://fhir.example.org/r4/Patient/p-17", "-j", "2")
    assert res.returncode == 0, res.stderr
    assert f"wrote {out / 'noface.fhir.json'}" in res.stdout.replace("\n", "")
    for video, stem in ((short_clip, "short"), (no_face_clip, "noface")):
        bundle = json.loads((out / f"{stem}.fhir.json").read_text())
        Bundle.model_validate(bundle)
        summary = bundle["entry"][0]["resource"]
        assert "modification time" in summary["note"][0]["text"]
        end = datetime.fromisoformat(summary["effectivePeriod"]["end"])
        mtime = video.stat().st_mtime
        assert abs(end.timestamp() - mtime) < 0.5  # the file was closed when it ended
    noface = json.loads((out / "noface.fhir.json").read_text())["entry"]
    assert len(noface) == 1 and "dataAbsentReason" in noface[0]["resource"]
    line = one_line_error(run("analyze", str(short_clip), str(no_face_clip), "--out",
                              str(tmp_path / "o2"), "--fhir", "--patient-ref", "Patient/1",
                              "--recorded-at", START))
    assert "one video at a time" in line
