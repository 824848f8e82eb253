"""The token cache on disk, shared with huggingface_hub: the active token file and the
``stored_tokens`` INI file of named tokens.

``stored_tokens`` is read and written as huggingface_hub 2.x keeps it: one section per token name,
``hf_token`` and, for a browser (OAuth) login, ``refresh_token`` and ``expires_at`` (unix
seconds). Every field of every section survives every write of ours (unknown fields and a
``[DEFAULT]`` section included); a section is replaced whole only when we save that same name with
a different token. A file that does not parse is never rewritten.

Reading is cheap and lock-free (``get`` runs on every git operation): writers replace files
atomically, so a reader sees the old or the new file, never a part of one. ``get`` parses
``stored_tokens`` (and imports configparser) only when the file mentions OAuth fields.

Writers hold two inter-process locks, always in this order: ours (``.token.lock`` beside the real
token file) then huggingface_hub's (``<stored_tokens path>.lock``, the file its refresh locks with
filelock's ``FileLock``). Both lock files are created 0600 before filelock opens them, whatever
filelock's version does with modes. Writes go to a temporary file in the same folder (0600
whatever the umask), fsynced, ``os.replace``-d into place. Heavy modules load in writers only.
"""

from __future__ import annotations

import os

from . import files, output, settings

LOCK_TIMEOUT_S = 10.0
MAX_TOKEN_FILE = 64 * 1024
MAX_STORED_FILE = 4 * 1024 * 1024
OAUTH_FIELDS = ("refresh_token", "expires_at")
_DEFAULT_SECTION = "DEFAULT"  # configparser's: a section by that name cannot be saved


class TokenStoreError(Exception):
    """A token file could not be read or written. Messages name paths, never tokens."""


class UnusableNameError(TokenStoreError):
    """A token name that cannot be a ``stored_tokens`` section; raised before any write."""


mask = output.mask  # kept here too: callers that hold tokens mask them


# --- readers (lock-free, cheap) ------------------------------------------------------------


def read_token_file() -> str | None:
    """The token saved in the token file, cleaned as huggingface_hub cleans it, or ``None``.

    A UTF-8 byte order mark is stripped like whitespace. A file holding more than one line of
    text (two tokens pasted one after the other) holds no usable token: ``None``, and since
    nothing matches it, nothing ever erases it."""
    path = settings.token_path()
    if not os.path.isabs(path):  # relative to git's cwd: a repository could plant one
        return None
    raw = files.read_small(path, MAX_TOKEN_FILE)
    if raw is None:
        return None
    text = raw.decode("utf-8", "replace").strip().strip("\ufeff").strip()
    if "\n" in text or "\r" in text:
        return None
    return settings.clean_token(text)


def active_token() -> tuple[str | None, str]:
    """``(token, source)``; source is the environment variable's name or ``"file"``."""
    from_env = settings.env_token()
    if from_env:
        return from_env
    return read_token_file(), "file"


def _parse_stored(text: str, path: str):
    """A ``ConfigParser`` holding ``text``, read as huggingface_hub reads it (strict, no
    interpolation) but keeping keys as written. Raises ``TokenStoreError``."""
    import configparser

    config = configparser.ConfigParser(interpolation=None)
    config.optionxform = str  # keep keys as written; lookups below are case-insensitive
    try:
        config.read_string(_universal_newlines(text), source=path)
    except configparser.Error as e:
        reason = type(e).__name__
        raise TokenStoreError(f"{path} cannot be parsed ({reason}); left as it is") from None
    defaults = list(config.defaults())
    groups = [defaults] + [[k for k in config[s] if k not in defaults] for s in config.sections()]
    for keys in groups:  # huggingface_hub lower-cases keys: `A` and `a` are a duplicate for it
        if len({k.lower() for k in keys}) != len(keys):
            raise TokenStoreError(f"{path} cannot be parsed (DuplicateOptionError); left as it is")
    return config


def _load_stored(path: str):
    """Parse ``stored_tokens``; an empty parser when absent. Raises ``TokenStoreError`` when it
    cannot be read or parsed (then it must not be rewritten)."""
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_STORED_FILE + 1)
    except FileNotFoundError:
        return _parse_stored("", path)
    except OSError as e:
        raise TokenStoreError(f"{path} cannot be read ({e.strerror or e}); left as it is") from None
    if len(raw) > MAX_STORED_FILE:
        raise TokenStoreError(f"{path} is too large to be a token list; left as it is")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise TokenStoreError(f"{path} cannot be parsed (not UTF-8); left as it is") from None
    return _parse_stored(text, path)


def _sections_of(config) -> dict[str, dict[str, str]]:
    """Every section with every field, keys lower-cased (as huggingface_hub sees them, a
    ``[DEFAULT]`` section's fields included in each)."""
    return {
        name: {key.lower(): value for key, value in config.items(name)}
        for name in config.sections()
    }


def stored_sections() -> dict[str, dict[str, str]]:
    """``{name: {field: value}}`` for every section of ``stored_tokens``, in file order.
    Raises ``TokenStoreError`` when the file is unparsable."""
    return _sections_of(_load_stored(settings.stored_tokens_path()))


def stored_tokens() -> dict[str, str]:
    """Named tokens, ``{name: token}``; raises ``TokenStoreError`` when the file is unparsable."""
    return {
        name: fields["hf_token"]
        for name, fields in stored_sections().items()
        if "hf_token" in fields
    }


def section_for_token(token: str) -> tuple[str, dict[str, str]] | None:
    """``(name, fields)`` of the first section holding ``token`` (huggingface_hub's choice too),
    or ``None``. Raises ``TokenStoreError`` when the file is unparsable."""
    for name, fields in stored_sections().items():
        if fields.get("hf_token") == token:
            return name, fields
    return None


def oauth_section(token: str) -> tuple[str, dict[str, str]] | None:
    """For ``get``: ``(name, fields)`` when ``token``'s section carries OAuth fields
    (``refresh_token`` or ``expires_at``), else ``None``. Never raises.

    Cheap on a cache without OAuth sections: a small file read and a byte search, no
    configparser. (A file being rewritten by a writer that does not replace atomically may
    read torn: then the answer is ``None``, and the next git call looks again.)"""
    raw = files.read_small(settings.stored_tokens_path(), MAX_STORED_FILE)
    if raw is None:
        return None
    lowered = raw.lower()
    if b"refresh_token" not in lowered and b"expires_at" not in lowered:
        return None
    try:
        text = raw.decode("utf-8")
        sections = _quick_sections(text)
        if sections is None:  # anything unusual: configparser decides, as huggingface_hub's does
            sections = _sections_of(_parse_stored(text, "stored_tokens"))
    except (TokenStoreError, UnicodeDecodeError):
        return None
    for name, fields in sections.items():
        if fields.get("hf_token") == token:
            if any(field in fields for field in OAUTH_FIELDS):
                return name, fields
            return None
    return None


REFRESH_MARGIN_S = 24 * 3600  # huggingface_hub refreshes when less than a day remains


def refresh_due(expires: int | None, now: float | None = None) -> bool:
    """huggingface_hub's rule: due when fewer than 24 h remain (or already expired)."""
    if expires is None:
        return False
    import time  # built in: free

    return expires - REFRESH_MARGIN_S <= (time.time() if now is None else now)


_OTHER_LINE_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def _universal_newlines(text: str) -> str:
    """Line ends as a file opened in text mode sees them (huggingface_hub reads it so)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _quick_sections(text: str) -> dict[str, dict[str, str]] | None:
    """The sections of a plain ``stored_tokens`` (what huggingface_hub and we write: headers,
    ``key = value`` lines, blank lines, comments) read without configparser, whose import (and
    ``re``'s) would cost ``get`` tens of milliseconds. ``None`` for anything else — indented
    continuation lines, ``[DEFAULT]``, duplicates, a ``]`` inside a header, a line without a
    delimiter — which configparser must judge. Same result as configparser where it answers."""
    if any(c in text for c in _OTHER_LINE_BREAKS):
        return None  # str.splitlines() would split where a file reader does not
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in _universal_newlines(text).split("\n"):
        if line[:1] in (" ", "\t") and line.strip():
            return None  # continuation or indented line: configparser's rules
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if stripped[0] == "[":
            name = stripped[1:-1]
            if stripped[-1] != "]" or not name or "]" in name or name == _DEFAULT_SECTION:
                return None
            if name in sections:
                return None
            current = sections[name] = {}
            continue
        if current is None:
            return None
        cut = min((i for i in (stripped.find("="), stripped.find(":")) if i >= 0), default=-1)
        if cut <= 0:
            return None
        key, value = stripped[:cut].strip().lower(), stripped[cut + 1:].strip()
        if not key or key in current:
            return None
        current[key] = value
    return sections


def mentioned_in_stored(token: str) -> bool:
    """Whether ``stored_tokens``' bytes hold ``token`` at all (cheap, no parsing)."""
    raw = files.read_small(settings.stored_tokens_path(), MAX_STORED_FILE)
    return raw is not None and token.encode("utf-8", "replace") in raw


def expires_at(fields: dict[str, str]) -> int | None:
    """The section's ``expires_at`` as an int, ``None`` when absent or not a number (as
    huggingface_hub treats it)."""
    value = fields.get("expires_at")
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


# --- locks --------------------------------------------------------------------------------

_held = 0  # depth of `locked()` in this process: nested writers reuse the held locks
_holders: list = []


def _lock_paths() -> tuple[str, str]:
    """Ours, then huggingface_hub's: the fixed acquisition order. Every writer comes here
    first: a relative token path (``settings.check_paths``) stops it before any write."""
    try:
        settings.check_paths()
    except settings.PathError as e:
        raise TokenStoreError(str(e)) from None
    folder, base = os.path.split(files.real(settings.token_path()))
    return os.path.join(folder, f".{base}.lock"), settings.stored_tokens_path() + ".lock"


def _prepare_lock_file(path: str) -> None:
    """Create the lock file 0600 (never more, whatever the umask or filelock's version: whoever
    can open a lock file can flock it and stall us); bring one of ours back to 0600."""
    import stat

    files.ensure_dir(os.path.dirname(path) or ".", TokenStoreError)
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except OSError:
        return  # filelock reports it when it tries
    try:
        st = os.fstat(fd)
        if stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid() and st.st_mode & 0o077:
            os.fchmod(fd, 0o600)
    except OSError:
        pass
    finally:
        os.close(fd)


def _acquire(path: str, timeout: float):
    from filelock import FileLock, Timeout

    _prepare_lock_file(path)
    try:
        lock = FileLock(path, timeout=timeout, mode=0o600)
    except TypeError:  # filelock < 3.10 has no mode (and keeps an existing file's mode)
        lock = FileLock(path, timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        raise TokenStoreError(f"{path} is locked by another process; try again") from None
    except OSError as e:
        raise TokenStoreError(f"cannot lock {path}: {e.strerror or e}") from None
    return lock


class locked:
    """``with tokens.locked(timeout):`` holds both writer locks (ours, then
    huggingface_hub's). Re-entrant within a process: the writers below use it too."""

    def __init__(self, timeout: float | None = None) -> None:
        self.timeout = LOCK_TIMEOUT_S if timeout is None else timeout

    def __enter__(self) -> locked:
        global _held
        if _held:
            _held += 1
            return self
        import time

        deadline = time.monotonic() + self.timeout
        acquired = []
        try:
            for path in _lock_paths():
                remaining = max(0.0, deadline - time.monotonic())
                acquired.append(_acquire(path, remaining))
        except BaseException:
            for lock in reversed(acquired):
                _release(lock)
            raise
        _holders[:] = acquired
        _held = 1
        return self

    def __exit__(self, *exc: object) -> None:
        global _held
        _held -= 1
        if _held == 0:
            for lock in reversed(_holders):
                _release(lock)
            _holders.clear()


def _release(lock) -> None:
    try:
        lock.release()
    except OSError:
        pass  # the lock dies with its descriptor anyway


# --- file writing (``files``: atomic 0600 replace, through a symlink, temp files swept) ------


def _remove_token_file() -> None:
    real = files.real(settings.token_path())
    files.unlink(real, TokenStoreError)
    files.sweep(real)  # a crashed writer's copy must not outlive the token file


def _write_stored(path: str, config) -> None:
    import io

    buf = io.StringIO()
    config.write(buf)
    files.atomic_write(path, buf.getvalue().encode("utf-8"), TokenStoreError, "token file")


def _write_token_file(token: str) -> None:
    files.atomic_write(settings.token_path(), token.encode("utf-8"), TokenStoreError, "token file")


# --- validation (before anything is written) ------------------------------------------------


def _check_value(value: str, what: str) -> None:
    if (
        not isinstance(value, str)
        or settings.clean_token(value) != value
        or any(ord(c) < 0x21 or ord(c) == 0x7F for c in value)
        or not value.isprintable()
    ):
        raise TokenStoreError(f"refusing to save a {what} containing whitespace or control bytes")


def check_name(name: str) -> None:
    """Raise ``TokenStoreError`` unless ``name`` can be a ``stored_tokens`` section that reads
    back as itself, here and in huggingface_hub (configparser's ``DEFAULT`` cannot)."""
    if not isinstance(name, str) or not name:
        raise UnusableNameError("token name '' cannot be an INI section (empty)")
    problem = None
    if name == _DEFAULT_SECTION:
        problem = "is reserved by the INI format"
    elif name != name.strip() or not name.isprintable() or "]" in name:
        # Python < 3.10 ends a section header at the first "]"
        problem = "cannot be an INI section (']', control characters or edge spaces)"
    elif len(name) > 256:
        problem = "is too long"
    else:
        import configparser
        import io

        probe = configparser.ConfigParser(interpolation=None)
        probe.add_section(name)
        probe.set(name, "hf_token", "x")
        buf = io.StringIO()
        probe.write(buf)
        back = configparser.ConfigParser(interpolation=None)
        try:
            back.read_string(buf.getvalue())
        except configparser.Error:
            problem = "cannot be an INI section"
        else:
            if back.sections() != [name]:
                problem = "cannot be an INI section"
    if problem:
        raise UnusableNameError(f"token name {name!r} {problem}")


def _check_expiry(value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**11:
        raise TokenStoreError("refusing to save an expiry that is not a unix time in seconds")


# --- writers --------------------------------------------------------------------------------


def save_token(
    token: str,
    name: str | None = None,
    *,
    refresh_token: str | None = None,
    expires_at: int | None = None,
    activate: bool = True,
    replace: bool = True,
) -> list[str]:
    """Store ``token`` under ``name`` (when given) and make it the active token (``activate``).

    All-or-nothing for anything invalid: the token, the name, the refresh token and the expiry
    are checked before anything is written (``TokenStoreError``). The section is written first,
    then the token file, so an OAuth token is never active without its refresh token.
    Saving a name replaces that section whole when it held another token (stale metadata
    dropped, as huggingface_hub does); for the same token its other fields are kept, updated
    with what is given. ``replace=False`` never overwrites a section holding another token.
    Other sections are untouched.

    Returns warnings (one line each) about a named copy that could not be written — only for a
    plain token: with OAuth fields, an unwritable ``stored_tokens`` raises and writes nothing.
    """
    _check_value(token, "token")
    oauth = refresh_token is not None or expires_at is not None
    if refresh_token is not None:
        _check_value(refresh_token, "refresh token")
    if expires_at is not None:
        _check_expiry(expires_at)
    if name is not None:
        check_name(name)
    elif oauth:
        raise TokenStoreError("an OAuth token needs a name to keep its refresh token under")
    warnings: list[str] = []
    with locked():
        if activate:  # a token file that cannot be replaced stops the save before any write
            files.check_target(settings.token_path(), TokenStoreError, "token file")
        if name is not None:
            path = settings.stored_tokens_path()
            try:
                config = _load_stored(path)
                warning = _set_section(config, name, token, refresh_token, expires_at, replace)
                if warning:
                    warnings.append(warning)
                else:
                    _write_stored(path, config)
            except TokenStoreError as e:
                if oauth:
                    raise
                warnings.append(f"named copy not saved: {e}")
        if activate:
            _write_token_file(token)
    return warnings


def _set_section(config, name, token, refresh_token, expires_at, replace: bool) -> str | None:
    if config.has_section(name):
        held = {k.lower(): v for k, v in config.items(name)}.get("hf_token")
        if held != token:
            if not replace:
                return f"a different token is already stored as {name!r}; left as it is"
            config.remove_section(name)  # replaced whole: its metadata was the other token's
    if not config.has_section(name):
        config.add_section(name)
    section = config[name]
    keys = {k.lower(): k for k in section}
    for field, value in (
        ("hf_token", token),
        ("refresh_token", refresh_token),
        ("expires_at", None if expires_at is None else str(expires_at)),
    ):
        if value is not None:
            section[keys.get(field, field)] = value
    return None


def replace_active(old: str, new: str) -> bool:
    """Write ``new`` into the token file if it still holds ``old`` (a refresh must not undo a
    switch another process made meanwhile). True when written."""
    _check_value(new, "token")
    with locked():
        if read_token_file() != old:
            return False
        _write_token_file(new)
        return True


def forget_active(token: str) -> bool:
    """Remove the token file when it holds ``token``; named copies stay (``switch`` can bring
    the token back). True when removed."""
    with locked():
        if read_token_file() != token:
            return False
        _remove_token_file()
        return True


def delete_token(token: str | None = None) -> bool:
    """Logout: remove the active token file, but only when it holds ``token`` (any token when
    ``None``), and every ``stored_tokens`` entry holding that token. True when the token file
    was removed."""
    with locked():
        current = read_token_file()
        if current is None or (token is not None and current != token):
            return False
        _remove_token_file()
        _forget_named(current)
        return True


def _forget_named(token: str) -> None:
    path = settings.stored_tokens_path()
    files.sweep(files.real(path))  # a crashed writer's copy may hold the token being forgotten
    try:
        config = _load_stored(path)
    except TokenStoreError:
        return  # unparsable: never rewritten
    names = [s for s, fields in _sections_of(config).items() if fields.get("hf_token") == token]
    if names:
        for name in names:
            config.remove_section(name)
        _write_stored(path, config)


def delete_named(name: str, holding: str | None = None) -> tuple[bool, bool]:
    """``logout --token-name``: remove section ``name``, and the token file when it held that
    section's token. Returns ``(section removed, token file removed)``; an unknown name (or,
    with ``holding``, a section that no longer holds that token: checked under the lock)
    changes nothing. Raises ``TokenStoreError`` when ``stored_tokens`` is unparsable."""
    with locked():
        path = settings.stored_tokens_path()
        config = _load_stored(path)
        if not config.has_section(name):
            return False, False
        token = _sections_of(config)[name].get("hf_token")
        if holding is not None and token != holding:
            return False, False
        config.remove_section(name)
        _write_stored(path, config)
        if token is not None and read_token_file() == token:
            _remove_token_file()
            return True, True
        return True, False


def switch(name: str) -> str:
    """Make the token stored as ``name`` the active one; returns it. An unknown name (or a
    section without a usable token) raises ``TokenStoreError`` and changes nothing."""
    with locked():
        fields = stored_sections().get(name)
        token = (fields or {}).get("hf_token")
        if not token:
            raise TokenStoreError(f"no token named {name!r} in {settings.stored_tokens_path()}")
        _check_value(token, "token")
        _write_token_file(token)
        return token
