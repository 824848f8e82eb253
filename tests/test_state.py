"""This tool's own state files: where they live (platformdirs' rule), modes, atomicity, hashing."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys

import platformdirs
import pytest

from git_credential_hf import state


@pytest.mark.parametrize("xdg", [None, "", "relative/dir", "/abs/state", "/abs/state/"])
def test_state_dir_agrees_with_platformdirs(xdg: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    if xdg is None:
        monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_STATE_HOME", xdg)
    expected = platformdirs.user_state_dir("git-credential-hf", appauthor=False)
    if xdg and not xdg.startswith("/") and not os.path.isabs(expected):
        # Older platformdirs (4.4, the last for Python 3.9) takes a relative XDG_STATE_HOME as
        # is; current releases ignore it, as the XDG spec says. We follow the spec.
        pytest.skip(f"platformdirs {platformdirs.__version__} uses a relative XDG_STATE_HOME")
    assert os.path.normpath(state.state_dir()) == os.path.normpath(expected)


def test_state_dir_default_is_under_home(isolated_env) -> None:
    assert state.state_dir() == str(isolated_env / ".local" / "state" / "git-credential-hf")


@pytest.mark.spawns_python
def test_state_dir_does_not_import_platformdirs() -> None:
    code = ("import sys; from git_credential_hf import state; state.state_dir(); "
            "state.token_key('hf_x'); print('platformdirs' in sys.modules, 'hashlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_token_key_is_sha256_hex() -> None:
    token = "hf_" + "k" * 34
    assert state.token_key(token) == hashlib.sha256(token.encode()).hexdigest()


def test_write_is_0600_in_a_0700_folder_and_atomic(isolated_env) -> None:
    os.umask(0o022)
    with state.lock():
        state.write_lines("things", [["a", "1"], ["b", "2"]])
    folder = state.state_dir()
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(state.path("things")).st_mode) == 0o600
    assert state.lines("things") == [["a", "1"], ["b", "2"]]
    assert [n for n in os.listdir(folder) if n.startswith(".tmp")] == []
    assert state.mtime("things") is not None and state.mtime("absent") is None


def test_existing_folder_mode_is_left_alone(isolated_env) -> None:
    folder = state.state_dir()
    os.makedirs(folder, mode=0o755)
    os.chmod(folder, 0o755)
    with state.lock():
        state.write("f", "x\n")
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o755


def test_non_regular_file_is_ignored_and_never_replaced(isolated_env) -> None:
    folder = state.state_dir()
    os.makedirs(folder)
    os.mkfifo(state.path("fifo"))
    assert state.read("fifo") is None  # and did not block
    with state.lock(), pytest.raises(state.StateError):
        state.write("fifo", "x")
    assert stat.S_ISFIFO(os.lstat(state.path("fifo")).st_mode)


def test_malformed_fields_are_refused(isolated_env) -> None:
    with state.lock(), pytest.raises(state.StateError):
        state.write_lines("f", [["a\tb"]])
    assert state.read("f") is None
