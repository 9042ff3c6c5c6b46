from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from painvision.errors import InputError
from painvision.landmarks import indices as ix
from painvision.landmarks.pose import align_to_template, euler_angles, load_template


def _posed(template: np.ndarray, yaw: float, pitch: float, roll: float, scale: float,
           shift: np.ndarray) -> np.ndarray:
    r = Rotation.from_euler("YXZ", [yaw, pitch, roll], degrees=True).as_matrix()
    return (scale * template @ r.T + shift).astype(np.float32)


def test_template_is_in_canonical_frame():
    tpl = load_template()
    assert tpl.shape == (478, 3) and tpl.dtype == np.float32
    right = tpl[[ix.RIGHT_EYE_OUTER, ix.RIGHT_EYE_INNER]].mean(axis=0)
    left = tpl[[ix.LEFT_EYE_OUTER, ix.LEFT_EYE_INNER]].mean(axis=0)
    assert np.linalg.norm(left - right) == pytest.approx(1.0, abs=1e-4)
    assert abs(left[1] - right[1]) < 1e-4  # eye line horizontal
    assert tpl[ix.CHIN, 1] > tpl[ix.FOREHEAD, 1]  # y points down the face


@pytest.mark.parametrize("yaw,pitch,roll", [(0, 0, 0), (20, -10, 5), (-25, 15, -12), (5, 22, 30)])
def test_rotated_scaled_shifted_mesh_aligns_back(yaw, pitch, roll):
    tpl = load_template()
    posed = _posed(tpl, yaw, pitch, roll, scale=180.0, shift=np.array([300.0, 200.0, 10.0]))
    res = align_to_template(posed[None])
    np.testing.assert_allclose(res.aligned[0], tpl, atol=1e-4)
    np.testing.assert_allclose(res.yaw_pitch_roll[0], [yaw, pitch, roll], atol=0.05)
    assert res.residual[0] < 1e-4
    assert res.scale[0] == pytest.approx(1 / 180.0, rel=1e-4)
    assert res.pose_ok[0]


def test_expression_survives_alignment_while_pose_is_removed():
    tpl = load_template()
    expr = tpl.copy()
    brows = list(ix.RIGHT_BROW_UPPER + ix.LEFT_BROW_UPPER)
    expr[brows, 1] += 0.05  # brows lowered by 5 % of the eye distance
    posed = _posed(expr, 15, -8, 10, 120.0, np.array([50.0, 60.0, 0.0]))
    res = align_to_template(posed[None])
    moved = res.aligned[0, brows, 1] - tpl[brows, 1]
    np.testing.assert_allclose(moved, 0.05, atol=2e-3)


def test_no_face_rows_stay_nan_and_turned_heads_are_flagged():
    tpl = load_template()
    seq = np.stack([
        _posed(tpl, 0, 0, 0, 100.0, np.zeros(3)),
        np.full((478, 3), np.nan, np.float32),
        _posed(tpl, 50, 0, 0, 100.0, np.zeros(3)),
        _posed(tpl, 0, -40, 0, 100.0, np.zeros(3)),
    ])
    res = align_to_template(seq)
    assert np.isnan(res.aligned[1]).all() and np.isnan(res.yaw_pitch_roll[1]).all()
    assert res.pose_ok.tolist() == [True, False, False, False]
    assert res.yaw_pitch_roll[2, 0] == pytest.approx(50.0, abs=0.05)


def test_euler_angles_of_identity():
    np.testing.assert_allclose(euler_angles(np.eye(3)[None]), [[0.0, 0.0, 0.0]], atol=1e-6)


def test_bad_shape():
    with pytest.raises(InputError):
        align_to_template(np.zeros((3, 468, 3)))
