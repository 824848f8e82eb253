"""Masking printed text (issue 9 item 3, issue 13 item 7): token-shaped runs and whatever
follows ``password=`` are hidden; everything else reads as it was written. Unknown names are
ignored silently only when they look like a git operation."""

from __future__ import annotations

import pytest

from git_credential_hf import cli, commands, output

TOKEN = "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz01234567"


@pytest.mark.parametrize(("text", "expected"), [
    (f"!f() {{ echo password={TOKEN}; }}; f", "!f() { echo password=****; }; f"),
    ("!f() { echo password=hunter2-not-a-token; }; f", "!f() { echo password=****; }; f"),
    (f"t={TOKEN} helper", f"t={output.mask(TOKEN)} helper"),
    ("api_org_" + "x" * 30, "api_org_****xxxx"),
    ("store --file /home/hf_user/.git-credentials", "store --file /home/hf_user/.git-credentials"),
    ("unrecognized arguments: extra-argument", "unrecognized arguments: extra-argument"),
    ("cache --timeout=3600", "cache --timeout=3600"),
])
def test_mask_secrets(text: str, expected: str) -> None:
    assert output.mask_secrets(text) == expected


@pytest.mark.parametrize("args", [["whoami", "extra-argument"], ["login", "--tokne=abcdefghij"],
                                  ["setup", "positional-words"]])
def test_usage_errors_keep_plain_typos_readable(capsys, args) -> None:
    """Before: every value of 8+ characters was masked (``unrecognized ****ents: ****ents``)."""
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "****" not in err
    assert args[-1].partition("=")[2 if "=" in args[-1] else 0] in err


def test_usage_errors_still_mask_a_token(capsys) -> None:
    assert cli.main(["login", TOKEN]) == 2
    err = capsys.readouterr().err
    assert TOKEN not in err and output.mask(TOKEN) in err
    assert commands._scrub(f"unrecognized arguments: {TOKEN}") == (
        f"unrecognized arguments: {output.mask(TOKEN)}")


@pytest.mark.parametrize(("name", "silent"), [
    ("get", True), ("frobnicate", True), ("capability", True),
    ("Login", False), ("log-in", False), ("whoami2", False), (TOKEN, False), ("", False),
    ("x" * 33, False), ("ünknown", False),
])
def test_only_operation_shaped_names_are_ignored_silently(capsys, monkeypatch, name: str,
                                                          silent: bool) -> None:
    monkeypatch.setattr(output, "stdin_is_tty", lambda: False)
    if name == "get":
        assert cli.looks_like_operation(name)
        return
    code = cli.main([name])
    out, err = capsys.readouterr()
    if silent:
        assert (code, out, err) == (0, "", "")
    else:
        assert code == 2 and err.startswith("usage: git-credential-hf") and TOKEN not in err
