"""git's credential wire format: bytes in, bytes out. Pure: no I/O beyond the stream it is handed.

Rules (git's Documentation/git-credential and credential.c):
- lines are split on LF only and lose one trailing CR; never ``splitlines()``, which would also
  split on CR, VT, FS, U+2028 … and let ``host=good\\rhost=evil`` become two attributes;
- a line is ``key=value`` split at the first ``=``; the list ends at a blank line or EOF;
- ``key[]`` attributes are ordered lists, an empty value resets the list;
- ``url=`` replaces what was read so far, split the way git splits it (``urls.split``);
- unknown keys are ignored (new git versions add new ones).
Only standard-library built-ins are used: this module is on ``get``'s hot path.
"""

from __future__ import annotations

from . import urls

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at start-up; annotations only
    from collections.abc import Iterable
    from typing import BinaryIO

MAX_LINE = 64 * 1024
MAX_INPUT = 1024 * 1024
_UNSAFE = b"\n\r\0"
_HEX = b"0123456789abcdefABCDEF"


class ProtocolError(ValueError):
    """The input is not a credential git could have sent. ``quiet`` errors get no message."""

    def __init__(self, message: str, quiet: bool = False) -> None:
        super().__init__(message)
        self.quiet = quiet


class Credential:
    """One credential description. Scalars are ``None`` when absent; values are ``str``
    decoded from UTF-8 with ``surrogateescape``, so any byte string survives a round trip."""

    __slots__ = ("host", "lists", "password", "path", "protocol", "username")

    def __init__(self) -> None:
        self.protocol: str | None = None
        self.host: str | None = None
        self.path: str | None = None
        self.username: str | None = None
        self.password: str | None = None
        self.lists: dict[str, list[str]] = {}

    def __repr__(self) -> str:  # never shows the password
        shown = "****" if self.password else None
        return (
            f"Credential(protocol={self.protocol!r}, host={self.host!r}, path={self.path!r}, "
            f"username={self.username!r}, password={shown!r})"
        )


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _percent_decode(text: str) -> str:
    """Decode ``%XX`` escapes as git's url_decode_mem does (``+`` stays ``+``, a bad escape
    stays literal)."""
    raw = text.encode("utf-8", "surrogateescape")
    if b"%" not in raw:
        return text
    out = bytearray()
    i = 0
    while i < len(raw):
        pair = raw[i + 1 : i + 3]
        if raw[i] == 0x25 and len(pair) == 2 and all(c in _HEX for c in pair):
            out.append(int(pair, 16))
            i += 3
        else:
            out.append(raw[i])
            i += 1
    return _decode(bytes(out))


def _apply_url(cred: Credential, url: str) -> None:
    """Replace ``cred`` with what ``url`` says, as git's credential_from_url does.

    A url git could not parse (no ``scheme://``, or a component that decodes to a control
    character) leaves an empty credential, which matches nothing."""
    for attr in ("protocol", "host", "path", "username", "password"):
        setattr(cred, attr, None)
    split = urls.split(url)
    if split is None:
        return
    scheme, user, secret, host, rest = split
    path = rest.lstrip("/").rstrip("/")
    parts = {
        "protocol": scheme,
        "host": _percent_decode(host),
        "path": _percent_decode(path) if path else None,
        "username": _percent_decode(user) if user is not None else None,
        "password": _percent_decode(secret) if secret is not None else None,
    }
    if any(v is not None and _has_unsafe(v) for v in parts.values()):
        return  # git refuses such urls (CVE-2020-5260): match nothing
    for attr, value in parts.items():
        setattr(cred, attr, value)


def _has_unsafe(value: str) -> bool:
    raw = value.encode("utf-8", "surrogateescape")
    return any(c in raw for c in _UNSAFE)


def parse(stream: BinaryIO) -> Credential:
    """Read one credential description from ``stream`` (up to a blank line or EOF)."""
    cred = Credential()
    total = 0
    while True:
        line = stream.readline(MAX_LINE + 2)
        total += len(line)
        if total > MAX_INPUT:
            raise ProtocolError("input over 1 MiB", quiet=True)
        if line.endswith(b"\n"):
            line = line[:-1]
        if line.endswith(b"\r"):
            line = line[:-1]
        if len(line) > MAX_LINE:  # the limit is on the content: CRLF is the 2 extra bytes read
            raise ProtocolError("line over 64 KiB", quiet=True)
        if not line:
            return cred
        if b"\0" in line:
            raise ProtocolError("NUL byte in input")
        key_raw, eq, value_raw = line.partition(b"=")
        if not eq:
            raise ProtocolError("invalid credential line (no '=')")
        _set(cred, _decode(key_raw), _decode(value_raw))


def parse_bytes(data: bytes) -> Credential:
    """``parse`` for a byte string (tests, fuzzing)."""
    import io

    return parse(io.BytesIO(data))


def _set(cred: Credential, key: str, value: str) -> None:
    if key.endswith("[]"):
        if value:
            cred.lists.setdefault(key[:-2], []).append(value)
        else:
            cred.lists[key[:-2]] = []
    elif key == "url":
        _apply_url(cred, value)
    elif key in Credential.__slots__ and key != "lists":
        setattr(cred, key, value)
    # any other key: ignored, as git requires of helpers


def format_pairs(pairs: Iterable[tuple[str, str]]) -> bytes:
    """Serialise ``key=value`` lines. If any value holds LF, CR or NUL, nothing is written:
    a half answer is worse than none, and such a value would inject attributes."""
    out = []
    for key, value in pairs:
        raw = f"{key}={value}".encode("utf-8", "surrogateescape")
        if any(c in raw for c in _UNSAFE):
            return b""
        out.append(raw + b"\n")
    return b"".join(out)
