"""Issue 9, item 2: nothing overrides the Bearer token; one parse of ``HF_ENDPOINT``.

- ``requests`` fills Basic credentials from ``~/.netrc`` (or from userinfo in the URL) OVER an
  ``Authorization`` header passed in ``headers=``. Before: with a stale netrc entry for the Hub
  host, whoami checked the wrong secret: ``login`` refused a valid token and ``erase`` deleted a
  valid one. After: the token travels through ``auth=``, nothing replaces it.
- ``HF_ENDPOINT`` with userinfo, a backslash, or anything two URL parsers could read differently
  is refused with one line that never echoes the userinfo; ``get`` answers nothing. Before:
  ``http://127.0.0.1:A\\@127.0.0.1:B`` made ``get``/``setup`` serve host B while whoami sent the
  Bearer token to A.
"""

from __future__ import annotations

from pathlib import Path

import pytest


def _netrc_home(tmp_path: Path, host: str) -> Path:
    home = tmp_path / "netrc-home"
    home.mkdir()
    netrc = home / ".netrc"
    netrc.write_text(f"machine {host.split(':')[0]} login alice password Nt9-stAle-Pw4vX2\n")
    netrc.chmod(0o600)
    return home


def test_netrc_does_not_replace_the_bearer_token(sec, fake_hub, tmp_path) -> None:
    sec.register_secret("Nt9-stAle-Pw4vX2")
    token = sec.make_token("netrc-valid")
    fake_hub.add_token(token, display_name="netrc")
    home = _netrc_home(tmp_path, fake_hub.host)
    env = {**fake_hub.env(), "HOME": str(home), "HF_HOME": str(home / "hf"),
           "GIT_CONFIG_GLOBAL": str(home / ".gitconfig")}
    login = sec.run_cli(["login", "--token-stdin"], token.encode() + b"\n", env=env)
    assert login.returncode == 0, login.err
    erase = sec.run_helper("erase", fake_hub.request(password=token), env=env)
    assert (home / "hf" / "token").read_text() == token, f"erase removed a valid token: {erase}"
    whoami = sec.run_cli(["whoami"], env=env)
    assert whoami.returncode == 0, whoami.err
    # the Hub logs the scheme only: Bearer every time, never netrc's Basic
    assert fake_hub.requests and all(auth == "Bearer ****" for _p, auth in fake_hub.requests)


def test_endpoint_userinfo_is_refused_and_never_echoed(sec, fake_hub, tmp_path) -> None:
    secret = "Qx7-uSr1nfo-Zk4w9"
    sec.register_secret(secret)
    token = sec.make_token("userinfo")
    fake_hub.add_token(token)
    env = {"HF_ENDPOINT": f"http://alice:{secret}@{fake_hub.host}",
           "HF_HOME": str(tmp_path / "hf")}
    for args, stdin in ((["login", "--token-stdin"], token.encode() + b"\n"),
                        (["whoami"], b""), (["setup"], b""), (["status"], b"")):
        call = sec.run_cli(args, stdin, env={**env, "HF_TOKEN": token} if args == ["whoami"]
                           else env)
        assert call.returncode != 0, (args, call)
        assert len(call.err.splitlines()) == 1, (args, call.err)
    get = sec.run_helper("get", fake_hub.request(), env={**env, "HF_TOKEN": token})
    assert (get.stdout, get.stderr) == (b"", b"")
    assert fake_hub.requests == []


@pytest.mark.parametrize("shape", ["{a}\\@{b}", "{a}\\\\@{b}", "{a}%5C@{b}", "{a}\t@{b}",
                                   "{a}#@{b}", "{a}?@{b}"],
                         ids=["backslash", "two-backslashes", "pct-5c", "tab", "hash", "query"])
def test_endpoint_read_differently_by_two_parsers_is_refused(sec, make_hub, tmp_path,
                                                             shape) -> None:
    """``get`` and ``setup`` must not serve one host while whoami calls another."""
    a, b = make_hub(), make_hub()
    token = sec.make_token("differential")
    a.add_token(token)
    b.add_token(token)
    endpoint = "http://" + shape.format(a=a.host, b=b.host)
    env = {"HF_ENDPOINT": endpoint, "HF_HOME": str(tmp_path / "hf"),
           "GIT_CONFIG_GLOBAL": str(tmp_path / "gitconfig")}
    login = sec.run_cli(["login", "--token-stdin"], token.encode() + b"\n", env=env)
    setup = sec.run_cli(["setup"], env=env)
    get_a = sec.run_helper("get", a.request(), env={**env, "HF_TOKEN": token})
    get_b = sec.run_helper("get", b.request(), env={**env, "HF_TOKEN": token})
    assert a.requests == [] and b.requests == [], "whoami called a host"
    assert login.returncode != 0 and len(login.err.splitlines()) == 1, login
    assert setup.returncode != 0 and not (tmp_path / "gitconfig").exists(), setup
    assert get_a.stdout == b"" and get_b.stdout == b"" and get_a.stderr == get_b.stderr == b""
