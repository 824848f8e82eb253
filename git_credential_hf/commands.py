"""The subcommands: login, logout, list, switch, whoami, setup, status (argparse, ``--help``
everywhere).

Loaded by ``cli`` only when argv[0] names a subcommand or asks for help/version. Exit codes:
0 ok, 1 failure, 2 usage. Errors are one line on stderr, never a traceback, never a token.
An invalid ``HF_ENDPOINT`` is refused by every subcommand before it does anything.
"""

from __future__ import annotations

import sys

from . import output
from .output import PREFIX, fail

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


def _scrub(message: str) -> str:
    """argparse echoes what the user typed ("unrecognized arguments: hf_…"): a misplaced token
    must not reach the terminal. Only token-shaped values are masked, so a plain typo still
    reads as what it is ("unrecognized arguments: extra")."""
    return output.mask_secrets(message)


# One row per subcommand: (name, help, description, options, handler). Options are
# (flags, argparse keywords); a tuple of options is a mutually exclusive group.
_LOGIN_OPTIONS = [
    (
        (("--token",), {"metavar": "TOKEN", "help": "the token (visible to other users in `ps`: "
                        "prefer --token-stdin)"}),
        (("--token-stdin",), {"action": "store_true",
                              "help": "read the token from standard input (one line)"}),
        (("--web",), {"action": "store_true",
                      "help": "log in with your browser (OAuth device code): open the URL "
                      "shown and enter the code; the login then renews itself"}),
    ),
    (("--add-to-git-credential",),
     {"action": "store_true", "help": "also run `setup`, so git asks this helper for Hub URLs"}),
    (("--write-permission",), {"action": "store_true", "help": "refuse a token that cannot push"}),
]
SUBCOMMANDS: list[tuple[str, str, str, list, Callable[..., int]]] = []


def _parser(args: list[str]):
    import argparse

    class Parser(argparse.ArgumentParser):
        def error(self, message: str):  # one line instead of usage + error; no echoed secret
            message = _scrub(message)
            where = self.prog.partition(" ")[2]  # the subcommand, if any
            self.exit(2, f"{PREFIX}{where + ': ' if where else ''}{message} (see --help)\n")

    parser = Parser(
        prog="git-credential-hf",
        description="A git credential helper for the Hugging Face Hub, backed by "
        "huggingface_hub's token cache.",
        epilog="git itself runs `git-credential-hf get|store|erase`; "
        "start with `git-credential-hf login`.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, help_text, description, options, func in SUBCOMMANDS:
        p = sub.add_parser(name, help=help_text, description=description)
        for option in options:
            if isinstance(option[0], tuple) and isinstance(option[0][0], tuple):
                group = p.add_mutually_exclusive_group()
                for flags, kwargs in option:
                    group.add_argument(*flags, **kwargs)
            else:
                flags, kwargs = option
                p.add_argument(*flags, **kwargs)
        p.set_defaults(func=func)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("git-credential-hf")
    except PackageNotFoundError:
        return "unknown"


def run(args: list[str]) -> int:
    parser = _parser(args)
    try:
        ns = parser.parse_args(args)
    except SystemExit as e:  # --help, --version, usage errors
        return e.code if isinstance(e.code, int) else 2
    from . import settings

    try:
        settings.endpoint_info()
    except settings.EndpointError as e:
        return fail(str(e))
    if ns.command != "setup":  # setup writes git config only: no token path involved
        try:
            settings.check_paths()
        except settings.PathError as e:
            return fail(f"{ns.command}: {e}")
    try:
        return ns.func(ns)
    except KeyboardInterrupt:
        return fail(f"{ns.command} cancelled", 130)
    except Exception as e:  # never a traceback; the type only, a message might echo input
        return fail(f"{ns.command} failed unexpectedly ({type(e).__name__})")


LOGIN_METHOD_QUESTION = (
    "How would you like to log in?\n"
    "  1) Log in with your browser\n"
    "  2) Paste an access token\n"
    "Choose [1/2] (default 1): "
)


def _ask_method() -> str:
    """``"web"`` or ``"token"``, asked on the terminal as ``hf auth login`` does."""
    from . import _login

    while True:
        try:
            answer = input(LOGIN_METHOD_QUESTION).strip().lower()
        except EOFError:
            raise _login.LoginError("login cancelled (no answer)") from None
        if answer in ("", "1", "b", "browser", "web"):
            return "web"
        if answer in ("2", "p", "paste", "token"):
            return "token"
        print("Please answer 1 or 2.")


def _cmd_login(ns) -> int:
    from . import _login, settings

    add_to_git = ns.add_to_git_credential
    web = ns.web
    token = None
    if ns.token_stdin:
        line = sys.stdin.readline(64 * 1024) if sys.stdin is not None else ""
        token = settings.clean_token(line)
        if not token:
            return fail("login: no token on standard input", 2)
    elif ns.token is not None:
        token = ns.token
    elif web:
        pass
    elif not output.stdin_is_tty():
        return fail(
            "login: no terminal to prompt; log in with your browser: git-credential-hf login "
            "--web, or pipe a token in: git-credential-hf login --token-stdin < FILE",
            2,
        )
    else:
        try:
            web = _ask_method() == "web"
            if not web:
                token = _login.prompt_token()
                if not add_to_git:
                    add_to_git = _login.ask_yes_no(_login.GIT_QUESTION)
        except _login.LoginError as e:
            return fail(f"login: {e}")
    if web:
        return _web_login(add_to_git, ns.write_permission)
    try:
        result = _login.login_with_token(token, add_to_git, ns.write_permission)
    except _login.LoginError as e:
        return fail(f"login failed: {e}")
    for line in result.lines():
        print(line)
    return 0


def _web_login(add_to_git: bool, write_permission: bool) -> int:
    """``login --web``: the git question comes after the approval, only on a terminal."""
    from . import _login

    try:
        _login.web_login(add_to_git, write_permission, ask_git=output.stdin_is_tty())
    except _login.LoginError as e:
        return fail(f"login failed: {e}")
    return 0


def _cmd_logout(ns) -> int:
    from . import _login

    try:
        _login.logout(token_name=ns.token_name)
    except _login.LoginError as e:
        return fail(str(e))
    return 0


def _cmd_list(ns) -> int:
    import time

    from . import manage, settings

    try:
        rows = manage.list_tokens(check=not ns.offline)
    except manage.ManageError as e:
        return fail(f"list: {e}")
    if not rows:
        print(f"No stored tokens in {settings.stored_tokens_path()}.")
    now = time.time()
    table = [(" ", "name", "token", "account", "role", "expires")]
    for r in rows:
        expires = ""
        if r["expires_at"] is not None:
            stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(r["expires_at"]))
            expires = stamp + (" (expired)" if r["expires_at"] <= now else "")
        table.append(("*" if r["active"] else "", r["name"], r["token"], r["account"] or "?",
                      r["role"] or "?", expires))
    if rows:
        widths = [max(len(str(row[i])) for row in table) for i in range(len(table[0]))]
        for row in table:
            print("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip())
    env = settings.env_token()
    if env:
        print(f"Note: {env[1]} is set and is the active token, whatever is stored.")
    elif rows and not any(r["active"] for r in rows):
        print("Note: no stored token is active; `git-credential-hf switch NAME` picks one.")
    return 0


def _cmd_switch(ns) -> int:
    from . import manage

    try:
        done = manage.switch(ns.name, add_to_git_credential=ns.add_to_git_credential)
    except manage.ManageError as e:
        return fail(f"switch: {e}")
    who = f" ({done['account']})" if done["account"] else ""
    print(f"The active token is now {done['name']!r}: {done['token']}{who}.")
    for line in done["git"]:
        print(line)
    if done["overridden_by"]:
        print(f"Note: {done['overridden_by']} is set and overrides it, for git and "
              "huggingface_hub alike.")
    return 0


def _cmd_preflight(ns) -> int:
    from . import manage

    try:
        r = manage.check_access(ns.repo, ns.repo_type, username=ns.username)
    except manage.ManageError as e:
        return fail(f"status: {e}")
    src = r["source"]
    origin = src[len("stored:"):] if src.startswith("stored:") else _origin(src)
    print(f"token:    {r['token']} (from {origin})")
    print(f"account:  {r['account'] or '?'} (token role: {r['role'] or '?'})")
    print(f"repo:     {ns.repo_type} {ns.repo}")
    print(f"why:      {r['reason']}")
    if r["auth_check"]:
        print(f"hub:      {r['auth_check']}")
    verdict = {True: "can push", False: "cannot push", None: "cannot tell whether it can push"}
    line = f"{verdict[r['can_write']]} to {ns.repo}"
    if r["can_write"] is False:
        return fail(line)
    print(f"ok:       {line}" if r["can_write"] else f"unknown:  {line}")
    return 0


def _cmd_whoami(ns) -> int:
    from . import _login, hub, settings, tokens

    token, source = _login.active_token()  # a due browser login is refreshed first
    try:
        info = _login.whoami(token or None)
    except _login.LoginError as e:
        return fail(f"whoami: {e}")
    print(info["name"])
    orgs = [o.get("name") for o in info.get("orgs") or [] if isinstance(o, dict)]
    if orgs:
        print(f"orgs: {', '.join(str(o) for o in orgs)}")
    print(f"endpoint: {settings.endpoint()}")
    role = hub.token_role(info)
    print(f"token: {output.mask(token)} from {_origin(source)} (permission: {role})")
    found = tokens.oauth_section(token) if token and source == "file" else None
    if found:
        expiry = _login.describe_expiry(tokens.expires_at(found[1]), "refresh_token" in found[1])
        if expiry:
            print(f"expiry: {expiry}")
    return 0


def _origin(source: str) -> str:
    """Where the active token comes from: ``$HF_TOKEN``-style, or the token file's path."""
    from . import settings

    return settings.token_path() if source == "file" else f"${source}"


def _cmd_setup(ns) -> int:
    from . import gitconfig

    try:
        for line in gitconfig.setup(unset=ns.unset):
            print(f"git: {output.mask_secrets(line)}")  # other helpers' values may hold one
    except gitconfig.GitError as e:
        return fail(f"setup failed: {e}")
    return 0


class StatusReport:
    """What ``status`` found: ``lines`` as ``(label, text)`` to print in order, ``problems``
    (each with its fix) that make it fail. Built offline by ``status_report``."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []
        self.problems: list[str] = []
        self.endpoint = ""

    def add(self, label: str, text: str) -> None:
        self.lines.append((label, text))


def status_report(config=None) -> StatusReport:
    """Where the token comes from and what git runs for each Hub URL (``config``: a
    ``gitconfig.GitConfig``-like, the real one by default)."""
    from . import gitconfig, settings, tokens

    report = StatusReport()
    token, source = tokens.active_token()
    if token:
        report.add("token", f"{output.mask(token)} (from {_origin(source)})")
        found = tokens.oauth_section(token) if source == "file" else None
        if found:
            from ._login import describe_expiry

            has_refresh = "refresh_token" in found[1]
            expiry = describe_expiry(tokens.expires_at(found[1]), has_refresh)
            if expiry:
                report.add("expiry", expiry)
            report.add("refresh", "refresh token present: renewed automatically when less "
                       "than 24 h remain" if has_refresh else "no refresh token")
    else:
        where = settings.token_path()
        report.add("token", f"none (no HF_TOKEN, HUGGING_FACE_HUB_TOKEN or {where})")
        report.problems.append("not logged in; fix: git-credential-hf login")
    report.endpoint = settings.endpoint()
    report.add("endpoint", report.endpoint)
    try:
        for url in gitconfig.hub_urls():
            _git_status(report, url, url == report.endpoint, config)
    except gitconfig.GitError as e:
        report.problems.append(str(e))
    return report


def render_status(report: StatusReport) -> int:
    """Print ``report``: its lines on stdout, its problems one line each on stderr."""
    for label, text in report.lines:  # helper values others wrote may hold a secret
        print(f"{label + ':':<9} {output.mask_secrets(text)}")
    for problem in report.problems:
        fail(output.mask_secrets(problem))
    if report.problems:
        return 1
    print(f"ok:       git will authenticate to {report.endpoint} with this helper")
    return 0


def _cmd_status(ns) -> int:
    if ns.repo:
        return _cmd_preflight(ns)
    return render_status(status_report())


def _git_status(report: StatusReport, url: str, primary: bool, config=None) -> None:
    """Add what git runs for ``url`` and any problem (with its fix). Problems for the hf.co
    alias are warnings only."""
    from . import gitconfig

    helpers = gitconfig.helpers_for(url, config=config)
    chain = " → ".join(value for value, _origin in helpers) or "no credential helper"
    report.add("git", f"{url} → {chain}")
    ours = next((i for i, (value, _o) in enumerate(helpers) if gitconfig.is_hf_helper(value)), None)
    problem = None
    hider = gitconfig.hidden_by(url, config=config) if ours is None else None
    if hider is not None:
        problem = (
            f"git will not ask this helper for {url}: {hider.where()} sets "
            f'{hider.key} = "" after it, which drops every helper configured before; '
            f"fix: {hider.fix()}"
        )
    elif ours is None:
        problem = f"git will not ask this helper for {url}; fix: git-credential-hf setup"
    elif gitconfig.starts(helpers[ours][0]) is not None:
        problem = (
            f"git cannot start {helpers[ours][0]!r} for {url} "
            f"({gitconfig.starts(helpers[ours][0])}); fix: git-credential-hf setup"
        )
    else:
        for value, origin in helpers[:ours]:
            entry = gitconfig.entry_for(value, origin, url, config=config)
            where = entry.where() if entry else origin
            fix = ("git-credential-hf setup" if entry and entry.scope == "global"
                   and not entry.included else f"remove it from {where.split(' (')[0]}")
            report.add(
                "warning",
                f"git asks {value!r} ({where}) before this helper for {url}: a Hub "
                f"credential it holds wins; fix: {fix}",
            )
    if problem and not primary:
        report.add("warning", problem)
    elif problem:
        report.problems.append(problem)


SUBCOMMANDS += [
    ("login", "check a token with the Hub and save it",
     "Check a token with the Hub and save it where huggingface_hub reads it. "
     "--web logs in with your browser instead (the login then renews itself). Without "
     "--token/--token-stdin/--web, ask on the terminal: browser, or paste a token (hidden "
     "input).",
     _LOGIN_OPTIONS, _cmd_login),
    ("logout", "remove the saved token; make git helpers forget Hub credentials",
     "Remove the active token and its stored_tokens entry (or, with --token-name, that one "
     "named token, and the active token only if it was that one), and ask every git credential "
     "helper to forget Hub credentials.",
     [(("--token-name",), {"metavar": "NAME", "help": "remove only the token stored as NAME"})],
     _cmd_logout),
    ("list", "the stored tokens: name, masked token, account, role, expiry, active",
     "List the tokens in stored_tokens (also those huggingface_hub saved). Tokens whose "
     "account is not known yet are checked with the Hub (whoami) unless --offline.",
     [(("--offline",), {"action": "store_true", "help": "no Hub calls; accounts as last seen"})],
     _cmd_list),
    ("switch", "make a stored token the active one",
     "Make the token stored as NAME the active token, as `hf auth switch` does. An unknown "
     "NAME changes nothing (exit 1).",
     [(("name",), {"metavar": "NAME"}),
      (("--add-to-git-credential",),
       {"action": "store_true", "help": "also run `setup`, so git asks this helper for Hub URLs"})],
     _cmd_switch),
    ("whoami", "show the account of the active token",
     "Ask the Hub who the active token belongs to. Exit 1 when not logged in, "
     "when the token is invalid or when the Hub cannot be reached.",
     [], _cmd_whoami),
    ("setup", "make git ask this helper for Hub URLs",
     'Write credential.<url>.helper = "" then this helper in the global git '
     "config, for the endpoint (and https://hf.co for the default one). Idempotent; the "
     "generic credential.helper is never touched.",
     [(("--unset",), {"action": "store_true", "help": "remove exactly what setup wrote"})],
     _cmd_setup),
    ("status", "where the token comes from, and whether git will use it",
     "Show the active token (masked) and its source, the endpoint, and the helpers git runs "
     "for it. Exit 1 when git would not authenticate. Offline, unless --repo asks whether the "
     "token can push there (role, fine-grained scopes, the Hub's auth-check); then exit 1 when "
     "it cannot.",
     [(("--repo",), {"metavar": "NS/NAME", "help": "pre-flight: can the token push to this repo?"}),
      (("--type",), {"dest": "repo_type", "choices": ("model", "dataset", "space"),
                     "default": "model", "help": "repository type for --repo (default: model)"}),
      (("--username",), {"metavar": "NAME",
                         "help": "for --repo: the token git would use for this URL username"})],
     _cmd_status),
]
