"""What every layer may use to talk to people: the prefix, masking, the one-line error writer
and the terminal check. A leaf: it imports nothing from this package (and nothing heavy: ``get``
loads it)."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at start-up; annotations only
    from typing import TextIO

PREFIX = "git-credential-hf: "
TOKEN_PREFIXES = ("api_org_", "hf_")


def mask(token: str | None) -> str:
    """``hf_****abcd``: enough to recognise a token, useless to anyone who reads it."""
    if not token:
        return "<none>"
    for prefix in TOKEN_PREFIXES:
        if token.startswith(prefix):
            break
    else:
        prefix = ""
    tail = token[-4:] if len(token) >= len(prefix) + 8 else ""
    return f"{prefix}****{tail}"


def mask_secrets(text: str) -> str:
    """``text`` with token-shaped runs (``hf_…``, ``api_org_…``) and whatever follows
    ``password=`` masked. For printing values others wrote (git config, usage errors)."""
    import re  # not on get's path: only printers of foreign text come here

    text = re.sub(r"(password=)[^\s;&|'\"]+", lambda m: m.group(1) + "****", text)
    return re.sub(r"\b(?:hf_|api_org_)[A-Za-z0-9_-]{4,}", lambda m: mask(m.group(0)), text)


def one_line(message: str) -> str:
    """``message`` on one line: CR and LF become spaces."""
    return message.replace("\r", " ").replace("\n", " ")


def error(message: str, stream: TextIO | None = None) -> None:
    """Write ``git-credential-hf: <message>`` as one line on stderr (or ``stream``)."""
    out = sys.stderr if stream is None else stream
    out.write(PREFIX + one_line(message) + "\n")


def fail(message: str, code: int = 1) -> int:
    """``error(message)`` and return ``code``, for commands that end there."""
    error(message)
    return code


def stdin_is_tty() -> bool:
    """Whether standard input is a terminal (``False`` when closed or unusable)."""
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):
        return False
