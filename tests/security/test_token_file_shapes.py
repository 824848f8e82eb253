"""Issue 9 item 8 (token-file part): a UTF-8 BOM is stripped like whitespace; a token file
holding two lines (two tokens pasted one after the other) is served nothing and never erased.
Before: the BOM was served as part of the password, and the two lines were joined into one
password that failed, after which `erase` deleted the file."""

from __future__ import annotations


def test_bom_is_not_served(sec, fake_hub) -> None:
    token = sec.make_token("bom")
    home = sec.hf_home()
    home.mkdir(parents=True, exist_ok=True)
    (home / "token").write_bytes(b"\xef\xbb\xbf" + token.encode() + b"\n")
    call = sec.run_helper("get", fake_hub.request(), fake_hub.env())
    assert call.returncode == 0
    assert call.stdout.decode().splitlines()[-1] == f"password={token}"


def test_two_line_token_file_is_served_nothing_and_never_erased(sec, fake_hub) -> None:
    first, second = sec.make_token("two-1"), sec.make_token("two-2")
    home = sec.hf_home()
    home.mkdir(parents=True, exist_ok=True)
    content = f"{first}\n{second}\n".encode()
    (home / "token").write_bytes(content)
    call = sec.run_helper("get", fake_hub.request(), fake_hub.env())
    assert call.returncode == 0 and b"password=" not in call.stdout
    for password in (first, second, first + second):  # whatever git might send back
        call = sec.run_helper("erase", fake_hub.request(username="hf_user", password=password),
                              fake_hub.env())
        assert b"Traceback" not in call.stderr
    assert (home / "token").read_bytes() == content
