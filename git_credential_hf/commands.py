"""The subcommands: login, logout, list, switch, whoami, setup, status (argparse, ``--help``
everywhere).

Loaded by ``cli`` only when argv[0] names a subcommand or asks for help/version. Exit codes:
0 ok, 1 failure, 2 usage. Errors are one line on stderr, never a traceback, never a token.
"""

from __future__ import annotations

import sys

from . import cli
from .helper import PREFIX


def _fail(message: str, code: int = 1) -> int:
    sys.stderr.write(PREFIX + message.replace("\n", " ") + "\n")
    return code


def _scrub(message: str, args: list[str]) -> str:
    """argparse echoes what the user typed ("unrecognized arguments: hf_…"); a misplaced token
    must not reach the terminal, so every value the user passed (8+ characters: shorter ones
    are not tokens, and masking them would garble the message) is shown masked."""
    from .tokens import mask

    values = set()
    for arg in args:
        name, eq, value = arg.partition("=")
        if eq and name.startswith("-"):
            values.add(value)
        elif not arg.startswith("-") or len(arg) > 24:
            values.add(arg)
    for value in sorted((v for v in values if len(v) >= 8), key=len, reverse=True):
        message = message.replace(value, mask(value))
    return message


def _parser(args: list[str]):
    import argparse

    class Parser(argparse.ArgumentParser):
        def error(self, message: str):  # one line instead of usage + error; no echoed secret
            message = _scrub(message, args)
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

    p = sub.add_parser(
        "login",
        help="check a token with the Hub and save it",
        description="Check a token with the Hub and save it where huggingface_hub reads it. "
        "Without --token/--token-stdin, prompt on the terminal (hidden input).",
    )
    source = p.add_mutually_exclusive_group()
    source.add_argument(
        "--token", metavar="TOKEN", help="the token (visible to other users in `ps`: prefer "
        "--token-stdin)"
    )
    source.add_argument(
        "--token-stdin", action="store_true", help="read the token from standard input (one line)"
    )
    p.add_argument(
        "--add-to-git-credential", action="store_true",
        help="also run `setup`, so git asks this helper for Hub URLs",
    )
    p.add_argument(
        "--write-permission", action="store_true", help="refuse a token that cannot push"
    )
    p.set_defaults(func=_cmd_login)

    p = sub.add_parser(
        "logout",
        help="remove the saved token; make git helpers forget Hub credentials",
        description="Remove the active token and its stored_tokens entry (or, with "
        "--token-name, that one named token, and the active token only if it was that one), and "
        "ask every git credential helper to forget Hub credentials.",
    )
    p.add_argument("--token-name", metavar="NAME", help="remove only the token stored as NAME")
    p.set_defaults(func=_cmd_logout)

    p = sub.add_parser(
        "list", help="the stored tokens: name, masked token, account, role, expiry, active",
        description="List the tokens in stored_tokens (also those huggingface_hub saved). "
        "Tokens whose account is not known yet are checked with the Hub (whoami) unless "
        "--offline.",
    )
    p.add_argument("--offline", action="store_true", help="no Hub calls; accounts as last seen")
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser(
        "switch", help="make a stored token the active one",
        description="Make the token stored as NAME the active token, as `hf auth switch` does. "
        "An unknown NAME changes nothing (exit 1).",
    )
    p.add_argument("name", metavar="NAME")
    p.add_argument(
        "--add-to-git-credential", action="store_true",
        help="also run `setup`, so git asks this helper for Hub URLs",
    )
    p.set_defaults(func=_cmd_switch)

    p = sub.add_parser(
        "whoami", help="show the account of the active token",
        description="Ask the Hub who the active token belongs to. Exit 1 when not logged in, "
        "when the token is invalid or when the Hub cannot be reached.",
    )
    p.set_defaults(func=_cmd_whoami)

    p = sub.add_parser(
        "setup", help="make git ask this helper for Hub URLs",
        description='Write credential.<url>.helper = "" then this helper in the global git '
        "config, for the endpoint (and https://hf.co for the default one). Idempotent; the "
        "generic credential.helper is never touched.",
    )
    p.add_argument("--unset", action="store_true", help="remove exactly what setup wrote")
    p.set_defaults(func=_cmd_setup)

    p = sub.add_parser(
        "status", help="where the token comes from, and whether git will use it",
        description="Show the active token (masked) and its source, the endpoint, and the "
        "helpers git runs for it. Exit 1 when git would not authenticate. Offline, unless "
        "--repo asks whether the token can push there (role, fine-grained scopes, the Hub's "
        "auth-check); then exit 1 when it cannot.",
    )
    p.add_argument("--repo", metavar="NS/NAME", help="pre-flight: can the token push to this repo?")
    p.add_argument("--type", dest="repo_type", choices=("model", "dataset", "space"),
                   default="model", help="repository type for --repo (default: model)")
    p.add_argument("--username", metavar="NAME",
                   help="for --repo: the token git would use for this URL username")
    p.set_defaults(func=_cmd_status)
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
    try:
        return ns.func(ns)
    except KeyboardInterrupt:
        return _fail(f"{ns.command} cancelled", 130)
    except Exception as e:  # never a traceback; the type only, a message might echo input
        return _fail(f"{ns.command} failed unexpectedly ({type(e).__name__})")


def _cmd_login(ns) -> int:
    from . import _login, settings

    add_to_git = ns.add_to_git_credential
    if ns.token_stdin:
        line = sys.stdin.readline(64 * 1024) if sys.stdin is not None else ""
        token = settings.clean_token(line)
        if not token:
            return _fail("login: no token on standard input", 2)
    elif ns.token is not None:
        token = ns.token
    elif not cli._stdin_is_tty():
        return _fail(
            "login: no terminal to prompt for a token; pipe it in: "
            "git-credential-hf login --token-stdin < FILE",
            2,
        )
    else:
        try:
            token = _login.prompt_token()
            if not add_to_git:
                add_to_git = _login.ask_yes_no(_login.GIT_QUESTION)
        except _login.LoginError as e:
            return _fail(f"login: {e}")
    try:
        _login._save_and_report(token, add_to_git, ns.write_permission)
    except _login.LoginError as e:
        return _fail(f"login failed: {e}")
    return 0


def _cmd_logout(ns) -> int:
    from . import _login

    try:
        _login.logout(token_name=ns.token_name)
    except _login.LoginError as e:
        return _fail(str(e))
    return 0


def _cmd_list(ns) -> int:
    import time

    from . import manage, settings

    try:
        rows = manage.list_tokens(check=not ns.offline)
    except manage.ManageError as e:
        return _fail(f"list: {e}")
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
        return _fail(f"switch: {e}")
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
        return _fail(f"status: {e}")
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
        return _fail(line)
    print(f"ok:       {line}" if r["can_write"] else f"unknown:  {line}")
    return 0


def _cmd_whoami(ns) -> int:
    from . import _login, hub, settings, tokens

    token, source = tokens.active_token()
    try:
        info = _login.whoami(token or None)
    except _login.LoginError as e:
        return _fail(f"whoami: {e}")
    print(info["name"])
    orgs = [o.get("name") for o in info.get("orgs") or [] if isinstance(o, dict)]
    if orgs:
        print(f"orgs: {', '.join(str(o) for o in orgs)}")
    print(f"endpoint: {settings.endpoint()}")
    role = hub.token_role(info)
    print(f"token: {tokens.mask(token)} from {_origin(source)} (permission: {role})")
    return 0


def _origin(source: str) -> str:
    """Where the active token comes from: ``$HF_TOKEN``-style, or the token file's path."""
    from . import settings

    return settings.token_path() if source == "file" else f"${source}"


def _cmd_setup(ns) -> int:
    from . import gitconfig

    try:
        for line in gitconfig.setup(unset=ns.unset):
            print(f"git: {line}")
    except gitconfig.GitError as e:
        return _fail(f"setup failed: {e}")
    return 0


def _cmd_status(ns) -> int:
    if ns.repo:
        return _cmd_preflight(ns)
    from . import gitconfig, settings, tokens

    problems: list[str] = []
    token, source = tokens.active_token()
    if token:
        print(f"token:    {tokens.mask(token)} (from {_origin(source)})")
    else:
        print(f"token:    none (no HF_TOKEN, HUGGING_FACE_HUB_TOKEN or {settings.token_path()})")
        problems.append("not logged in; fix: git-credential-hf login")
    endpoint = settings.endpoint()
    print(f"endpoint: {endpoint}")
    try:
        for url in gitconfig.hub_urls():
            problem = _git_status(url, primary=url == endpoint)
            if problem:
                problems.append(problem)
    except gitconfig.GitError as e:
        problems.append(str(e))
    if problems:
        for problem in problems:
            _fail(problem)
        return 1
    print(f"ok:       git will authenticate to {endpoint} with this helper")
    return 0


def _git_status(url: str, primary: bool) -> str | None:
    """Print what git runs for ``url``; return a problem (with its fix) or None. Problems for
    the hf.co alias are printed as warnings only."""
    from . import gitconfig

    helpers = gitconfig.helpers_for(url)
    chain = " → ".join(value for value, _origin in helpers) or "no credential helper"
    print(f"git:      {url} → {chain}")
    ours = next((i for i, (value, _o) in enumerate(helpers) if gitconfig.is_hf_helper(value)), None)
    problem = None
    if ours is None:
        problem = f"git will not ask this helper for {url}; fix: git-credential-hf setup"
    elif not gitconfig.resolves(helpers[ours][0]):
        problem = (
            f"git cannot start {helpers[ours][0]!r} for {url} (not on PATH?); "
            "fix: git-credential-hf setup"
        )
    else:
        for value, origin in helpers[:ours]:
            print(
                f"warning:  git asks {value!r} ({origin}) before this helper for {url}: a Hub "
                "credential it holds wins; fix: git-credential-hf setup, or remove it there"
            )
    if problem and not primary:
        print(f"warning:  {problem}")
        return None
    return problem
