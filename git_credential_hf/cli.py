"""Command line: git's helper operations on a fast path, everything else through argparse.

git runs ``git-credential-hf get`` on every network operation, so that path parses nothing and
imports only the helper's light modules; argparse and the login code load for subcommands only.
"""

from __future__ import annotations

import sys

USAGE = "usage: git-credential-hf {get,store,erase} | git-credential-hf --help"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 1 and args[0] in ("get", "store", "erase"):
        from . import helper

        return helper.main(args[0])
    if args and not args[0].startswith("-") and len(args) == 1 and not _stdin_is_tty():
        return 0  # an operation from a newer git: helpers ignore what they do not know
    sys.stderr.write(USAGE + "\n")
    return 2


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):
        return False
