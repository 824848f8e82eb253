"""Several accounts: list, switch, logout by name, and the permission pre-flight.

The same semantics as huggingface_hub's ``hf auth list / switch / logout --token-name`` over the
same ``stored_tokens`` file, plus what this helper knows: which account each token belongs to
(``accounts``, learned from whoami) and whether a token can push to a repository
(``permissions``). Every function raises ``ManageError`` (a ``ValueError``, as huggingface_hub
raises for an unknown token name) with one line that never holds a token.
"""

from __future__ import annotations

from . import accounts, hub, settings, state, tokens

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class ManageError(ValueError):
    """An unknown token name, an unreadable token file, a Hub that cannot answer."""


def _sections() -> dict[str, dict[str, str]]:
    try:
        return tokens.stored_sections()
    except tokens.TokenStoreError as e:
        raise ManageError(str(e)) from None


def _whoami(token: str) -> dict[str, Any] | None:
    """whoami for ``token``, learning its account; ``None`` when the Hub says no or is away."""
    try:
        info = hub.whoami(token)
    except hub.HubError:
        return None
    accounts.learn(token, info)
    return info


def list_tokens(check: bool = False) -> list[dict[str, Any]]:
    """Every ``stored_tokens`` entry, in file order: ``name``, ``token`` (masked),
    ``account`` and ``role`` (when known), ``expires_at``, ``active`` (it is the token git and
    huggingface_hub use now). With ``check``, tokens whose account is not known yet are asked
    to the Hub (whoami), and the answer is recorded."""
    active, _source = tokens.active_token()
    known = accounts.known()
    rows = []
    for name, fields in _sections().items():
        token = fields.get("hf_token") or ""
        account, role = known.get(state.token_key(token), ("", "")) if token else ("", "")
        if token and check and not account:
            info = _whoami(token)
            if info is not None:
                account, role = info.get("name") or "", hub.token_role(info)
            else:
                role = "unknown (not checked: the Hub refused it or could not be reached)"
        rows.append({
            "name": name,
            "token": tokens.mask(token) if token else "<not set>",
            "account": account or None,
            "role": role or None,
            "expires_at": tokens.expires_at(fields),
            "active": bool(token) and token == active,
        })
    return rows


def switch(name: str, add_to_git_credential: bool = False) -> dict[str, Any]:
    """Make the token stored as ``name`` the active one (the token file). An unknown name raises
    ``ManageError`` and changes nothing. The token is checked with the Hub when it can be (to
    learn its account); a Hub that cannot answer does not stop the switch. Returns
    ``{"name", "token" (masked), "account", "overridden_by", "git"}`` (``git``: what
    ``--add-to-git-credential`` did, lines to print)."""
    sections = _sections()
    fields = sections.get(name)
    if not fields or not fields.get("hf_token"):
        known = ", ".join(sorted(sections)) or "none"
        raise ManageError(f"no token named {name!r} in {settings.stored_tokens_path()} "
                          f"(known: {known})")
    try:
        token = tokens.switch(name)
    except tokens.TokenStoreError as e:
        raise ManageError(f"switch failed: {e}") from None
    info = _whoami(token)
    git_lines: list[str] = []
    if add_to_git_credential:
        from . import gitconfig

        try:
            git_lines = [f"git: {line}" for line in gitconfig.setup()]
        except gitconfig.GitError as e:
            git_lines = [f"Git not configured: {e}. Run `git-credential-hf setup` once git works."]
    env = settings.env_token()
    return {
        "name": name,
        "token": tokens.mask(token),
        "account": info.get("name") if info else accounts.account_of(token),
        "overridden_by": env[1] if env and env[0] != token else None,
        "git": git_lines,
    }


def logout_token(name: str) -> dict[str, Any]:
    """Remove the ``stored_tokens`` entry ``name``; the token file too when it held that token
    (as ``hf auth logout --token-name``). An unknown name raises ``ManageError`` and changes
    nothing. Then asks git's helpers to forget Hub credentials."""
    sections = _sections()
    if name not in sections:
        raise ManageError(f"no token named {name!r} in {settings.stored_tokens_path()}")
    token = sections[name].get("hf_token") or ""
    try:
        _removed, active_removed = tokens.delete_named(name)
    except tokens.TokenStoreError as e:
        raise ManageError(f"logout failed: {e}") from None
    accounts.prune()
    from . import gitconfig

    try:
        gitconfig.forget_hub_credentials()
    except gitconfig.GitError:
        pass  # the named token is gone either way; git may simply not be installed
    return {"name": name, "token": tokens.mask(token) if token else "<not set>",
            "active_removed": bool(active_removed)}


def check_access(repo_id: str, repo_type: str = "model", token: str | None = None,
                 username: str | None = None) -> dict[str, Any]:
    """The permission pre-flight: can the token git would use push to ``repo_id``?

    The token is ``token`` if given, else the one ``get`` serves (for ``username``, if given).
    Returns ``{"token", "source", "account", "role", "reason", "auth_check", "can_write"}``
    where ``can_write`` is True / False / None (cannot tell): the Hub's auth-check answer when
    it gives one, else what the role, fine-grained scopes and org roles say."""
    from . import permissions

    if repo_type not in permissions.REPO_TYPES:
        raise ManageError(f"unknown repository type {repo_type!r} (model, dataset or space)")
    parts = repo_id.split("/")
    if len(parts) != 2 or not all(parts) or any(p in (".", "..") for p in parts):
        raise ManageError(f"not a repository id: {repo_id!r} (expected NAMESPACE/NAME)")
    source = "argument"
    if token is None:
        picked = accounts.select(username) if username else None
        token, source = picked or tokens.active_token()
    if not token:
        raise ManageError("no token: log in first (git-credential-hf login)")
    try:
        info = hub.whoami(token)
    except hub.InvalidTokenError:
        return {"token": tokens.mask(token), "source": source, "account": None,
                "role": None, "reason": "the Hub rejects this token (invalid, revoked or expired)",
                "auth_check": None, "can_write": False}
    except hub.HubError as e:
        raise ManageError(f"cannot check the token: {e}") from None
    accounts.learn(token, info)
    guess, reason = permissions.explain(info, repo_id)
    answer, said = permissions.auth_check(token, repo_type, repo_id)
    return {
        "token": tokens.mask(token), "source": source, "account": info.get("name"),
        "role": hub.token_role(info), "reason": reason, "auth_check": said,
        "can_write": answer if answer is not None else guess,
    }
