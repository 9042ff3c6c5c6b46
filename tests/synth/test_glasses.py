from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from painvision.landmarks import indices as ix
from painvision.landmarks.facemesh import FaceMeshExtractor, FaceMeshOptions
from painvision.synth.identity import sample_identities
from painvision.synth.render import identity_rig

pytestmark = pytest.mark.mediapipe  # identities start from MediaPipe meshes of the photos

HEAD = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 1.0])


def test_glasses_go_only_on_the_photo_without_them_and_change_nothing_else():
    with_ = sample_identities(30, "train", 4)
    without = sample_identities(30, "train", 4, glasses=False)
    assert sum(bool(i.glasses) for i in with_) == 10
    assert len({i.glasses["half_height"] for i in with_ if i.glasses}) == 10  # styles vary
    for a, b in zip(with_, without, strict=True):
        assert replace(a, glasses={}) == b
    assert not any(i.glasses for i in sample_identities(30, "heldout", 4))


@pytest.fixture(scope="module")
def rigs():
    ident = next(i for i in sample_identities(12, "train", 2) if i.glasses)
    return identity_rig(ident, (480, 360)), identity_rig(replace(ident, glasses={}), (480, 360))


def test_the_rims_stay_put_while_the_brows_move_behind_them(rigs):
    rig, bare = rigs
    rest, frown = rig.frame({}, HEAD), rig.frame({"au4": 5.0}, HEAD)
    # The glasses layer as the camera sees it.
    layer = np.zeros(rig.image.shape[:2], np.float32)
    layer[rig.glasses.box] = rig.glasses.alpha[..., 0]
    alpha = cv2.warpPerspective(layer, rig.camera(HEAD), rig.size)
    rims = alpha > 0.95
    assert rims.sum() > 200
    diff = np.abs(rest.astype(int) - frown.astype(int)).max(axis=2)
    assert np.percentile(diff[rims], 99) <= 3  # the frame does not move with the frown
    assert (diff[~rims] > 20).sum() > 100  # the face under and around it does
    assert (np.abs(rest.astype(int) - bare.frame({}, HEAD).astype(int)).max(axis=2)
            > 40)[rims].mean() > 0.5  # and the glasses are really drawn


def test_mediapipe_still_finds_the_face_behind_the_glasses(rigs):
    rig, bare = rigs
    with FaceMeshExtractor(FaceMeshOptions(max_faces=1, static_image_mode=True)) as fm:
        faces = [fm.process(r.frame({}, HEAD)) for r in (rig, bare)]
    assert all(len(f) == 1 for f in faces)
    # Same face, same place: the eye corners agree within 2 % of the frame width.
    corners = [ix.RIGHT_EYE_OUTER, ix.LEFT_EYE_OUTER]
    assert np.abs(faces[0][0][corners, :2] - faces[1][0][corners, :2]).max() < 0.02
