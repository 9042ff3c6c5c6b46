"""The robustness bench: every corruption runs through the real front end, and the
quality checks flag a covered face while the clean run stays unflagged."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from painvision.bench.corruptions import CORRUPTIONS, corruption


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    from painvision.synth.dataset import SynthConfig, write_dataset

    root = tmp_path_factory.mktemp("robust")
    return write_dataset(root / "ds", SynthConfig(subjects=1, minutes=0.4, render=True,
                                                  seed=11, heldout_share=1.0,
                                                  clip_s=24.0), workers=1)


def test_every_corruption_changes_the_frame_and_keeps_its_shape():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (360, 480, 3), dtype=np.uint8)
    mesh = np.zeros((478, 3), np.float32)
    mesh[:, 0] = rng.uniform(0.3, 0.7, 478)
    mesh[:, 1] = rng.uniform(0.2, 0.8, 478)
    for name in CORRUPTIONS:
        for s in (1, 2, 3):
            out = corruption(name, s, seed=1, meshes={7: mesh})(img, 7)
            assert out.dtype == np.uint8 and out.ndim == 3
            if name != "downscale":
                assert out.shape == img.shape
            assert out.shape != img.shape or np.abs(out.astype(int) - img).mean() > 0.5, name
    with pytest.raises(ValueError):
        corruption("mask", 2)  # an occlusion needs the face's place
    with pytest.raises(ValueError):
        corruption("fog", 2)


@pytest.mark.mediapipe
def test_bench_robustness_flags_the_mask_and_not_the_clean_run(rendered, tmp_path):
    exe = Path(sys.executable).with_name("painvision")
    res = subprocess.run([str(exe), "bench", "robustness", str(rendered), "--corruptions",
                          "mask,jpeg", "--severities", "2", "--workers", "1", "--burst", "4",
                          "--json", str(tmp_path / "r.json"), "--markdown",
                          str(tmp_path / "r.md")], capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    rows = report["rows"]
    assert set(rows) == {"clean/0", "mask/2", "jpeg/2"}
    clean, mask = rows["clean/0"], rows["mask/2"]
    assert clean["face_detection"] > 0.9 and clean["flagged_with_face"] < 0.05
    assert mask["flagged_with_face"] > 0.6 and "occluded" in mask["flag_reasons"]
    assert mask["scored"] < clean["scored"]
    for row in rows.values():
        assert 0.0 <= row["face_detection"] <= 1.0 and row["frames"] > 0
    assert "| mask | 2 |" in (tmp_path / "r.md").read_text()
