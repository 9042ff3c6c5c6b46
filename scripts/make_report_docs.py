"""The pictures of docs/ that show the visual outputs, made from the bundled sample:
``docs/timeline.png`` (``analyze --plot``), ``docs/overlay_frame.png`` (one frame of
``analyze --overlay``, default privacy setting) and ``docs/report.png`` (a screenshot of
``analyze --report`` in headless Chromium).

    python scripts/make_report_docs.py [--frame 270]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_videos" / "astronaut_pain.mp4"
EXE = Path(sys.executable).with_name("painvision")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frame", type=int, default=270, help="overlay frame to keep (270: 10.8 s, "
                    "inside the strong episode)")
    args = ap.parse_args()
    docs = ROOT / "docs"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        # the path as the README gives it, so no machine's own path lands in docs/
        subprocess.run([str(EXE), "analyze", str(SAMPLE.relative_to(ROOT)), "--out", str(out),
                        "--plot", "--overlay", "--report", "-q"], check=True, cwd=ROOT)
        stem = SAMPLE.stem
        shutil.copyfile(out / f"{stem}.png", docs / "timeline.png")
        cap = cv2.VideoCapture(str(out / f"{stem}.overlay.mp4"))
        cap.set(cv2.CAP_PROP_POS_FRAMES, args.frame)
        ok, img = cap.read()
        cap.release()
        if not ok:
            sys.exit(f"frame {args.frame} could not be read from the overlay")
        cv2.imwrite(str(docs / "overlay_frame.png"), img)
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if chromium is None:
            sys.exit("docs/report.png needs Debian's chromium (apt-get install chromium)")
        profile = out / "profile"
        profile.mkdir()
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                        "--disable-quic", "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                        f"--user-data-dir={profile}", "--window-size=1100,1900",
                        f"--screenshot={docs / 'report.png'}",
                        (out / f"{stem}.html").as_uri()],
                       check=True, capture_output=True)
    print("wrote docs/timeline.png, docs/overlay_frame.png, docs/report.png")


if __name__ == "__main__":
    main()
