"""Install the requirements listed under ``[tool.painvision] no-deps`` with ``--no-deps``.

mediapipe 0.10.21 declares ``opencv-contrib-python`` as a dependency, a second
distribution of the ``cv2`` package that would overwrite ``opencv-python-headless``.
Installing it without dependencies keeps a single, known ``cv2``; the run-time
dependencies mediapipe needs are pinned in ``[project] dependencies``.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path


def main() -> int:
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    config = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    reqs = config.get("tool", {}).get("painvision", {}).get("no-deps", [])
    if not reqs:
        return 0
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", *reqs]
    return subprocess.call(cmd)


if __name__ == "__main__":
    raise SystemExit(main())
