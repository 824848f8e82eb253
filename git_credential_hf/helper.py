"""git's ``get`` / ``store`` / ``erase`` decisions.

``get`` is on the hot path of every git network operation: it reads stdin, the environment and at
most one small file (plus the account map and ``stored_tokens`` when git sends a username that is
a known account), ``stat``s the retry guard's file, imports nothing beyond this package's light
modules and never touches the network. It writes to stderr only when the retry guard stops git
(``quit=1``). ``store`` and ``erase`` may call the Hub (``hub`` is imported lazily) and report
problems in one line on stderr.
"""

from __future__ import annotations

import sys

from . import accounts, guard, protocol, settings, tokens

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at start-up; annotations only
    from typing import BinaryIO, TextIO

DEFAULT_USERNAME = "hf_user"
OPERATIONS = ("get", "store", "erase")
PREFIX = "git-credential-hf: "


def get(cred: protocol.Credential) -> list[tuple[str, str]]:
    """What to answer: ``[("username", …), ("password", token)]``, ``[("quit", "1")]`` or
    nothing."""
    return answer(cred)[0]


def _pick(cred: protocol.Credential) -> tuple[str | None, str]:
    """The token for this request and its source: the account the username names, when it is
    one we know with a saved token, else the active token."""
    if cred.username and cred.username != DEFAULT_USERNAME:
        picked = accounts.select(cred.username)
        if picked:
            return picked
    return tokens.active_token()


def answer(cred: protocol.Credential) -> tuple[list[tuple[str, str]], str | None]:
    """``get``'s answer, plus the one line for stderr when the retry guard stops git."""
    if not settings.serves(cred.protocol, cred.host):
        return [], None  # a non-Hub host costs no file read
    token, source = _pick(cred)
    if not token:
        return [], None
    refused = guard.check(token)
    if refused:
        return [("quit", "1")], guard.message(tokens.mask(token), source, *refused)
    return [("username", cred.username or DEFAULT_USERNAME), ("password", token)], None


def store(cred: protocol.Credential) -> str | None:
    """Adopt a password git found to work. Returns a one-line problem, or ``None``."""
    if not settings.serves(cred.protocol, cred.host) or not cred.password:
        return None
    guard.clear(cred.password)  # it worked: forget its refusals (one stat when there are none)
    if settings.env_token():
        return None  # the environment decides; the cache is not ours to change then
    password = cred.password
    if password == tokens.read_token_file():
        return None  # the common case: git confirms the token we gave it
    if password in accounts.stored_light().values():
        return None  # a named token the username selected: already saved
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
    accounts.learn(password, info)
    return "; ".join(warnings) or None


def erase(cred: protocol.Credential) -> str | None:
    """git says the token failed. Remove it only when the Hub confirms it is invalid; when it
    is kept, count the refusal for the retry guard (``guard``)."""
    if not settings.serves(cred.protocol, cred.host) or not cred.password:
        return None
    token, source = _pick(cred)
    if not token or cred.password != token:
        return None  # never erase a credential we would not serve
    if source in settings.TOKEN_ENV_VARS:
        guard.record(token)  # not ours to remove; no network
        return None
    named = source[len("stored:"):] if source.startswith("stored:") else None
    from . import hub

    try:
        info = hub.whoami(token)
    except hub.InvalidTokenError:
        try:
            if named is None:
                tokens.delete_token(token)
            else:
                _delete_named(named, token)
        except tokens.TokenStoreError as e:
            return f"the Hub rejected the saved token {tokens.mask(token)} but {e}"
        accounts.prune()
        return (
            f"the Hub rejected the saved token {tokens.mask(token)}; it was removed. "
            "Log in again with: git-credential-hf login"
        )
    except hub.HubError as e:
        guard.record(token, "could not verify it")
        return f"kept the saved token {tokens.mask(token)}: could not verify it ({e})"
    accounts.learn(token, info)
    from . import permissions

    where = permissions.repo_from_path(cred.path)
    _ok, why = permissions.explain(info, where[1] if where else None)
    guard.record(token, f"valid, {hub.token_role(info)} token")
    return (
        f"the token {tokens.mask(token)} ({info.get('name')}) is still valid, so it was kept; "
        f"the failure is likely a missing permission: {why}"
    )


def _delete_named(name: str, token: str) -> None:
    """Remove the ``stored_tokens`` entry ``name`` if it still holds ``token``."""
    if tokens.stored_tokens().get(name) == token:
        tokens.delete_named(name)


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
        pairs, notice = answer(cred)
        stdout.write(protocol.format_pairs(pairs))
        stdout.flush()
        if notice:
            stderr.write(PREFIX + notice.replace("\n", " ") + "\n")
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
