"""Does the bedside monitor stay silent through laughter, crying, yawns and talking, and
still announce every pain episode mixed into the same stream?

Renders, for each of three held-out identities (the Grace Hopper photo, never used to
fit or train anything), a 10-minute stream (30 minutes in all) of strong laughs, crying,
yawns and talking among blinks (``synth.scenario`` with only those events, 20 s calm at
the start for the automatic neutral), and the same stream with pain episodes laid over
it. Each video goes through ``painvision watch FILE --out LOG.jsonl`` with its defaults,
as a user runs it; the onsets are counted from the log and matched to the labels.

A pain episode counts as *shown* when its labelled PSPI reaches the alarm threshold (3):
the alert policy cannot be asked to announce a face that never shows that much.

Usage: python scripts/confounder_stream.py [--minutes 10] [--json docs/confounder_stream.json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from painvision.bench.episodes import runs
from painvision.datasets import ACTIVITIES
from painvision.synth.degrade import Degrader
from painvision.synth.identity import sample_identities
from painvision.synth.render import identity_rig, render_timeline
from painvision.synth.scenario import DEFAULT_RATES, random_timeline
from painvision.synth.sequence import Timeline

ROOT = Path(__file__).resolve().parent.parent
LOOK_ALIKES = {"laugh": 2.0, "cry": 1.0, "yawn": 1.0, "talk": 2.0}
CALM_S = 20.0


def timelines(seed: int, minutes: float, expressiveness: float) -> tuple[Timeline, Timeline]:
    """The look-alikes-only stream and the same stream with pain episodes laid over it."""
    only = dict.fromkeys(DEFAULT_RATES, 0.0) | {"blink": 15.0}
    conf = random_timeline(np.random.default_rng([seed, 1]), minutes * 60, 25.0,
                           expressiveness, rates=only | LOOK_ALIKES)
    pain = random_timeline(np.random.default_rng([seed, 2]), minutes * 60, 25.0,
                           expressiveness, rates=dict.fromkeys(DEFAULT_RATES, 0.0)
                           | {"pain": 1.2})
    calm = conf.t < CALM_S
    drive = {k: np.where(calm, 0.0, v) for k, v in conf.drive.items()}
    closure = np.where(calm & (conf.au45 == 0), 0.0, conf.closure)
    activity = np.where(calm, 0, conf.activity).astype(np.int8)
    conf = Timeline(conf.fps, drive, closure.astype(np.float32), conf.au43, conf.au45,
                    np.zeros_like(conf.pain), conf.head, activity)
    p = pain.pain * (~calm)
    mixed = Timeline(
        conf.fps, {k: np.maximum(conf.drive[k], np.where(calm, 0.0, pain.drive[k]))
                   for k in conf.drive},
        np.maximum(conf.closure, np.where(calm, 0.0, pain.closure)).astype(np.float32),
        np.maximum(conf.au43, np.where(calm, 0.0, pain.au43)).astype(np.float32), conf.au45,
        p.astype(np.int8), conf.head,
        np.where(p > 0, ACTIVITIES.index("pain"), conf.activity).astype(np.int8))
    return conf, mixed


def render_one(args: tuple) -> str:
    ident, tl, path, seed = args
    rig = identity_rig(ident, (480, 360))
    render_timeline(rig, tl, path, Path(str(path).replace(".mp4", ".labels.csv")),
                    degrader=Degrader(len(tl), tl.fps, seed=seed))
    return str(path)


def during(tl: Timeline, t: float) -> str:
    """What the face was doing at ``t`` seconds."""
    i = min(int(round(t * tl.fps)), len(tl) - 1)
    return ACTIVITIES[int(tl.activity[i])]


def watch(video: Path) -> list[dict]:
    log = video.with_suffix(".jsonl")
    exe = Path(sys.executable).with_name("painvision")
    subprocess.run([str(exe), "watch", str(video), "--quiet", "--out", str(log)], check=True,
                   capture_output=True, text=True)
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10.0, help="per identity (3 identities)")
    ap.add_argument("--json", default=str(ROOT / "docs" / "confounder_stream.json"))
    args = ap.parse_args()
    t0 = time.perf_counter()
    idents = sample_identities(3, "heldout", 500)
    report: dict[str, object] = {"minutes_per_identity": args.minutes,
                                 "look_alike_rates_per_min": LOOK_ALIKES, "streams": []}
    with tempfile.TemporaryDirectory() as tmp:
        jobs, labels = [], {}
        for k, ident in enumerate(idents):
            conf, mixed = timelines(600 + k, args.minutes, ident.expressiveness)
            for name, tl in (("look_alikes", conf), ("with_pain", mixed)):
                path = Path(tmp) / f"{ident.subject}_{name}.mp4"
                jobs.append((ident, tl, path, 700 + k))
                labels[path] = (ident, name, tl)
        with mp.get_context("spawn").Pool(2) as pool:
            videos = [Path(v) for v in pool.map(render_one, jobs)]
        print(f"rendered {len(videos)} videos, {time.perf_counter() - t0:.0f} s", flush=True)
        with mp.get_context("spawn").Pool(2) as pool:
            logs = pool.map(watch, videos)
        for video, lines in zip(videos, logs, strict=True):
            ident, name, tl = labels[video]
            events = [e for e in lines if e.get("kind") == "event"]
            onsets = [e for e in events if e["type"] == "onset"]
            t = tl.t
            pspi = tl.labels().pspi
            episodes = [(t[a], t[b - 1], float(pspi[a:b].max())) for a, b in runs(tl.pain > 0)]
            act = tl.activity
            false = [e for e in onsets
                     if not any(s - 1.0 <= e["t"] <= end + 2.0 for s, end, _ in episodes)]
            found = [any(s - 1.0 <= e["t"] <= end + 2.0 for e in onsets)
                     for s, end, _ in episodes]
            shown = [f for f, (_, _, peak) in zip(found, episodes, strict=True) if peak >= 3.0]
            delays = [min(e["t"] for e in onsets if s - 1.0 <= e["t"] <= end + 2.0) - s
                      for (s, end, _), f in zip(episodes, found, strict=True) if f]
            entry = {
                "identity": ident.subject, "stream": name, "expressiveness": ident.expressiveness,
                "minutes": round(len(t) / tl.fps / 60, 2),
                "look_alike_seconds": {a: round(float((act == ACTIVITIES.index(a)).sum())
                                                / tl.fps, 1) for a in LOOK_ALIKES},
                "onsets": len(onsets),
                "false_onsets": [{"t": e["t"], "during": during(tl, e["t"])} for e in false],
                "pain_episodes": len(episodes), "announced": int(sum(found)),
                "shown_episodes": len(shown), "shown_announced": int(sum(shown)),
                "onset_delay_s": [round(d, 2) for d in delays],
            }
            report["streams"].append(entry)
            print(json.dumps(entry), flush=True)
    streams = report["streams"]
    report["summary"] = {
        "look_alike_minutes": sum(s["minutes"] for s in streams if s["stream"] == "look_alikes"),
        "onsets_in_look_alike_streams": sum(s["onsets"] for s in streams
                                            if s["stream"] == "look_alikes"),
        "false_onsets_in_streams_with_pain": sum(len(s["false_onsets"]) for s in streams
                                                 if s["stream"] == "with_pain"),
        "pain_episodes": sum(s["pain_episodes"] for s in streams),
        "announced": sum(s["announced"] for s in streams),
        "shown_episodes": sum(s["shown_episodes"] for s in streams),
        "shown_announced": sum(s["shown_announced"] for s in streams),
        "median_onset_delay_s": float(np.median([d for s in streams for d in s["onset_delay_s"]]))
        if any(s["onset_delay_s"] for s in streams) else None,
        "seconds": round(time.perf_counter() - t0),
    }
    print(json.dumps(report["summary"], indent=1))
    Path(args.json).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
