"""Command line: git's helper operations on a fast path, everything else through argparse.

git runs ``git-credential-hf get`` on every network operation, so that path parses nothing and
imports only the helper's light modules; argparse and the subcommands (``commands``) load only
when argv[0] names one.
Exit codes: 0 ok, 1 failure, 2 usage. Errors are one line on stderr, never a token.
"""

from __future__ import annotations

import sys

USAGE = (
    "usage: git-credential-hf {login,logout,list,switch,whoami,setup,status} ... | "
    "git-credential-hf {get,store,erase} (run by git) | git-credential-hf --help"
)
COMMANDS = ("login", "logout", "list", "switch", "whoami", "setup", "status")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 1 and args[0] in ("get", "store", "erase"):
        from . import helper

        return helper.main(args[0])
    if args and (args[0] in COMMANDS or args[0] in ("-h", "--help", "--version")):
        from . import commands  # argparse, login, git: never loaded for get/store/erase

        return commands.run(args)
    from .output import stdin_is_tty

    if args and not args[0].startswith("-") and len(args) == 1 and not stdin_is_tty():
        return 0  # an operation from a newer git: helpers ignore what they do not know
    sys.stderr.write(USAGE + "\n")
    return 2
