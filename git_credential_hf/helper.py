"""git's ``get`` / ``store`` / ``erase`` decisions.

``get`` is on the hot path of every git network operation: it reads stdin, the environment and at
most one small file, imports nothing beyond this package's light modules, never touches the
network and never writes to stderr. ``store`` and ``erase`` may call the Hub (``hub`` is imported
lazily) and report problems in one line on stderr.
"""

from __future__ import annotations

import sys

from . import protocol, settings, tokens

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at start-up; annotations only
    from typing import BinaryIO, TextIO

DEFAULT_USERNAME = "hf_user"
OPERATIONS = ("get", "store", "erase")
PREFIX = "git-credential-hf: "


def get(cred: protocol.Credential) -> list[tuple[str, str]]:
    """What to answer: ``[("username", …), ("password", token)]`` or nothing."""
    if not settings.serves(cred.protocol, cred.host):
        return []  # a non-Hub host costs no file read
    token, _source = tokens.active_token()
    if not token:
        return []
    return [("username", cred.username or DEFAULT_USERNAME), ("password", token)]


def store(cred: protocol.Credential) -> str | None:
    """Adopt a password git found to work. Returns a one-line problem, or ``None``."""
    if not settings.serves(cred.protocol, cred.host) or not cred.password:
        return None
    if settings.env_token():
        return None  # the environment decides; the cache is not ours to change then
    password = cred.password
    if password == tokens.read_token_file():
        return None  # the common case: git confirms the token we gave it
    from . import hub

    try:
        info = hub.whoami(password)
    except hub.HubError as e:
        return f"not saving the credential: {e}"
    if info.get("type") != "user":
        return f"not saving the credential: it belongs to a {info.get('type')!r}, not a user"
    try:
        warnings = tokens.save_token(password, hub.token_name(info))
    except tokens.TokenStoreError as e:
        return f"not saving the credential: {e}"
    return "; ".join(warnings) or None


def erase(cred: protocol.Credential) -> str | None:
    """git says the token failed. Remove it only when the Hub confirms it is invalid."""
    if not settings.serves(cred.protocol, cred.host) or not cred.password:
        return None
    saved = tokens.read_token_file()
    if cred.password != saved:
        return None  # never erase a credential whose password differs (or an env token)
    from . import hub

    try:
        hub.whoami(saved)
    except hub.InvalidTokenError:
        try:
            tokens.delete_token(saved)
        except tokens.TokenStoreError as e:
            return f"the Hub rejected the saved token {tokens.mask(saved)} but {e}"
        return (
            f"the Hub rejected the saved token {tokens.mask(saved)}; it was removed. "
            "Log in again with: git-credential-hf login"
        )
    except hub.HubError as e:
        return f"kept the saved token {tokens.mask(saved)}: could not verify it ({e})"
    return (
        f"the token {tokens.mask(saved)} is still valid, so it was kept; the failure is likely a "
        "missing permission (e.g. a read token pushing, or no access to this repository)"
    )


def run(operation: str, stdin: BinaryIO, stdout: BinaryIO, stderr: TextIO) -> int:
    """Run one helper operation on git's streams. Exit code: 0, or 1 when store/erase report
    a problem."""
    try:
        cred = protocol.parse(stdin)
    except protocol.ProtocolError as e:
        if operation == "get" or e.quiet:
            return 0
        stderr.write(f"{PREFIX}ignoring malformed input: {e}\n")
        return 1  # store/erase exit 1 whenever they report a problem
    if operation == "get":
        stdout.write(protocol.format_pairs(get(cred)))
        stdout.flush()
        return 0
    problem = store(cred) if operation == "store" else erase(cred)
    if problem:
        stderr.write(PREFIX + problem.replace("\n", " ") + "\n")
        return 1
    return 0


def main(operation: str) -> int:
    try:
        return run(operation, sys.stdin.buffer, sys.stdout.buffer, sys.stderr)
    except Exception as e:  # never a traceback in git's output; never a token either
        if operation != "get":
            sys.stderr.write(f"{PREFIX}{operation} failed: {type(e).__name__}\n")
        return 1
