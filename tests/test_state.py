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


# --- issue 14: tests that kill mutants ----------------------------------------------------------


def test_token_key_hashes_undecodable_bytes_as_the_bytes_they_came_from(monkeypatch) -> None:
    """A token read with surrogateescape (git's bytes, the environment) hashes as its bytes,
    also on the first call of a process (the hash function is loaded lazily)."""
    monkeypatch.setattr(state, "_sha256", None)
    assert state.token_key("hf_ab\udcffcd") == hashlib.sha256(b"hf_ab\xffcd").hexdigest()
    assert state.token_key("hf_x") == hashlib.sha256(b"hf_x").hexdigest()


@pytest.mark.parametrize("field", ["a\tb", "a\nb", "a\rb"])
def test_a_field_with_a_line_or_field_break_is_refused_with_an_exact_line(isolated_env, field: str) -> None:
    with state.lock():
        state.write_lines("f", [["ok", "fine"]])
        with pytest.raises(state.StateError) as info:
            state.write_lines("f", [["ok", field]])
    assert str(info.value) == f"refusing to write a malformed entry in {state.path('f')}"
    assert state.lines("f") == [["ok", "fine"]]


def test_lines_skip_comments_and_read_bytes_that_are_not_utf8(isolated_env) -> None:
    with state.lock():
        state.write("f", "# a comment\tline\n")
    with open(state.path("f"), "ab") as f:
        f.write(b"caf\xe9\tx\n\nk\tv\n")
    assert state.lines("f") == [["caf\ufffd", "x"], ["k", "v"]]


def test_the_lock_file_is_dot_lock_0600_even_with_a_lax_umask(isolated_env) -> None:
    old = os.umask(0o022)
    try:
        with state.lock():
            pass
    finally:
        os.umask(old)
    lock_path = os.path.join(state.state_dir(), ".lock")
    assert stat.S_IMODE(os.stat(lock_path).st_mode) == 0o600


def test_a_held_lock_times_out_with_an_exact_line(isolated_env, monkeypatch) -> None:
    import fcntl
    import time

    with state.lock():
        pass  # creates the folder and .lock
    lock_path = os.path.join(state.state_dir(), ".lock")
    holder = os.open(lock_path, os.O_RDWR)
    fcntl.flock(holder, fcntl.LOCK_EX)  # another open file description: another process, for flock
    monkeypatch.setattr(state.lock, "TIMEOUT_S", 0.3)
    try:
        start = time.monotonic()
        with pytest.raises(state.StateError) as info:
            with state.lock():
                pass
        waited = time.monotonic() - start
    finally:
        os.close(holder)
    assert str(info.value) == f"{lock_path} is locked by another process"
    assert 0.3 <= waited < 1.0  # retried often (every 10 ms), not once a second
    with state.lock():  # released: the next writer gets in
        pass


def test_a_lock_path_that_cannot_be_opened_is_a_clear_error(isolated_env) -> None:
    os.makedirs(os.path.join(state.state_dir(), ".lock"))
    lock_path = os.path.join(state.state_dir(), ".lock")
    with pytest.raises(state.StateError) as info:
        with state.lock():
            pass
    assert str(info.value) == f"cannot open {lock_path}: Is a directory"


def test_without_fcntl_filelock_guards_the_same_file(isolated_env, monkeypatch) -> None:
    """Windows has no fcntl: filelock takes .lock in the same folder, with the same timeout."""
    from filelock import FileLock

    monkeypatch.setitem(sys.modules, "fcntl", None)
    with state.lock():
        pass
    lock_path = os.path.join(state.state_dir(), ".lock")
    monkeypatch.setattr(state.lock, "TIMEOUT_S", 0.3)
    with FileLock(lock_path, timeout=1):
        with pytest.raises(state.StateError) as info:
            with state.lock():
                pass
    assert str(info.value) == f"{lock_path} is locked by another process"
    with state.lock():
        state.write("f", "x\n")
    assert state.read("f") == "x\n"


@pytest.mark.parametrize(("platform", "android", "xdg"), [
    ("linux", {}, True),
    ("freebsd13", {}, True),
    ("linux", {"ANDROID_DATA": "/data"}, True),
    ("linux", {"ANDROID_ROOT": "/system"}, True),
    ("linux", {"ANDROID_DATA": "/data", "ANDROID_ROOT": "/system"}, False),  # Android
    ("darwin", {}, False),
    ("win32", {}, False),
])
def test_which_platforms_use_the_xdg_rule(isolated_env, monkeypatch, platform: str, android: dict,
                                          xdg: bool) -> None:
    """Linux and the BSDs: the XDG rule, computed here; Android, macOS, Windows: platformdirs'
    folder for this app, without an author level (Windows would add one)."""
    import types

    def user_state_dir(appname=None, appauthor=None):  # platformdirs' rule for Windows' levels
        author = [appauthor or appname] if appname and appauthor is not False else []
        return os.path.join("/platformdirs", *author, *([appname] if appname else []))

    monkeypatch.setitem(sys.modules, "platformdirs", types.SimpleNamespace(user_state_dir=user_state_dir))
    monkeypatch.setattr(sys, "platform", platform)
    for name in ("ANDROID_DATA", "ANDROID_ROOT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in android.items():
        monkeypatch.setenv(name, value)
    expected = (str(isolated_env / ".local" / "state" / "git-credential-hf") if xdg
                else "/platformdirs/git-credential-hf")
    assert state.state_dir() == expected
