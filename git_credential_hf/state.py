"""This tool's own small state files (never a token): the retry guard's refusals and the
token → account map, in platformdirs' ``user_state_dir("git-credential-hf")``.

- Location: on Linux and the BSDs, platformdirs' rule is ``$XDG_STATE_HOME`` (when it is an
  absolute path) else ``~/.local/state``, plus ``/git-credential-hf``. That rule is computed here
  without importing platformdirs (pathlib, re… cost ~20 ms, and ``get`` reads this folder);
  elsewhere platformdirs itself is asked. A test checks that both agree.
- Files: 0600 whatever the umask, replaced atomically by ``files.atomic_write`` (as token files
  are: temporary file in the same folder, fsync, ``os.replace``, through a symlink the user
  placed), in a folder created 0700 (an existing folder's mode is the user's business).
  Writers take an inter-process lock (``.lock`` in the folder; ``fcntl`` on POSIX, which costs
  nothing to import, filelock elsewhere).
- Tokens are keyed by ``token_key(token)``, the SHA-256 hex digest: a state file never holds a
  token. Hashing imports CPython's built-in SHA-256 module when it has one (hashlib pulls in
  OpenSSL, ~3-5 ms), so ``get`` only pays it when it has to compare.
- Format: text lines of tab-separated fields (no json on the hot path). Readers ignore lines
  they do not understand; a file that is not a regular file is ignored and never replaced.
"""

from __future__ import annotations

import os
import sys

from . import files

APP = "git-credential-hf"
MAX_SIZE = 256 * 1024
_XDG_PLATFORMS = ("linux", "freebsd", "openbsd", "netbsd", "dragonfly", "sunos", "aix")


class StateError(Exception):
    """A state file could not be written. Messages name paths, never tokens."""


def _xdg_platform() -> bool:
    if not sys.platform.startswith(_XDG_PLATFORMS):
        return False
    # platformdirs treats this pair as Android, whose folders are not XDG ones
    return not (os.environ.get("ANDROID_DATA") == "/data"
                and os.environ.get("ANDROID_ROOT") == "/system")


def state_dir() -> str:
    """``user_state_dir("git-credential-hf")``, as platformdirs computes it."""
    if _xdg_platform():
        base = os.environ.get("XDG_STATE_HOME", "")
        if not base.startswith("/"):  # unset, empty or relative: ignored, as platformdirs does
            base = os.path.expanduser("~/.local/state")
        return os.path.join(base, APP)
    import platformdirs  # macOS, Windows, Android: not on anyone's hot path to worry about

    return platformdirs.user_state_dir(APP, appauthor=False)


def path(name: str) -> str:
    return os.path.join(state_dir(), name)


_sha256 = None


def token_key(token: str) -> str:
    """SHA-256 hex of the token: how state files name a token without holding it."""
    global _sha256
    if _sha256 is None:
        try:  # CPython's own SHA-256 (same digest as hashlib's), without loading OpenSSL
            from _sha256 import sha256  # Python <= 3.11
        except ImportError:
            try:
                from _sha2 import sha256  # Python >= 3.12
            except ImportError:
                from hashlib import sha256
        _sha256 = sha256
    return _sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def mtime(name: str) -> float | None:
    """Modification time of a state file, or ``None`` when absent: one ``stat``."""
    try:
        return os.stat(path(name)).st_mtime
    except (OSError, ValueError):
        return None


def read(name: str) -> str | None:
    """The text of a regular state file of at most ``MAX_SIZE`` bytes, else ``None``."""
    raw = files.read_small(path(name), MAX_SIZE)
    return None if raw is None else raw.decode("utf-8", "replace")


def lines(name: str) -> list[list[str]]:
    """The file's lines split on tabs (blank lines and ``#`` comments skipped)."""
    text = read(name)
    if not text:
        return []
    return [line.split("\t") for line in text.split("\n") if line and not line.startswith("#")]


def write_lines(name: str, rows: list[list[str]]) -> None:
    """Replace the file with ``rows`` (fields must hold no tab or newline). Call under
    ``lock()``."""
    for row in rows:
        if any("\t" in f or "\n" in f or "\r" in f for f in row):
            raise StateError(f"refusing to write a malformed entry in {path(name)}")
    write(name, "".join("\t".join(row) + "\n" for row in rows))


def write(name: str, text: str) -> None:
    """Atomically replace a state file with ``text`` (0600). Call under ``lock()``."""
    files.atomic_write(path(name), text.encode("utf-8"), StateError)


def remove(name: str) -> None:
    try:
        os.unlink(path(name))
    except OSError:
        pass


class lock:  # lower-case: used as `with state.lock():`
    """Inter-process lock over this tool's state folder (creates the folder 0700)."""

    TIMEOUT_S = 5.0

    def __enter__(self) -> lock:
        folder = state_dir()
        files.ensure_dir(folder, StateError)
        lock_path = os.path.join(folder, ".lock")
        try:
            import fcntl
        except ImportError:  # Windows
            from filelock import FileLock, Timeout

            self._filelock = FileLock(lock_path, timeout=self.TIMEOUT_S)
            try:
                self._filelock.acquire()
            except Timeout:
                raise StateError(f"{lock_path} is locked by another process") from None
            return self
        import time

        try:
            self._fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as e:
            raise StateError(f"cannot open {lock_path}: {e.strerror or e}") from None
        deadline = time.monotonic() + self.TIMEOUT_S
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except OSError:
                if time.monotonic() > deadline:
                    os.close(self._fd)
                    raise StateError(f"{lock_path} is locked by another process") from None
                time.sleep(0.01)

    def __exit__(self, *exc: object) -> None:
        if hasattr(self, "_filelock"):
            self._filelock.release()
            return
        os.close(self._fd)  # closing releases the flock
