"""The private-file primitives ``tokens`` and ``state`` share: bounded non-blocking reads,
0700 folders, atomic 0600 writes through a symlink, never over a non-regular file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from git_credential_hf import files


class Refused(Exception):
    pass


def test_read_small_is_bounded_and_never_blocks(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_bytes(b"x" * 10)
    assert files.read_small(str(f), 10) == b"x" * 10
    assert files.read_small(str(f), 9) is None  # too large: nothing, not a truncated read
    assert files.read_small(str(tmp_path / "absent"), 10) is None
    os.mkfifo(tmp_path / "fifo")
    assert files.read_small(str(tmp_path / "fifo"), 10) is None  # and did not block
    assert files.read_small(str(tmp_path), 10) is None


def test_atomic_write_is_0600_in_a_new_0700_folder_and_sweeps(tmp_path: Path) -> None:
    os.umask(0o022)
    target = tmp_path / "new" / "f"
    target.parent.mkdir()
    (target.parent / ".tmp-f-leftover").write_text("old secret")
    files.atomic_write(str(target), b"data", Refused)
    assert target.read_bytes() == b"data"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(os.listdir(target.parent)) == ["f"]  # the killed writer's copy is gone
    deep = tmp_path / "a" / "b" / "g"
    files.atomic_write(str(deep), b"x", Refused)
    assert stat.S_IMODE(deep.parent.stat().st_mode) == 0o700


def test_atomic_write_goes_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "f"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "f"
    link.symlink_to(real)
    files.atomic_write(str(link), b"new", Refused)
    assert link.is_symlink() and real.read_bytes() == b"new"


@pytest.mark.parametrize("make", [pytest.param(os.mkfifo, id="fifo"),
                                  pytest.param(os.mkdir, id="directory")])
def test_atomic_write_never_replaces_a_non_regular_file(tmp_path: Path, make) -> None:
    target = tmp_path / "f"
    make(target)
    with pytest.raises(Refused, match=r"directory, not a thing|not a regular file"):
        files.atomic_write(str(target), b"x", Refused, "thing")
    assert not target.is_file()
    assert os.listdir(tmp_path) == ["f"]


def test_unlink_says_whether_it_removed_the_file(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_bytes(b"secret")
    assert files.unlink(str(f), Refused) is True and not f.exists()
    assert files.unlink(str(f), Refused) is False  # already gone: not an error
