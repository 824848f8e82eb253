"""Small private files, for ``tokens`` (the token cache) and ``state`` (this tool's own state).

- ``read_small``: a regular file's bytes up to a bound, opened ``O_NONBLOCK`` so that a FIFO
  put in a file's place never blocks git (a device or a directory holds nothing for us).
- ``ensure_dir``: a missing folder is created 0700; an existing folder's mode is the user's.
- ``atomic_write``: write through a symlink the user placed (dotfile setups), never over
  something that is not a regular file; a temporary file in the same folder (0600 whatever the
  umask), fsynced, ``os.replace``-d into place, the folder fsynced. The temporary files a killed
  writer left behind are swept first (each may hold a token): callers hold their lock.

Failures raise the caller's error class (``error``) with a message that names paths, never
contents. Only ``os`` at import time: ``get`` reads through this module.
"""

from __future__ import annotations

import os


def read_small(path: str, limit: int) -> bytes | None:
    """The bytes of a regular file of at most ``limit`` bytes; ``None`` otherwise (absent,
    unreadable, too large, or not a regular file)."""
    import stat  # already loaded by os: free

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except (OSError, ValueError):  # missing, unreadable, bad path
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        raw = b""
        while len(raw) <= limit:
            chunk = os.read(fd, limit + 1 - len(raw))
            if not chunk:
                break
            raw += chunk
    except OSError:
        return None
    finally:
        os.close(fd)
    return raw if len(raw) <= limit else None


def ensure_dir(folder: str, error: type[Exception]) -> None:
    """Create ``folder`` (and its parents) when missing, the folder itself 0700."""
    if os.path.isdir(folder):
        return  # an existing folder's mode is the user's business
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        os.chmod(folder, 0o700)  # whatever the umask
    except OSError as e:
        raise error(f"cannot create {folder}: {e.strerror or e}") from None


def real(path: str) -> str:
    """Where a write of ``path`` lands: through a symlink the user placed, never replacing it."""
    return os.path.realpath(path)


def check_target(path: str, error: type[Exception], kind: str = "file") -> str:
    """The real path a write of ``path`` would replace, its folder created; raises ``error``
    when it is something that must not be replaced (a directory, a FIFO, a device…). ``kind``
    names what belongs there, for the message."""
    import stat

    path = real(path)
    ensure_dir(os.path.dirname(path), error)
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = None  # absent (or unreachable: writing will say why)
    if mode is not None and stat.S_ISDIR(mode):
        raise error(f"{path} is a directory, not a {kind}")
    if mode is not None and not stat.S_ISREG(mode):  # e.g. a link to /dev/null: never replaced
        raise error(f"{path} is not a regular file; left as it is")
    return path


def atomic_write(path: str, data: bytes, error: type[Exception], kind: str = "file") -> None:
    """Replace ``path`` (its real path) with ``data``, 0600, atomically. Call under a lock."""
    import tempfile

    path = check_target(path, error, kind)
    folder = os.path.dirname(path)
    sweep(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), dir=folder)
    except OSError as e:
        raise error(f"cannot write in {folder}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o600)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        _unlink_quietly(tmp)
        raise error(f"cannot write {path}: {e.strerror or e}") from None
    except BaseException:
        _unlink_quietly(tmp)
        raise
    _fsync_dir(folder)


def _temp_prefix(path: str) -> str:
    return f".tmp-{os.path.basename(path)}-"


def sweep(path: str) -> None:
    """Remove the temporary files of ``path`` that a killed writer left behind. Callers hold
    the lock, so no live writer of ``path`` owns one."""
    folder, prefix = os.path.dirname(path), _temp_prefix(path)
    try:
        names = [n for n in os.listdir(folder) if n.startswith(prefix)]
    except OSError:
        return
    for name in names:
        _unlink_quietly(os.path.join(folder, name))  # a real problem: the write itself says


def unlink(path: str, error: type[Exception]) -> bool:
    """Remove ``path``; False when it was absent, ``error`` when it cannot be removed."""
    try:
        os.unlink(path)
        return True
    except FileNotFoundError:
        return False
    except OSError as e:
        raise error(f"cannot remove {path}: {e.strerror or e}") from None


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _fsync_dir(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
