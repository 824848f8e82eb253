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


# --- issue 14 round 2: defaults, folder modes at creation, bounded reads ------------------------


@pytest.mark.parametrize("make", [pytest.param(os.mkfifo, id="fifo"),
                                  pytest.param(os.mkdir, id="directory")])
def test_without_a_kind_the_refusal_says_file(tmp_path: Path, make) -> None:
    target = tmp_path / "f"
    make(target)
    expected = (f"{target} is a directory, not a file" if make is os.mkdir
                else f"{target} is not a regular file; left as it is")
    for call in (lambda: files.atomic_write(str(target), b"x", Refused),
                 lambda: files.check_target(str(target), Refused)):
        with pytest.raises(Refused) as info:
            call()
        assert str(info.value) == expected
    assert os.listdir(tmp_path) == ["f"]


def test_a_folder_that_cannot_be_created_raises_the_callers_error(tmp_path: Path) -> None:
    blocker = tmp_path / "plain-file"
    blocker.write_bytes(b"")
    for call in (lambda: files.check_target(str(blocker / "sub" / "f"), Refused),
                 lambda: files.atomic_write(str(blocker / "sub" / "f"), b"secret", Refused)):
        with pytest.raises(Refused) as info:
            call()
        assert str(info.value) == f"cannot create {blocker / 'sub'}: Not a directory"
    assert blocker.read_bytes() == b""


def test_a_new_folder_is_never_open_to_others_even_before_its_chmod(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a lax umask the folder is created 0700 by makedirs itself: there is no moment
    in which another user could enter it (and, for 0777, plant a file)."""
    folder = tmp_path / "private"
    seen: list[int] = []
    real_chmod = os.chmod

    def spy(path, mode_, *a, **k):
        seen.append(stat.S_IMODE(os.stat(path).st_mode))
        return real_chmod(path, mode_, *a, **k)

    monkeypatch.setattr(os, "chmod", spy)
    old = os.umask(0)
    try:
        files.ensure_dir(str(folder), Refused)
    finally:
        os.umask(old)
    assert seen == [0o700]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_a_file_over_the_bound_is_refused_even_across_short_reads(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Short reads that land exactly on the bound must not end the read early: a file one
    byte over it is still too large (no truncated content is returned)."""
    f = tmp_path / "f"
    f.write_bytes(b"y" * 11)
    real_read = os.read
    monkeypatch.setattr(os, "read", lambda fd, n: real_read(fd, min(n, 3)))
    assert files.read_small(str(f), 9) is None
    assert files.read_small(str(f), 11) == b"y" * 11


def test_a_huge_file_is_read_no_further_than_one_byte_past_the_bound(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "big"
    f.write_bytes(b"z" * 100_000)
    got: list[int] = []
    real_read = os.read

    def read(fd: int, n: int) -> bytes:
        chunk = real_read(fd, min(n, 3) if not got else n)  # the first read comes back short
        got.append(len(chunk))
        return chunk

    monkeypatch.setattr(os, "read", read)
    assert files.read_small(str(f), 10) is None
    assert sum(got) == 11
