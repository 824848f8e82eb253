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
    the token file."""
    return tokens.active_token()[0]


def whoami(token: str | None = None) -> dict[str, Any]:
    """The Hub's ``whoami-v2`` answer for ``token`` (default: the active token)."""
    if token is None:
        token = get_token()
        if not token:
            raise NotLoggedInError("not logged in: run `git-credential-hf login`")
    return _ask_hub(token)


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

    __slots__ = ("account", "env_override", "git", "git_error", "role", "stored_tokens_path",
                 "token_name", "token_path", "warnings")

    def __init__(self, account: str, token_name: str, role: str) -> None:
        self.account, self.token_name, self.role = account, token_name, role
        self.token_path = settings.token_path()
        self.stored_tokens_path = settings.stored_tokens_path()
        self.warnings: list[str] = []  # about the named copy; the active token is saved
        self.git: list[str] | None = None  # what `setup` changed; None when not asked
        self.git_error: str | None = None  # why git could not be set up (the token is saved)
        self.env_override: str | None = None  # a token variable that overrides the saved token

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
        out += [f"git: {line}" for line in self.git or []]
        out.append(f"Login successful: logged in as {self.account}.")
        if self.env_override:
            out.append(
                f"Note: {self.env_override} is set and overrides the token you just saved, for "
                "git and huggingface_hub alike."
            )
        return out


def login_with_token(
    token: str | None, add_to_git_credential: bool = False, write_permission: bool = False
) -> LoginResult:
    """Check ``token``, save it (and its named copy), optionally set git up; print nothing.
    ``LoginError`` leaves the cache as it was."""
    token, info = _validate(token, write_permission)
    result = LoginResult(info["name"], hub.token_name(info), hub.token_role(info))
    try:
        result.warnings = tokens.save_token(token, result.token_name)
    except tokens.TokenStoreError as e:
        raise LoginError(f"token not saved: {e}") from None
    if add_to_git_credential:
        result.git, result.git_error = configure_git()
    from_env = settings.env_token()
    if from_env and from_env[0] != token:
        result.env_override = from_env[1]
    return result


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
) -> None:
    """Check ``token`` with the Hub, save it where huggingface_hub reads it and, with
    ``add_to_git_credential``, make git ask this helper for Hub URLs.

    Without a token: a widget in a notebook, else a prompt. ``skip_if_logged_in=True`` (the
    huggingface_hub >= 1.0 keyword) means ``new_session=False``. Raises ``LoginError``
    (a ``ValueError``) for an organization token, an invalid token, a token without write
    access when ``write_permission`` is set, or an unreachable Hub; nothing is stored then.
    """
    new_session = _new_session(new_session, skip_if_logged_in)
    if token is not None:
        _print_lines(login_with_token(token, add_to_git_credential, write_permission).lines())
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
) -> None:
    """Prompt for a token (hidden input), ask "Add token as git credential? (Y/n)", log in."""
    if not _new_session(new_session, skip_if_logged_in) and _still_logged_in(write_permission):
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
    """Show the login widget: password field, git checkbox, Login button."""
    try:
        from IPython.display import display

        from .notebook import login_widget
    except ImportError:
        raise ImportError(NOTEBOOK_HINT) from None
    if not _new_session(new_session, skip_if_logged_in) and _still_logged_in(write_permission):
        return

    def submit(token: str, add_to_git: bool) -> list[str]:
        return login_with_token(token, add_to_git, write_permission).lines()

    display(login_widget(submit, _endpoint(), write_permission=write_permission))


def logout() -> None:
    """Remove the saved token and its ``stored_tokens`` entry, and make every configured git
    helper forget Hub credentials. Says so when the environment still holds a token."""
    _endpoint()  # an invalid HF_ENDPOINT is refused before anything changes
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
        via = f" (also asked: {', '.join(others)})" if others else ""
        print(f"git: asked every credential helper to forget {hosts}{via}")
    from_env = settings.env_token()
    if from_env:
        print(
            f"Note: {from_env[1]} is still set, so the environment still authenticates git and "
            f"huggingface_hub ({output.mask(from_env[0])}). Unset it to log out completely."
        )
    else:
        print("Logged out.")
