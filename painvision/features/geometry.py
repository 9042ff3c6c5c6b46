"""Geometric AU signals on aligned meshes. Pure functions, vectorised over T.

Input everywhere: ``aligned (T, 478, 3) float32`` meshes in the template frame
(``landmarks.pose``: x towards the subject's left, y down, unit = inter-ocular
distance, origin at the nasion), NaN rows where no face. Every signal is a distance
in IOD chosen so that it *falls* when its action unit acts; the scorer reads the fall
below the subject's neutral baseline. Left and right are averaged, so one side
turned away only halves the evidence. Vertical positions are read in the aligned
frame itself, whose origin and axes come from all the stable points (forehead,
temples, nose bridge, eye corners).

| signal | mesh points | measures | falls with |
|---|---|---|---|
| ``brow_height`` | brows 105 66 107 52 65 55 / 334 296 336 282 295 285 | height of the brows | AU4 (brows lowered) |
| ``brow_gap`` | inner brow ends 107-336 and 55-285 | distance between the brows | AU4 (drawn together) |
| ``cheek_drop`` | infraorbital cheek 117 118 119 100 101 50 / 346 347 348 329 330 280 | depth of the cheeks below the eyes | AU6 (cheek raised) |
| ``lower_lid_drop`` | lower lid 144 145 153 / 373 374 380 | depth of the lower lid | AU6, AU7 (lower lid raised) |
| ``upper_lid_height`` | upper lid 160 159 158 / 387 386 385 | height of the upper lid | AU43, AU45 (lid descends) |
| ``eye_aperture`` | lid pairs 160-144 159-145 158-153 / 387-373 386-374 385-380, over the corner-to-corner width 33-133 / 263-362 | eye opening / eye width | AU43 (closed), AU6/7 (narrowed) |
| ``ala_drop`` | nasal wings 98 64 48 102 / 327 294 278 331 | depth of the nasal wings | AU9 (wings raised) |
| ``lip_drop`` | upper lip 0 37 267 39 269 13, relative to the nose tip 1 | upper lip below the nose tip | AU10 (lip raised) |
| ``mouth_width`` | mouth corners 61-291 | corner-to-corner width | rises with AU20 (stretched) and AU12 (pulled up and out) |
| ``corner_height`` | mouth corners 61 291 | height of the mouth corners | rises with AU12 (smile); falls with AU15 and a little with the jaw (AU26) |
| ``lip_gap`` | inner lips 13-14 82-87 312-317 | gap between the lips | rises with AU25 (lips part) and AU26 |
| ``chin_height`` | chin 152 175 199 200 | height of the chin | falls with AU26 (jaw drops) |
"""

from __future__ import annotations

import numpy as np

from painvision.errors import InputError
from painvision.landmarks import indices as ix

__all__ = ["N_CORE_SIGNALS", "SIGNAL_NAMES", "au_signals"]

SIGNAL_NAMES: tuple[str, ...] = (
    "brow_height",
    "brow_gap",
    "cheek_drop",
    "lower_lid_drop",
    "upper_lid_height",
    "eye_aperture",
    "ala_drop",
    "lip_drop",
    "mouth_width",
    "corner_height",
    "lip_gap",
    "chin_height",
)
#: The first signals, the ones the learned temporal model (``--scorer model``) was built on.
N_CORE_SIGNALS = 8

_R_BROW = [105, 66, 107, 52, 65, 55]
_L_BROW = [334, 296, 336, 282, 295, 285]
_R_CHEEK = [117, 118, 119, 100, 101, 50]
_L_CHEEK = [346, 347, 348, 329, 330, 280]
_R_LOWER = [144, 145, 153]
_L_LOWER = [373, 374, 380]
_R_UPPER = [160, 159, 158]
_L_UPPER = [387, 386, 385]
_R_ALA = [98, 64, 48, 102]
_L_ALA = [327, 294, 278, 331]
_UPPER_LIP = [0, 37, 267, 39, 269, 13]
_CORNERS = [ix.MOUTH_RIGHT, ix.MOUTH_LEFT]
_INNER_UPPER = [13, 82, 312]
_INNER_LOWER = [14, 87, 317]
_CHIN = [152, 175, 199, 200]


def _y(mesh: np.ndarray, idx: list[int]) -> np.ndarray:
    return mesh[:, idx, 1].mean(axis=1)


def au_signals(aligned: np.ndarray) -> np.ndarray:
    """All geometric signals for a sequence.

    Args:
        aligned: ``(T, 478, 3)`` aligned meshes (template frame, IOD units).

    Returns:
        ``(T, len(SIGNAL_NAMES)) float32`` in ``SIGNAL_NAMES`` order, NaN where no face.
    """
    m = np.asarray(aligned, dtype=np.float32)
    if m.ndim != 3 or m.shape[1:] != (478, 3):
        raise InputError(f"aligned must be (T, 478, 3), got {m.shape}")
    brow_height = -_y(m, _R_BROW + _L_BROW)
    brow_gap = 0.5 * (
        np.linalg.norm(m[:, 107, :2] - m[:, 336, :2], axis=1)
        + np.linalg.norm(m[:, 55, :2] - m[:, 285, :2], axis=1)
    )
    cheek = _y(m, _R_CHEEK + _L_CHEEK)
    lower_lid = _y(m, _R_LOWER + _L_LOWER)
    upper_lid = -_y(m, _R_UPPER + _L_UPPER)
    r_width = np.linalg.norm(m[:, ix.RIGHT_EYE_OUTER, :2] - m[:, ix.RIGHT_EYE_INNER, :2], axis=1)
    l_width = np.linalg.norm(m[:, ix.LEFT_EYE_OUTER, :2] - m[:, ix.LEFT_EYE_INNER, :2], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):  # a collapsed eye: NaN, invalid
        r_open = (m[:, _R_LOWER, 1] - m[:, _R_UPPER, 1]).mean(axis=1) / r_width
        l_open = (m[:, _L_LOWER, 1] - m[:, _L_UPPER, 1]).mean(axis=1) / l_width
        aperture = 0.5 * (r_open + l_open)
    ala = _y(m, _R_ALA + _L_ALA)
    lip = _y(m, _UPPER_LIP) - m[:, ix.NOSE_TIP, 1]
    width = np.linalg.norm(m[:, ix.MOUTH_RIGHT, :2] - m[:, ix.MOUTH_LEFT, :2], axis=1)
    corner = -_y(m, _CORNERS)
    gap = (m[:, _INNER_LOWER, 1] - m[:, _INNER_UPPER, 1]).mean(axis=1)
    chin = -_y(m, _CHIN)
    out = np.stack(
        [brow_height, brow_gap, cheek, lower_lid, upper_lid, aperture, ala, lip, width, corner,
         gap, chin], axis=1
    )
    return out.astype(np.float32)
