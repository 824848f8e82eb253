"""git's ``get`` / ``store`` / ``erase`` decisions, over a ``Context`` of what they depend on.

``get`` is on the hot path of every git network operation: it reads stdin, the environment, the
token file and (for OAuth expiry) ``stored_tokens`` (plus the account map when git sends a
username that is a known account), ``stat``s the retry guard's file, and imports nothing beyond
this package's light modules. It touches the network in two cases only, both bounded (15 s): an
OAuth login whose token is due for refresh, and OIDC in CI (``HF_OIDC_RESOURCE``). It writes to
stderr only for those (a dead login, a failed exchange) and when the retry guard stops git
(``quit=1``): one line each. ``store`` and ``erase`` may call the Hub (``hub`` is imported
lazily) and report problems in one line on stderr.
"""

from __future__ import annotations

import sys

from . import guard, output, protocol, settings, tokens, urls

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at start-up; annotations only
    from collections.abc import Callable
    from typing import Any, BinaryIO, TextIO

DEFAULT_USERNAME = "hf_user"
OPERATIONS = ("get", "store", "erase")
MAX_TOKEN_LENGTH = 4096  # far above any Hub token (about 40 characters)
LOGIN_AGAIN = "git-credential-hf login --web"


def _oidc_enabled() -> bool:
    import os  # loaded at start-up: free

    return bool(os.environ.get("HF_OIDC_RESOURCE"))


def _oidc() -> tuple[str | None, int | None, str | None] | None:
    """OIDC in CI: ``None`` when ``HF_OIDC_RESOURCE`` is unset, else ``(token, expires_at,
    problem)``; a failed exchange is ``(None, None, one line)``, never another token."""
    if not _oidc_enabled():
        return None
    from . import oauth

    try:
        got = oauth.oidc_token(total_timeout=oauth.REFRESH_BUDGET_S)
    except (oauth.OIDCError, settings.EndpointError) as e:
        return None, None, f"OIDC token exchange failed, no token served: {e}"
    if got is None:
        return None
    answer, _minted = got
    return answer.access_token, answer.expires_at, None


def _fresh(token: str) -> tuple[str, int | None, str | None]:
    """The token file's ``token`` made current: ``(token to serve, expires_at, problem)``.
    A token without OAuth fields costs a small file read and no parsing; one due for refresh
    is refreshed as huggingface_hub does (``oauth.refresh_if_due``)."""
    found = tokens.oauth_section(token)
    if found is None:
        # As huggingface_hub: the token file's token may have just been refreshed by another
        # process (its section now holds the new one): serve the file's current token. A token
        # picked by username is still in stored_tokens, and stays the one served.
        current = tokens.read_token_file()
        if current and current != token and not tokens.mentioned_in_stored(token):
            return current, None, None
        return token, None, None
    fields = found[1]
    expires = tokens.expires_at(fields)
    if "refresh_token" not in fields or not tokens.refresh_due(expires):
        return token, expires, None
    from . import oauth

    done = oauth.refresh_if_due(token)
    if done.state == oauth.DEAD:
        return done.token, done.expires_at, (
            "your Hugging Face login has expired and cannot be renewed (refresh token "
            f"refused); log in again with: {LOGIN_AGAIN}"
        )
    return done.token, done.expires_at, None  # a transient failure serves the old token


def _renew(token: str) -> Any:
    """``erase``: refresh a rejected OAuth token now; ``None`` when it has no refresh token."""
    found = tokens.oauth_section(token)
    if found is None or "refresh_token" not in found[1]:
        return None
    from . import oauth

    return oauth.refresh_if_due(token, force=True)


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
    - ``delete(token)``: stop it being the active token if it is the saved one, keeping its
      named copies (``TokenStoreError``);
    - ``named()``: the named copies, ``{name: token}`` (``TokenStoreError`` when unparsable);
    - ``oidc()``: ``None`` without ``HF_OIDC_RESOURCE``, else ``(token, expires_at, problem)``;
    - ``oidc_enabled()``: whether ``HF_OIDC_RESOURCE`` is set (``store`` then saves nothing);
    - ``fresh(token)``: the saved token made current (refreshed when due): ``(token,
      expires_at, problem)``;
    - ``renew(token)``: refresh a token the Hub rejected: an ``oauth.Refresh``, or ``None``
      when it has no refresh token;
    - ``select(username)``: ``(token, source)`` of the account ``username`` names, or ``None``
      (``accounts.select``: the account map and ``stored_tokens``, no network);
    - ``delete_named(name, token)``: remove that ``stored_tokens`` entry if it still holds
      ``token`` (``TokenStoreError``);
    - ``learn(token, info)``: record the token's account (``accounts.learn``);
    - ``guard``: the retry guard (``check``, ``record``, ``clear``, ``message``): the ``guard``
      module.
    """

    __slots__ = ("delete", "delete_named", "env_token", "fresh", "guard", "learn", "named", "oidc",
                 "oidc_enabled", "renew", "save", "saved_token", "select", "served", "whoami")

    def __init__(
        self,
        served: Callable[[], tuple[tuple[str, str], ...]] | None = None,
        env_token: Callable[[], tuple[str, str] | None] | None = None,
        saved_token: Callable[[], str | None] | None = None,
        whoami: Callable[[str], dict[str, Any]] | None = None,
        save: Callable[[str, str | None], list[str]] | None = None,
        delete: Callable[[str], object] | None = None,
        named: Callable[[], dict[str, str]] | None = None,
        oidc: Callable[[], tuple[str | None, int | None, str | None] | None] | None = None,
        oidc_enabled: Callable[[], bool] | None = None,
        fresh: Callable[[str], tuple[str, int | None, str | None]] | None = None,
        renew: Callable[[str], Any] | None = None,
        select: Callable[[str], tuple[str, str] | None] | None = None,
        delete_named: Callable[[str, str], object] | None = None,
        learn: Callable[[str, dict[str, Any]], None] | None = None,
        guard_module: Any = None,
    ) -> None:
        # Looked up at call time, so a long-lived process sees the current modules' functions.
        self.served = served or (lambda: settings.served_hosts())
        self.env_token = env_token or (lambda: settings.env_token())
        self.saved_token = saved_token or (lambda: tokens.read_token_file())
        self.whoami = whoami or _whoami
        # store never overwrites a named copy of another token (checked again under the lock)
        self.save = save or (lambda token, name: tokens.save_token(token, name, replace=False))
        # erase on a 401 clears the active token only: a transient fault must not cost the
        # named copy (huggingface_hub's `switch` can bring it back)
        self.delete = delete or (lambda token: tokens.forget_active(token))
        self.named = named or (lambda: tokens.stored_tokens())
        self.oidc = oidc or _oidc
        self.oidc_enabled = oidc_enabled or _oidc_enabled
        self.fresh = fresh or _fresh
        self.renew = renew or _renew
        self.select = select or _select
        self.delete_named = delete_named or _delete_named
        self.learn = learn or _learn
        self.guard = guard_module or guard

    def serves(self, cred: protocol.Credential) -> bool:
        if not cred.protocol or not cred.host:
            return False
        return (cred.protocol, urls.normalize_host(cred.protocol, cred.host)) in self.served()

    def pick(self, cred: protocol.Credential) -> tuple[str | None, str]:
        """The token for this request and its source (a variable name, ``"file"`` or
        ``"stored:<name>"``): the account the username names, when it is one we know with a
        saved token, else the active token."""
        if cred.username and cred.username != DEFAULT_USERNAME:
            picked = self.select(cred.username)
            if picked:
                return picked
        from_env = self.env_token()
        return from_env if from_env else (self.saved_token(), "file")


def _select(username: str) -> tuple[str, str] | None:
    from . import accounts  # loaded only when git sends a username

    return accounts.select(username)


def _learn(token: str, info: dict[str, Any]) -> None:
    from . import accounts

    accounts.learn(token, info)


def _delete_named(name: str, token: str) -> None:
    tokens.delete_named(name, holding=token)


def get(
    cred: protocol.Credential, ctx: Context | None = None, problems: list[str] | None = None
) -> list[tuple[str, str]]:
    """What to answer: ``[("username", …), ("password", token)]`` (plus
    ``("password_expiry_utc", …)`` when the token's expiry is known), ``[("quit", "1")]`` (the
    retry guard) or nothing. Precedence: OIDC (``HF_OIDC_RESOURCE``), then the account the
    request's username names (when it is one with a saved token), then huggingface_hub's
    ``get_token()`` order: the environment, the token file. One-line problems (a dead login, a
    failed OIDC exchange, the guard's stop) go to ``problems``."""
    ctx = ctx or Context()
    if not ctx.serves(cred):
        return []  # a non-Hub host costs no file read
    oidc = ctx.oidc()
    if oidc is not None:
        token, expires, problem = oidc
        source = "HF_OIDC_RESOURCE"
    else:
        picked, source = ctx.pick(cred)
        if not picked:
            return []
        if source in settings.TOKEN_ENV_VARS:
            token, expires, problem = picked, None, None
        else:
            token, expires, problem = ctx.fresh(picked)
    if problem and problems is not None:
        problems.append(problem)
    if not token:
        return []
    refused = ctx.guard.check(token)
    if refused:
        if problems is not None:
            problems.append(ctx.guard.message(output.mask(token), source, *refused))
        return [("quit", "1")]
    answer = [("username", cred.username or DEFAULT_USERNAME), ("password", token)]
    if expires is not None:
        answer.append(("password_expiry_utc", str(expires)))
    return answer


def store(cred: protocol.Credential, ctx: Context | None = None) -> str | None:
    """Adopt a password git found to work, but never in place of a token that still works.

    git runs ``store`` after any successful authentication, including one whose credentials
    came from the URL (``https://mallory:<token>@huggingface.co/…`` in a submodule or a copied
    command): adopting every working password would log the user in as someone else, for git
    and huggingface_hub alike. So the password becomes the active token only when no token is
    saved, or when the Hub confirms the saved one is dead (401); and it never replaces a named
    copy that holds another token. Returns a one-line problem or note, or ``None``.
    """
    ctx = ctx or Context()
    if not ctx.serves(cred) or not cred.password:
        return None
    ctx.guard.clear(cred.password)  # it worked: forget its refusals (one stat when none)
    if ctx.env_token() or ctx.oidc_enabled():
        return None  # the environment decides (an OIDC token is never written to the cache)
    password = cred.password
    saved = ctx.saved_token()
    if password == saved:
        return None  # the common case: git confirms the token we gave it
    picked = ctx.select(cred.username) if cred.username else None
    if picked and picked[0] == password:
        return None  # the named token the username selected: already saved
    from . import hub

    try:
        info = ctx.whoami(password)
    except hub.HubError as e:
        return f"not saving the credential: {e}"
    if info.get("type") != "user":
        return f"not saving the credential: it belongs to a {info.get('type')!r}, not a user"
    if saved:
        try:
            if len(saved) > MAX_TOKEN_LENGTH:  # a corrupt file: no Hub token is that long
                raise hub.MalformedTokenError("too long to be a token")
            ctx.whoami(saved)
        except (hub.InvalidTokenError, hub.MalformedTokenError):
            pass  # the saved token is dead (401) or cannot be one: the working one takes over
        except hub.HubError as e:
            return (f"kept the active token {output.mask(saved)} and did not save the other "
                    f"credential git used: the active one could not be checked ({e})")
        else:
            _learn_if_stored(ctx, password, info)
            return (f"kept the active token {output.mask(saved)}: it still works. git "
                    f"authenticated with another credential ({output.mask(password)}, e.g. from "
                    "the URL); to switch to it: git-credential-hf login")
    name: str | None = hub.token_name(info)
    notes = []
    try:
        holder = ctx.named().get(name)
    except tokens.TokenStoreError:
        holder = None  # unparsable: save_token leaves it alone and says so
    if holder is not None and holder != password:
        notes.append(f"the named copy {name!r} holds another token and was kept; the new token "
                     "is the active one, without a named copy")
        name = None
    try:
        notes += ctx.save(password, name)
    except tokens.TokenStoreError as e:
        return f"not saving the credential: {e}"
    ctx.learn(password, info)
    return "; ".join(notes) or None


def _learn_if_stored(ctx: Context, token: str, info: dict[str, Any]) -> None:
    """Record the account of a token that is already among the named copies (``store`` keeps
    the active token, but the mapping lets a username select that copy later)."""
    try:
        if token in ctx.named().values():
            ctx.learn(token, info)
    except (tokens.TokenStoreError, OSError):
        pass  # a cache of accounts, nothing more: never a reason to fail


def erase(cred: protocol.Credential, ctx: Context | None = None) -> str | None:
    """git says the token failed. Act only when the Hub confirms it is invalid (401): the active
    token stops being active (its named copies stay); a named login the username selected is
    removed. When it is kept, count the refusal for the retry guard (``guard``)."""
    ctx = ctx or Context()
    if not ctx.serves(cred) or not cred.password:
        return None
    token, source = ctx.pick(cred)
    if not token or cred.password != token:
        return None  # never erase a credential we would not serve
    if source in settings.TOKEN_ENV_VARS:
        ctx.guard.record(token)  # not ours to remove; no network
        return None
    named = source[len("stored:"):] if source.startswith("stored:") else None
    from . import hub

    shown = output.mask(token)
    try:
        info = ctx.whoami(token)
    except hub.InvalidTokenError:
        renewed = ctx.renew(token)  # a browser login is renewed, never destroyed
        if renewed is not None and renewed.state != "fresh":
            return _renewed(ctx, token, renewed, named)
        problem = _remove(ctx, token, named)
        if problem:
            return f"the Hub rejected the saved token {shown} but {problem}"
        if named is not None:
            return (f"the Hub rejected the token {shown} stored as {named!r} (401); that entry "
                    "was removed. Log in again with: git-credential-hf login")
        try:
            names = sorted(n for n, t in ctx.named().items() if t == token)
        except tokens.TokenStoreError:
            names = []
        kept = ""
        if names:
            kept = (f"; its named copy {names[0]!r} was kept (if the Hub was wrong, bring it back "
                    f"with: hf auth switch --token-name {names[0]})")
        return (
            f"the Hub rejected the saved token {shown} (401): it is no longer the active token"
            f"{kept}. Log in again with: git-credential-hf login"
        )
    except hub.HubError as e:
        ctx.guard.record(token, "could not verify it")
        return f"kept the saved token {shown}: could not verify it ({e})"
    ctx.learn(token, info)
    from . import permissions

    where = permissions.repo_from_path(cred.path)
    _ok, why = permissions.explain(info, where[1] if where else None)
    ctx.guard.record(token, f"valid, {hub.token_role(info)} token")
    return (
        f"the token {shown} ({info.get('name')}) is still valid, so it was kept; "
        f"the failure is likely a missing permission: {why}"
    )


def _remove(ctx: Context, token: str, named: str | None) -> str | None:
    """Remove a login the Hub confirmed dead: the active token (its named copy kept) or, for a
    token the username picked, its own entry; then drop account entries whose token is gone.
    Returns why it could not, or ``None``."""
    try:
        if named is None:
            ctx.delete(token)
        else:
            ctx.delete_named(named, token)
    except tokens.TokenStoreError as e:
        return str(e)
    from . import accounts

    accounts.prune()
    return None


def _renewed(ctx: Context, saved: str, renewed: Any, named: str | None = None) -> str:
    """``erase``'s line for a rejected OAuth token, after trying to refresh it."""
    shown = output.mask(saved)
    if renewed.state in ("refreshed", "adopted"):
        return (
            f"the Hub rejected the token {shown}; the login was renewed "
            f"({output.mask(renewed.token)}): run the git command again"
        )
    if renewed.state == "dead":
        problem = _remove(ctx, saved, named)
        if problem:
            return f"the login {shown} has expired and cannot be renewed, but {problem}"
        return (
            f"the login {shown} has expired and cannot be renewed (refresh token refused); it "
            f"is no longer the active token. Log in again with: {LOGIN_AGAIN}"
        )
    ctx.guard.record(saved, "could not renew the login")
    return (
        f"kept the login {shown}: the Hub rejected the token and it could not be renewed now "
        f"({renewed.problem or renewed.state})"
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
        problems: list[str] = []
        stdout.write(protocol.format_pairs(get(cred, ctx, problems)))
        stdout.flush()
        for problem in problems:
            output.error(problem, stderr)
        return 0
    if ctx is None:
        try:
            settings.endpoint_info()
        except settings.EndpointError as e:
            output.error(str(e), stderr)
            return 1
        if Context().serves(cred):
            try:
                settings.check_paths()
            except settings.PathError as e:
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
