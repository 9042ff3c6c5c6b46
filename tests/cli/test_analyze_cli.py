"""The installed ``painvision`` command, run as a user runs it."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.mediapipe

EXE = Path(sys.executable).with_name("painvision")
REQUIRED = ["frame", "time_s", "face_detected", "pspi", "au4", "au6", "au7", "au9", "au10", "au43"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(EXE), *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_analyze_writes_csv_and_json(short_clip, tmp_path):
    out = tmp_path / "out"
    res = run("analyze", str(short_clip), "--out", str(out), "--scorer", "model")
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    assert "short.mp4" in res.stdout and "wrote" in res.stdout
    rows = _rows(out / "short.csv")
    assert len(rows) == 45
    assert set(REQUIRED) <= set(rows[0])
    times = [float(r["time_s"]) for r in rows]
    assert times == sorted(times) and times[1] == pytest.approx(1 / 15, abs=2e-3)
    for r in rows:
        if r["face_detected"] == "1" and r["pspi"]:
            assert 0 <= float(r["pspi"]) <= 16
            assert all(0 <= float(r[a]) <= 5 for a in ("au4", "au6", "au7", "au9", "au10"))
            assert 0.0 <= float(r["au43"]) <= 1.0  # a probability with the model
    summary = json.loads((out / "short.json").read_text())
    assert summary["video"]["frames"] == 45 and summary["video"]["width"] == 320
    assert summary["face"]["share_detected"] >= 0.95
    assert {"mean", "p95", "max"} <= set(summary["pspi"])
    assert summary["model"]["scorer"] == "painvision-default"
    probs = [float(r["pain_prob"]) for r in rows if r["pain_prob"]]
    assert probs and all(0 <= p <= 1 for p in probs)
    assert summary["calibration"]["baseline"]["method"] == "auto_mode"
    assert summary["painvision_version"]


def test_combined_scorer_is_the_default_and_gives_pain_prob(short_clip, tmp_path):
    res = run("analyze", str(short_clip), "--out", str(tmp_path / "c"), "-q")
    assert res.returncode == 0, res.stderr
    rows = _rows(tmp_path / "c" / "short.csv")
    scored = [r for r in rows if r["pspi"]]
    assert scored and all(r["pain_prob"] != "" for r in scored)
    assert all(0 <= float(r["pain_prob"]) <= 1 for r in scored)
    # the movements outside PSPI are in every scored row, for the why
    for col in ("au1_2", "au12", "au15", "au20", "au25", "au26", "au45"):
        assert all(r[col] != "" for r in scored), col
    summary = json.loads((tmp_path / "c" / "short.json").read_text())
    assert summary["model"]["scorer"] == "analytic-v1+pain-evidence-v2"
    assert summary["model"]["device"] == "cpu"
    # same PSPI as the analytic scorer alone, which has no pain_prob
    res = run("analyze", str(short_clip), "--out", str(tmp_path / "a"), "-q", "--scorer",
              "analytic")
    assert res.returncode == 0, res.stderr
    alone = _rows(tmp_path / "a" / "short.csv")
    assert [r["pspi"] for r in alone] == [r["pspi"] for r in rows]
    assert all(r["pain_prob"] == "" for r in alone)
    assert json.loads((tmp_path / "a" / "short.json").read_text())["model"]["scorer"] == \
        "analytic-v1"


def test_missing_or_unsafe_weights_fail_cleanly(short_clip, tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not weights")
    for weights in (tmp_path / "none.pt", bad):
        res = run("analyze", str(short_clip), "--out", str(tmp_path / "o"), "--scorer", "model",
                  "--weights", str(weights))
        assert res.returncode != 0
        lines = [line for line in res.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error:"), res.stderr
        assert not (tmp_path / "o" / "short.csv").exists()


def test_existing_outputs_are_not_overwritten_without_asking(short_clip, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "short.csv").write_text("mine\n")
    res = run("analyze", str(short_clip), "--out", str(out))
    assert res.returncode != 0
    assert "--overwrite" in res.stderr
    assert (out / "short.csv").read_text() == "mine\n"
    assert not (out / "short.json").exists()
    res = run("analyze", str(short_clip), "--out", str(out), "--overwrite", "--quiet",
              "--stride", "3", "--neutral", "0:0.8", "--device", "cpu")
    assert res.returncode == 0, res.stderr
    assert len(_rows(out / "short.csv")) == 15


def test_no_face_video_gives_empty_scores(no_face_clip, tmp_path):
    res = run("analyze", str(no_face_clip), "--out", str(tmp_path), "-q")
    assert res.returncode == 0, res.stderr
    rows = _rows(tmp_path / "noface.csv")
    assert rows and all(r["face_detected"] == "0" and r["pspi"] == "" for r in rows)


def _bad_inputs(d: Path) -> dict[str, Path]:
    (d / "notes.mp4").write_text("this is not a video\n")
    (d / "empty.mp4").write_bytes(b"")
    good = Path(__file__).resolve().parents[2] / "sample_videos" / "astronaut_pain.mp4"
    data = good.read_bytes()
    (d / "truncated.mp4").write_bytes(data[: len(data) // 3])
    return {
        "missing": d / "missing.mp4",
        "not a video": d / "notes.mp4",
        "empty": d / "empty.mp4",
        "truncated": d / "truncated.mp4",
    }


@pytest.mark.parametrize("case", ["missing", "not a video", "empty", "truncated"])
def test_bad_input_fails_in_one_line_without_traceback(tmp_path, case):
    path = _bad_inputs(tmp_path)[case]
    out = tmp_path / "out"
    res = run("analyze", str(path), "--out", str(out))
    assert res.returncode != 0
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    assert not any(out.glob("*")) if out.exists() else True


@pytest.mark.parametrize(
    "args",
    [["--neutral", "abc"], ["--neutral", "5:2"], ["--stride", "0"], ["--device", "tpu"],
     ["--scorer", "magic"]],
)
def test_bad_options_fail_cleanly(short_clip, tmp_path, args):
    res = run("analyze", str(short_clip), "--out", str(tmp_path / "o"), *args)
    assert res.returncode != 0
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "o" / "short.csv").exists()


@pytest.mark.parametrize("scorer", ["model", "combined"])
def test_cuda_on_a_machine_without_it_is_a_one_line_error(short_clip, tmp_path, scorer):
    import torch

    if torch.cuda.is_available() and scorer == "model":
        pytest.skip("this machine has CUDA")
    res = run("analyze", str(short_clip), "--out", str(tmp_path / "o"), "--device", "cuda",
              "--scorer", scorer)
    assert res.returncode == 2
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), res.stderr
    assert ("no CUDA device" if scorer == "model" else "only the model scorer") in lines[0]
    assert not (tmp_path / "o").exists()


def test_version_and_help():
    assert run("--version").stdout.startswith("painvision ")
    res = run("analyze", "--help")
    assert res.returncode == 0 and "--neutral" in res.stdout


def test_jobs_give_the_same_outputs_and_a_bad_video_stops_no_other(short_clip,
                                                                    no_face_clip, tmp_path):
    import shutil

    videos = tmp_path / "videos"
    videos.mkdir()
    for name in ("a.mp4", "b.mp4"):
        shutil.copy(short_clip, videos / name)
    shutil.copy(no_face_clip, videos / "c.mp4")
    (videos / "bad.mp4").write_text("not a video\n")
    (videos / "notes.txt").write_text("not taken for a video\n")
    one = run("analyze", str(videos), "--out", str(tmp_path / "one"), "-q")
    two = run("analyze", str(videos), "--out", str(tmp_path / "two"), "-q", "--jobs", "2")
    for res in (one, two):
        assert res.returncode == 1  # one video failed ...
        lines = [line for line in res.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and "bad.mp4" in lines[0], res.stderr  # ... said in one line
        assert "Traceback" not in res.stderr
    for name in ("a.csv", "b.csv", "c.csv", "a.json"):  # ... and the others were analysed
        assert (tmp_path / "one" / name).exists()
    for name in ("a.csv", "b.csv", "c.csv"):
        assert (tmp_path / "one" / name).read_text() == (tmp_path / "two" / name).read_text()
    assert not (tmp_path / "two" / "bad.csv").exists()
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == [
        "a.csv", "a.json", "b.csv", "b.json", "c.csv", "c.json"]


def test_an_output_folder_that_cannot_be_written_is_one_line(short_clip):
    """/proc/x cannot be created, and nothing can be written into /proc, even by root:
    both found before any video is read (exit 2)."""
    for out, code in (("/proc/no/such/dir", 2), ("/proc", 2)):
        res = run("analyze", str(short_clip), "--out", out, "-q")
        lines = [line for line in res.stderr.splitlines() if line.strip()]
        assert res.returncode == code and len(lines) == 1 and lines[0].startswith("error:"), \
            res.stderr
        assert "internal error" not in res.stderr
