"""MediaPipe face-mesh regions used by painvision. No mediapipe import.

Subject's right = image left for a frontal face. Every index below was checked on a
rendered mesh of the bundled photos (``scripts/render_mesh_indices.py``).
"""

from __future__ import annotations

import numpy as np

# Eye contours, lid margins. Upper and lower lists are paired point by point,
# from the outer to the inner corner.
RIGHT_EYE_OUTER, RIGHT_EYE_INNER = 33, 133
LEFT_EYE_OUTER, LEFT_EYE_INNER = 263, 362
RIGHT_UPPER_LID = (246, 161, 160, 159, 158, 157, 173)
RIGHT_LOWER_LID = (7, 163, 144, 145, 153, 154, 155)
LEFT_UPPER_LID = (466, 388, 387, 386, 385, 384, 398)
LEFT_LOWER_LID = (249, 390, 373, 374, 380, 381, 382)
# The ring of skin just above / below each lid margin (moves with the lid).
RIGHT_UPPER_LID_SKIN = (247, 30, 29, 27, 28, 56, 190)
RIGHT_LOWER_LID_SKIN = (130, 25, 110, 24, 23, 22, 26, 112, 243)
LEFT_UPPER_LID_SKIN = (467, 260, 259, 257, 258, 286, 414)
LEFT_LOWER_LID_SKIN = (359, 255, 339, 254, 253, 252, 256, 341, 463)

# Brows, from the outer to the inner end (upper and lower contour of each brow).
RIGHT_BROW_UPPER = (70, 63, 105, 66, 107)
RIGHT_BROW_LOWER = (46, 53, 52, 65, 55)
LEFT_BROW_UPPER = (300, 293, 334, 296, 336)
LEFT_BROW_LOWER = (276, 283, 282, 295, 285)
RIGHT_BROW_INNER, LEFT_BROW_INNER = 107, 336
GLABELLA = (9, 8)
NASION = 168

# Cheeks below the eyes (infraorbital), raised by AU6.
RIGHT_CHEEK = (117, 118, 119, 100, 101, 50, 36, 205)
LEFT_CHEEK = (346, 347, 348, 329, 330, 280, 266, 425)

# Nose.
NOSE_TIP = 1
SUBNASALE = 2
NOSE_BRIDGE = (6, 197, 195, 5)
RIGHT_ALA = (98, 64, 48, 102, 129, 240, 235, 219, 218)
LEFT_ALA = (327, 294, 278, 331, 358, 460, 455, 439, 438)

# Lips.
UPPER_LIP_TOP = 0
UPPER_LIP_INNER = 13
LOWER_LIP_INNER = 14
LOWER_LIP_BOTTOM = 17
MOUTH_RIGHT, MOUTH_LEFT = 61, 291
UPPER_LIP_OUTER = (185, 40, 39, 37, 0, 267, 269, 270, 409)
UPPER_LIP_INNER_ROW = (191, 80, 81, 82, 13, 312, 311, 310, 415)

# Face outline points used for scale and as stable references.
FOREHEAD = 10
CHIN = 152
RIGHT_CHEEK_EDGE, LEFT_CHEEK_EDGE = 234, 454

#: Points that move least with facial expression; head pose is estimated from them.
#: Eye corners, nose bridge, forehead, temples and the upper face outline. The brows,
#: lids, mouth, jaw and cheeks are deliberately absent.
STABLE_POINTS: tuple[int, ...] = (
    33, 133, 263, 362,           # eye corners
    168, 6, 197, 195, 5, 4, 1,   # nose bridge to tip
    10, 151,                     # forehead midline (9, the glabella, moves with AU4)
    109, 338, 67, 297, 103, 332,  # upper forehead
    234, 454, 127, 356, 162, 389, 21, 251,  # temples / upper face outline
)

IRIS_RIGHT = tuple(range(468, 473))
IRIS_LEFT = tuple(range(473, 478))


def as_index(points: tuple[int, ...] | list[int]) -> np.ndarray:
    """Index array (int64) for fancy indexing ``landmarks[..., idx, :]``."""
    return np.asarray(points, dtype=np.int64)

# Lower face, for mouth opening, smiles and chewing.
LOWER_LIP_OUTER = (146, 91, 181, 84, 17, 314, 405, 321, 375)
LOWER_LIP_INNER_ROW = (95, 88, 178, 87, 14, 317, 402, 318, 324)
MOUTH_CORNER_RING = (185, 40, 146, 91, 409, 270, 375, 321)
CHIN_POINTS = (152, 148, 377, 176, 400, 175, 199, 200, 18, 83, 313, 201, 421, 32, 262, 208, 428)
JAW_RIGHT = (149, 150, 136, 172, 58, 132)  # from the chin towards the right ear
JAW_LEFT = (378, 379, 365, 397, 288, 361)
NASOLABIAL = (206, 426, 216, 436, 205, 425, 207, 427)
FOREHEAD_SKIN = (108, 69, 104, 68, 337, 299, 333, 298)
