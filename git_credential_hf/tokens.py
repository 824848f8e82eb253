"""The token cache on disk, shared with huggingface_hub: the active token file and the
``stored_tokens`` INI file of named tokens.

Reading is cheap and lock-free (``get`` runs on every git operation): writers replace files
atomically, so a reader sees the old or the new file, never a part of one. Writers hold an
inter-process lock beside the token file, write a temporary file in the same folder (mode 0600
whatever the umask), fsync it and ``os.replace`` it into place. A ``stored_tokens`` that does not
parse is never rewritten. Heavy modules are imported inside the writers only.
"""

from __future__ import annotations

import os

from . import output, settings

LOCK_TIMEOUT_S = 10.0


class TokenStoreError(Exception):
    """A token file could not be read or written. Messages name paths, never tokens."""


mask = output.mask  # kept here too: callers that hold tokens mask them


def read_token_file() -> str | None:
    """The token saved in the token file, cleaned as huggingface_hub cleans it, or ``None``.

    Only a regular file counts: opening a FIFO would block git forever, and a device or a
    directory holds no token. ``O_NONBLOCK`` makes the open return at once whatever it is."""
    import stat  # already loaded by os: free

    try:
        fd = os.open(settings.token_path(), os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except (OSError, ValueError):  # missing, unreadable, bad path
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        raw = b""
        while len(raw) < 64 * 1024:
            chunk = os.read(fd, 64 * 1024 - len(raw))
            if not chunk:
                break
            raw += chunk
    except OSError:
        return None
    finally:
        os.close(fd)
    return settings.clean_token(raw.decode("utf-8", "replace"))


def active_token() -> tuple[str | None, str]:
    """``(token, source)``; source is the environment variable's name or ``"file"``."""
    from_env = settings.env_token()
    if from_env:
        return from_env
    return read_token_file(), "file"


# --- writers -----------------------------------------------------------------------------


class _Lock:
    """Inter-process lock for writers: ``.token.lock`` beside the (real) token file."""

    def __enter__(self) -> None:
        from filelock import FileLock, Timeout

        real = _real(settings.token_path())
        folder, base = os.path.split(real)
        _ensure_dir(folder)
        path = os.path.join(folder, f".{base}.lock")
        try:  # created 0600 (never more, whatever the umask): whoever can open a lock file can
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))  # flock it and stall us
        except OSError:
            pass  # FileLock reports it below
        self._lock = FileLock(path, timeout=LOCK_TIMEOUT_S)
        try:
            self._lock.acquire()
        except Timeout:
            raise TokenStoreError(f"{real} is locked by another process; try again") from None
        except OSError as e:
            raise TokenStoreError(f"cannot lock {real}: {e.strerror or e}") from None

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def _real(path: str) -> str:
    """Write through a symlink the user placed (dotfile setups), never replace the link."""
    return os.path.realpath(path)


def _ensure_dir(folder: str) -> None:
    if os.path.isdir(folder):
        return  # an existing folder's mode is the user's business
    try:
        os.makedirs(folder, exist_ok=True)
        os.chmod(folder, 0o700)
    except OSError as e:
        raise TokenStoreError(f"cannot create {folder}: {e.strerror or e}") from None


def _atomic_write(path: str, data: bytes) -> None:
    import stat
    import tempfile

    path = _real(path)
    folder = os.path.dirname(path)
    _ensure_dir(folder)
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = None  # absent (or unreachable: writing will say why)
    if mode is not None and stat.S_ISDIR(mode):
        raise TokenStoreError(f"{path} is a directory, not a token file")
    if mode is not None and not stat.S_ISREG(mode):  # e.g. a link to /dev/null: never replaced
        raise TokenStoreError(f"{path} is not a regular file; left as it is")
    _sweep(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), dir=folder)
    except OSError as e:
        raise TokenStoreError(f"cannot write in {folder}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o600)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        _unlink(tmp)
        raise TokenStoreError(f"cannot write {path}: {e.strerror or e}") from None
    except BaseException:
        _unlink(tmp)
        raise
    _fsync_dir(folder)


def _temp_prefix(path: str) -> str:
    return f".tmp-{os.path.basename(path)}-"


def _sweep(path: str) -> None:
    """Remove the temporary files of ``path`` that a killed writer left behind: each may hold a
    token. Callers hold the lock, so no live writer of ``path`` owns one."""
    folder, prefix = os.path.dirname(path), _temp_prefix(path)
    try:
        names = [n for n in os.listdir(folder) if n.startswith(prefix)]
    except OSError:
        return
    for name in names:
        try:
            os.unlink(os.path.join(folder, name))
        except OSError:
            pass  # not ours to insist on: the write itself will report a real problem


def _unlink(path: str) -> bool:
    try:
        os.unlink(path)
        return True
    except FileNotFoundError:
        return False
    except OSError as e:
        raise TokenStoreError(f"cannot remove {path}: {e.strerror or e}") from None


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


def _read_stored(path: str):
    """Parse ``stored_tokens``; ``None`` when absent. Raises ``TokenStoreError`` when it
    cannot be parsed (then it must not be rewritten)."""
    import configparser

    config = configparser.ConfigParser(interpolation=None)
    config.optionxform = str  # keep keys as written
    try:
        with open(path, encoding="utf-8") as f:
            config.read_file(f)
    except FileNotFoundError:
        return config
    except (OSError, UnicodeDecodeError, configparser.Error) as e:
        reason = type(e).__name__ if not isinstance(e, OSError) else (e.strerror or str(e))
        raise TokenStoreError(f"{path} cannot be parsed ({reason}); left as it is") from None
    return config


def _write_stored(path: str, config) -> None:
    import io

    buf = io.StringIO()
    config.write(buf)
    _atomic_write(path, buf.getvalue().encode("utf-8"))


def _valid_name(name: str) -> bool:
    return bool(name) and name == name.strip() and not any(c in name for c in "[]\n\r\0\t\x0b\x0c")


def save_token(token: str, name: str | None = None) -> list[str]:
    """Make ``token`` the active token and, when ``name`` is given, store it under that name.

    Returns warnings (one line each) about the named copy; the active token is saved either way.
    """
    if settings.clean_token(token) != token or any(ord(c) < 0x21 for c in token):
        raise TokenStoreError("refusing to save a token containing whitespace or control bytes")
    warnings: list[str] = []
    with _Lock():
        _atomic_write(settings.token_path(), token.encode("utf-8"))
        if name is None:
            return warnings
        if not _valid_name(name):
            return [f"token name {name!r} cannot be an INI section; named copy skipped"]
        path = settings.stored_tokens_path()
        try:
            config = _read_stored(path)
            if not config.has_section(name):
                config.add_section(name)
            config.set(name, "hf_token", token)
            _write_stored(path, config)
        except TokenStoreError as e:
            warnings.append(f"named copy not saved: {e}")
    return warnings


def delete_token(token: str | None = None) -> bool:
    """Remove the active token file, but only when it holds ``token`` (any token when ``None``),
    and every ``stored_tokens`` entry holding that token. True when the token file was removed."""
    with _Lock():
        current = read_token_file()
        if current is None or (token is not None and current != token):
            return False
        real = _real(settings.token_path())
        _unlink(real)
        _sweep(real)  # a crashed writer's copy must not outlive a logout
        _forget_named(current)
        return True


def _forget_named(token: str) -> None:
    path = settings.stored_tokens_path()
    _sweep(_real(path))  # a crashed writer's copy may hold the token being forgotten
    try:
        config = _read_stored(path)
    except TokenStoreError:
        return  # unparsable: never rewritten
    names = [s for s in config.sections() if config.get(s, "hf_token", fallback=None) == token]
    if names:
        for name in names:
            config.remove_section(name)
        _write_stored(path, config)


def stored_tokens() -> dict[str, str]:
    """Named tokens, ``{name: token}``; raises ``TokenStoreError`` when the file is unparsable."""
    config = _read_stored(settings.stored_tokens_path())
    named = (s for s in config.sections() if config.has_option(s, "hf_token"))
    return {s: config.get(s, "hf_token") for s in named}
