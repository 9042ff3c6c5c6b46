"""Synthetic identities: face shapes beyond the two public-domain photos.

An identity is a bundled photo (or its mirror image), a smooth random change of face
proportions, a resting expression (some people look "frowny" at rest), an
expressiveness factor (stoic to very expressive) and, on a photo without glasses, maybe
a pair of drawn glasses (``synth.glasses``). Training identities are built from
the astronaut photo; held-out (benchmark) identities from the Grace Hopper photo, with
shape seeds from a separate range, so no photo or shape seed of the benchmark is ever
seen in training.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import lru_cache

import numpy as np

from painvision.landmarks.pose import canonical_frame
from painvision.synth.faces import load_photo, photo_landmarks
from painvision.synth.glasses import sample_glasses_style

__all__ = ["PHOTOS_WITH_GLASSES", "SPLIT_PHOTOS", "Identity", "identity_image",
           "sample_identities", "shape_offset"]

#: Which photos each split draws its identities from.
SPLIT_PHOTOS = {"train": "astronaut", "heldout": "grace_hopper"}
#: Photos whose subject already wears glasses (no drawn ones on top).
PHOTOS_WITH_GLASSES = frozenset({"grace_hopper"})
_SEED_BASE = {"train": 1_000_003, "heldout": 9_000_011}


@dataclass(frozen=True)
class Identity:
    """One synthetic subject."""

    subject: str
    split: str
    photo: str
    mirrored: bool
    shape_seed: int
    shape_amount: float
    expressiveness: float
    resting: dict[str, float] = field(default_factory=dict)
    glasses: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@lru_cache(maxsize=8)
def identity_image(photo: str, mirrored: bool) -> np.ndarray:
    """The photo (BGR), mirrored left-right if asked."""
    img = load_photo(photo)
    return np.ascontiguousarray(img[:, ::-1]) if mirrored else img


@lru_cache(maxsize=8)
def photo_canonical(photo: str, mirrored: bool) -> np.ndarray:
    """``(478, 3)`` neutral mesh of the (mirrored) photo in the template frame."""
    img = identity_image(photo, mirrored)
    h, w = img.shape[:2]
    return canonical_frame(photo_landmarks(img) * np.array([w, h, w], dtype=np.float32))


def shape_offset(neutral: np.ndarray, seed: int, amount: float) -> np.ndarray:
    """A smooth random change of face proportions, ``(478, 3)`` in template units.

    Global: face width and height scaled by up to +-6 % (times ``amount``). Local: eight
    Gaussian bumps (sigma 0.3 IOD) of up to ~0.05 IOD moving nearby features together
    (wider-set eyes, a longer nose, a fuller lower face...). Smooth on the scale of the
    features, so the warped photo stays a plausible face.
    """
    rng = np.random.default_rng(seed)
    n = np.asarray(neutral, dtype=np.float64)
    scale = 1.0 + amount * rng.uniform(-0.06, 0.06, size=2)
    offset = np.zeros_like(n)
    offset[:, 0] = n[:, 0] * (scale[0] - 1.0)
    offset[:, 1] = n[:, 1] * (scale[1] - 1.0)
    centres = n[rng.choice(468, size=8, replace=False), :2]
    amps = rng.normal(0.0, 0.025 * amount, size=(8, 2))
    d2 = ((n[:, None, :2] - centres[None]) ** 2).sum(axis=2)
    offset[:, :2] += np.exp(-d2 / (2 * 0.3**2)) @ amps
    return offset.astype(np.float32)


def sample_identities(n: int, split: str, seed: int, start: int = 0,
                      glasses: bool = True) -> list[Identity]:
    """``n`` identities of one split, reproducible from ``seed``.

    Subjects are named ``<split>-NNN`` from ``start``. One in three is mirrored, one in
    four has a frowny resting face, one in six is stoic (expressiveness 0.3-0.5), and on
    a photo without glasses one in three (``glasses``) wears drawn ones, of a random
    style drawn last from the identity's random stream, so they change nothing else.
    """
    if split not in SPLIT_PHOTOS:
        raise ValueError(f"split must be one of {sorted(SPLIT_PHOTOS)}, got {split!r}")
    out = []
    for k in range(start, start + n):
        rng = np.random.default_rng([seed, _SEED_BASE[split], k])
        stoic = rng.random() < 1 / 6
        resting = {}
        if rng.random() < 0.25:
            resting["au4"] = round(float(rng.uniform(0.5, 1.5)), 2)
        shape_amount = 0.0 if k == 0 else float(rng.uniform(0.5, 1.0))
        expressiveness = round(
            float(rng.uniform(0.3, 0.5) if stoic else rng.uniform(0.7, 1.3)), 2)
        style = {}
        if glasses and SPLIT_PHOTOS[split] not in PHOTOS_WITH_GLASSES and k % 3 == 1:
            style = sample_glasses_style(rng)
        out.append(Identity(
            subject=f"{split}-{k:03d}",
            split=split,
            photo=SPLIT_PHOTOS[split],
            mirrored=bool(k % 3 == 2),
            shape_seed=int(_SEED_BASE[split] + 1000 * seed + k),
            shape_amount=shape_amount,
            expressiveness=expressiveness,
            resting=resting,
            glasses=style,
        ))
    return out
