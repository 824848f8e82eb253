"""get/store/erase decisions for OAuth logins and OIDC, over in-memory contexts (the real
refresh and exchange run end to end in tests/e2e/test_lifecycle_e2e.py)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from types import SimpleNamespace

import pytest

from git_credential_hf import helper, hub, protocol, tokens

TOKEN = "hf_" + "a" * 30 + "WXYZ"
NEW = "hf_" + "n" * 30 + "NEWW"
ENV = "hf_" + "e" * 30 + "ENVV"
OIDC = "hf_jwt_" + "o" * 30
HOST = "protocol=https\nhost=huggingface.co\n\n"


def cred(text: str = HOST, password: str | None = None) -> protocol.Credential:
    if password:
        text = text.rstrip("\n") + f"\nusername=hf_user\npassword={password}\n\n"
    return protocol.parse(io.BytesIO(text.encode()))


class World:
    def __init__(self) -> None:
        self.saved: str | None = TOKEN
        self.env: tuple[str, str] | None = None
        self.oidc_answer = None
        self.fresh_answer = (TOKEN, None, None)
        self.renew_answer = None
        self.whoami_error: Exception | None = hub.InvalidTokenError("401")
        self.deleted: list[str] = []
        self.saves: list[str] = []

    def ctx(self) -> helper.Context:
        def whoami(token):
            if self.whoami_error:
                raise self.whoami_error
            return {"type": "user", "name": "alice"}

        return helper.Context(
            served=lambda: (("https", "huggingface.co"),), env_token=lambda: self.env,
            saved_token=lambda: self.saved, whoami=whoami,
            save=lambda t, n: self.saves.append(t) or [],
            delete=lambda t: self.deleted.append(t) or True,
            oidc=lambda: self.oidc_answer, oidc_enabled=lambda: self.oidc_answer is not None,
            fresh=lambda t: self.fresh_answer, renew=lambda t: self.renew_answer)


@pytest.fixture
def world() -> World:
    return World()


def test_get_answers_the_expiry(world):
    world.fresh_answer = (NEW, 1_900_000_000, None)
    assert helper.get(cred(), world.ctx()) == [
        ("username", "hf_user"), ("password", NEW), ("password_expiry_utc", "1900000000")]


def test_get_reports_a_dead_login_and_still_answers(world):
    world.fresh_answer = (TOKEN, 5, "log in again with: git-credential-hf login --web")
    problems: list[str] = []
    assert helper.get(cred(), world.ctx(), problems)[1] == ("password", TOKEN)
    assert problems == ["log in again with: git-credential-hf login --web"]


def test_oidc_wins_over_the_environment_and_the_file(world):
    world.env = (ENV, "HF_TOKEN")
    world.oidc_answer = (OIDC, 123, None)
    assert helper.get(cred(), world.ctx())[1:] == [("password", OIDC),
                                                  ("password_expiry_utc", "123")]


def test_failed_oidc_answers_nothing_with_one_line(world):
    world.env = (ENV, "HF_TOKEN")
    world.oidc_answer = (None, None, "OIDC token exchange failed, no token served: x")
    out, err = io.BytesIO(), io.StringIO()
    code = helper.run("get", io.BytesIO(HOST.encode()), out, err, world.ctx())
    assert (code, out.getvalue()) == (0, b"")
    assert err.getvalue().count("\n") == 1 and "OIDC" in err.getvalue()


def test_environment_token_is_served_without_refresh_or_expiry(world):
    world.env = (ENV, "HF_TOKEN")
    world.fresh_answer = (NEW, 5, "should not be asked")
    assert helper.get(cred(), world.ctx())[1:] == [("password", ENV)]


def test_store_never_saves_an_oidc_token(world):
    world.saved = None
    world.oidc_answer = (OIDC, 123, None)
    assert helper.store(cred(password=OIDC), world.ctx()) is None
    assert world.saves == []


def test_erase_renews_a_refreshable_login(world):
    world.renew_answer = SimpleNamespace(state="refreshed", token=NEW, problem=None)
    line = helper.erase(cred(password=TOKEN), world.ctx())
    assert "renewed" in line and NEW not in line and TOKEN not in line
    assert world.deleted == []


def test_erase_removes_a_dead_login_with_the_hint(world):
    world.renew_answer = SimpleNamespace(state="dead", token=TOKEN, problem="invalid_grant")
    line = helper.erase(cred(password=TOKEN), world.ctx())
    assert "git-credential-hf login --web" in line and world.deleted == [TOKEN]


def test_erase_keeps_a_login_it_could_not_renew_now(world):
    world.renew_answer = SimpleNamespace(state="transient", token=TOKEN, problem="timed out")
    line = helper.erase(cred(password=TOKEN), world.ctx())
    assert "kept" in line and world.deleted == []


def test_erase_of_a_valid_oauth_token_never_renews(world):
    world.whoami_error = None
    world.renew_answer = SimpleNamespace(state="refreshed", token=NEW, problem=None)
    assert "still valid" in helper.erase(cred(password=TOKEN), world.ctx())
    assert world.deleted == []


PROBE = r"""
import io, json, sys
sys.argv = ["git-credential-hf", "get"]
sys.stdin = io.TextIOWrapper(io.BytesIO(b"protocol=https\nhost=huggingface.co\n\n"))
before = set(sys.modules)
out = io.BytesIO()
sys.stdout = io.TextIOWrapper(out)
from git_credential_hf.cli import main
code = main()
sys.stdout.flush()
sys.__stdout__.write(json.dumps({"code": code, "out": out.getvalue().decode(),
                                 "new": sorted(set(sys.modules) - before)}))
"""


@pytest.mark.spawns_python
def test_get_on_an_oauth_cache_with_no_refresh_due_stays_light() -> None:
    import time

    for i in range(19):
        tokens.save_token(f"hf_{i:02d}" + "x" * 32, f"name-{i}", activate=False)
    expires = int(time.time()) + 20 * 86400
    tokens.save_token(TOKEN, "oauth-alice", refresh_token="hf_oauth_refresh_" + "r" * 20,
                      expires_at=expires)
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          timeout=60, check=True)
    report = json.loads(done.stdout)
    assert report["out"] == (f"username=hf_user\npassword={TOKEN}\n"
                             f"password_expiry_utc={expires}\n")
    heavy = {"requests", "urllib3", "filelock", "socket", "ssl", "json", "subprocess",
             "git_credential_hf.hub", "git_credential_hf.oauth", "argparse", "tempfile",
             "configparser", "re", "typing"}
    assert sorted(heavy & set(report["new"])) == []


def test_fresh_follows_a_refresh_another_process_just_made() -> None:
    """The token file's token was read, then a peer refreshed it: its section now holds the
    new token. As huggingface_hub's get_token(): serve the file's current token."""
    tokens.save_token(NEW, "oauth-alice", refresh_token="hf_oauth_refresh_" + "r" * 20,
                      expires_at=2_000_000_000)
    assert helper._fresh(TOKEN) == (NEW, None, None)


def test_fresh_keeps_a_token_picked_from_stored_tokens() -> None:
    tokens.save_token(NEW, "oauth-alice", refresh_token="hf_oauth_refresh_" + "r" * 20,
                      expires_at=2_000_000_000)
    tokens.save_token(ENV, "bob", activate=False)  # a plain named token, chosen by username
    assert helper._fresh(ENV) == (ENV, None, None)
