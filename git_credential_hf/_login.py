"""The Python API: ``login``, ``interpreter_login``, ``notebook_login``, ``logout``, ``whoami``,
``get_token`` — huggingface_hub's seed semantics over the same token cache.

A token is checked with the Hub before anything is written: an organization token, an invalid
token, a token that cannot write when ``write_permission=True``, or an unreachable Hub raises
``LoginError`` (a ``ValueError``, as in huggingface_hub) and leaves the cache as it was. Git
setup comes after the token is saved, and a git problem there costs one printed line, not the
login. (The module is ``_login``: a submodule named ``login`` would shadow the function.)
"""

from __future__ import annotations

from . import hub, output, settings, tokens

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

GIT_QUESTION = "Add token as git credential? (Y/n) "
TOKEN_PROMPT = "Enter your token (input will not be visible): "
NOTEBOOK_HINT = (
    "notebook_login needs ipywidgets (and IPython): "
    'pip install "git-credential-hf[notebook]"'
)


class LoginError(ValueError):
    """A login, logout or whoami that failed. One line, never a token."""


class NotLoggedInError(LoginError):
    """No token in the environment nor in the token file."""


def get_token() -> str | None:
    """The token git and huggingface_hub use: ``$HF_TOKEN``, ``$HUGGING_FACE_HUB_TOKEN``, or
    the token file's — refreshed first when it is a browser login due for it, as
    huggingface_hub's ``get_token()`` does."""
    return active_token()[0]


def active_token() -> tuple[str | None, str]:
    """``(token, source)`` as ``tokens.active_token()``, a due browser login refreshed."""
    token, source = tokens.active_token()
    if token and source == "file":
        from . import oauth

        token = oauth.refresh_if_due(token).token
    return token, source


def describe_expiry(expires_at: int | None, has_refresh: bool, now: float | None = None
                    ) -> str | None:
    """``"expires in 12 days"``, ``"expired, will refresh"``…: an OAuth token's lifetime for
    people; ``None`` when unknown."""
    if expires_at is None:
        return None
    import time

    left = expires_at - (time.time() if now is None else now)
    if left <= 0:
        if has_refresh:
            return "expired, will refresh"
        return "expired; log in again: git-credential-hf login --web"
    unit, count = "minute", max(1, int(left // 60))
    for name, seconds in (("day", 86400), ("hour", 3600)):
        if left >= seconds:
            unit, count = name, int(left // seconds)
            break
    text = f"expires in {count} {unit}{'s' if count != 1 else ''}"
    if has_refresh and tokens.refresh_due(expires_at, now):
        return f"{text}, will refresh"
    if not has_refresh:
        return f"{text} (no refresh token: log in again then)"
    return text


def whoami(token: str | None = None) -> dict[str, Any]:
    """The Hub's ``whoami-v2`` answer for ``token`` (default: the active token)."""
    if token is None:
        token = get_token()
        if not token:
            raise NotLoggedInError("not logged in: run `git-credential-hf login`")
    info = _ask_hub(token)
    from . import accounts

    accounts.learn(token, info)  # validated: remember its account (for username selection)
    return info


def _endpoint() -> str:
    """The endpoint, or ``LoginError`` when ``HF_ENDPOINT`` is not valid."""
    try:
        return settings.endpoint()
    except settings.EndpointError as e:
        raise LoginError(str(e)) from None


def _ask_hub(token: str) -> dict[str, Any]:
    endpoint = _endpoint()
    try:
        return hub.whoami(token)
    except hub.OrgTokenError as e:  # raised before any network call
        raise LoginError(str(e)) from None
    except hub.MalformedTokenError as e:  # also refused before any network call
        raise LoginError(f"invalid token: {e}") from None
    except hub.InvalidTokenError:
        raise LoginError(
            f"Invalid token passed: {endpoint} does not know {output.mask(token)}"
        ) from None
    except hub.HubError as e:  # unreachable, timed out, 5xx, 429, odd answer
        raise LoginError(f"cannot check the token: {e}") from None


def _validate(token: str | None, write_permission: bool) -> tuple[str, dict[str, Any]]:
    """The cleaned token and its whoami answer, or ``LoginError``."""
    cleaned = settings.clean_token(token)
    if not cleaned:
        raise LoginError("no token given")
    info = _ask_hub(cleaned)
    if info.get("type") != "user":
        raise LoginError(
            f"this token belongs to {info.get('type')!r} {info.get('name')!r}, not a user "
            "account: use your personal account token"
        )
    if write_permission and not hub.can_write(info):
        raise LoginError(
            f"Token is valid but is '{hub.token_role(info)}' without write access, and a "
            "'write' token is required. Please provide a new token with correct permission."
        )
    return cleaned, info


class LoginResult:
    """What a successful login did, for a renderer to show (``lines()``: the CLI and the
    Python API print them, the notebook widget shows them)."""

    __slots__ = ("account", "env_override", "git", "git_error", "git_hint", "note", "role",
                 "stored_tokens_path", "token_name", "token_path", "warnings")

    def __init__(self, account: str, token_name: str, role: str) -> None:
        self.account, self.token_name, self.role = account, token_name, role
        self.token_path = settings.token_path()
        self.stored_tokens_path = settings.stored_tokens_path()
        self.warnings: list[str] = []  # about the named copy; the active token is saved
        self.git: list[str] | None = None  # what `setup` changed; None when not asked
        self.git_error: str | None = None  # why git could not be set up (the token is saved)
        self.env_override: str | None = None  # a token variable that overrides the saved token
        self.git_hint: str | None = None  # how to let git use the token, when it is not set up
        self.note: str | None = None  # a browser login's lifetime ("refreshed automatically")

    def __repr__(self) -> str:
        return f"LoginResult(account={self.account!r}, token_name={self.token_name!r})"

    def lines(self) -> list[str]:
        out = [
            f"Token is valid (permission: {self.role}).",
            f"Your token has been saved to {self.token_path}",
        ]
        out += [f"Warning: {warning}" for warning in self.warnings]
        if not self.warnings:
            out.append(f"It is stored as {self.token_name!r} in {self.stored_tokens_path}")
        if self.git_error is not None:
            out.append(
                f"Git not configured: {self.git_error}. The token is saved; run "
                "`git-credential-hf setup` once git works."
            )
        out += [f"git: {output.mask_secrets(line)}" for line in self.git or []]
        out.append(f"Login successful: logged in as {self.account}.")
        if self.note:
            out.append(f"Note: {self.note}")
        if self.env_override:
            out.append(
                f"Note: {self.env_override} is set and overrides the token you just saved, for "
                "git and huggingface_hub alike."
            )
        if self.git_hint:
            out.append(self.git_hint)
        return out


def login_with_token(
    token: str | None, add_to_git_credential: bool = False, write_permission: bool = False
) -> LoginResult:
    """Check ``token``, save it (and its named copy), optionally set git up; print nothing.
    ``LoginError`` leaves the cache as it was."""
    token, info = _validate(token, write_permission)
    result = LoginResult(info["name"], hub.token_name(info), hub.token_role(info))
    try:
        try:
            result.warnings = tokens.save_token(token, result.token_name)
        except tokens.UnusableNameError as e:  # checked before anything was written
            result.warnings = [f"{e}; named copy skipped", *tokens.save_token(token)]
    except tokens.TokenStoreError as e:
        raise LoginError(f"token not saved: {e}") from None
    from . import accounts

    accounts.learn(token, info)
    return _finish(result, token, add_to_git_credential)


def _finish(result: LoginResult, token: str, add_to_git_credential: bool) -> LoginResult:
    """After a save: set git up (or say how), and note an environment token that overrides."""
    if add_to_git_credential:
        result.git, result.git_error = configure_git()
    elif not git_is_set_up():
        result.git_hint = GIT_HINT
    from_env = settings.env_token()
    if from_env and from_env[0] != token:
        result.env_override = from_env[1]
    return result


GIT_HINT = (
    "git does not use this token yet: run `git-credential-hf setup` once (or log in with "
    "--add-to-git-credential; in Python, add_to_git_credential=True)"
)


def git_is_set_up() -> bool:
    """Whether git asks this helper for the endpoint (``setup`` in place, whoever wrote it).
    Unknown (git missing, failing) counts as not set up: the hint is then worth a line."""
    from . import gitconfig

    try:
        url = settings.endpoint()
        return any(gitconfig.is_hf_helper(v) for v, _o in gitconfig.helpers_for(url))
    except (gitconfig.GitError, settings.EndpointError):
        return False


class DeviceLogin:
    """A browser login in progress (OAuth device code, as ``hf auth login`` runs it):
    ``verification_uri`` (with ``verification_uri_complete``, the code pre-filled) and
    ``user_code`` to show the user, then ``finish()`` polls the Hub until the user approves,
    checks the token with whoami and saves it as huggingface_hub 2.x saves a browser login (name:
    the token's ``displayName``, else ``oauth-<username>``; with ``refresh_token`` and
    ``expires_at``). Nothing here is a secret to show: the device code stays inside."""

    def __init__(self, add_to_git_credential: bool = False,
                 write_permission: bool = False) -> None:
        from . import oauth

        self._endpoint = _endpoint()
        try:
            self._code = oauth.request_device_code(self._endpoint)
        except (oauth.OAuthError, hub.HubError) as e:
            raise LoginError(f"browser login unavailable: {e}") from None
        self.verification_uri = self._code.verification_uri
        self.verification_uri_complete = self._code.verification_uri_complete
        self.user_code = self._code.user_code
        self.expires_in = self._code.expires_in
        self.add_to_git_credential = add_to_git_credential
        self.write_permission = write_permission

    def __repr__(self) -> str:
        return f"DeviceLogin(user_code={self.user_code!r})"

    def lines(self) -> list[str]:
        return [
            f"Open this URL in your browser: {self.verification_uri_complete}",
            f"And enter the code: {self.user_code}",
        ]

    def finish(self, on_pending: Callable[[], None] | None = None,
               ask_git: Callable[[], bool] | None = None) -> LoginResult:
        """Poll until approved (bounded by the code's lifetime); ``LoginError`` when the user
        denies, the code expires or the token does not pass the checks (nothing saved then).
        ``ask_git``: asked once the token is saved, unless ``add_to_git_credential`` is set."""
        from . import oauth

        try:
            answer = oauth.poll_device_token(self._code, self._endpoint, on_pending=on_pending)
        except oauth.OAuthError as e:
            raise LoginError(f"browser login failed: {e}") from None
        token, info = _validate(answer.access_token, self.write_permission)
        access = (info.get("auth") or {}).get("accessToken") or {}
        display = access.get("displayName")
        fallback = f"oauth-{info['name']}"
        name = display if isinstance(display, str) and display else fallback
        result = LoginResult(info["name"], name, hub.token_role(info))
        save = {"refresh_token": answer.refresh_token, "expires_at": answer.expires_at}
        try:
            try:
                result.warnings = tokens.save_token(token, name, **save)
            except tokens.UnusableNameError as e:  # checked before anything was written
                result.token_name = fallback
                result.warnings = [f"{e}; stored as {fallback!r}",
                                   *tokens.save_token(token, fallback, **save)]
        except tokens.TokenStoreError as e:
            raise LoginError(f"token not saved: {e}") from None
        if answer.expires_in:
            if answer.refresh_token:
                result.note = "this token will be refreshed automatically when it expires."
            else:
                days = max(1, answer.expires_in // 86400)
                result.note = f"this token expires in {days} days; log in again to renew it."
        add_to_git = self.add_to_git_credential or (ask_git is not None and ask_git())
        return _finish(result, token, add_to_git)


def web_login(add_to_git_credential: bool = False, write_permission: bool = False,
              *, ask_git: bool = False) -> None:
    """Browser login on a terminal (``login(web=True)``, ``interpreter_login(web=True)``, the
    CLI): print the URL and the code, a dot per poll while waiting, then the outcome. With
    ``ask_git``, the git question comes once the browser approved, unless already answered."""
    device = DeviceLogin(add_to_git_credential, write_permission)
    _print_lines(["", *(f"    {line}" for line in device.lines()), ""])
    print("Waiting for authorization", end="", flush=True)
    try:
        result = device.finish(on_pending=lambda: print(".", end="", flush=True),
                               ask_git=(lambda: ask_yes_no(GIT_QUESTION)) if ask_git else None)
    finally:
        print()
    _print_lines(result.lines())


def _print_lines(lines: list[str]) -> None:
    for line in lines:
        print(line)


def configure_git() -> tuple[list[str], str | None]:
    """``setup`` for the Python API: ``(what changed, None)``, or ``([], why)`` when git could
    not be set up (a problem to report, not an error: the token is already saved)."""
    from . import gitconfig

    try:
        return gitconfig.setup(), None
    except (gitconfig.GitError, settings.EndpointError) as e:
        return [], str(e)


def _new_session(new_session: bool, skip_if_logged_in: bool | None) -> bool:
    # huggingface_hub >= 1.0 spells it `skip_if_logged_in`; when given, it decides.
    return new_session if skip_if_logged_in is None else not skip_if_logged_in


def _still_logged_in(write_permission: bool) -> bool:
    """With ``new_session=False``: say so and return True when the active token still works."""
    token = get_token()
    if not token:
        return False
    try:
        _token, info = _validate(token, write_permission)
    except LoginError:
        return False
    print(
        f"Already logged in as {info['name']} (token {output.mask(token)}, permission: "
        f"{hub.token_role(info)}); pass new_session=True to log in again."
    )
    return True


def login(
    token: str | None = None,
    add_to_git_credential: bool = False,
    new_session: bool = True,
    write_permission: bool = False,
    *,
    skip_if_logged_in: bool | None = None,
    web: bool = False,
) -> None:
    """Check ``token`` with the Hub, save it where huggingface_hub reads it and, with
    ``add_to_git_credential``, make git ask this helper for Hub URLs.

    ``web=True``: log in with the browser instead (OAuth device code, as huggingface_hub 2.x
    does by default): the URL and a code are shown, the token received is saved with its
    refresh token, and ``add_to_git_credential`` works with it too.
    Without a token: a widget in a notebook, else a prompt. ``skip_if_logged_in=True`` (the
    huggingface_hub >= 1.0 keyword) means ``new_session=False``. Raises ``LoginError``
    (a ``ValueError``) for an organization token, an invalid token, a token without write
    access when ``write_permission`` is set, an unreachable Hub, or a browser login that was
    denied or expired; nothing is stored then.
    """
    new_session = _new_session(new_session, skip_if_logged_in)
    if token is not None and web:
        raise LoginError("pass either a token or web=True, not both")
    if token is not None:
        _print_lines(login_with_token(token, add_to_git_credential, write_permission).lines())
    elif web:
        if not new_session and _still_logged_in(write_permission):
            return
        if in_notebook():
            notebook_web_login(add_to_git_credential, write_permission)
        else:
            web_login(add_to_git_credential, write_permission)
    elif in_notebook():
        notebook_login(new_session=new_session, write_permission=write_permission)
    else:
        interpreter_login(new_session=new_session, write_permission=write_permission)


def in_notebook() -> bool:
    """True inside an IPython kernel (Jupyter, Colab, VS Code notebooks)."""
    import sys

    ipython = sys.modules.get("IPython")  # never imported here: a kernel has it loaded
    shell = ipython.get_ipython() if ipython is not None else None
    return any(c.__name__ == "ZMQInteractiveShell" for c in type(shell).__mro__)


def ask_yes_no(question: str = GIT_QUESTION) -> bool:
    """``input()`` until the answer is yes (also empty) or no."""
    while True:
        try:
            answer = input(question).strip().lower()
        except EOFError:
            raise LoginError("login cancelled (no answer)") from None
        if answer in ("", "y", "yes"):
            return True
        if answer in ("n", "no"):
            return False
        print("Please answer y or n.")


def prompt_token() -> str:
    """Read a token with hidden input."""
    import getpass

    print(
        f"To log in, paste a token from {_endpoint()}/settings/tokens "
        "(a 'write' token to push)."
    )
    try:
        return getpass.getpass(TOKEN_PROMPT)
    except EOFError:
        raise LoginError("login cancelled (no token)") from None


def interpreter_login(
    new_session: bool = True,
    write_permission: bool = False,
    *,
    skip_if_logged_in: bool | None = None,
    web: bool = False,
) -> None:
    """Prompt for a token (hidden input), ask "Add token as git credential? (Y/n)", log in.
    ``web=True``: a browser login instead of the token prompt (same git question after it)."""
    if not _new_session(new_session, skip_if_logged_in) and _still_logged_in(write_permission):
        return
    if web:
        web_login(write_permission=write_permission, ask_git=True)
        return
    token = prompt_token()
    add_to_git = ask_yes_no(GIT_QUESTION)
    _print_lines(login_with_token(token, add_to_git, write_permission).lines())


def notebook_login(
    new_session: bool = True,
    write_permission: bool = False,
    *,
    skip_if_logged_in: bool | None = None,
) -> None:
    """Show the login widget: password field, git checkbox, Login button, and a "Log in with
    your browser" button (the link and the code are then shown in the widget)."""
    try:
        from IPython.display import display

        from .notebook import login_widget
    except ImportError:
        raise ImportError(NOTEBOOK_HINT) from None
    if not _new_session(new_session, skip_if_logged_in) and _still_logged_in(write_permission):
        return

    def submit(token: str, add_to_git: bool) -> list[str]:
        return login_with_token(token, add_to_git, write_permission).lines()

    def browser(add_to_git: bool) -> DeviceLogin:
        return DeviceLogin(add_to_git, write_permission)

    display(login_widget(submit, _endpoint(), write_permission=write_permission,
                         browser=browser))


def notebook_web_login(add_to_git_credential: bool = False,
                       write_permission: bool = False) -> None:
    """``login(web=True)`` in a notebook: show the link and the code in the cell's output, wait
    for the approval (as huggingface_hub's notebook login does), then show the outcome."""
    import html

    from IPython.display import HTML, display

    device = DeviceLogin(add_to_git_credential, write_permission)
    full = html.escape(device.verification_uri_complete)
    display(HTML(
        f"<p>To log in, open <a href='{full}' target='_blank'>"
        f"<b>{html.escape(device.verification_uri)}</b></a> and enter the code:</p>"
        "<p style='font-size: 1.6em; letter-spacing: 0.3em; font-family: monospace;'>"
        f"<b class='hf-user-code'>{html.escape(device.user_code)}</b></p>"
        "<p><i>Waiting for authorization…</i></p>"
    ))
    lines = device.finish().lines()
    display(HTML("<br>".join(html.escape(line) for line in lines)))


def logout(token_name: str | None = None) -> None:
    """Remove the saved token and its ``stored_tokens`` entry, and make every configured git
    helper forget Hub credentials. Says so when the environment still holds a token.

    With ``token_name``: remove only the token stored under that name, and the active token
    only if it was that one (``hf auth logout --token-name``); an unknown name raises
    ``LoginError`` and changes nothing."""
    _endpoint()  # an invalid HF_ENDPOINT is refused before anything changes
    if token_name is not None:
        return _logout_named(token_name)
    saved = tokens.read_token_file()
    if saved:
        try:
            tokens.delete_token(saved)
        except tokens.TokenStoreError as e:
            raise LoginError(f"logout failed: {e}") from None
        print(f"Removed the token {output.mask(saved)} from {settings.token_path()}")
    else:
        print(f"No token saved in {settings.token_path()}")
    from . import gitconfig

    try:
        others = gitconfig.forget_hub_credentials()
    except gitconfig.GitError as e:
        print(f"Could not ask git to forget Hub credentials: {e}")
    else:
        hosts = ", ".join(h for _p, h in settings.served_hosts())
        via = f" (also asked: {output.mask_secrets(', '.join(others))})" if others else ""
        print(f"git: asked every credential helper to forget {hosts}{via}")
    from_env = settings.env_token()
    if from_env:
        print(
            f"Note: {from_env[1]} is still set, so the environment still authenticates git and "
            f"huggingface_hub ({output.mask(from_env[0])}). Unset it to log out completely."
        )
    else:
        print("Logged out.")


def _logout_named(name: str) -> None:
    from . import manage

    try:
        done = manage.logout_token(name)
    except manage.ManageError as e:
        raise LoginError(str(e)) from None
    print(f"Removed the token {name!r} ({done['token']}) from {settings.stored_tokens_path()}")
    if done["active_removed"]:
        print(f"It was the active token: {settings.token_path()} was removed too.")


def list_tokens(check: bool = False) -> list:
    """The stored tokens as dicts (``name``, masked ``token``, ``account``, ``role``,
    ``expires_at``, ``active``); ``check=True`` asks the Hub about tokens not seen yet."""
    from . import manage

    return manage.list_tokens(check=check)


def auth_switch(token_name: str, add_to_git_credential: bool = False) -> None:
    """Make the token stored as ``token_name`` the active one (``hf auth switch``). An unknown
    name raises ``LoginError`` (a ``ValueError``) and changes nothing."""
    from . import manage

    try:
        done = manage.switch(token_name, add_to_git_credential=add_to_git_credential)
    except manage.ManageError as e:
        raise LoginError(str(e)) from None
    for line in done["git"]:
        print(line)
    print(f"The current active token is: {token_name}")
    if done["overridden_by"]:
        print(f"Note: {done['overridden_by']} is set and overrides the token you switched to.")


def check_access(repo_id: str, repo_type: str = "model", username: str | None = None) -> dict:
    """The permission pre-flight for the token git would use: ``can_write`` (True / False /
    None), ``role``, ``account``, ``reason``, the Hub's ``auth_check`` line."""
    from . import manage

    try:
        return manage.check_access(repo_id, repo_type, username=username)
    except manage.ManageError as e:
        raise LoginError(str(e)) from None
