from __future__ import annotations

import stat
import subprocess
import sys

import pytest

from painvision.fileio import move_all, shown_path


def test_shown_path_is_relative_inside_the_root_and_unchanged_outside(tmp_path):
    root = tmp_path / "repo"
    (root / "bench").mkdir(parents=True)
    assert shown_path(root / "bench" / "heldout", root) == "bench/heldout"
    outside = tmp_path / "elsewhere" / "data"
    assert shown_path(outside, root) == str(outside)


def _files(folder, names):
    folder.mkdir(exist_ok=True)
    for name in names:
        (folder / name).write_text(f"new {name}")
    return [folder / n for n in names]


def test_move_all_moves_every_file_and_keeps_what_it_replaced_aside(tmp_path):
    stage, out, aside = tmp_path / "stage", tmp_path / "out", tmp_path / "aside"
    out.mkdir()
    aside.mkdir()
    (out / "v.csv").write_text("old csv")
    moved = move_all(_files(stage, ["v.csv", "v.json"]), out, aside)
    assert moved == [out / "v.csv", out / "v.json"]
    assert (out / "v.csv").read_text() == "new v.csv"
    assert (out / "v.json").read_text() == "new v.json"
    assert [p.read_text() for p in aside.iterdir()] == ["old csv"]
    assert not list(stage.iterdir())


def test_move_all_puts_everything_back_when_a_later_move_fails(tmp_path):
    """The second target is a folder, so its move fails (a real OSError): the first file
    goes back to the stage and the user's old file at its place is as it was."""
    stage, out, aside = tmp_path / "stage", tmp_path / "out", tmp_path / "aside"
    out.mkdir()
    aside.mkdir()
    (out / "v.csv").write_text("old csv")
    (out / "v.json").mkdir()
    files = _files(stage, ["v.csv", "v.json"])
    with pytest.raises(OSError):
        move_all(files, out, aside)
    assert (out / "v.csv").read_text() == "old csv"
    assert (out / "v.json").is_dir()
    assert sorted(p.read_text() for p in files) == ["new v.csv", "new v.json"]
    assert not list(aside.iterdir())


@pytest.mark.parametrize("umask, mode", [(0o077, 0o600), (0o022, 0o644)])
def test_written_files_get_the_mode_the_users_umask_gives(tmp_path, umask, mode):
    """Outputs hold patient data: a user who keeps new files private (umask 077) gets
    private outputs, as from any other program. Run in a fresh process, since the umask
    is read when painvision.fileio loads."""
    code = ("import os, sys; os.umask(int(sys.argv[2], 8)); "
            "from painvision.fileio import atomic_write_text; "
            "atomic_write_text(sys.argv[1], 'x')")
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "f.csv"), oct(umask)[2:]],
                   check=True)
    assert stat.S_IMODE((tmp_path / "f.csv").stat().st_mode) == mode


def test_outputs_written_together_appear_together_or_not_at_all(tmp_path):
    from painvision.fileio import atomic_outputs

    dest = tmp_path / "out"
    with atomic_outputs(dest) as stage:
        (stage / "w.json").write_text("new weights")
        (stage / "w.report.json").write_text("new report")
        assert not (dest / "w.json").exists()  # nothing until the block ends
    assert (dest / "w.json").read_text() == "new weights"
    assert (dest / "w.report.json").read_text() == "new report"
    # the second cannot be moved (a folder of that name, not empty, is in the way): the
    # first, which had replaced the user's file, is put back as it was
    (dest / "w.json").write_text("old weights")
    (dest / "w.report.json").unlink()
    (dest / "w.report.json").mkdir()
    (dest / "w.report.json" / "x").write_text("")
    with pytest.raises(OSError), atomic_outputs(dest) as stage:
        (stage / "w.json").write_text("newer weights")
        (stage / "w.report.json").write_text("newer report")
    assert (dest / "w.json").read_text() == "old weights"
    assert sorted(p.name for p in dest.iterdir()) == ["w.json", "w.report.json"]  # no stage
    with pytest.raises(RuntimeError), atomic_outputs(dest) as stage:
        (stage / "w.json").write_text("half")
        raise RuntimeError("training failed")
    assert (dest / "w.json").read_text() == "old weights"
