"""The learned scorer on ONNX Runtime: the shipped export against the shipped weights, the
stream against offline, and scoring where PyTorch is not installed (simulated in a
subprocess: ``sys.modules["torch"] = None`` makes ``import torch`` fail as it would)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from onnx_helpers import generated_track, offline_outputs, streamed_outputs

from painvision.classifier.runtime import OUTPUTS, file_sha256
from painvision.classifier.scorer import (
    DEFAULT_ONNX,
    DEFAULT_WEIGHTS,
    SHIPPED_DIR,
    ModelScorer,
    ModelStream,
)
from painvision.errors import DeviceError, WeightsError
from painvision.features.inputs import FrameInputs, prepare_inputs
from painvision.types import AU_NAMES

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PT = SHIPPED_DIR / DEFAULT_WEIGHTS
ONNX = SHIPPED_DIR / DEFAULT_ONNX


@pytest.fixture(scope="module")
def inputs() -> FrameInputs:
    return prepare_inputs(generated_track())


@pytest.fixture(scope="module")
def scorers() -> dict[str, ModelScorer]:
    return {"torch": ModelScorer(PT, "cpu"), "onnx": ModelScorer(ONNX, "cpu")}


def test_the_backends_are_chosen_by_the_weights(scorers):
    pt, onnx = scorers["torch"], scorers["onnx"]
    assert pt.backend == "torch" and isinstance(pt.device, torch.device)
    assert onnx.backend == "onnx" and str(onnx.device) == "cpu" and onnx.device.type == "cpu"
    assert onnx.name == pt.name == "painvision-default"
    assert onnx.config["model"] == pt.config["model"]
    assert onnx.model.receptive_field == pt.model.receptive_field == 63
    assert ModelScorer().backend == "torch"  # the default, with PyTorch installed


def test_the_shipped_onnx_gives_the_shipped_weights_outputs(scorers, inputs):
    """Offline over a whole sequence and one frame at a time, against PyTorch."""
    assert len(inputs.t) > 3 * scorers["onnx"].model.receptive_field
    assert (~inputs.valid).sum() >= 25
    ref, got = offline_outputs(scorers["torch"], inputs), offline_outputs(scorers["onnx"], inputs)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_allclose(got, ref, atol=1e-4, rtol=0, equal_nan=True)
    ref_s = streamed_outputs(scorers["torch"], inputs)
    got_s = streamed_outputs(scorers["onnx"], inputs)
    np.testing.assert_allclose(got_s, ref_s, atol=1e-4, rtol=0, equal_nan=True)
    assert np.nanmax(ref[:, AU_NAMES.index("au4")]) > 1.0  # the episode is read: not all zero


def test_the_onnx_stream_equals_onnx_offline(scorers, inputs):
    sc = scorers["onnx"]
    offline, streamed = offline_outputs(sc, inputs), streamed_outputs(sc, inputs)
    # the stream clips AUs to their range as the live monitor shows them; the model's
    # outputs are in range already
    np.testing.assert_allclose(streamed, offline, atol=1e-5, rtol=0, equal_nan=True)
    stream = ModelStream(sc)  # reset: the past is forgotten, the numbers start over
    for k in range(100):
        stream.update(float(inputs.t[k]), inputs.pose.aligned[k], inputs.signals[k],
                      inputs.pose.yaw_pitch_roll[k], bool(inputs.valid[k]), inputs.neutral)
    stream.reset()
    aus, prob = stream.update(float(inputs.t[0]), inputs.pose.aligned[0], inputs.signals[0],
                              inputs.pose.yaw_pitch_roll[0], True, inputs.neutral)
    assert prob == pytest.approx(offline[0, -1], abs=1e-5)


def test_the_shipped_onnx_is_exported_from_the_shipped_weights():
    """Fails when the .pt changed and the .onnx was not re-exported:
    run scripts/export_default_onnx.py."""
    meta = json.loads((SHIPPED_DIR / (DEFAULT_ONNX + ".json")).read_text())
    assert meta["weights_sha256"] == file_sha256(PT), \
        "stale painvision-default.onnx: run scripts/export_default_onnx.py"
    assert meta["weights"] == DEFAULT_WEIGHTS  # no machine's path in a shipped file
    assert meta["outputs"] == list(OUTPUTS) and meta["receptive_field"] == 63


def test_the_export_script_reproduces_the_shipped_onnx(tmp_path):
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from export_default_onnx import export_default
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    shutil.copy(PT, tmp_path / DEFAULT_WEIGHTS)
    out = export_default(tmp_path / DEFAULT_WEIGHTS, tmp_path / DEFAULT_ONNX)
    assert json.loads(Path(str(out) + ".json").read_text()) == \
        json.loads((SHIPPED_DIR / (DEFAULT_ONNX + ".json")).read_text())
    assert file_sha256(out) == file_sha256(ONNX)  # the exporter is deterministic


def test_onnx_weights_are_checked(tmp_path):
    from painvision.classifier.export import export_model
    from painvision.classifier.model import TemporalPainNet
    from painvision.classifier.weights import save_weights

    with pytest.raises(DeviceError, match="CPU only"):
        ModelScorer(ONNX, "cuda")
    other = export_model(save_weights(tmp_path / "w.pt", TemporalPainNet(12, 8, 2)), "onnx",
                         tmp_path / "w.onnx")
    with pytest.raises(WeightsError, match="12 features per frame"):
        ModelScorer(other, "cpu")
    bare = tmp_path / "bare.onnx"
    shutil.copy(ONNX, bare)
    with pytest.raises(WeightsError, match="description bare.onnx.json is missing"):
        ModelScorer(bare, "cpu")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a graph")
    shutil.copy(Path(str(ONNX) + ".json"), Path(str(junk) + ".json"))
    with pytest.raises(WeightsError, match="ONNX Runtime cannot load"):
        ModelScorer(junk, "cpu")
    with pytest.raises(WeightsError, match="no such file"):
        ModelScorer(tmp_path / "missing.onnx", "cpu")


# --- without PyTorch -------------------------------------------------------------------

_NO_TORCH = """
import sys
sys.modules["torch"] = None  # import torch now raises ImportError, as on a slim install
"""


def _without_torch(code: str, env: dict[str, str] | None = None
                   ) -> subprocess.CompletedProcess:
    full = dict(os.environ, **(env or {}))
    full["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(HERE), full.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-c", _NO_TORCH + textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT, env=full)


def test_the_model_scorer_runs_without_pytorch():
    res = _without_torch("""
        import numpy as np
        import painvision.classifier
        import painvision.classifier.scorer
        from painvision.device import resolve_device
        from painvision.scoring import create_scorer
        from onnx_helpers import streamed_outputs, generated_track
        from painvision.features.inputs import prepare_inputs

        assert str(resolve_device("auto")) == "cpu"
        sc = create_scorer("model")
        assert sc.model.backend == "onnx" and sc.device == "cpu", sc.model.backend
        assert sc.model.weights.name == "painvision-default.onnx"
        inputs = prepare_inputs(generated_track(8.0))
        s = sc.score(inputs)
        ok = inputs.valid
        assert np.isfinite(s.aus.pspi[ok]).all() and np.isnan(s.aus.pspi[~ok]).all()
        streamed = streamed_outputs(sc.model, inputs)
        np.testing.assert_allclose(streamed[:, -1], s.pain_prob, atol=1e-5, equal_nan=True)
        assert sys.modules["torch"] is None  # nothing got around the block
        print("scored", len(inputs.t), "frames on", sc.model.backend)
    """)
    assert res.returncode == 0, res.stderr
    assert "on onnx" in res.stdout


def test_importing_and_scoring_onnx_loads_no_pytorch():
    """Where PyTorch is installed, too: an .onnx runs without importing it."""
    code = f"""
        import sys
        import painvision.classifier, painvision.scoring
        from painvision.classifier import ModelScorer
        from onnx_helpers import generated_track
        from painvision.features.inputs import prepare_inputs
        ModelScorer({str(ONNX)!r}, "auto").score(prepare_inputs(generated_track(8.0)))
        print(sorted(m for m in sys.modules if m == "torch" or m.startswith("torch.")))
    """
    full = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(HERE),
                                                        os.environ.get("PYTHONPATH", "")]))
    res = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, timeout=120, cwd=ROOT, env=full)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"


def test_explicit_pt_weights_without_pytorch_are_one_clear_line():
    res = _without_torch(f"""
        from painvision.errors import DependencyError, DeviceError
        from painvision.scoring import create_scorer
        try:
            create_scorer("model", weights={str(PT)!r})
        except DependencyError as exc:
            print(exc)
        try:
            create_scorer("model", device="cuda")
        except DeviceError as exc:
            print(exc)
    """)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    assert len(lines) == 2, res.stdout
    assert "PyTorch is not installed" in lines[0]
    assert "pip install 'painvision[train]'" in lines[0] and ".onnx" in lines[0]
    assert "'cuda'" in lines[1] and "PyTorch" in lines[1]


def test_the_cli_says_so_in_one_line_without_pytorch(tmp_path):
    res = _without_torch(f"""
        sys.argv = ["painvision", "analyze", {str(ROOT / "sample_videos")!r}, "--out",
                    {str(tmp_path / "out")!r}, "--scorer", "model", "--weights", {str(PT)!r}]
        from painvision.cli.app import main
        main()
    """)
    assert res.returncode == 2, res.stderr
    err = res.stderr.strip().splitlines()
    assert len(err) == 1 and "painvision[train]" in err[0], res.stderr
    assert not (tmp_path / "out").exists()


def test_a_stale_export_is_refused_without_pytorch(tmp_path):
    """The default weights fall back to the .onnx beside them only if it was exported from
    them: here the .pt beside it is another model."""
    from painvision.classifier.model import TemporalPainNet
    from painvision.classifier.weights import save_weights

    pt = tmp_path / "model.pt"
    save_weights(pt, TemporalPainNet(12, 8, 2))
    shutil.copy(ONNX, tmp_path / "model.onnx")
    shutil.copy(Path(str(ONNX) + ".json"), tmp_path / "model.onnx.json")
    code = """
        from painvision.errors import WeightsError
        from painvision.classifier.scorer import ModelScorer
        try:
            ModelScorer()
        except WeightsError as exc:
            print(exc)
    """
    res = _without_torch(code, env={"PAINVISION_WEIGHTS": str(pt)})
    assert res.returncode == 0, res.stderr
    assert "was not exported from" in res.stdout and "sha256" in res.stdout
    shutil.copy(PT, pt)  # now the export is of this .pt
    res = _without_torch(code.replace("ModelScorer()", "print(ModelScorer().weights)"),
                         env={"PAINVISION_WEIGHTS": str(pt)})
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == str(tmp_path / "model.onnx")
    pt.unlink()  # an install that ships the export alone: taken as it is
    res = _without_torch(code.replace("ModelScorer()", "print(ModelScorer().weights)"),
                         env={"PAINVISION_WEIGHTS": str(pt)})
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == str(tmp_path / "model.onnx")
