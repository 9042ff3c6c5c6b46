from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.mediapipe
EXE = Path(sys.executable).with_name("painvision")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(EXE), *args], capture_output=True, text=True, timeout=300)


def test_synth_landmarks_then_refuses_to_overwrite(tmp_path):
    out = tmp_path / "ds"
    res = run("synth", "--out", str(out), "--subjects", "3", "--minutes", "0.3", "--seed", "4",
              "--workers", "1")
    assert res.returncode == 0, res.stderr
    assert "2 training and 1 held-out subjects" in res.stdout
    assert len(list((out / "landmarks").glob("*.npz"))) == 3
    assert len(list((out / "labels").glob("*.csv"))) == 3
    meta = json.loads((out / "meta.json").read_text())
    assert meta["kind"] == "landmarks" and meta["config"]["seed"] == 4
    again = run("synth", "--out", str(out), "--subjects", "3", "--minutes", "0.3")
    assert again.returncode != 0 and "not empty" in again.stderr
    assert "Traceback" not in again.stderr


def test_synth_render_with_two_workers(tmp_path):
    out = tmp_path / "r"
    res = run("synth", "--out", str(out), "--subjects", "2", "--minutes", "0.1", "--render",
              "--size", "160x120", "--workers", "2", "-q")
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in (out / "videos").iterdir()) == [
        "heldout-000_c00.mp4", "train-000_c00.mp4"]


@pytest.mark.parametrize("args", [["--size", "big"], ["--subjects", "0"], ["--minutes", "-1"]])
def test_synth_bad_options(tmp_path, args):
    res = run("synth", "--out", str(tmp_path / "x"), *args)
    assert res.returncode != 0 and "Traceback" not in res.stderr
    assert not (tmp_path / "x").exists()
