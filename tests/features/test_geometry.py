"""Geometry on a synthetic mesh: the template deformed by the generator's AU fields."""

from __future__ import annotations

import numpy as np
import pytest

from painvision.errors import InputError
from painvision.features.geometry import SIGNAL_NAMES, au_signals
from painvision.landmarks.pose import load_template
from painvision.synth.fields import closure_basis, deformation_fields

S = {n: k for k, n in enumerate(SIGNAL_NAMES)}


@pytest.fixture(scope="module")
def rig():
    tpl = load_template()
    return tpl, deformation_fields(tpl), closure_basis(tpl)


def _drop(tpl, mesh):
    return au_signals(tpl[None])[0] - au_signals(mesh[None])[0]


def test_shapes_and_nan_rows():
    tpl = load_template()
    seq = np.stack([tpl, np.full_like(tpl, np.nan)])
    sig = au_signals(seq)
    assert sig.shape == (2, len(SIGNAL_NAMES)) and sig.dtype == np.float32
    assert np.isfinite(sig[0]).all() and np.isnan(sig[1]).all()
    with pytest.raises(InputError):
        au_signals(np.zeros((2, 10, 3)))


@pytest.mark.parametrize(
    "au, own",
    [("au4", "brow_height"), ("au4", "brow_gap"), ("au6", "cheek_drop"),
     ("au7", "lower_lid_drop"), ("au9", "ala_drop"), ("au10", "lip_drop")],
)
def test_each_au_field_lowers_its_own_signal(rig, au, own):
    tpl, fields, _ = rig
    drop = _drop(tpl, tpl + fields[au])
    assert drop[S[own]] > 0.02


# AU4 pushes the upper lid down a little (FACS), so it may narrow the eye somewhat.
@pytest.mark.parametrize("au, share", [("au4", 0.15), ("au9", 0.05), ("au10", 0.05)])
def test_fields_leave_the_eye_opening_nearly_alone(rig, au, share):
    tpl, fields, _ = rig
    drop = _drop(tpl, tpl + fields[au])
    assert abs(drop[S["eye_aperture"]]) < share * au_signals(tpl[None])[0, S["eye_aperture"]]


def test_closure_shuts_the_eyes_and_moves_the_upper_lid(rig):
    tpl, _, (basis, pairs) = rig
    gaps = tpl[pairs[:, 1], 1] - tpl[pairs[:, 0], 1]
    closed = tpl + np.tensordot(0.95 * gaps, basis, axes=1)
    before = au_signals(tpl[None])[0]
    after = au_signals(closed[None])[0]
    assert after[S["eye_aperture"]] < 0.1 * before[S["eye_aperture"]]
    assert before[S["upper_lid_height"]] - after[S["upper_lid_height"]] > 0.03
    assert abs(after[S["brow_height"]] - before[S["brow_height"]]) < 0.01


# The mouth signals: (field, signal, sign of the change) where sign +1 means the signal
# rises with the field. Each moves with its own action by at least 0.02 IOD at intensity 5.
MOUTH = [
    ("au12", "corner_height", +1), ("au12", "mouth_width", +1),
    ("au15", "corner_height", -1),
    ("au20", "mouth_width", +1),
    ("au26", "lip_gap", +1), ("au26", "chin_height", -1),
]


@pytest.mark.parametrize("au, signal, sign", MOUTH)
def test_mouth_signals_move_with_their_own_action(rig, au, signal, sign):
    tpl, fields, _ = rig
    change = -_drop(tpl, tpl + fields[au])[S[signal]]
    assert sign * change > 0.02, change


@pytest.mark.parametrize("au", ["au1", "au4", "au6", "au7"])
def test_brow_and_eye_actions_leave_the_mouth_signals_alone(rig, au):
    tpl, fields, _ = rig
    drop = _drop(tpl, tpl + fields[au])
    for signal in ("mouth_width", "corner_height", "lip_gap", "chin_height"):
        assert abs(drop[S[signal]]) < 0.005, (signal, drop[S[signal]])


def test_the_eyes_closing_leaves_the_mouth_signals_alone(rig):
    tpl, _, (basis, pairs) = rig
    gaps = tpl[pairs[:, 1], 1] - tpl[pairs[:, 0], 1]
    drop = _drop(tpl, tpl + np.tensordot(0.95 * gaps, basis, axes=1))
    for signal in ("mouth_width", "corner_height", "lip_gap", "chin_height"):
        assert abs(drop[S[signal]]) < 0.005


def test_a_smile_and_a_stretch_differ_in_the_corners(rig):
    # AU12 and AU20 both widen the mouth; only AU12 lifts the corners.
    tpl, fields, _ = rig
    smile = -_drop(tpl, tpl + fields["au12"])
    stretch = -_drop(tpl, tpl + fields["au20"])
    assert smile[S["corner_height"]] > 0.03 and stretch[S["corner_height"]] < 0.005
