"""Head-pose normalisation: a 3D similarity (Procrustes / Umeyama) fit of each frame's
mesh to a canonical neutral template. numpy only.

Template frame: x from the subject's right eye towards the left eye, y down the face,
z into the image (MediaPipe's convention), unit = the distance between the eye centres
(IOD), origin at the nasion. After alignment, translation, scale and rotation are gone
and the remaining differences between frames are expression (and noise).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from painvision.errors import InputError
from painvision.landmarks import indices as ix

__all__ = [
    "DEFAULT_MAX_PITCH_DEG",
    "DEFAULT_MAX_YAW_DEG",
    "PoseAlignment",
    "align_to_template",
    "canonical_frame",
    "euler_angles",
    "load_template",
    "umeyama",
]

#: Beyond these the half-profile face hides one eye and one brow: readings are flagged.
DEFAULT_MAX_YAW_DEG = 30.0
DEFAULT_MAX_PITCH_DEG = 25.0
_CHUNK = 2048


@lru_cache(maxsize=1)
def load_template() -> np.ndarray:
    """The canonical neutral mesh, ``(478, 3) float32`` in template units (IOD = 1).

    Built by ``scripts/make_template.py`` from MediaPipe meshes of the public-domain
    photos that ship with matplotlib and scikit-image.
    """
    path = resources.files("painvision.landmarks") / "data" / "template.npy"
    with resources.as_file(path) as p:
        tpl = np.load(p, allow_pickle=False)
    if tpl.shape != (478, 3):
        raise InputError(f"template must be (478, 3), got {tpl.shape}")
    return tpl.astype(np.float32)


def umeyama(src: np.ndarray, dst: np.ndarray):
    """Least-squares similarity transforms mapping ``src`` onto ``dst``, batched.

    Args:
        src: ``(T, N, 3)`` point sets.
        dst: ``(N, 3)`` or ``(T, N, 3)`` targets.

    Returns:
        ``(scale (T,), R (T, 3, 3), t (T, 3))`` with ``dst ~ scale * src @ R.T + t``;
        R is a proper rotation (det +1).
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.broadcast_to(np.asarray(dst, dtype=np.float64), src.shape)
    mu_s = src.mean(axis=1, keepdims=True)
    mu_d = dst.mean(axis=1, keepdims=True)
    xs = src - mu_s
    xd = dst - mu_d
    n = src.shape[1]
    cov = np.einsum("tni,tnj->tij", xd, xs) / n
    u, sig, vt = np.linalg.svd(cov)
    d = np.ones_like(sig)
    d[:, -1] = np.sign(np.linalg.det(u @ vt))
    r = u @ (d[:, :, None] * vt)
    var_s = (xs**2).sum(axis=(1, 2)) / n
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = (sig * d).sum(axis=1) / var_s
    t = mu_d[:, 0, :] - scale[:, None] * np.einsum("tij,tj->ti", r, mu_s[:, 0, :])
    return scale, r, t


def euler_angles(rotation: np.ndarray) -> np.ndarray:
    """``(T, 3, 3)`` head rotations (template -> camera) to ``(T, 3)`` yaw, pitch, roll in degrees.

    Yaw turns about the vertical (y) axis, pitch nods about x, roll tilts about the
    viewing axis; R = Ry(yaw) @ Rx(pitch) @ Rz(roll).
    """
    r = np.asarray(rotation, dtype=np.float64)
    pitch = np.arcsin(np.clip(-r[:, 1, 2], -1.0, 1.0))
    yaw = np.arctan2(r[:, 0, 2], r[:, 2, 2])
    roll = np.arctan2(r[:, 1, 0], r[:, 1, 1])
    return np.degrees(np.stack([yaw, pitch, roll], axis=1)).astype(np.float32)


@dataclass(frozen=True, slots=True)
class PoseAlignment:
    """Result of aligning a mesh sequence to the template.

    Attributes:
        aligned: ``(T, 478, 3) float32`` meshes in template units; NaN where no face.
        yaw_pitch_roll: ``(T, 3) float32`` head rotation in degrees; NaN where no face.
        scale: ``(T,) float32`` template units per pixel (1 / face size).
        residual: ``(T,) float32`` RMS distance of the stable points after alignment,
            in template units (IOD); large values mean a distorted or wrong mesh.
        pose_ok: ``(T,) bool`` face present and turned less than the limits.
    """

    aligned: np.ndarray
    yaw_pitch_roll: np.ndarray
    scale: np.ndarray
    residual: np.ndarray
    pose_ok: np.ndarray


def align_to_template(
    points: np.ndarray,
    template: np.ndarray | None = None,
    *,
    stable: tuple[int, ...] = ix.STABLE_POINTS,
    max_yaw_deg: float = DEFAULT_MAX_YAW_DEG,
    max_pitch_deg: float = DEFAULT_MAX_PITCH_DEG,
) -> PoseAlignment:
    """Remove translation, scale and rotation from each frame's mesh.

    Args:
        points: ``(T, 478, 3)`` meshes in an isotropic frame (pixels, z on the x scale,
            see ``LandmarkTrack.pixels``); rows that are all NaN mean "no face".
        template: ``(478, 3)`` target; defaults to ``load_template()``.
        stable: indices used for the fit (points that expressions barely move).

    Returns:
        PoseAlignment, NaN rows kept where there was no face.
    """
    pts = np.asarray(points, dtype=np.float32)
    if pts.ndim != 3 or pts.shape[1:] != (478, 3):
        raise InputError(f"points must be (T, 478, 3), got {pts.shape}")
    tpl = load_template() if template is None else np.asarray(template, dtype=np.float32)
    t_len = pts.shape[0]
    ok = np.isfinite(pts).all(axis=(1, 2))
    aligned = np.full_like(pts, np.nan)
    angles = np.full((t_len, 3), np.nan, dtype=np.float32)
    scale_out = np.full(t_len, np.nan, dtype=np.float32)
    residual = np.full(t_len, np.nan, dtype=np.float32)
    idx = ix.as_index(stable)
    rows = np.flatnonzero(ok)
    for start in range(0, rows.size, _CHUNK):  # bounded temporaries on long videos
        sel = rows[start : start + _CHUNK]
        s, r, t = umeyama(pts[sel][:, idx], tpl[idx])
        al = s[:, None, None] * np.einsum("tij,tnj->tni", r, pts[sel].astype(np.float64))
        al += t[:, None, :]
        aligned[sel] = al.astype(np.float32)
        # R maps camera -> template; the head's rotation in the camera is its transpose.
        angles[sel] = euler_angles(np.transpose(r, (0, 2, 1)))
        scale_out[sel] = s.astype(np.float32)
        res = al[:, idx] - tpl[idx]
        residual[sel] = np.sqrt((res**2).sum(axis=2).mean(axis=1)).astype(np.float32)
    with np.errstate(invalid="ignore"):
        pose_ok = (
            ok
            & (np.abs(angles[:, 0]) <= max_yaw_deg)
            & (np.abs(angles[:, 1]) <= max_pitch_deg)
        )
    return PoseAlignment(aligned, angles, scale_out, residual, pose_ok)


def canonical_frame(mesh: np.ndarray) -> np.ndarray:
    """Express one ``(478, 3)`` mesh in the template frame (used to build the template).

    Origin at the nasion, x along the eye-centre line, y down the face (forehead ->
    chin made orthogonal to x), unit = inter-ocular distance.
    """
    m = np.asarray(mesh, dtype=np.float64)
    right = m[[ix.RIGHT_EYE_OUTER, ix.RIGHT_EYE_INNER]].mean(axis=0)
    left = m[[ix.LEFT_EYE_OUTER, ix.LEFT_EYE_INNER]].mean(axis=0)
    x = left - right
    iod = np.linalg.norm(x)
    x /= iod
    down = m[ix.CHIN] - m[ix.FOREHEAD]
    y = down - down.dot(x) * x
    y /= np.linalg.norm(y)
    z = np.cross(x, y)
    basis = np.stack([x, y, z])
    return (((m - m[ix.NASION]) @ basis.T) / iod).astype(np.float32)
