"""Malformed and huge input to every operation: bounded time and memory, no traceback, no
network call, the token files unchanged.

Design (decided by the lead): a malformed line (no ``=``, NUL) makes ``get`` answer nothing
silently and ``store``/``erase`` print one stderr line and exit 1; over-long input (a line over
64 KiB or more than 1 MiB in all) is refused quietly by every operation.
"""

from __future__ import annotations

import random

import pytest

TIME_LIMIT_S = 15  # memory: every child runs under conftest.MEMORY_LIMIT (256 MiB of address space)


def _cases(head: bytes) -> dict[str, tuple[bytes, str]]:
    """name → (stdin, expected kind): "quiet" (refused without a word), "malformed"
    (store/erase say one line), "valid" (big or odd but well-formed: handled like ``head``
    alone), "empty" (no request at all: nothing to do), "any" (random bytes)."""
    rng = random.Random(5)
    return {
        "1mib-line": (head + b"wwwauth[]=" + b"A" * (1 << 20) + b"\n\n", "quiet"),
        "1mib-line-no-newline": (head + b"x=" + b"A" * (1 << 20), "quiet"),
        "1mib-line-without-equals": (head + b"A" * (1 << 20) + b"\n\n", "quiet"),
        "100k-lines-over-limit": (head + b"wwwauth[]=Basic realm=x\n" * 100_000, "quiet"),
        "100k-short-lines": (head + b"a=b\n" * 100_000 + b"\n", "valid"),
        "100k-list-items": (head + b"w[]=1\n" * 100_000 + b"\n", "valid"),
        "16mib-stdin": (head + b"x=" + b"A" * (16 << 20) + b"\n\n", "quiet"),
        "random-binary-1mib": (rng.randbytes(1 << 20), "any"),
        "non-utf8-keys-and-values": (head + b"\xff\xfe=\x80\x81\nhost\xc3=\xc3\x28\n\n", "valid"),
        "nul-byte": (head + b"path=a\x00b\n\n", "malformed"),
        "nul-only": (b"\x00", "malformed"),
        "no-equals": (head + b"garbage\n\n", "malformed"),
        "equals-alone": (b"=\n\n", "empty"),
        "equals-alone-then-head": (b"=\n" + head + b"\n", "valid"),
        "empty-stdin": (b"", "empty"),
        "blank-line": (b"\n", "empty"),
        "cr-only": (b"\r\n", "empty"),
        "only-separators": (b"\x0b\x0c\x1c\x1d\x1e\xc2\x85\xe2\x80\xa8", "malformed"),
    }


CASE_NAMES = list(_cases(b""))


@pytest.fixture
def cache(sec, fake_hub):
    """A saved token (and a named copy), the fake Hub as endpoint and its valid tokens."""
    saved = sec.make_token("malformed-saved")
    other = sec.make_token("malformed-other")
    fake_hub.add_token(saved, display_name="saved")
    fake_hub.add_token(other, display_name="other")
    home = sec.hf_home()
    home.mkdir(parents=True, exist_ok=True)
    (home / "token").write_text(saved)
    (home / "stored_tokens").write_text(f"[saved]\nhf_token = {saved}\n\n")
    return {"saved": saved, "other": other, "home": home}


@pytest.mark.parametrize("op", ["get", "store", "erase"])
@pytest.mark.parametrize("case", CASE_NAMES)
def test_malformed_and_huge_input(sec, fake_hub, cache, op, case) -> None:
    # A served request carrying a password the Hub would accept: if the bad part were ignored,
    # store/erase would act on it and get would answer.
    password = cache["saved"] if op == "erase" else cache["other"]
    head = fake_hub.request(password=password)[:-1]  # without the blank line
    stdin, kind = _cases(head)[case]
    before = sec.snapshot(cache["home"])
    call = sec.run_helper(op, stdin, env=fake_hub.env(), timeout=TIME_LIMIT_S + 5)

    assert not call.timed_out and call.elapsed <= TIME_LIMIT_S
    assert b"Traceback" not in call.stderr
    lines = call.err.splitlines()
    if kind == "valid":  # exactly what the same request without the oddities gets
        _assert_handled_like_a_plain_request(sec, cache, op, call)
        return
    assert sec.snapshot(cache["home"]) == before, "the token files changed"
    if kind != "any":
        assert fake_hub.requests == [], "called the Hub for input it should have refused"
    assert call.stdout == b""
    if op == "get" or kind in ("quiet", "empty"):
        assert (call.returncode, call.stderr) == (0, b"")
    elif kind == "malformed":
        assert call.returncode == 1
        assert len(lines) == 1 and lines[0].startswith("git-credential-hf: "), lines
    else:
        assert call.returncode in (0, 1) and len(lines) <= 1


def _assert_handled_like_a_plain_request(sec, cache, op, call) -> None:
    home, saved = cache["home"], cache["saved"]
    if op == "get":
        assert call.stdout == f"username=hf_user\npassword={saved}\n".encode()
        assert (call.returncode, call.stderr) == (0, b"")
    elif op == "store":  # the Hub confirmed `other`, but the saved token works: kept (issue 9)
        assert call.returncode == 1 and len(call.err.splitlines()) == 1
        assert "kept the active token" in call.err
        assert (home / "token").read_text() == saved
        assert sec.parse_stored(home / "stored_tokens") == {"saved": saved}
    else:  # erase of a token the Hub still accepts: kept, and said so
        assert call.returncode == 1 and len(call.err.splitlines()) == 1
        assert "still valid" in call.err
        assert (home / "token").read_text() == saved


@pytest.mark.parametrize("password", [
    b"hf_\xff\xfe\x80", b"hf_\xc3\xbcber", b"hf_\xe2\x82\xacuro", b" hf_leading", b"hf_in side",
    b"hf_ctl\x01x", b"hf_tab\tx", b"hf_del\x7fx", b"hf_" + b"A" * 60_000,
], ids=["non-utf8", "latin1", "euro", "leading-space", "inner-space", "control", "tab", "del",
        "60kib"])
def test_store_refuses_ill_formed_passwords_without_calling_the_hub(sec, fake_hub, cache,
                                                                    password) -> None:
    """A password that is not printable ASCII cannot be a Hub token (nor travel in an HTTP
    header as it is): one clear line, exit 1, no request, nothing saved."""
    before = sec.snapshot(cache["home"])
    stdin = fake_hub.request()[:-1] + b"password=" + password + b"\n\n"
    call = sec.run_helper("store", stdin, env=fake_hub.env())
    lines = call.err.splitlines()
    assert call.returncode == 1 and len(lines) == 1, call
    assert lines[0].startswith("git-credential-hf: not saving the credential")
    if len(password) < 1000:
        assert fake_hub.requests == [] and "well-formed" in lines[0]
    assert sec.snapshot(cache["home"]) == before


@pytest.mark.parametrize("stdin", [
    b"", b"\n", b"=\n", b"hf_abc\x00def\n", b"hf_\xff\xfe\x80\n", b"\x00" * 100,
    b"A" * (1 << 20) + b"\n", b"hf_x\n" * 100_000, random.Random(7).randbytes(1 << 20),
    b"\xe2\x80\xa8hf_abc\n",
], ids=["empty", "blank", "equals", "nul", "non-utf8", "nuls", "1mib-line", "100k-lines",
        "random-1mib", "u2028"])
def test_login_token_stdin_with_hostile_input(sec, fake_hub, cache, stdin) -> None:
    """``login --token-stdin`` reads one line: whatever it is, one line, exit ≠ 0, and the
    cache unchanged (none of these is a token the Hub accepts)."""
    before = sec.snapshot(cache["home"])
    call = sec.run_cli(["login", "--token-stdin"], stdin, env=fake_hub.env(),
                       timeout=TIME_LIMIT_S + 5)
    assert not call.timed_out and call.elapsed <= TIME_LIMIT_S
    assert call.returncode in (1, 2) and b"Traceback" not in call.stderr, call
    assert len(call.err.splitlines()) == 1
    assert sec.snapshot(cache["home"]) == before
