"""oauth.py against a scripted transport: refresh grant, device flow, token exchange, GitHub
Actions id-token minting. (End-to-end runs against scripts/local_hub.py live in tests/e2e.)"""

from __future__ import annotations

import json

import pytest

from git_credential_hf import hub, oauth

ACCESS = "hf_oauth_" + "a" * 30
ROTATED = "hf_oauth_refresh_" + "n" * 30
REFRESH = "hf_oauth_refresh_" + "o" * 30


class Script:
    """Stands in for ``hub.request``: answers from a list, records every call."""

    def __init__(self, *answers: object) -> None:
        self.answers = list(answers)
        self.calls: list[dict] = []

    def __call__(self, method, url, *, base=None, token=None, data=None, json_body=None,
                 params=None, total_timeout=None):
        self.calls.append({"method": method, "url": url, "token": token, "data": data,
                           "json": json_body, "params": params, "timeout": total_timeout})
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, body = answer
        return status, body if isinstance(body, bytes) else json.dumps(body).encode(), {}


@pytest.fixture
def script(monkeypatch):
    def install(*answers):
        s = Script(*answers)
        monkeypatch.setattr(hub, "request", s)
        return s
    return install


def test_refresh_with_rotation(script, monkeypatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://hub.test")
    s = script((200, {"access_token": ACCESS, "refresh_token": ROTATED, "expires_in": 2592000}))
    got = oauth.refresh(REFRESH, total_timeout=5)
    assert (got.access_token, got.refresh_token, got.expires_in) == (ACCESS, ROTATED, 2592000)
    call = s.calls[0]
    assert (call["method"], call["url"], call["token"], call["json"]) == (
        "POST", "http://hub.test/oauth/token", None, None)
    assert call["data"] == {"grant_type": "refresh_token", "refresh_token": REFRESH,
                            "client_id": oauth.DEFAULT_CLIENT_ID}
    assert call["timeout"] == 5
    assert REFRESH not in repr(got) and ACCESS not in repr(got)


def test_refresh_without_rotation_and_client_id_override(script, monkeypatch) -> None:
    monkeypatch.setenv("HF_DEVICE_CODE_OAUTH_CLIENT_ID", "my-client")
    s = script((200, {"access_token": ACCESS}))
    got = oauth.refresh(REFRESH)
    assert (got.refresh_token, got.expires_in, got.expires_at) == (None, None, None)
    assert s.calls[0]["data"]["client_id"] == "my-client"


def test_refresh_invalid_grant_is_an_oauth_error(script) -> None:
    script((400, {"error": "invalid_grant", "error_description": "revoked"}))
    with pytest.raises(oauth.OAuthError) as info:
        oauth.refresh(REFRESH)
    assert info.value.code == "invalid_grant" and REFRESH not in str(info.value)


@pytest.mark.parametrize("answer", [
    (503, {"error": "invalid_grant"}),  # a 5xx is never a verdict
    (200, b"<html>proxy</html>"),
    (200, {"access_token": "has space"}),
    hub.HubUnavailableError("cannot reach"),
])
def test_refresh_transient_failures(script, answer) -> None:
    script(answer)
    with pytest.raises(hub.HubUnavailableError):
        oauth.refresh(REFRESH)


def test_refresh_due() -> None:
    from git_credential_hf import tokens

    now = 1_000_000
    assert tokens.refresh_due(now + 86400, now) and tokens.refresh_due(now - 1, now)
    assert not tokens.refresh_due(now + 86401, now) and not tokens.refresh_due(None, now)


DEVICE = {"device_code": "dev-secret", "user_code": "ABCD-EFGH",
          "verification_uri": "http://hub.test/device"}


def _flow(script, *polls, device=None):
    s = script((200, device or DEVICE), *polls)
    code = oauth.request_device_code("http://hub.test")
    sleeps: list[float] = []
    clock = [0.0]

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock[0] += seconds

    pending: list[int] = []
    try:
        got = oauth.poll_device_token(code, "http://hub.test", sleep=sleep,
                                      clock=lambda: clock[0], on_pending=lambda: pending.append(1))
    except Exception as e:
        got = e
    return s, code, got, sleeps, pending


def test_device_flow_defaults_pending_and_slow_down(script) -> None:
    s, code, got, sleeps, pending = _flow(
        script,
        (400, {"error": "authorization_pending"}),
        (400, {"error": "slow_down"}),
        (400, {"error": "authorization_pending"}),
        (200, {"access_token": ACCESS, "refresh_token": ROTATED, "expires_in": 100}),
    )
    assert (code.interval, code.expires_in) == (5, 900)
    assert code.verification_uri_complete == DEVICE["verification_uri"]
    assert sleeps == [5, 10, 10] and len(pending) == 2
    assert got.access_token == ACCESS and got.refresh_token == ROTATED
    assert s.calls[0]["data"] == {"client_id": oauth.DEFAULT_CLIENT_ID}
    assert s.calls[1]["data"] == {"grant_type": oauth.DEVICE_GRANT, "device_code": "dev-secret",
                                  "client_id": oauth.DEFAULT_CLIENT_ID}
    assert "dev-secret" not in repr(code)


def test_device_flow_transient_answers_keep_polling(script) -> None:
    _s, _code, got, sleeps, _ = _flow(
        script,
        (502, b"bad gateway"),
        (200, b"not json"),
        hub.HubUnavailableError("timed out"),
        (200, {"unrelated": True}),
        (200, {"access_token": ACCESS}),
        device={**DEVICE, "interval": 2},
    )
    assert got.access_token == ACCESS and sleeps == [2, 2, 2, 2]


@pytest.mark.parametrize(("error", "code"), [("expired_token", "expired_token"),
                                             ("access_denied", "access_denied"),
                                             ("invalid_client", "invalid_client")])
def test_device_flow_final_errors(script, error, code) -> None:
    _s, _c, got, _sleeps, _ = _flow(script, (400, {"error": error}))
    assert isinstance(got, oauth.OAuthError) and got.code == code


def test_device_flow_ends_when_the_code_expires(script) -> None:
    answers = [(400, {"error": "authorization_pending"})] * 10
    _s, _c, got, sleeps, _ = _flow(script, *answers, device={**DEVICE, "expires_in": 12,
                                                            "interval": 5})
    assert isinstance(got, oauth.OAuthError) and got.code == "expired_token"
    assert sum(sleeps) >= 12 and len(sleeps) == 3


def test_device_code_request_failure(script) -> None:
    script((503, b"down"))
    with pytest.raises(hub.HubUnavailableError):
        oauth.request_device_code("http://hub.test")
    script((200, {"user_code": "X"}))
    with pytest.raises(hub.HubUnavailableError, match="device_code"):
        oauth.request_device_code("http://hub.test")


def test_oidc_needs_the_resource(monkeypatch) -> None:
    assert oauth.oidc_token() is None
    monkeypatch.setenv("HF_OIDC_RESOURCE", "alice/model")
    with pytest.raises(oauth.OIDCError, match="no OIDC id token"):
        oauth.oidc_token()


def test_oidc_exchange_with_a_given_id_token(script, monkeypatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://hub.test")
    monkeypatch.setenv("HF_OIDC_RESOURCE", "alice/model")
    monkeypatch.setenv("HF_OIDC_ID_TOKEN", "eyJ.id.token")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")  # the given id token wins
    s = script((200, {"access_token": ACCESS, "expires_in": 3600, "token_type": "bearer"}))
    got, minted = oauth.oidc_token()
    assert (got.access_token, got.expires_in, minted) == (ACCESS, 3600, False)
    assert len(s.calls) == 1
    assert s.calls[0]["json"] == {
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
        "subject_token": "eyJ.id.token", "resource": "alice/model"}


def test_oidc_mints_from_github_actions(script, monkeypatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://hub.test")
    monkeypatch.setenv("HF_OIDC_RESOURCE", "alice/model")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", "http://gh.test/token?api-version=2.0")
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "gh-request-token")
    s = script((200, {"value": "eyJ.minted"}), (200, {"access_token": ACCESS, "expires_in": 60}))
    got, minted = oauth.oidc_token()
    assert minted and got.access_token == ACCESS
    mint = s.calls[0]
    assert (mint["method"], mint["url"], mint["token"], mint["params"]) == (
        "GET", "http://gh.test/token?api-version=2.0", "gh-request-token",
        {"audience": "http://hub.test"})
    assert s.calls[1]["json"]["subject_token"] == "eyJ.minted"


@pytest.mark.parametrize("answer", [(400, {"error": "invalid_request"}), (500, b"x"),
                                    (200, {"token_type": "bearer"})])
def test_oidc_exchange_failures_are_oidc_errors(script, monkeypatch, answer) -> None:
    monkeypatch.setenv("HF_OIDC_RESOURCE", "alice/model")
    monkeypatch.setenv("HF_OIDC_ID_TOKEN", "eyJ.id.token")
    script(answer)
    with pytest.raises(oauth.OIDCError) as info:
        oauth.oidc_token()
    assert "eyJ.id.token" not in str(info.value)


def test_github_minting_needs_its_variables(monkeypatch) -> None:
    monkeypatch.setenv("HF_OIDC_RESOURCE", "alice/model")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    with pytest.raises(oauth.OIDCError, match="id-token: write"):
        oauth.oidc_token()


# --- refresh_if_due over the real token cache -------------------------------------------------

from git_credential_hf import tokens  # noqa: E402

OLD = "hf_oauth_" + "o" * 30
NEW = "hf_oauth_" + "n" * 30


def _login(expires_at: int, refresh: str | None = REFRESH) -> None:
    tokens.save_token("hf_" + "p" * 34, "plain", activate=False)
    if refresh is None:
        tokens.save_token(OLD, "oauth-alice", expires_at=expires_at)
    else:
        tokens.save_token(OLD, "oauth-alice", refresh_token=refresh, expires_at=expires_at)


def test_not_due_makes_no_call(script) -> None:
    import time

    _login(int(time.time()) + 2 * 86400)
    s = script()
    got = oauth.refresh_if_due(OLD)
    assert (got.state, got.token) == (oauth.FRESH, OLD)
    assert s.calls == []


def test_plain_token_is_not_oauth(script) -> None:
    tokens.save_token(OLD, "plain")
    assert oauth.refresh_if_due(OLD).state == oauth.NONE


def test_due_refresh_saves_everything(script) -> None:
    import time

    _login(int(time.time()) + 3600)
    s = script((200, {"access_token": NEW, "refresh_token": ROTATED, "expires_in": 2592000}))
    got = oauth.refresh_if_due(OLD)
    assert (got.state, got.token) == (oauth.REFRESHED, NEW)
    assert s.calls[0]["data"]["refresh_token"] == REFRESH
    assert 0 < s.calls[0]["timeout"] <= oauth.REFRESH_BUDGET_S
    fields = tokens.stored_sections()["oauth-alice"]
    assert fields["hf_token"] == NEW and fields["refresh_token"] == ROTATED
    assert abs(int(fields["expires_at"]) - (time.time() + 2592000)) < 60
    assert tokens.read_token_file() == NEW
    assert tokens.stored_sections()["plain"] == {"hf_token": "hf_" + "p" * 34}


def test_refresh_keeps_the_refresh_token_when_not_rotated(script) -> None:
    _login(1)
    script((200, {"access_token": NEW, "expires_in": 60}))
    assert oauth.refresh_if_due(OLD).state == oauth.REFRESHED
    assert tokens.stored_sections()["oauth-alice"]["refresh_token"] == REFRESH


def test_a_switch_made_meanwhile_is_kept(script, monkeypatch) -> None:
    _login(1)
    tokens.save_token("hf_" + "s" * 34, "other")  # the user switched: the file holds another
    script((200, {"access_token": NEW, "expires_in": 60}))
    assert oauth.refresh_if_due(OLD).state == oauth.REFRESHED
    assert tokens.read_token_file() == "hf_" + "s" * 34


def test_adopts_another_processs_refresh(script, monkeypatch) -> None:
    _login(1)
    real = tokens.stored_sections

    def peer_refreshed_meanwhile():
        tokens.save_token(NEW, "oauth-alice", refresh_token=ROTATED, expires_at=2_000_000_000)
        monkeypatch.setattr(tokens, "stored_sections", real)
        return real()

    monkeypatch.setattr(tokens, "stored_sections", peer_refreshed_meanwhile)
    s = script()
    got = oauth.refresh_if_due(OLD)
    assert (got.state, got.token, got.expires_at) == (oauth.ADOPTED, NEW, 2_000_000_000)
    assert s.calls == []


def test_invalid_grant_is_dead_and_keeps_everything(script) -> None:
    _login(1)
    before = tokens.stored_sections()
    script((400, {"error": "invalid_grant"}))
    got = oauth.refresh_if_due(OLD)
    assert (got.state, got.token) == (oauth.DEAD, OLD)
    assert tokens.stored_sections() == before and tokens.read_token_file() == OLD


def test_network_failure_serves_the_old_token(script) -> None:
    _login(1)
    script(hub.HubUnavailableError("cannot reach"))
    got = oauth.refresh_if_due(OLD)
    assert (got.state, got.token) == (oauth.TRANSIENT, OLD)


def test_force_refreshes_a_token_not_yet_due(script) -> None:
    import time

    _login(int(time.time()) + 20 * 86400)
    script((200, {"access_token": NEW, "expires_in": 60}))
    assert oauth.refresh_if_due(OLD, force=True).state == oauth.REFRESHED


def test_no_refresh_token_never_calls(script) -> None:
    _login(1, refresh=None)
    s = script()
    got = oauth.refresh_if_due(OLD, force=True)
    assert (got.state, got.token, got.expires_at) == (oauth.FRESH, OLD, 1)
    assert s.calls == []


# --- the endpoint given, the exact one-line errors, the time budgets --------------------------

MIRROR = "http://mirror.test/proxy-X/"  # an endpoint with a path, given with a trailing slash
MIRROR_BASE = "http://mirror.test/proxy-X"


def _fields(got: oauth.Refresh) -> tuple:
    return (got.state, got.token, got.expires_at, got.problem)


def test_refresh_posts_to_the_given_endpoint_and_names_it(script, monkeypatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://env.test")  # not the one asked for
    s = script((400, {"error": "invalid_grant"}), (503, b"down"))
    with pytest.raises(oauth.OAuthError) as refused:
        oauth.refresh(REFRESH, MIRROR)
    assert str(refused.value) == f"token refresh refused by {MIRROR_BASE} (invalid_grant)"
    with pytest.raises(hub.HubUnavailableError) as down:
        oauth.refresh(REFRESH, MIRROR)
    assert str(down.value) == f"token refresh: {MIRROR_BASE} answered HTTP 503 without a token"
    assert [c["url"] for c in s.calls] == [MIRROR_BASE + "/oauth/token"] * 2
    assert REFRESH not in str(refused.value) + str(down.value)


def test_token_response_repr_tells_only_whether_a_refresh_token_came(script) -> None:
    script((200, {"access_token": ACCESS, "refresh_token": ROTATED, "expires_in": 60}),
           (200, {"access_token": ACCESS}))
    assert repr(oauth.refresh(REFRESH, "http://hub.test")) == (
        "TokenResponse(expires_in=60, refresh=True)")
    assert repr(oauth.refresh(REFRESH, "http://hub.test")) == (
        "TokenResponse(expires_in=None, refresh=False)")


def test_exchange_posts_to_the_given_endpoint_with_its_budget(script, monkeypatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://env.test")
    s = script((400, {"error": "invalid_request"}), (502, b"bad gateway"))
    with pytest.raises(oauth.OIDCError) as refused:
        oauth.exchange("eyJ.id.token", "alice/model", MIRROR, total_timeout=7)
    assert str(refused.value) == (
        f"OIDC token exchange refused by {MIRROR_BASE} (invalid_request)")
    with pytest.raises(oauth.OIDCError) as down:
        oauth.exchange("eyJ.id.token", "alice/model", MIRROR, total_timeout=7)
    assert str(down.value) == (
        f"OIDC token exchange: {MIRROR_BASE} answered HTTP 502 without a token")
    assert [(c["method"], c["url"], c["timeout"]) for c in s.calls] == [
        ("POST", MIRROR_BASE + "/oauth/token", 7)] * 2
    assert "eyJ.id.token" not in str(refused.value) + str(down.value)


def _gh_env(monkeypatch, url="http://gh.test/idtoken?api-version=2.0") -> None:
    monkeypatch.setenv("HF_OIDC_RESOURCE", "alice/model")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", url)
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "gh-request-token")


class _Clock:
    """Stands in for oauth's ``time``: a monotonic clock that a scripted answer advances."""

    def __init__(self, start: float = 100.0) -> None:
        import time

        self.now = start
        self.time = time.time
        self.sleep = time.sleep

    def monotonic(self) -> float:
        return self.now


def _slow(clock: _Clock, seconds: float, answer):
    """A scripted answer that takes ``seconds`` of the clock."""
    def answer_after():
        clock.now += seconds
        return answer
    return answer_after


class TimedScript(Script):
    def __call__(self, *args, **kwargs):
        if callable(self.answers[0]) and not isinstance(self.answers[0], Exception):
            self.answers[0] = self.answers[0]()
        return super().__call__(*args, **kwargs)


@pytest.mark.parametrize(("mint_takes", "exchange_budget"), [(4, 11), (20, 0.5)])
def test_oidc_minting_and_exchange_share_one_budget(monkeypatch, mint_takes,
                                                    exchange_budget) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://env.test")
    _gh_env(monkeypatch)
    clock = _Clock()
    monkeypatch.setattr(oauth, "time", clock)
    s = TimedScript(_slow(clock, mint_takes, (200, {"value": "eyJ.minted"})),
                    (200, {"access_token": ACCESS, "expires_in": 60}))
    monkeypatch.setattr(hub, "request", s)
    got, minted = oauth.oidc_token(MIRROR, total_timeout=15)
    assert minted and got.access_token == ACCESS
    mint, exchange = s.calls
    assert (mint["params"], mint["timeout"]) == ({"audience": MIRROR_BASE}, 15)
    assert (exchange["url"], exchange["timeout"]) == (MIRROR_BASE + "/oauth/token",
                                                      exchange_budget)


def test_oidc_without_a_budget_leaves_the_default_timeouts(script, monkeypatch) -> None:
    _gh_env(monkeypatch)
    s = script((200, {"value": "eyJ.minted"}), (200, {"access_token": ACCESS}))
    oauth.oidc_token("http://hub.test")
    assert [c["timeout"] for c in s.calls] == [None, None]


def test_oidc_given_id_token_goes_to_the_given_endpoint(script, monkeypatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://env.test")
    monkeypatch.setenv("HF_OIDC_RESOURCE", "alice/model")
    monkeypatch.setenv("HF_OIDC_ID_TOKEN", "eyJ.id.token")
    s = script((200, {"access_token": ACCESS}))
    got, minted = oauth.oidc_token(MIRROR, total_timeout=15)
    assert (got.access_token, minted) == (ACCESS, False)
    assert s.calls[0]["url"] == MIRROR_BASE + "/oauth/token"
    assert 14 < s.calls[0]["timeout"] <= 15


def test_no_id_token_at_all_is_one_exact_line(monkeypatch) -> None:
    monkeypatch.setenv("HF_OIDC_RESOURCE", "alice/model")
    with pytest.raises(oauth.OIDCError) as info:
        oauth.oidc_token("http://hub.test")
    assert str(info.value) == (
        "HF_OIDC_RESOURCE is set but no OIDC id token is available (set HF_OIDC_ID_TOKEN, or "
        "run in GitHub Actions with `permissions: id-token: write`)")


@pytest.mark.parametrize("missing", ["ACTIONS_ID_TOKEN_REQUEST_URL",
                                     "ACTIONS_ID_TOKEN_REQUEST_TOKEN"])
def test_github_minting_needs_both_variables(script, monkeypatch, missing) -> None:
    _gh_env(monkeypatch)
    monkeypatch.delenv(missing)
    s = script()
    with pytest.raises(oauth.OIDCError) as info:
        oauth.oidc_token("http://hub.test")
    assert str(info.value) == (
        "GitHub Actions gave no id token: the job needs `permissions: id-token: write`")
    assert s.calls == []  # nothing is sent without both


@pytest.mark.parametrize("answer", [(500, {"value": "eyJ.minted"}), (403, b"denied"),
                                    (200, {"value": ""}), (200, ["not", "a", "dict"])])
def test_github_minting_failure_names_the_service_without_its_query(script, monkeypatch,
                                                                    answer) -> None:
    # the query (which may carry signatures) is never shown, whatever it holds
    _gh_env(monkeypatch, url="http://gh.test/idtoken?api-version=2.0&sig=a?b")
    s = script(answer)
    with pytest.raises(oauth.OIDCError) as info:
        oauth.oidc_token("http://hub.test")
    assert str(info.value) == (
        f"cannot mint a GitHub Actions id token: http://gh.test/idtoken answered HTTP {answer[0]}")
    assert len(s.calls) == 1  # no exchange without an id token


def test_github_minting_transport_failure_is_one_line(script, monkeypatch) -> None:
    _gh_env(monkeypatch)
    script(hub.HubUnavailableError("http://gh.test/idtoken is too slow (no answer within 15 s)"))
    with pytest.raises(oauth.OIDCError) as info:
        oauth.oidc_token("http://hub.test")
    assert str(info.value) == ("cannot mint a GitHub Actions id token: http://gh.test/idtoken "
                               "is too slow (no answer within 15 s)")
    assert "gh-request-token" not in str(info.value)


# --- refresh_if_due: every answer, whole ------------------------------------------------------


def test_due_refresh_answers_the_new_token_and_its_expiry(script, monkeypatch) -> None:
    import time

    _login(1)
    script((200, {"access_token": NEW, "expires_in": 3600}))
    before = int(time.time())
    got = oauth.refresh_if_due(OLD)
    after = int(time.time())
    assert _fields(got)[:2] == (oauth.REFRESHED, NEW)
    assert before + 3600 <= got.expires_at <= after + 3600
    assert _fields(got)[2:] == (int(tokens.stored_sections()["oauth-alice"]["expires_at"]), None)


def test_refresh_if_due_uses_the_given_endpoint_and_a_floor_budget(script, monkeypatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://env.test")
    _login(1)
    s = script((200, {"access_token": NEW, "expires_in": 60}))
    assert oauth.refresh_if_due(OLD, endpoint=MIRROR, budget=0.1).state == oauth.REFRESHED
    assert s.calls[0]["url"] == MIRROR_BASE + "/oauth/token"
    assert s.calls[0]["timeout"] == 0.5  # a budget spent on the lock still allows one request


def test_dead_refresh_answer_names_the_refusal(script, monkeypatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://hub.test")
    _login(1)
    script((400, {"error": "invalid_grant"}))
    assert _fields(oauth.refresh_if_due(OLD)) == (
        oauth.DEAD, OLD, 1,
        "token refresh refused by http://hub.test (invalid_grant)")


@pytest.mark.parametrize(("answer", "problem"), [
    ((400, {"error": "invalid_client"}), "token refresh refused by http://hub.test (invalid_client)"),
    (hub.HubUnavailableError("http://hub.test is too slow"), "http://hub.test is too slow"),
])
def test_transient_refresh_answer_keeps_the_old_token(script, monkeypatch, answer,
                                                      problem) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://hub.test")
    _login(1)
    before = tokens.stored_sections()
    script(answer)
    assert _fields(oauth.refresh_if_due(OLD)) == (
        oauth.TRANSIENT, OLD, 1, problem)
    assert tokens.stored_sections() == before and tokens.read_token_file() == OLD


def _meanwhile(monkeypatch, change) -> None:
    """Another process changes stored_tokens between our first read and the locked re-read."""
    real = tokens.stored_sections

    def changed_meanwhile():
        monkeypatch.setattr(tokens, "stored_sections", real)
        change()
        return real()

    monkeypatch.setattr(tokens, "stored_sections", changed_meanwhile)


def test_a_logout_meanwhile_leaves_nothing_to_refresh(script, monkeypatch) -> None:
    _login(1)
    _meanwhile(monkeypatch, lambda: tokens.delete_named("oauth-alice"))
    s = script()
    assert _fields(oauth.refresh_if_due(OLD)) == (
        oauth.TRANSIENT, OLD, None, "the login was removed")
    assert s.calls == [] and "oauth-alice" not in tokens.stored_sections()


def test_a_refresh_token_dropped_meanwhile_is_not_called(script, monkeypatch) -> None:
    _login(1)
    def drop_refresh_token() -> None:  # the same token saved again, with an expiry only
        tokens.delete_named("oauth-alice")
        tokens.save_token(OLD, "oauth-alice", expires_at=5)

    _meanwhile(monkeypatch, drop_refresh_token)
    s = script()
    got = oauth.refresh_if_due(OLD)
    assert s.calls == []
    assert _fields(got) == (oauth.FRESH, OLD, 5, None)


@pytest.mark.parametrize("rotated", [ROTATED, None])
def test_adopted_answer_tells_whether_the_peer_kept_a_refresh_token(script, monkeypatch,
                                                                    rotated) -> None:
    _login(1)
    _meanwhile(monkeypatch, lambda: tokens.save_token(
        NEW, "oauth-alice", refresh_token=rotated, expires_at=2_000_000_000))
    s = script()
    assert _fields(oauth.refresh_if_due(OLD)) == (
        oauth.ADOPTED, NEW, 2_000_000_000, None)
    assert s.calls == []


def test_the_refreshed_token_keeps_its_account(script) -> None:
    from git_credential_hf import accounts

    _login(1)
    accounts.learn(OLD, {"name": "alice", "type": "user",
                         "auth": {"accessToken": {"role": "write"}}})
    script((200, {"access_token": NEW, "expires_in": 60}))
    assert oauth.refresh_if_due(OLD).state == oauth.REFRESHED
    assert accounts.account_of(NEW) == "alice"
    assert accounts.select("alice") == (NEW, "file")


# --- what the Hub's answers mean: kept, transient or refused ----------------------------------


@pytest.mark.parametrize("answer", [
    (503, {"access_token": ACCESS}),  # a 5xx is never an answer, even one holding a token
    (500, {"access_token": ACCESS}),
    (500, {"error": "invalid_grant"}),
    (400, {}),  # a 4xx without an OAuth error code is no verdict
    (400, {"error": 5}),
    (400, {"error": ""}),
    (200, {"error": "invalid_grant"}),  # an error code outside a 4xx is no verdict either
])
def test_refresh_answers_that_are_no_verdict(script, answer) -> None:
    script(answer)
    with pytest.raises(hub.HubUnavailableError) as info:
        oauth.refresh(REFRESH, "http://hub.test")
    assert str(info.value) == (
        f"token refresh: http://hub.test answered HTTP {answer[0]} without a token")


def test_a_malformed_rotated_refresh_token_is_not_saved(script) -> None:
    _login(1)
    script((200, {"access_token": NEW, "refresh_token": "has space", "expires_in": 60}))
    assert oauth.refresh_if_due(OLD).state == oauth.REFRESHED
    assert tokens.stored_sections()["oauth-alice"]["refresh_token"] == REFRESH  # the old one


def test_refresh_that_cannot_connect_names_the_endpoint(monkeypatch) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    with pytest.raises(hub.HubUnavailableError) as info:
        oauth.refresh(REFRESH, base + "/", total_timeout=5)
    assert str(info.value) == f"cannot reach {base} (connection failed)"


# --- the device flow, answer by answer --------------------------------------------------------


def test_device_flow_at_a_given_endpoint(script, monkeypatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://env.test")
    complete = "http://hub.test/device?user_code=ABCD-EFGH"
    s = script((200, {**DEVICE, "verification_uri_complete": complete}),
               (400, {"error": "invalid_client"}))
    code = oauth.request_device_code(MIRROR)
    assert code.verification_uri_complete == complete
    with pytest.raises(oauth.OAuthError) as info:
        oauth.poll_device_token(code, MIRROR, sleep=lambda _s: None)
    assert (str(info.value), info.value.code) == (
        f"browser login refused by {MIRROR_BASE} (invalid_client)", "invalid_client")
    assert [c["url"] for c in s.calls] == [MIRROR_BASE + "/oauth/device",
                                           MIRROR_BASE + "/oauth/token"]


@pytest.mark.parametrize(("error", "message"), [
    ("expired_token", "the login code expired; please try again"),
    ("access_denied", "the login was denied in the browser"),
])
def test_device_flow_final_errors_are_one_line(script, error, message) -> None:
    _s, _c, got, sleeps, _ = _flow(script, (400, {"error": "authorization_pending"}),
                                   (400, {"error": error}))
    assert (str(got), got.code, sleeps) == (message, error, [5])


def test_device_flow_polls_only_within_the_code_lifetime(script) -> None:
    answers = [(400, {"error": "authorization_pending"})] * 5
    s, _c, got, sleeps, pending = _flow(script, *answers, device={**DEVICE, "expires_in": 10})
    assert (str(got), got.code) == (
        "the login code expired before it was approved; please try again", "expired_token")
    assert sleeps == [5, 5] and len(pending) == 2 and len(s.calls) == 1 + 2


@pytest.mark.parametrize("answer", [
    (500, {"error": "invalid_client"}),  # a 5xx is transient, whatever it says
    (502, {"error": "server_error"}),
    (400, {"error": ""}),
    (400, {"error": 7}),
    (400, {"access_token": "has space"}),
])
def test_device_flow_keeps_polling_on_answers_that_are_no_verdict(script, answer) -> None:
    _s, _c, got, sleeps, pending = _flow(script, answer, (200, {"access_token": ACCESS}))
    assert got.access_token == ACCESS and sleeps == [5] and pending == []


@pytest.mark.parametrize(("given", "interval", "expires_in"), [
    ({"interval": 0, "expires_in": 0}, 5, 900),
    ({"interval": "0", "expires_in": "0"}, 5, 900),
    ({"interval": 1, "expires_in": 1}, 1, 1),
    ({"interval": "1", "expires_in": "30"}, 1, 30),
    ({"interval": True, "expires_in": -3}, 5, 900),
    ({"interval": "2s", "expires_in": None}, 5, 900),
    # a fraction of a second is rounded up, never down to 0 (a poll loop with no pause)
    ({"interval": 0.5, "expires_in": 0.25}, 1, 1),
    ({"interval": 2.5, "expires_in": 899.5}, 3, 900),
])
def test_device_code_interval_and_lifetime(script, given, interval, expires_in) -> None:
    script((200, {**DEVICE, **given}))
    code = oauth.request_device_code("http://hub.test")
    assert (code.interval, code.expires_in) == (interval, expires_in)


@pytest.mark.parametrize(("answer", "error", "message"), [
    ((400, {"error": "unauthorized_client"}), oauth.OAuthError,
     "http://hub.test refused the browser login (unauthorized_client)"),
    ((500, {"error": "server_error"}), hub.HubUnavailableError,
     "http://hub.test/oauth/device answered HTTP 500"),
    ((503, DEVICE), hub.HubUnavailableError, "http://hub.test/oauth/device answered HTTP 503"),
    ((400, b"<html>"), hub.HubUnavailableError, "http://hub.test/oauth/device answered HTTP 400"),
    ((200, b"<html>"), hub.HubUnavailableError, "http://hub.test/oauth/device answered HTTP 200"),
    ((200, {"user_code": "X", "verification_uri": "u"}), hub.HubUnavailableError,
     "http://hub.test/oauth/device answered without device_code"),
    ((200, {**DEVICE, "device_code": 123}), hub.HubUnavailableError,
     "http://hub.test/oauth/device answered an unusable code"),
    ((200, {**DEVICE, "user_code": ""}), hub.HubUnavailableError,
     "http://hub.test/oauth/device answered an unusable code"),
])
def test_device_code_request_failures_are_one_line(script, answer, error, message) -> None:
    script(answer)
    with pytest.raises(error) as info:
        oauth.request_device_code("http://hub.test/")
    assert str(info.value) == message
    if error is oauth.OAuthError:
        assert info.value.code == "unauthorized_client"
