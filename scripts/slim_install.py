"""The bedside install, checked: ``pip install <the wheel>`` alone, in a fresh venv, no PyTorch.

Builds painvision's wheel, installs it by itself into a new virtual environment, and checks
what issue #15 asks of it:

- ``import torch`` fails there, and no second distribution of ``cv2`` is installed;
- ``painvision analyze`` on the sample gives the same PSPI, AUs and pain_prob as the full
  install (the environment running this script), to 1e-4, with the default scorer and with
  ``--scorer model`` (ONNX Runtime there, PyTorch here);
- each optional command run without its extra fails with exit 2 and one line that names
  the extra, leaving no file behind;
- the venv's size on disk (reported; the packages over 10 MB listed).

With ``--measure`` it also runs ``watch`` on the sample in both installs, alternating, and
reports peak resident memory and the median per-frame latency of each (ratios in one run);
then it uninstalls what MediaPipe's metadata pulls in but neither MediaPipe's face mesh nor
painvision imports (``TRIM``: jax and its dependencies), and checks the analysis again.

    python scripts/slim_install.py [--measure] [--repeats 3] [--json docs/slim_install.json]
                                   [--keep DIR]

Exit status 1 if a check fails. Needs pip to reach the package index (as ``make setup``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_videos" / "astronaut_pain.mp4"
FULL_EXE = Path(sys.executable).with_name("painvision")
COLUMNS = ("pspi", "au4", "au6", "au7", "au9", "au10", "au43", "pain_prob")
TOLERANCE = 1e-4
#: required by mediapipe's metadata (for its model maker), imported by nothing that runs here
TRIM = ("jax", "jaxlib", "scipy", "ml_dtypes", "opt_einsum")

#: an optional command without its extra: (arguments, the extra its error must name)
OPTIONAL = [
    (["train", "{tmp}/data", "--out", "{tmp}/w.pt"], "train"),
    (["synth", "--out", "{tmp}/synth"], "train"),
    (["export", "--format", "onnx", "--out", "{tmp}/m.onnx"], "train"),
    (["bench", "accuracy", str(ROOT / "sample_videos")], "bench"),
    (["analyze", str(SAMPLE), "--out", "{tmp}/fhir", "--fhir", "--patient-ref", "Patient/1"],
     "fhir"),
    (["watch", str(SAMPLE), "--serve", "127.0.0.1:0", "-q"], "serve"),
    (["watch", str(SAMPLE), "-q", "--notify", "http://127.0.0.1:9/x", "--notify-format",
      "fhir", "--patient-ref", "Patient/1", "--outbox", "{tmp}/outbox.db"], "fhir"),
]


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def _must(cmd: list[str], what: str, **kw) -> subprocess.CompletedProcess:
    res = _run(cmd, **kw)
    if res.returncode != 0:
        sys.exit(f"{what} failed ({' '.join(cmd)}):\n{res.stdout[-2000:]}{res.stderr[-2000:]}")
    return res


def _disk_mb(path: Path) -> float:
    """Bytes the tree takes on disk (allocated blocks), in MB."""
    total = 0
    for p in path.rglob("*"):
        if p.is_file() and not p.is_symlink():
            total += p.stat().st_blocks * 512
    return total / 1e6


def _biggest(site: Path, over_mb: float = 10.0) -> dict[str, float]:
    sizes = {}
    for p in site.iterdir():
        if p.is_dir():
            mb = _disk_mb(p)
            if mb >= over_mb:
                sizes[p.name] = round(mb, 1)
    return dict(sorted(sizes.items(), key=lambda kv: -kv[1]))


def _watch(exe: Path, out: Path) -> tuple[float, float]:
    """(peak RSS in MB, median per-frame latency in ms) of one ``watch`` over the sample,
    in a child process of its own so that its peak is its own."""
    probe = ("import resource, subprocess, sys; "
             "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)")
    res = _must([sys.executable, "-c", probe, str(exe), "watch", str(SAMPLE), "-q", "--every",
                 "0.04", "--out", str(out)], "watch")
    rss_kb, rc = res.stdout.split()
    if rc != "0":
        sys.exit(f"watch exited with {rc}")
    lat = [json.loads(line)["latency_ms"] for line in out.read_text().splitlines()
           if '"kind":"reading"' in line.replace(" ", "")]
    out.unlink()
    return int(rss_kb) / 1024, statistics.median(lat)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--measure", action="store_true", help="Also time watch in both installs.")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--keep", type=Path, default=None, help="Build the venv here and keep it.")
    args = ap.parse_args()
    failures: list[str] = []
    report: dict[str, object] = {"python": platform.python_version(),
                                 "machine": platform.machine(), "cpus": os.cpu_count()}

    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        venv = args.keep or tmp / "venv"
        if venv.exists():
            if not (venv / "pyvenv.cfg").is_file():
                sys.exit(f"--keep {venv}: exists and is not a virtual environment; "
                         "name a new folder or an old venv of this script")
            shutil.rmtree(venv)
        t0 = time.perf_counter()
        _must([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w",
               str(tmp / "dist"), str(ROOT)], "building the wheel")
        wheel = next((tmp / "dist").glob("painvision-*.whl"))
        report["wheel"] = {"name": wheel.name, "kB": round(wheel.stat().st_size / 1e3, 1)}
        base = getattr(sys, "_base_executable", sys.executable)
        _must([base, "-m", "venv", str(venv)], "creating the venv")
        py, exe = venv / "bin" / "python", venv / "bin" / "painvision"
        _must([str(py), "-m", "pip", "install", "--quiet", str(wheel)], "pip install <wheel>")
        report["install_s"] = round(time.perf_counter() - t0, 1)
        site = Path(_must([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], "site-packages").stdout.strip())
        size = _disk_mb(venv)
        report["venv_mb"] = round(size, 1)
        report["packages_over_10mb"] = _biggest(site)
        print(f"slim venv: {size:.0f} MB on disk ({wheel.name}, installed in "
              f"{report['install_s']} s)")

        res = _run([str(py), "-c", "import torch"])
        report["import_torch_fails"] = res.returncode != 0
        if res.returncode == 0:
            failures.append("import torch works in the slim venv")
        res = _must([str(py), "-m", "pip", "check"], "pip check")
        dists = _run([str(py), "-m", "pip", "list", "--format", "json"]).stdout
        cv2_dists = sorted(d["name"].lower() for d in json.loads(dists)
                           if d["name"].lower().startswith("opencv"))
        report["opencv_distributions"] = cv2_dists
        if cv2_dists != ["opencv-contrib-python"]:
            failures.append(f"OpenCV distributions in the slim venv: {cv2_dists}")

        agreement = {}
        dump = ("import sys, numpy as np; from painvision.pipeline import analyze_video; "
                "a = analyze_video(sys.argv[1], scorer=sys.argv[2]); "
                "np.savez(sys.argv[3], pspi=a.pspi, pain_prob=a.pain_prob, "
                "**{n: getattr(a.aus, n) for n in ('au4','au6','au7','au9','au10','au43')})")
        for scorer in ("combined", "model"):
            outs = {}
            for name, e in (("slim", exe), ("full", FULL_EXE)):
                d = tmp / f"{name}-{scorer}"
                # the user's path: the CLI writes its files
                _must([str(e), "analyze", str(SAMPLE), "--out", str(d), "-q", "--scorer", scorer],
                      f"analyze --scorer {scorer} in the {name} install")
                # the numbers at full precision (the CSV rounds to 1e-3)
                npz = tmp / f"{name}-{scorer}.npz"
                _must([str(e.with_name("python")), "-c", dump, str(SAMPLE), scorer, str(npz)],
                      f"analyze_video in the {name} install")
                with np.load(npz) as z:
                    outs[name] = {k: z[k].astype(np.float64) for k in z.files}
            diff = {}
            for k in COLUMNS:
                a, b = outs["slim"][k], outs["full"][k]
                same_nan = np.array_equal(np.isnan(a), np.isnan(b))
                diff[k] = float(np.nanmax(np.abs(a - b))) if same_nan and np.isfinite(a).any() \
                    else (0.0 if same_nan else float("inf"))
            agreement[scorer] = {k: float(f"{v:.3g}") for k, v in diff.items()}
            worst = max(diff.values())
            print(f"analyze --scorer {scorer}: slim vs full, largest difference {worst:.2g}")
            if not worst <= TOLERANCE:
                failures.append(f"--scorer {scorer}: slim and full differ by {worst:.3g} "
                                f"(> {TOLERANCE:g})")
        report["max_abs_diff_slim_vs_full"] = agreement

        optional = []
        for argv, extra in OPTIONAL:
            cmd = [str(exe)] + [a.format(tmp=tmp / "opt") for a in argv]
            (tmp / "opt").mkdir(exist_ok=True)
            res = _run(cmd, timeout=120)
            lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
            left = sorted(str(p.relative_to(tmp / "opt")) for p in (tmp / "opt").rglob("*"))
            ok = (res.returncode == 2 and len(lines) == 1 and f"[{extra}]" in lines[0]
                  and not left)
            optional.append({"command": " ".join(argv[:2]), "extra": extra,
                             "exit": res.returncode, "stderr": lines, "left_behind": left,
                             "ok": ok})
            print(f"  without [{extra}]: painvision {' '.join(argv[:2])} -> exit "
                  f"{res.returncode}: {lines[0] if lines else '(nothing)'}")
            if not ok:
                failures.append(f"painvision {' '.join(argv)}: exit {res.returncode}, "
                                f"stderr {lines}, left {left}")
            shutil.rmtree(tmp / "opt")
        report["optional_without_extra"] = optional

        if args.measure:
            runs: dict[str, list[tuple[float, float]]] = {"slim": [], "full": []}
            _watch(exe, tmp / "warm.jsonl")
            for _ in range(args.repeats):
                for name, e in (("slim", exe), ("full", FULL_EXE)):
                    runs[name].append(_watch(e, tmp / f"{name}.jsonl"))
            rss = {k: max(r for r, _ in v) for k, v in runs.items()}
            lat = {k: statistics.median(x for _, x in v) for k, v in runs.items()}
            report["watch"] = {
                "peak_rss_mb": {k: round(v, 1) for k, v in rss.items()},
                "median_latency_ms": {k: round(v, 3) for k, v in lat.items()},
                "latency_slim_over_full": round(lat["slim"] / lat["full"], 3),
                "repeats": args.repeats, "runs": runs,
            }
            print(f"watch on the sample: peak RSS slim {rss['slim']:.0f} MB, full "
                  f"{rss['full']:.0f} MB; median frame latency slim {lat['slim']:.2f} ms, "
                  f"full {lat['full']:.2f} ms ({lat['slim'] / lat['full']:.3f}x)")
            _must([str(py), "-m", "pip", "uninstall", "--quiet", "-y", *TRIM], "trimming")
            trimmed = _disk_mb(venv)
            for scorer in ("combined", "model"):
                npz = tmp / f"trim-{scorer}.npz"
                _must([str(py), "-c", dump, str(SAMPLE), scorer, str(npz)],
                      f"analyze_video --scorer {scorer} after trimming")
                with np.load(npz) as z, np.load(tmp / f"full-{scorer}.npz") as f:
                    worst = max(float(np.nanmax(np.abs(z[k] - f[k]))) for k in COLUMNS)
                if not worst <= TOLERANCE:
                    failures.append(f"trimmed, --scorer {scorer} differs by {worst:.3g}")
            report["trimmed"] = {"uninstalled": list(TRIM), "venv_mb": round(trimmed, 1)}
            print(f"without {', '.join(TRIM)}: {trimmed:.0f} MB, the same numbers")
    report["failures"] = failures
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    for f in failures:
        print(f"FAILED: {f}", file=sys.stderr)
    print("slim install: " + ("ok" if not failures else f"{len(failures)} check(s) failed"))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
