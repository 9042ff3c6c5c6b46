"""Frame-processing latency of ``painvision watch`` with ``--notify`` against without it.

Runs ``watch`` on a video (default: the bundled sample, which has two pain episodes)
``--repeats`` times each way, alternating, every reading written (``--every 0``); with
``--notify`` the events go to an HTTP receiver on loopback started here (``--receiver
ok``) or to one that never answers (``--receiver hang``). Compares the medians over all
frames of each reading's ``latency_ms`` (frame in -> reading out).

    python scripts/notify_overhead.py [--video V] [--repeats 3] [--receiver ok|hang]
        [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_videos" / "astronaut_pain.mp4"
EXE = Path(sys.executable).with_name("painvision")


def receiver(mode: str) -> ThreadingHTTPServer:
    hold = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if mode == "hang":
                hold.wait(60)
                return
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run(video: Path, extra: list[str]) -> list[float]:
    res = subprocess.run([str(EXE), "watch", str(video), "--every", "0", "--warmup", "3",
                          *extra], capture_output=True, text=True, check=True)
    return [r["latency_ms"] for r in map(json.loads, res.stdout.splitlines())
            if r["kind"] == "reading"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--video", type=Path, default=SAMPLE)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--receiver", choices=["ok", "hang"], default="ok")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    server = receiver(args.receiver)
    url = f"http://127.0.0.1:{server.server_address[1]}/alerts"
    plain: list[float] = []
    notified: list[float] = []
    with tempfile.TemporaryDirectory(prefix="painvision-notify-") as tmp:
        for k in range(args.repeats):
            plain += run(args.video, [])
            notified += run(args.video, ["--notify", url, "--outbox",
                                         str(Path(tmp) / f"outbox{k}.sqlite")])
    server.shutdown()
    a, b = statistics.median(plain), statistics.median(notified)
    report = {"video": args.video.name, "repeats": args.repeats, "receiver": args.receiver,
              "frames": [len(plain), len(notified)],
              "latency_ms_median": {"without": round(a, 3), "with_notify": round(b, 3)},
              "with_over_without": round(b / a, 3),
              "latency_ms_p95": {"without": round(sorted(plain)[int(0.95 * len(plain))], 3),
                                 "with_notify": round(sorted(notified)[int(0.95 * len(notified))],
                                                      3)}}
    print(f"{args.video.name}, {args.repeats} runs each, receiver {args.receiver}: median "
          f"latency {a:.3f} ms without --notify, {b:.3f} ms with ({b / a:.3f}x); p95 "
          f"{report['latency_ms_p95']['without']} / {report['latency_ms_p95']['with_notify']} ms")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
