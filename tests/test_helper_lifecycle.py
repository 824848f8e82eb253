"""get/store/erase decisions for OAuth logins and OIDC, over in-memory contexts (the real
refresh and exchange run end to end in tests/e2e/test_lifecycle_e2e.py)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from types import SimpleNamespace

import pytest

from git_credential_hf import guard, helper, hub, oauth, output, protocol, state, tokens

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
            fresh=lambda t: self.fresh_answer,
            renew=lambda t: self.renew_answer if t == self.saved else None)


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


# --- the default _fresh / _renew / _oidc over the real token files, the Hub's OAuth faked ----

REFRESH = "hf_oauth_refresh_" + "r" * 20
DAY = 86400
DEAD_LINE = ("your Hugging Face login has expired and cannot be renewed (refresh token refused); "
             "log in again with: git-credential-hf login --web")


class FakeRefresh:
    """oauth.refresh_if_due for the login holding TOKEN: refreshes only when due or forced,
    with the outcome ``state`` (refreshed -> NEW)."""

    def __init__(self, state: str, due: bool) -> None:
        self.state, self.due = state, due
        self.calls: list[tuple[str, bool]] = []

    def __call__(self, token: str, *, force: bool = False, **_kw) -> oauth.Refresh:
        if token != TOKEN:
            return oauth.Refresh(oauth.NONE, token)
        self.calls.append((token, force))
        if not (self.due or force):
            return oauth.Refresh(oauth.FRESH, token, 7)
        if self.state == oauth.REFRESHED:
            return oauth.Refresh(oauth.REFRESHED, NEW, 1_900_000_000)
        return oauth.Refresh(self.state, TOKEN, 5, problem="p")


FRESH_CASES = [
    # refresh token saved, expires in (days), refresh outcome, expected (token, expiry, problem), refreshed
    pytest.param(True, 20, oauth.REFRESHED, (TOKEN, "exp", None), False, id="not due: served as saved"),
    pytest.param(False, -1, oauth.REFRESHED, (TOKEN, "exp", None), False,
                 id="expired without refresh token: served, never refreshed"),
    pytest.param(True, 0.5, oauth.REFRESHED, (NEW, 1_900_000_000, None), True, id="due: refreshed"),
    pytest.param(True, 0.5, oauth.TRANSIENT, (TOKEN, 5, None), True, id="due, transient: old token"),
    pytest.param(True, -1, oauth.DEAD, (TOKEN, 5, DEAD_LINE), True, id="dead: one line"),
]


@pytest.mark.parametrize(("has_refresh", "days", "outcome", "expected", "refreshed"), FRESH_CASES)
def test_fresh_serves_the_saved_login_refreshed_when_due(has_refresh, days, outcome, expected, refreshed,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    expires = int(time.time() + days * DAY)
    tokens.save_token(TOKEN, "oauth-alice", refresh_token=REFRESH if has_refresh else None,
                      expires_at=expires)
    fake = FakeRefresh(outcome, due=days < 1)
    monkeypatch.setattr(oauth, "refresh_if_due", fake)
    assert helper._fresh(TOKEN) == tuple(expires if v == "exp" else v for v in expected)
    assert fake.calls == ([(TOKEN, False)] if refreshed else [])


RENEW_CASES = [
    # saved with refresh token, with expiry, expected state (None: not a renewable login)
    pytest.param(True, True, oauth.REFRESHED, id="browser login, not due: renewed anyway"),
    pytest.param(False, True, None, id="expiry only: nothing to renew with"),
    pytest.param(False, False, None, id="plain token"),
]


@pytest.mark.parametrize(("has_refresh", "has_expiry", "expected"), RENEW_CASES)
def test_renew_forces_a_refresh_of_a_rejected_browser_login(has_refresh, has_expiry, expected,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    tokens.save_token(TOKEN, "oauth-alice" if has_refresh or has_expiry else None,
                      refresh_token=REFRESH if has_refresh else None,
                      expires_at=int(time.time()) + 20 * DAY if has_expiry else None)
    fake = FakeRefresh(oauth.REFRESHED, due=False)
    monkeypatch.setattr(oauth, "refresh_if_due", fake)
    got = helper._renew(TOKEN)
    if expected is None:
        assert got is None and fake.calls == []
    else:
        assert (got.state, got.token) == (expected, NEW)


SHOWN, SHOWN_NEW = output.mask(TOKEN), output.mask(NEW)

RENEWED_CASES = [
    # refresh outcome, problem, expected line, deleted, guard reason recorded
    pytest.param("refreshed", None, f"the Hub rejected the token {SHOWN}; the login was renewed "
                 f"({SHOWN_NEW}): run the git command again", [], None, id="refreshed"),
    pytest.param("adopted", None, f"the Hub rejected the token {SHOWN}; the login was renewed "
                 f"({SHOWN_NEW}): run the git command again", [], None, id="adopted"),
    pytest.param("dead", "invalid_grant", f"the login {SHOWN} has expired and cannot be renewed "
                 "(refresh token refused); it is no longer the active token. Log in again with: "
                 "git-credential-hf login --web", [TOKEN], None, id="dead"),
    pytest.param("transient", "timed out", f"kept the login {SHOWN}: the Hub rejected the token and "
                 "it could not be renewed now (timed out)", [], "could not renew the login",
                 id="transient"),
    pytest.param("transient", None, f"kept the login {SHOWN}: the Hub rejected the token and "
                 "it could not be renewed now (transient)", [], "could not renew the login",
                 id="transient, no detail"),
    pytest.param("fresh", None, f"the Hub rejected the saved token {SHOWN} (401): it is no longer "
                 "the active token. Log in again with: git-credential-hf login", [TOKEN], None,
                 id="nothing renewed: removed"),
]


@pytest.mark.parametrize(("outcome", "problem", "line", "deleted", "reason"), RENEWED_CASES)
def test_erase_of_a_rejected_login_exact_line(outcome, problem, line, deleted, reason, world) -> None:
    world.renew_answer = SimpleNamespace(state=outcome, token=NEW if outcome in ("refreshed", "adopted") else TOKEN,
                                         problem=problem)
    assert helper.erase(cred(password=TOKEN), world.ctx()) == line
    assert world.deleted == deleted
    recorded = {r[0]: r[3] for r in state.lines(guard.FILE)}
    assert recorded == ({state.token_key(TOKEN): reason} if reason else {})


class FakeOIDC:
    def __init__(self, answer=None, error: Exception | None = None) -> None:
        self.answer, self.error = answer, error
        self.timeouts: list[float | None] = []

    def __call__(self, endpoint=None, total_timeout=None):
        self.timeouts.append(total_timeout)
        if self.error:
            raise self.error
        return self.answer


OIDC_CASES = [
    # HF_OIDC_RESOURCE, exchange, expected, exchanged
    pytest.param(None, FakeOIDC((SimpleNamespace(access_token=OIDC, expires_at=123), True)), None, False,
                 id="not asked for"),
    pytest.param("res", FakeOIDC((SimpleNamespace(access_token=OIDC, expires_at=123), True)),
                 (OIDC, 123, None), True, id="exchanged"),
    pytest.param("res", FakeOIDC(None), None, True, id="exchange declines"),
    pytest.param("res", FakeOIDC(error=oauth.OIDCError("no id token")),
                 (None, None, "OIDC token exchange failed, no token served: no id token"), True, id="fails"),
]


@pytest.mark.parametrize(("resource", "exchange", "expected", "exchanged"), OIDC_CASES)
def test_oidc_default(resource, exchange, expected, exchanged, monkeypatch: pytest.MonkeyPatch) -> None:
    exchange.timeouts = []  # the fakes live in the table: a second run in one process starts clean
    if resource:
        monkeypatch.setenv("HF_OIDC_RESOURCE", resource)
    monkeypatch.setattr(oauth, "oidc_token", exchange)
    assert helper._oidc() == expected
    assert helper._oidc_enabled() is bool(resource)
    # bounded: the exchange may add at most REFRESH_BUDGET_S (15 s) to one get
    assert exchange.timeouts == ([15.0] if exchanged else [])


def test_store_with_oidc_set_saves_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_OIDC_RESOURCE", "res")
    monkeypatch.setattr(hub, "whoami", lambda token, endpoint=None: {"type": "user", "name": "bob"})
    out, err = io.BytesIO(), io.StringIO()
    code = helper.run("store", io.BytesIO(f"{HOST.strip()}\npassword={NEW}\n\n".encode()), out, err)
    assert (code, out.getvalue(), err.getvalue()) == (0, b"", "")
    assert tokens.read_token_file() is None


def test_a_refused_oidc_token_stop_line_names_oidc(world) -> None:
    world.oidc_answer = (OIDC, 123, None)
    guard.record(OIDC, "valid, read token")
    guard.record(OIDC, "valid, read token")
    problems: list[str] = []
    assert helper.get(cred(), world.ctx(), problems) == [("quit", "1")]
    assert problems == [
        f"stopping git: the Hub refused the OIDC-exchanged token {output.mask(OIDC)} 2 times in a row "
        "(valid, read token); fix its access on the Hub, or log in with a token that can do this "
        "(check: git-credential-hf status --repo NS/NAME)"]
