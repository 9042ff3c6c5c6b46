"""Landmark-level synthetic data: meshes as a face-mesh front end would report them.

For a timeline and an identity this produces, per frame, the 478 points of the
identity's neutral mesh moved by the AU fields, turned and scaled by the head pose,
projected into a camera frame (weak perspective) and expressed in MediaPipe's
normalised coordinates, then spoiled the way the real front end spoils them: the
expression seen only partly (``expression_gain``), per-point jitter correlated over
time, a per-clip static offset, dropouts (short losses, and no face beyond a yaw
limit), and an uneven response over the face (``region_spread``, ``brow_occlusion_share``).
The noise and gain defaults come from ``scripts/measure_landmark_gap.py`` (MediaPipe on
rendered frames vs the generator's own landmarks; see docs/synthetic-data.md).
Thousands of frames per second: this is what training runs on at scale.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from painvision.features.response import region_gain
from painvision.synth.fields import closure_basis, deformation_fields
from painvision.synth.identity import Identity, photo_canonical, shape_offset
from painvision.synth.sequence import Timeline

__all__ = ["MeshGenerator", "MeshNoise"]


@dataclass(frozen=True)
class MeshNoise:
    """How the front end's landmarks differ from the true ones.

    Standard deviations are per coordinate, in template units (IOD); the defaults are
    the measurements of docs/landmark_gap.json (2-D RMS over both coordinates there,
    so divided by sqrt(2) here), averaged over the training and held-out identity.

    Attributes:
        jitter: frame-to-frame tracking noise.
        rho: its lag-1 autocorrelation (AR(1) over frames).
        bias: a per-clip, per-point static offset.
        expression_gain: share of the expression movement the front end reports.
        dropout_per_min: short face losses (0.2-1 s) per minute.
        lost_beyond_yaw_deg: no face reported when the head is turned further.
        region_spread: per clip, how unevenly the front end follows different parts of
            the face (``features.response.region_gain``: log-gain standard deviation).
        brow_occlusion_share: share of clips in which something rigid in front of the
            brows (glasses rims, a cap's brim) keeps the front end from following them.
    """

    jitter: float = 0.0045
    rho: float = 0.52
    bias: float = 0.0146
    expression_gain: float = 0.44
    dropout_per_min: float = 0.5
    lost_beyond_yaw_deg: float = 40.0
    region_spread: float = 0.5
    brow_occlusion_share: float = 0.25

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


class MeshGenerator:
    """Generates landmark sequences for one identity.

    Args:
        identity: the subject.
        size: camera frame (width, height) in pixels.
    """

    def __init__(self, identity: Identity, size: tuple[int, int] = (640, 480)) -> None:
        self.identity = identity
        self.size = size
        base = photo_canonical(identity.photo, identity.mirrored)
        self.neutral = base + shape_offset(base, identity.shape_seed, identity.shape_amount)
        self.fields = deformation_fields(self.neutral)
        for name, value in identity.resting.items():
            self.neutral = self.neutral + (value / 5.0) * self.fields[name]
        self.closure_basis, self.lid_pairs = closure_basis(self.neutral)
        self.face_width = float(np.ptp(self.neutral[:468, 0]))

    def meshes(self, timeline: Timeline, gain: float | np.ndarray = 1.0) -> np.ndarray:
        """``(T, 478, 3)`` expression meshes in the template frame (before the camera).

        ``gain`` scales the expression movement: one number, or ``(478,)`` per point.
        """
        n = len(timeline)
        names = [k for k in timeline.drive if k in self.fields]
        drive = np.stack([timeline.drive[k] for k in names], axis=1) / 5.0  # (T, F)
        fields = np.stack([self.fields[k] for k in names])  # (F, 478, 3)
        move = np.einsum("tf,fnc->tnc", drive, fields)
        mesh = self.neutral[None] + move
        lids = mesh[:, self.lid_pairs[:, 1], 1] - mesh[:, self.lid_pairs[:, 0], 1]
        delta = 0.95 * timeline.closure[:, None] * np.maximum(lids, 0.0)
        move += np.einsum("tk,knc->tnc", delta, self.closure_basis)
        g = np.asarray(gain, dtype=np.float64)
        move *= g.reshape(1, -1, 1) if g.ndim else g
        return (self.neutral[None] + move).astype(np.float32).reshape(n, 478, 3)

    def sequence(self, timeline: Timeline, rng: np.random.Generator,
                 noise: MeshNoise | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Normalised landmarks ``(T, 478, 3)`` (NaN where lost) and ``detected (T,)``."""
        noise = noise or MeshNoise()
        n = len(timeline)
        gain = noise.expression_gain * region_gain(
            self.neutral, rng, noise.region_spread, noise.brow_occlusion_share)
        mesh = self.meshes(timeline, gain=gain)
        # Front-end error: a static per-clip offset plus AR(1) jitter, per point.
        err = rng.normal(0.0, noise.bias, (1, 478, 3))
        jit = np.zeros((478, 3))
        scale = noise.jitter * np.sqrt(1 - noise.rho**2)
        errs = np.empty((n, 478, 3))
        for i in range(n):
            jit = noise.rho * jit + rng.normal(0.0, scale, (478, 3))
            errs[i] = jit
        mesh = mesh + err + errs
        # Camera: rotate about the head centre, scale, place.
        yaw, pitch, roll = (np.radians(timeline.head[:, k]) for k in range(3))
        cy, sy, cp, sp, cr, sr = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch), \
            np.cos(roll), np.sin(roll)
        one, zero = np.ones(n), np.zeros(n)
        ry = np.stack([np.stack([cy, zero, sy], 1), np.stack([zero, one, zero], 1),
                       np.stack([-sy, zero, cy], 1)], 1)
        rx = np.stack([np.stack([one, zero, zero], 1), np.stack([zero, cp, -sp], 1),
                       np.stack([zero, sp, cp], 1)], 1)
        rz = np.stack([np.stack([cr, -sr, zero], 1), np.stack([sr, cr, zero], 1),
                       np.stack([zero, zero, one], 1)], 1)
        rot = ry @ rx @ rz
        pivot = np.array([0.0, 0.6, 1.0])  # roughly the head's centre, behind the nasion
        p = np.einsum("tij,tnj->tni", rot, mesh - pivot) + pivot
        w, h = self.size
        px_per_iod = w / (2.8 * self.face_width) * timeline.head[:, 5]
        centre_x = w / 2 + timeline.head[:, 3] * self.face_width * px_per_iod
        centre_y = 0.45 * h + timeline.head[:, 4] * self.face_width * px_per_iod
        out = np.empty((n, 478, 3), dtype=np.float32)
        out[..., 0] = (p[..., 0] * px_per_iod[:, None] + centre_x[:, None]) / w
        out[..., 1] = (p[..., 1] * px_per_iod[:, None] + centre_y[:, None]) / h
        out[..., 2] = (p[..., 2] - p[..., 2].mean(axis=1, keepdims=True)) * px_per_iod[:, None] / w
        detected = np.abs(timeline.head[:, 0]) <= noise.lost_beyond_yaw_deg
        t = timeline.t
        n_drop = rng.poisson(noise.dropout_per_min * n / timeline.fps / 60)
        for start in np.sort(rng.uniform(0, t[-1] if n else 0, n_drop)):
            detected &= ~((t >= start) & (t < start + rng.uniform(0.2, 1.0)))
        out[~detected] = np.nan
        return out, detected
