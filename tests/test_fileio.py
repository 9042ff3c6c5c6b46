from __future__ import annotations

from painvision.fileio import shown_path


def test_shown_path_is_relative_inside_the_root_and_unchanged_outside(tmp_path):
    root = tmp_path / "repo"
    (root / "bench").mkdir(parents=True)
    assert shown_path(root / "bench" / "heldout", root) == "bench/heldout"
    outside = tmp_path / "elsewhere" / "data"
    assert shown_path(outside, root) == str(outside)
