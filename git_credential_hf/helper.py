"""git's ``get`` / ``store`` / ``erase`` decisions, over a ``Context`` of what they depend on.

``get`` is on the hot path of every git network operation: it reads stdin, the environment and at
most one small file, imports nothing beyond this package's light modules, never touches the
network and never writes to stderr. ``store`` and ``erase`` may call the Hub (``hub`` is imported
lazily) and report problems in one line on stderr.
"""

from __future__ import annotations

import sys

from . import output, protocol, settings, tokens, urls

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at start-up; annotations only
    from collections.abc import Callable
    from typing import Any, BinaryIO, TextIO

DEFAULT_USERNAME = "hf_user"
OPERATIONS = ("get", "store", "erase")


def _whoami(token: str) -> dict[str, Any]:
    from . import hub  # requests, json: only when the Hub is called

    return hub.whoami(token)


class Context:
    """What get/store/erase depend on; each defaults to the real thing (environment, token
    files, the Hub). Tests hand in memory versions.

    - ``served()``: the ``(protocol, host)`` pairs answered for;
    - ``env_token()``: ``(token, variable)`` from the environment, or ``None``;
    - ``saved_token()``: the token file's token, or ``None``;
    - ``whoami(token)``: the Hub's answer, or a ``hub.HubError``;
    - ``save(token, name)``: make it active and named; returns warnings (``TokenStoreError``);
    - ``delete(token)``: remove it if it is the saved one (``TokenStoreError``).
    """

    __slots__ = ("delete", "env_token", "save", "saved_token", "served", "whoami")

    def __init__(
        self,
        served: Callable[[], tuple[tuple[str, str], ...]] | None = None,
        env_token: Callable[[], tuple[str, str] | None] | None = None,
        saved_token: Callable[[], str | None] | None = None,
        whoami: Callable[[str], dict[str, Any]] | None = None,
        save: Callable[[str, str | None], list[str]] | None = None,
        delete: Callable[[str], object] | None = None,
    ) -> None:
        # Looked up at call time, so a long-lived process sees the current modules' functions.
        self.served = served or (lambda: settings.served_hosts())
        self.env_token = env_token or (lambda: settings.env_token())
        self.saved_token = saved_token or (lambda: tokens.read_token_file())
        self.whoami = whoami or _whoami
        self.save = save or (lambda token, name: tokens.save_token(token, name))
        self.delete = delete or (lambda token: tokens.delete_token(token))

    def serves(self, cred: protocol.Credential) -> bool:
        if not cred.protocol or not cred.host:
            return False
        return (cred.protocol, urls.normalize_host(cred.protocol, cred.host)) in self.served()

    def active_token(self) -> str | None:
        from_env = self.env_token()
        return from_env[0] if from_env else self.saved_token()


def get(cred: protocol.Credential, ctx: Context | None = None) -> list[tuple[str, str]]:
    """What to answer: ``[("username", …), ("password", token)]`` or nothing."""
    ctx = ctx or Context()
    if not ctx.serves(cred):
        return []  # a non-Hub host costs no file read
    token = ctx.active_token()
    if not token:
        return []
    return [("username", cred.username or DEFAULT_USERNAME), ("password", token)]


def store(cred: protocol.Credential, ctx: Context | None = None) -> str | None:
    """Adopt a password git found to work. Returns a one-line problem, or ``None``."""
    ctx = ctx or Context()
    if not ctx.serves(cred) or not cred.password:
        return None
    if ctx.env_token():
        return None  # the environment decides; the cache is not ours to change then
    password = cred.password
    if password == ctx.saved_token():
        return None  # the common case: git confirms the token we gave it
    from . import hub

    try:
        info = ctx.whoami(password)
    except hub.HubError as e:
        return f"not saving the credential: {e}"
    if info.get("type") != "user":
        return f"not saving the credential: it belongs to a {info.get('type')!r}, not a user"
    try:
        warnings = ctx.save(password, hub.token_name(info))
    except tokens.TokenStoreError as e:
        return f"not saving the credential: {e}"
    return "; ".join(warnings) or None


def erase(cred: protocol.Credential, ctx: Context | None = None) -> str | None:
    """git says the token failed. Remove it only when the Hub confirms it is invalid."""
    ctx = ctx or Context()
    if not ctx.serves(cred) or not cred.password:
        return None
    saved = ctx.saved_token()
    if cred.password != saved:
        return None  # never erase a credential whose password differs (or an env token)
    from . import hub

    shown = output.mask(saved)
    try:
        ctx.whoami(saved)
    except hub.InvalidTokenError:
        try:
            ctx.delete(saved)
        except tokens.TokenStoreError as e:
            return f"the Hub rejected the saved token {shown} but {e}"
        return (
            f"the Hub rejected the saved token {shown}; it was removed. "
            "Log in again with: git-credential-hf login"
        )
    except hub.HubError as e:
        return f"kept the saved token {shown}: could not verify it ({e})"
    return (
        f"the token {shown} is still valid, so it was kept; the failure is likely a "
        "missing permission (e.g. a read token pushing, or no access to this repository)"
    )


def run(
    operation: str, stdin: BinaryIO, stdout: BinaryIO, stderr: TextIO, ctx: Context | None = None
) -> int:
    """Run one helper operation on git's streams. Exit code: 0, or 1 when store/erase report
    a problem (an invalid ``HF_ENDPOINT`` among them: ``get`` then answers nothing, silently)."""
    try:
        cred = protocol.parse(stdin)
    except protocol.ProtocolError as e:
        if operation == "get" or e.quiet:
            return 0
        output.error(f"ignoring malformed input: {e}", stderr)
        return 1  # store/erase exit 1 whenever they report a problem
    if operation == "get":
        stdout.write(protocol.format_pairs(get(cred, ctx)))
        stdout.flush()
        return 0
    if ctx is None:
        try:
            settings.endpoint_info()
        except settings.EndpointError as e:
            output.error(str(e), stderr)
            return 1
    problem = store(cred, ctx) if operation == "store" else erase(cred, ctx)
    if problem:
        output.error(problem, stderr)
        return 1
    return 0


def main(operation: str) -> int:
    try:
        return run(operation, sys.stdin.buffer, sys.stdout.buffer, sys.stderr)
    except Exception as e:  # never a traceback in git's output; never a token either
        if operation != "get":
            output.error(f"{operation} failed: {type(e).__name__}")
        return 1
