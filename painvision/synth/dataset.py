"""Write synthetic datasets in the generic format (``painvision.datasets.generic``)."""

from __future__ import annotations

import csv
import json
import logging
import math
import multiprocessing as mp
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from painvision._version import __version__
from painvision.errors import InputError
from painvision.synth.identity import Identity, sample_identities
from painvision.synth.meshgen import MeshGenerator, MeshNoise
from painvision.synth.scenario import random_timeline
from painvision.synth.sequence import write_labels

logger = logging.getLogger(__name__)

__all__ = ["ClipJob", "SynthConfig", "plan_clips", "write_dataset"]


#: The most minutes one dataset may hold (about a week of video).
MAX_MINUTES = 10_000.0
#: The least time each subject gets: a second of frames to label.
MIN_SUBJECT_S = 1.0


@dataclass(frozen=True)
class SynthConfig:
    """What ``painvision synth`` makes.

    Attributes:
        subjects: number of identities (held-out ones included).
        minutes: total minutes of video / landmarks, shared equally by the subjects.
        render: rendered videos (real photos warped, camera degradations) instead of
            landmark sequences.
        seed: everything is a function of it.
        heldout_share: share of subjects in the held-out (benchmark) split, at least one
            when there are two subjects or more; 1 makes a held-out-only dataset.
        fps: frame rate.
        clip_s: longest clip; a subject's time is cut into clips this long.
        size: frame size (width, height).
    """

    subjects: int = 8
    minutes: float = 4.0
    render: bool = False
    seed: int = 0
    heldout_share: float = 0.25
    fps: float = 25.0
    clip_s: float = 30.0
    size: tuple[int, int] = (480, 360)

    def __post_init__(self) -> None:
        for name in ("minutes", "heldout_share", "fps", "clip_s"):
            if not math.isfinite(getattr(self, name)):
                raise InputError(f"{name} must be a finite number, got {getattr(self, name)}")
        if self.subjects < 1:
            raise InputError(f"subjects must be >= 1, got {self.subjects}")
        if not 0 < self.minutes <= MAX_MINUTES:
            raise InputError(f"minutes must be in (0, {MAX_MINUTES}], got {self.minutes:g}")
        if self.minutes * 60.0 / self.subjects < MIN_SUBJECT_S:
            raise InputError(f"{self.minutes:g} minutes shared by {self.subjects} subjects "
                             f"gives each less than {MIN_SUBJECT_S:g} s: give more minutes "
                             "or fewer subjects")
        if not 0 <= self.heldout_share <= 1:
            raise InputError(f"heldout share must be in [0, 1], got {self.heldout_share}")
        if self.fps <= 0 or self.clip_s < 1:
            raise InputError("fps must be > 0 and clip length >= 1 s")


@dataclass(frozen=True)
class ClipJob:
    clip_id: str
    identity: Identity
    duration_s: float
    seed: tuple[int, ...]


def plan_clips(cfg: SynthConfig) -> list[ClipJob]:
    """The clips of a dataset, in order; a pure function of the configuration."""
    n_held = 0
    if cfg.heldout_share >= 1:
        n_held = cfg.subjects
    elif cfg.subjects >= 2 and cfg.heldout_share > 0:
        n_held = min(cfg.subjects - 1, max(1, int(round(cfg.subjects * cfg.heldout_share))))
    identities = sample_identities(cfg.subjects - n_held, "train", cfg.seed)
    identities += sample_identities(n_held, "heldout", cfg.seed)
    per_subject = cfg.minutes * 60.0 / cfg.subjects
    jobs = []
    for k, ident in enumerate(identities):
        n_clips = max(1, int(np.ceil(per_subject / cfg.clip_s - 1e-9)))
        length = round(per_subject / n_clips * cfg.fps) / cfg.fps  # whole frames
        for j in range(n_clips):
            jobs.append(ClipJob(f"{ident.subject}_c{j:02d}", ident, length, (cfg.seed, k, j)))
    return jobs


_RIGS: dict = {}


def _make_clip(args: tuple[ClipJob, SynthConfig, str]) -> tuple[str, int]:
    job, cfg, root = args
    rng = np.random.default_rng(job.seed)
    ident = job.identity
    timeline = random_timeline(rng, job.duration_s, cfg.fps, ident.expressiveness)
    out = Path(root)
    if cfg.render:  # the renderer's dependencies load only for rendered datasets
        from painvision.synth.degrade import Degrader
        from painvision.synth.render import identity_rig, render_timeline

        key = (ident.subject, cfg.size)
        if key not in _RIGS:
            _RIGS.clear()
            _RIGS[key] = identity_rig(ident, cfg.size)
        degrader = Degrader(len(timeline), cfg.fps, seed=int(rng.integers(0, 2**31 - 1)))
        render_timeline(_RIGS[key], timeline, out / "videos" / f"{job.clip_id}.mp4",
                        out / "labels" / f"{job.clip_id}.csv", degrader=degrader)
    else:
        gen = MeshGenerator(ident, cfg.size)
        landmarks, detected = gen.sequence(timeline, rng, MeshNoise())
        (out / "landmarks").mkdir(parents=True, exist_ok=True)
        (out / "labels").mkdir(parents=True, exist_ok=True)
        np.savez_compressed(out / "landmarks" / f"{job.clip_id}.npz", t=timeline.t,
                            landmarks=landmarks, detected=detected, width=cfg.size[0],
                            height=cfg.size[1], fps=cfg.fps)
        write_labels(out / "labels" / f"{job.clip_id}.csv", timeline)
    return job.clip_id, len(timeline)


def write_dataset(
    out: str | os.PathLike[str],
    cfg: SynthConfig,
    *,
    workers: int = 1,
    on_progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Build a dataset in a temporary folder beside ``out``, then move it into place.

    Raises:
        InputError: ``out`` exists and is not empty.
    """
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"{out} exists and is not empty; choose a new folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    jobs = plan_clips(cfg)
    total = sum(int(round(j.duration_s * cfg.fps)) for j in jobs)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        args = [(j, cfg, str(tmp)) for j in jobs]
        done = 0
        if workers > 1:
            with mp.get_context("spawn").Pool(workers) as pool:
                for _, n in pool.imap(_make_clip, args):
                    done += n
                    if on_progress:
                        on_progress(done, total)
        else:
            for a in args:
                _, n = _make_clip(a)
                done += n
                if on_progress:
                    on_progress(done, total)
        with open(tmp / "subjects.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["id", "subject", "split", "photo", "mirrored", "shape_seed",
                        "expressiveness", "resting", "glasses", "duration_s", "fps"])
            for j in jobs:
                i = j.identity
                w.writerow([j.clip_id, i.subject, i.split, i.photo, int(i.mirrored), i.shape_seed,
                            i.expressiveness, json.dumps(i.resting, sort_keys=True),
                            json.dumps(i.glasses, sort_keys=True),
                            f"{j.duration_s:.3f}", cfg.fps])
        meta = {
            "painvision_version": __version__,
            "kind": "rendered" if cfg.render else "landmarks",
            "config": {k: getattr(cfg, k) for k in cfg.__dataclass_fields__},
            "mesh_noise": None if cfg.render else MeshNoise().to_dict(),
            "splits": {s: sorted({j.identity.subject for j in jobs if j.identity.split == s})
                       for s in ("train", "heldout")},
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        os.chmod(tmp, 0o755)
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    logger.info("wrote %s: %d clips, %d frames", out, len(jobs), total)
    return out
