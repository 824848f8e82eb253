"""Issue 9 item 2 (transport part): `requests` fills Basic credentials from ~/.netrc over an
`Authorization` header passed in `headers=`. With a stale netrc entry for the Hub's host, whoami
checked the wrong secret: `login` refused every valid token and `erase` deleted a valid one.
Every Hub call now sets the token through `requests`' `auth=` hook."""

from __future__ import annotations

import os
from pathlib import Path


def _netrc(host: str) -> None:
    path = Path(os.environ["HOME"]) / ".netrc"
    path.write_text(f"machine {host.split(':')[0]}\nlogin stale\npassword not-a-token\n")
    path.chmod(0o600)


def test_netrc_entry_cannot_replace_the_token(sec, fake_hub) -> None:
    token = sec.make_token("netrc")
    fake_hub.add_token(token)
    _netrc(fake_hub.host)
    login = sec.run_cli(["login", "--token-stdin"], token.encode() + b"\n", env=fake_hub.env())
    assert login.returncode == 0, login
    erase = sec.run_helper("erase", fake_hub.request(username="hf_user", password=token),
                           fake_hub.env())
    assert b"Traceback" not in erase.stderr
    assert (sec.hf_home() / "token").read_text() == token  # a valid token is never erased
    sent = {auth for _path, auth in fake_hub.requests}  # the Hub logs schemes, never secrets
    assert sent == {"Bearer ****"}, "the Hub saw another credential than the token"


def test_oauth_endpoints_get_no_netrc_credential(fake_hub) -> None:
    """Calls that carry no token (the OAuth endpoints) send no Authorization at all."""
    from git_credential_hf import hub

    _netrc(fake_hub.host)
    hub.request("POST", fake_hub.url + "/oauth/token", data={"grant_type": "x"})
    assert [auth for _path, auth in fake_hub.requests] == [None]
