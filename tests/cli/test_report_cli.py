"""analyze --plot --overlay --report and `painvision report`, run as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

pytestmark = pytest.mark.mediapipe

EXE = Path(sys.executable).with_name("painvision")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(EXE), *args], capture_output=True, text=True, timeout=300)


def _count(path: Path) -> int:
    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.grab():
        n += 1
    cap.release()
    return n


def test_analyze_writes_plot_overlay_report_and_index(short_clip, no_face_clip, tmp_path):
    out = tmp_path / "out"
    res = run("analyze", str(short_clip), str(no_face_clip), "--out", str(out), "--plot",
              "--overlay", "--report", "--stride", "2")
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    for stem, frames in (("short", 45), ("noface", 15)):
        png = cv2.imread(str(out / f"{stem}.png"))
        assert png is not None and png.shape == (620, 1000, 3)
        assert _count(out / f"{stem}.overlay.mp4") == frames  # every frame, with a stride
        page = (out / f"{stem}.html").read_text()
        assert "data:image/png;base64," in page and "<script" not in page
        assert "http://" not in page and "https://" not in page
        assert f"wrote {out / stem}.overlay.mp4" in res.stdout.replace("\n", "")
    index = (out / "index.html").read_text()
    assert 'href="short.html"' in index and 'href="noface.html"' in index
    assert not list(out.glob(".*"))  # no temporary file left


def test_the_index_lists_the_videos_that_failed(short_clip, tmp_path):
    """A night's batch with one damaged file: the overview page says which and why."""
    bad = tmp_path / "bed3.mp4"
    bad.write_text("not a video\n")
    out = tmp_path / "out"
    res = run("analyze", str(short_clip), str(bad), "--out", str(out), "--report", "-q")
    assert res.returncode == 1 and "bed3.mp4" in res.stderr
    page = (out / "index.html").read_text()
    assert "1 not analysed" in page and "Not analysed (1)" in page
    assert "bed3.mp4" in page and "not a video that FFmpeg can decode" in page
    assert f"{short_clip.stem}.html" in page


def test_existing_pictures_are_refused_before_any_work(short_clip, tmp_path):
    (tmp_path / "short.png").write_bytes(b"mine")
    res = run("analyze", str(short_clip), "--out", str(tmp_path), "--plot", "-q")
    assert res.returncode != 0
    assert "short.png exists" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "short.csv").exists()
    assert (tmp_path / "short.png").read_bytes() == b"mine"
    res = run("analyze", str(short_clip), "--out", str(tmp_path), "--show-face", "-q")
    assert res.returncode != 0 and "--show-face" in res.stderr


def test_help_says_the_face_is_hidden_unless_asked():
    res = run("analyze", "--help")
    assert res.returncode == 0
    text = " ".join(res.stdout.split())
    assert "--show-face" in text and "--overlay" in text and "pixelated" in text


def test_report_of_a_watch_log(short_clip, tmp_path):
    log = tmp_path / "bed.jsonl"
    res = run("watch", str(short_clip), "--warmup", "1", "--out", str(log), "--quiet")
    assert res.returncode == 0, res.stderr
    res = run("report", str(log), "--plot", str(tmp_path / "bed.png"))
    assert res.returncode == 0, res.stderr
    page = (tmp_path / "bed.html").read_text()
    assert "Monitoring log" in page and "Pain episodes" in page and "camera losses" in page
    assert cv2.imread(str(tmp_path / "bed.png")) is not None
    res = run("report", str(log))  # exists now
    assert res.returncode != 0 and "exists" in res.stderr
    bad = tmp_path / "x.jsonl"
    bad.write_text("hello\nworld\n")
    res = run("report", str(bad))
    assert res.returncode != 0 and "Traceback" not in res.stderr
    assert "not a JSON line" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    # a damaged number in a real log: its line, in one line of error
    lines = log.read_text().splitlines()
    for damage in ('"t":"abc"', '"t":NaN', '"t":1e308', '"wall":[1]'):
        first = json.loads(lines[1])
        key = damage.split(":")[0].strip('"')
        first.pop(key, None)
        bad.write_text("\n".join([lines[0], json.dumps(first)[:-1] + "," + damage + "}",
                                   *lines[2:]]) + "\n")
        res = run("report", str(bad), "--out", str(tmp_path / "bad.html"))
        assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
        assert res.stderr.startswith(f"error: {bad}:2: {key} is "), res.stderr
        assert len(res.stderr.strip().splitlines()) == 1
    res = run("report", str(short_clip), "--out", str(tmp_path / "v.html"))  # binary
    assert res.returncode == 2 and "not a text file" in res.stderr
