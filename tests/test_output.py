"""output: the prefix, masking, one-line errors, the terminal check (issue 14: each line that
can carry a token is checked for the full token's absence)."""

from __future__ import annotations

import io
import sys

import pytest

from git_credential_hf import output

TOKEN = "hf_" + "s" * 30 + "WXYZ"
ORG = "api_org_" + "o" * 30 + "ORGX"


@pytest.mark.parametrize(("text", "expected"), [
    (f"token {TOKEN} here", "token hf_****WXYZ here"),
    (f"{ORG};", "api_org_****ORGX;"),
    (f"https://user:{TOKEN}@hf.co", "https://user:hf_****WXYZ@hf.co"),
    ("helper = store --password=s3cret;x", "helper = store --password=****;x"),
    ("password=a'b", "password=****'b"),
    ("hf_abc is too short", "hf_abc is too short"),
    ("xhf_abcdefgh is not a word start", "xhf_abcdefgh is not a word start"),
    ("HF_ABCDEFGH stays", "HF_ABCDEFGH stays"),
    ("hf_Ab9zZ-_yW", "hf_****-_yW"),  # "-", "_", digits and both cases are token characters
    ("no secrets", "no secrets"),
])
def test_mask_secrets(text: str, expected: str) -> None:
    masked = output.mask_secrets(text)
    assert masked == expected
    assert TOKEN not in masked and ORG not in masked


def test_one_line_turns_cr_and_lf_into_spaces() -> None:
    assert output.one_line("a\rb\nc\r\n") == "a b c  "


def test_error_writes_one_prefixed_line() -> None:
    stream = io.StringIO()
    output.error("first\nsecond", stream)
    assert stream.getvalue() == "git-credential-hf: first second\n"


def test_error_defaults_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert output.fail("broken", 3) == 3
    assert capsys.readouterr() == ("", "git-credential-hf: broken\n")


class FakeStdin:
    def __init__(self, tty: bool | None) -> None:
        self.tty = tty

    def isatty(self) -> bool:
        if self.tty is None:
            raise ValueError("I/O operation on closed file")
        return self.tty


@pytest.mark.parametrize(("stdin", "expected"), [
    (FakeStdin(True), True), (FakeStdin(False), False), (FakeStdin(None), False), (None, False),
])
def test_stdin_is_tty(stdin, expected: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", stdin)
    assert output.stdin_is_tty() is expected
