"""Per-AU deformation fields on the face mesh.

Each field says where every mesh point moves when one action unit is at intensity 5
(FACS "E"), in template units (IOD = 1) in the face's own frame: x towards the
subject's left, y down the face, z into the image. Intensities scale fields linearly
and fields of several AUs add. Movements follow the FACS appearance descriptions:

- AU4 brow lowerer: brows down (0.10 IOD) and inner ends drawn together; the upper
  lid is pushed down a little.
- AU6 cheek raiser: infraorbital cheek up (0.07); lower-lid skin and lower lid lifted.
- AU7 lid tightener: lower lid up (0.07) and upper lid down a little: aperture narrows.
- AU9 nose wrinkler: nasal wings up (0.06) and out, inner brows down, upper lip up a bit.
- AU10 upper lip raiser: upper lip up (0.07 at the centre), nasal wings up a little.
- closure (AU43 eyes closed and AU45 blink, as a fraction 0-1): the upper lid margin
  travels to the lower lid, the lid skin above follows (``closure_basis``).

Movements that are not pain (confounders the scorers must not take for pain):

- AU1+2 brow raiser ("au1"): brows up (0.10) with the forehead skin.
- AU12 lip corner puller ("au12"): mouth corners up (0.06) and out (0.07), nasolabial
  cheek up a little.
- AU25/26 lips part, jaw drops ("au26"): lower lip and chin down (0.20 at the chin),
  tapering along the jaw.
- jaw sideways ("jaw_side", chewing): lower lip, chin and jaw shift sideways (0.05).
- AU15 lip corner depressor ("au15", crying): mouth corners down (0.05), the lower lip
  beside them follows.
- AU20 lip stretcher ("au20", a pain look): mouth corners drawn straight out (0.06 each)
  and a little down, the lips flattened against the teeth.

Handles carry these displacements; every other point follows by harmonic
interpolation over the mesh, so the skin moves smoothly, and the pose-reference
points (``indices.STABLE_POINTS``) and the face outline stay put.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse import linalg as splinalg
from scipy.spatial import ConvexHull, Delaunay

from painvision.landmarks import indices as ix

__all__ = ["FIELD_NAMES", "closure_basis", "deformation_fields"]

FIELD_NAMES = ("au4", "au6", "au7", "au9", "au10", "au1", "au12", "au26", "jaw_side", "au15",
               "au20")


def _mesh_laplacian(points: np.ndarray) -> sparse.csr_matrix:
    """Graph Laplacian of the Delaunay triangulation, edges weighted by 1 / length."""
    tri = Delaunay(points).simplices
    edges = np.concatenate([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [2, 0]]])
    edges = np.unique(np.sort(edges, axis=1), axis=0)
    w = 1.0 / np.maximum(np.linalg.norm(points[edges[:, 0]] - points[edges[:, 1]], axis=1), 1e-6)
    n = points.shape[0]
    a = sparse.coo_matrix(
        (np.concatenate([w, w]), (np.concatenate([edges[:, 0], edges[:, 1]]),
                                  np.concatenate([edges[:, 1], edges[:, 0]]))),
        shape=(n, n),
    ).tocsr()
    return (sparse.diags(np.asarray(a.sum(axis=1)).ravel()) - a).tocsr()


def _propagate(neutral: np.ndarray, handles: dict[int, np.ndarray]) -> np.ndarray:
    """Harmonic interpolation of handle displacements over the 468 mesh points.

    Handles, the pose-reference points and the face outline are fixed; every other
    point takes the displacement that makes the field as smooth as possible (a
    discrete Laplace equation on the mesh graph), so the skin between handles
    stretches evenly instead of folding.
    """
    pts = neutral[:468, :2].astype(np.float64)
    lap = _mesh_laplacian(pts)
    fixed = dict.fromkeys(ix.STABLE_POINTS, np.zeros(3))
    fixed.update(dict.fromkeys(ConvexHull(pts).vertices.tolist(), np.zeros(3)))
    fixed.update(handles)
    fidx = np.array(sorted(fixed), dtype=np.int64)
    free = np.setdiff1d(np.arange(468), fidx)
    vals = np.stack([fixed[i] for i in fidx]).astype(np.float64)
    field = np.zeros((478, 3))
    field[fidx] = vals
    rhs = -lap[free][:, fidx] @ vals
    field[free] = np.column_stack(
        [splinalg.spsolve(lap[free][:, free].tocsc(), rhs[:, k]) for k in range(3)]
    )
    # Irises: right iris follows the right upper lid centre at half travel, same for left.
    field[list(ix.IRIS_RIGHT)] = 0.5 * field[159]
    field[list(ix.IRIS_LEFT)] = 0.5 * field[386]
    return field.astype(np.float32)


def _vec(dx: float = 0.0, dy: float = 0.0) -> np.ndarray:
    return np.array([dx, dy, 0.0])


#: Lid movement tapers to nothing at the eye corners (sin over the 7 lid points).
_LID_TAPER = np.sin(np.pi * np.arange(1, 8) / 8.0)


def _lid(points: tuple[int, ...], dy: float, handles: dict[int, np.ndarray]) -> None:
    for i, taper in zip(points, _LID_TAPER, strict=True):
        handles[i] = _vec(0.0, dy * taper)


def _pin(points, handles: dict[int, np.ndarray]) -> None:
    for i in points:
        handles.setdefault(i, _vec())


def deformation_fields(neutral: np.ndarray) -> dict[str, np.ndarray]:
    """Fields for one face.

    Args:
        neutral: ``(478, 3)`` the face's neutral mesh in the template frame
            (``pose.canonical_frame``).

    Returns:
        name (``FIELD_NAMES``) -> ``(478, 3) float32`` displacement at intensity 5
        (see ``closure_basis`` for the eyelids closing).
    """
    n = np.asarray(neutral, dtype=np.float64)
    fields: dict[str, np.ndarray] = {}

    # AU4: brows down and together, the medial end most.
    h: dict[int, np.ndarray] = {}
    for side, brows in ((+1, ix.RIGHT_BROW_UPPER + ix.RIGHT_BROW_LOWER),
                        (-1, ix.LEFT_BROW_UPPER + ix.LEFT_BROW_LOWER)):
        for i in brows:
            medial = np.clip(1.0 - abs(n[i, 0]) / 0.9, 0.2, 1.0)  # 1 at the midline
            h[i] = _vec(side * 0.045 * medial, 0.10)
    for i in ix.GLABELLA:
        h[i] = _vec(0.0, 0.03)
    for i in ix.RIGHT_UPPER_LID_SKIN + ix.LEFT_UPPER_LID_SKIN:
        h[i] = _vec(0.0, 0.03)
    for lid in (ix.RIGHT_UPPER_LID, ix.LEFT_UPPER_LID):
        _lid(lid, 0.015, h)
    _pin(ix.RIGHT_LOWER_LID + ix.LEFT_LOWER_LID, h)
    fields["au4"] = _propagate(n, h)

    # AU6: cheeks up, lower lid lifted from below.
    h = {}
    for i in ix.RIGHT_CHEEK + ix.LEFT_CHEEK:
        h[i] = _vec(0.0, -0.07)
    for i in ix.RIGHT_LOWER_LID_SKIN + ix.LEFT_LOWER_LID_SKIN:
        h[i] = _vec(0.0, -0.05)
    for lid in (ix.RIGHT_LOWER_LID, ix.LEFT_LOWER_LID):
        _lid(lid, -0.035, h)
    _pin(ix.RIGHT_UPPER_LID + ix.LEFT_UPPER_LID + ix.RIGHT_BROW_LOWER + ix.LEFT_BROW_LOWER, h)
    _pin(ix.UPPER_LIP_OUTER, h)
    fields["au6"] = _propagate(n, h)

    # AU7: lower lid raised and straightened, upper lid lowered a little.
    h = {}
    for lid in (ix.RIGHT_LOWER_LID, ix.LEFT_LOWER_LID):
        _lid(lid, -0.06, h)
    for i in ix.RIGHT_LOWER_LID_SKIN + ix.LEFT_LOWER_LID_SKIN:
        h[i] = _vec(0.0, -0.03)
    for lid in (ix.RIGHT_UPPER_LID, ix.LEFT_UPPER_LID):
        _lid(lid, 0.02, h)
    _pin(ix.RIGHT_CHEEK + ix.LEFT_CHEEK + ix.RIGHT_BROW_LOWER + ix.LEFT_BROW_LOWER, h)
    fields["au7"] = _propagate(n, h)

    # AU9: nasal wings up and out, inner brows down, upper lip up a little.
    h = {}
    for side, ala in ((-1, ix.RIGHT_ALA), (+1, ix.LEFT_ALA)):
        for i in ala:
            h[i] = _vec(side * 0.015, -0.06)
    for i in (ix.RIGHT_BROW_INNER, 55, 65, ix.LEFT_BROW_INNER, 285, 295):
        h[i] = _vec(0.0, 0.035)
    for i in ix.UPPER_LIP_OUTER:
        h[i] = _vec(0.0, -0.03)
    h[ix.SUBNASALE] = _vec(0.0, -0.02)
    _pin((ix.NOSE_TIP, 4, ix.LOWER_LIP_BOTTOM, ix.LOWER_LIP_INNER, 84, 314), h)
    fields["au9"] = _propagate(n, h)

    # AU10: upper lip raised, most at the centre; nasal wings follow a little.
    h = {}
    for i in ix.UPPER_LIP_OUTER + ix.UPPER_LIP_INNER_ROW:
        centre = np.clip(1.0 - abs(n[i, 0]) / 0.8, 0.35, 1.0)
        h[i] = _vec(0.0, -0.07 * centre)
    for i in ix.RIGHT_ALA + ix.LEFT_ALA:
        h[i] = _vec(0.0, -0.02)
    h[ix.SUBNASALE] = _vec(0.0, -0.01)
    _pin((ix.NOSE_TIP, 4, ix.LOWER_LIP_BOTTOM, ix.LOWER_LIP_INNER, 84, 314, 87, 317, 178, 402), h)
    _pin((ix.MOUTH_RIGHT, ix.MOUTH_LEFT), h)
    fields["au10"] = _propagate(n, h)

    # AU1+2: brows and forehead up.
    h = {}
    for i in ix.RIGHT_BROW_UPPER + ix.RIGHT_BROW_LOWER + ix.LEFT_BROW_UPPER + ix.LEFT_BROW_LOWER:
        h[i] = _vec(0.0, -0.10)
    for i in ix.FOREHEAD_SKIN:
        h[i] = _vec(0.0, -0.04)
    for i in ix.RIGHT_UPPER_LID_SKIN + ix.LEFT_UPPER_LID_SKIN:
        h[i] = _vec(0.0, -0.02)
    _pin(ix.RIGHT_UPPER_LID + ix.LEFT_UPPER_LID, h)
    fields["au1"] = _propagate(n, h)

    # AU12: mouth corners up and out.
    h = {}
    for side, corner, ring in ((-1, ix.MOUTH_RIGHT, (185, 40, 146, 91)),
                               (+1, ix.MOUTH_LEFT, (409, 270, 375, 321))):
        h[corner] = _vec(side * 0.07, -0.06)
        for i in ring:
            h[i] = _vec(side * 0.035, -0.035)
    for i in ix.NASOLABIAL:
        h[i] = _vec(0.0, -0.03)
    _pin((ix.NOSE_TIP, 4, ix.SUBNASALE, ix.UPPER_LIP_TOP, ix.LOWER_LIP_BOTTOM) + ix.CHIN_POINTS, h)
    fields["au12"] = _propagate(n, h)

    # AU25/26: lips part and the jaw drops.
    h = {}
    for i in ix.LOWER_LIP_OUTER + ix.LOWER_LIP_INNER_ROW:
        h[i] = _vec(0.0, 0.17)
    for i in ix.CHIN_POINTS:
        h[i] = _vec(0.0, 0.20)
    for jaw in (ix.JAW_RIGHT, ix.JAW_LEFT):
        for k, i in enumerate(jaw):
            h[i] = _vec(0.0, 0.17 * (1.0 - k / len(jaw)))
    for i in (ix.MOUTH_RIGHT, ix.MOUTH_LEFT):
        h[i] = _vec(0.0, 0.06)
    _pin(ix.UPPER_LIP_OUTER + ix.UPPER_LIP_INNER_ROW, h)
    fields["au26"] = _propagate(n, h)

    # Jaw sideways (chewing): towards the subject's left.
    h = {}
    for i in ix.LOWER_LIP_OUTER + ix.LOWER_LIP_INNER_ROW + ix.CHIN_POINTS:
        h[i] = _vec(0.05, 0.0)
    for jaw in (ix.JAW_RIGHT, ix.JAW_LEFT):
        for k, i in enumerate(jaw):
            h[i] = _vec(0.05 * (1.0 - k / len(jaw)), 0.0)
    _pin(ix.UPPER_LIP_OUTER + ix.UPPER_LIP_INNER_ROW, h)
    fields["jaw_side"] = _propagate(n, h)

    # AU15: mouth corners pulled down.
    h = {}
    for side, corner, ring in ((-1, ix.MOUTH_RIGHT, (146, 91)), (+1, ix.MOUTH_LEFT, (375, 321))):
        h[corner] = _vec(side * 0.01, 0.05)
        for i in ring:
            h[i] = _vec(0.0, 0.025)
    _pin((ix.NOSE_TIP, 4, ix.SUBNASALE, ix.UPPER_LIP_TOP, ix.UPPER_LIP_INNER,
          ix.LOWER_LIP_INNER) + ix.CHIN_POINTS, h)
    fields["au15"] = _propagate(n, h)

    # AU20: mouth corners stretched sideways, lips flattened.
    h = {}
    for side, corner, ring in ((-1, ix.MOUTH_RIGHT, (185, 40, 146, 91)),
                               (+1, ix.MOUTH_LEFT, (409, 270, 375, 321))):
        h[corner] = _vec(side * 0.06, 0.01)
        for i in ring:
            h[i] = _vec(side * 0.03, 0.0)
    _pin((ix.NOSE_TIP, 4, ix.SUBNASALE, ix.UPPER_LIP_TOP, ix.LOWER_LIP_BOTTOM)
         + ix.CHIN_POINTS + ix.NASOLABIAL, h)
    fields["au20"] = _propagate(n, h)
    return fields


def closure_basis(neutral: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Linear basis for lid closure, so that it can close the lids where they *are*.

    Closure is not a fixed field: other AUs move the lids first (AU7 raises the lower
    lid, AU4 lowers the upper one), and the eye should then close over what is left of
    the gap. Harmonic interpolation is linear, so one basis field per upper-lid point
    (that point moves down by 1, its lid-skin neighbour by 0.6, the lower lid and the
    corners stay) lets the renderer combine them with the actual remaining gaps.

    Returns:
        ``(basis (14, 478, 3) float32, pairs (14, 2) int64)``: basis fields and the
        (upper, lower) lid point of each.
    """
    n = np.asarray(neutral, dtype=np.float64)
    fixed_zero = (ix.RIGHT_LOWER_LID + ix.LEFT_LOWER_LID + ix.RIGHT_BROW_LOWER
                  + ix.LEFT_BROW_LOWER + (ix.RIGHT_EYE_OUTER, ix.RIGHT_EYE_INNER,
                                          ix.LEFT_EYE_OUTER, ix.LEFT_EYE_INNER))
    upper = ix.RIGHT_UPPER_LID + ix.LEFT_UPPER_LID
    lower = ix.RIGHT_LOWER_LID + ix.LEFT_LOWER_LID
    skin = ix.RIGHT_UPPER_LID_SKIN + ix.LEFT_UPPER_LID_SKIN
    basis = []
    for u, s in zip(upper, skin, strict=True):
        h = {i: _vec() for i in upper + skin}
        h[u] = _vec(0.0, 1.0)
        h[s] = _vec(0.0, 0.6)
        _pin(fixed_zero, h)
        basis.append(_propagate(n, h))
    return np.stack(basis), np.array(list(zip(upper, lower, strict=True)), dtype=np.int64)
