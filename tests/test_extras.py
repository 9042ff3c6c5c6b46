"""Optional extras: a feature whose extra is missing stops with one line naming it.

The CLI runs for real in a subprocess where the extra's module is made unimportable
(``sys.modules[name] = None``, which is what Python does for a module that cannot be
found), so everything else is the installed package as a user runs it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from painvision.errors import PainVisionError
from painvision.extras import EXTRAS, MissingExtraError, extra_for_module, has_extra, require

SAMPLE = Path(__file__).resolve().parents[1] / "sample_videos" / "astronaut_pain.mp4"


def _cli_without(module: str, args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    code = (f"import sys; sys.modules[{module!r}] = None; "
            "from painvision.cli.app import main; "
            f"sys.argv = ['painvision', *{args!r}]; main()")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


def test_every_extra_is_installed_in_the_developer_environment():
    assert all(has_extra(e) for e in EXTRAS)


def test_require_names_the_extra_and_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "fastapi", None)
    with pytest.raises(MissingExtraError) as err:
        require("serve", "watch --serve")
    assert isinstance(err.value, PainVisionError)
    msg = str(err.value)
    assert "[serve]" in msg and "pip install 'painvision[serve]'" in msg and "fastapi" in msg
    assert "\n" not in msg
    require("bench", "bench accuracy")  # installed: no error


def test_unknown_extra_is_a_programming_error():
    with pytest.raises(ValueError):
        require("nope", "x")


@pytest.mark.parametrize("name, extra", [("torch", "train"), ("torch.nn", "train"),
                                         ("fhir.resources.R4B", "fhir"), ("fhir", "fhir"),
                                         ("uvicorn", "serve"), ("pandas", "bench"),
                                         ("numpy", None), (None, None)])
def test_extra_for_module(name, extra):
    assert extra_for_module(name) == extra


@pytest.mark.parametrize("module, args, extra", [
    ("torch", ["train", "{tmp}/data", "--out", "{tmp}/w.pt"], "train"),
    ("skimage", ["synth", "--out", "{tmp}/synth"], "train"),
    ("torch", ["export", "--format", "onnx", "--out", "{tmp}/m.onnx"], "train"),
    ("sklearn", ["bench", "accuracy", "{tmp}"], "bench"),
    ("fhir.resources", ["analyze", str(SAMPLE), "--out", "{tmp}/o", "--fhir",
                        "--patient-ref", "Patient/1"], "fhir"),
    ("fastapi", ["watch", str(SAMPLE), "-q", "--serve", "127.0.0.1:0"], "serve"),
])
def test_cli_without_an_extra_is_one_line_exit_2_and_writes_nothing(tmp_path, module, args,
                                                                     extra):
    work = tmp_path / "work"
    work.mkdir()
    res = _cli_without(module, [a.format(tmp=work) for a in args], cwd=tmp_path)
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert res.returncode == 2, res.stderr
    assert len(lines) == 1, res.stderr
    assert f"[{extra}]" in lines[0] and f"pip install 'painvision[{extra}]'" in lines[0]
    assert "Traceback" not in res.stderr
    assert list(work.iterdir()) == []
