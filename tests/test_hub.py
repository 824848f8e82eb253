"""The Hub client against a real local HTTP server: each answer maps to one clear error."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from support import closed_port, load_local_hub

from git_credential_hf import hub

TOKEN = "hf_" + "h" * 30 + "HUBX"


@pytest.fixture
def server(tmp_path: Path):
    """A started local Hub; the tests pass its URL themselves (HF_ENDPOINT is not set)."""
    with load_local_hub().LocalHub(tmp_path / "hub") as h:
        h.add_token(TOKEN, user="alice", role="write", display_name="laptop", orgs=["acme"])
        yield h


def test_valid_token(server) -> None:
    info = hub.whoami(TOKEN, server.url)
    assert info["name"] == "alice" and info["type"] == "user"
    assert [o["name"] for o in info["orgs"]] == ["acme"]
    assert hub.token_role(info) == "write" and hub.token_name(info) == "laptop"


def test_endpoint_comes_from_environment(server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", server.url + "/")
    assert hub.whoami(TOKEN)["name"] == "alice"


def test_invalid_token(server) -> None:
    bad = "hf_" + "z" * 30 + "BADX"
    with pytest.raises(hub.InvalidTokenError) as info:
        hub.whoami(bad, server.url)
    assert bad not in str(info.value) and "hf_****BADX" in str(info.value)


def test_org_token_is_refused_without_network(server) -> None:
    with pytest.raises(hub.OrgTokenError, match="personal account token"):
        hub.whoami("api_org_" + "o" * 30, server.url)
    assert server.count("/api/whoami-v2") == 0


@pytest.mark.parametrize(
    ("behavior", "error", "words"),
    [
        ("500", hub.HubUnavailableError, "HTTP 500"),
        ("429", hub.RateLimitedError, "retry in 1 s"),
        ("badjson", hub.HubUnavailableError, "malformed JSON"),
    ],
)
def test_error_answers(server, behavior: str, error: type, words: str) -> None:
    server.whoami_behavior = behavior
    with pytest.raises(error) as info:
        hub.whoami(TOKEN, server.url)
    assert words in str(info.value) and TOKEN not in str(info.value) and TOKEN not in repr(info.value)
    if behavior == "429":
        assert info.value.retry_after == 1.0


def test_redirect_is_not_followed(server, tmp_path: Path) -> None:
    with load_local_hub().LocalHub(tmp_path / "elsewhere") as elsewhere:
        server.whoami_behavior = f"redirect:{elsewhere.url}"
        with pytest.raises(hub.HubUnavailableError, match="redirect"):
            hub.whoami(TOKEN, server.url)
        assert elsewhere.requests_log == []  # the token never travelled


def test_unreachable_is_quick_and_clear() -> None:
    port = closed_port()
    start = time.monotonic()
    with pytest.raises(hub.HubUnavailableError, match="cannot reach"):
        hub.whoami(TOKEN, f"http://127.0.0.1:{port}")
    assert time.monotonic() - start < 15


@pytest.mark.parametrize(
    ("access", "writes"),
    [
        ({"role": "write"}, True),
        ({"role": "read"}, False),
        ({}, False),
        ({"role": "fineGrained", "fineGrained": {"global": ["repo.write"]}}, True),
        ({"role": "fineGrained", "fineGrained": {"global": ["repo.content.read"]}}, False),
        ({"role": "fineGrained", "fineGrained": {"scoped": [
            {"entity": {"type": "user", "name": "alice"}, "permissions": ["repo.content.read", "repo.write"]}]}}, True),
        ({"role": "fineGrained", "fineGrained": {"scoped": [
            {"entity": {"type": "org", "name": "acme"}, "permissions": ["repo.content.read"]}]}}, False),
        ({"role": "fineGrained"}, False),
    ],
)
def test_can_write(access: dict, writes: bool) -> None:
    assert hub.can_write({"name": "alice", "auth": {"accessToken": access}}) is writes


def test_token_name_falls_back_to_account() -> None:
    assert hub.token_name({"name": "alice", "auth": {"accessToken": {"role": "read"}}}) == "alice"
    assert hub.token_name({"name": "alice"}) == "alice"


# --- issue 14: tests that kill mutants (keep this block at the end of the file) ------------------


from scripted_hub import ScriptedHub  # noqa: E402  (tests/scripted_hub.py)


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    h = ScriptedHub()
    yield h
    h.close()


def user_json(size: int | None = None) -> bytes:
    """A valid whoami answer, padded with spaces to exactly ``size`` bytes."""
    import json

    body = json.dumps({"type": "user", "name": "alice"}).encode()
    return body if size is None else body + b" " * (size - len(body))


def test_403_is_not_an_invalid_token(scripted) -> None:
    """Only 401 means the token is dead; a 403 (no permission, a blocked account, a proxy) must
    not be taken for it, or `erase` would delete a working token."""
    scripted.status = 403
    with pytest.raises(hub.HubError) as info:
        hub.whoami(TOKEN, scripted.url)
    assert type(info.value) is hub.HubUnavailableError
    assert "HTTP 403" in str(info.value) and TOKEN not in str(info.value)


def test_401_is_an_invalid_token_named_by_its_mask(scripted) -> None:
    scripted.status = 401
    with pytest.raises(hub.InvalidTokenError) as info:
        hub.whoami(TOKEN, scripted.url)
    assert str(info.value) == f"{scripted.url} rejected the token hf_****HUBX (401)"
    assert TOKEN not in str(info.value)


@pytest.mark.parametrize(("status", "words"), [(300, "redirect (300)"), (399, "redirect (399)"),
                                               (400, "HTTP 400"), (204, "HTTP 204"),
                                               (404, "HTTP 404"), (503, "HTTP 503")])
def test_every_other_status_is_unavailable(scripted, status: int, words: str) -> None:
    scripted.status = status
    scripted.body = b"" if status == 204 else user_json()
    with pytest.raises(hub.HubUnavailableError) as info:
        hub.whoami(TOKEN, scripted.url)
    assert words in str(info.value) and TOKEN not in str(info.value)


def test_the_request_carries_the_token_as_a_bearer_and_names_this_tool(scripted) -> None:
    scripted.body = user_json()
    assert hub.whoami(TOKEN, scripted.url + "/") == {"type": "user", "name": "alice"}
    (seen,) = scripted.requests
    assert seen["authorization"] == f"Bearer {TOKEN}"
    assert seen["user-agent"] == "git-credential-hf"


@pytest.mark.parametrize(("header", "retry", "hint"), [
    ({"Retry-After": "7"}, 7.0, "; retry in 7 s"),
    ({"Retry-After": "-3"}, 0.0, "; retry in 0 s"),
    ({"Retry-After": "soon"}, None, ""),
    ({}, None, ""),
])
def test_429_reads_retry_after(scripted, header: dict, retry: float | None, hint: str) -> None:
    scripted.status, scripted.headers = 429, header
    with pytest.raises(hub.RateLimitedError) as info:
        hub.whoami(TOKEN, scripted.url)
    assert info.value.retry_after == retry
    assert str(info.value) == f"{scripted.url} is rate-limiting whoami requests (429){hint}"


def test_whoami_body_cap(scripted) -> None:
    """1 MiB of answer is read; one byte more is refused, whatever its content."""
    scripted.body = user_json(hub.MAX_BODY)
    assert hub.whoami(TOKEN, scripted.url)["name"] == "alice"
    scripted.body = user_json(hub.MAX_BODY + 1)
    with pytest.raises(hub.HubUnavailableError, match="oversized body"):
        hub.whoami(TOKEN, scripted.url)


def test_an_endless_body_is_cut_at_the_cap(scripted) -> None:
    """A server that never stops sending: whoami stops reading after the cap and hangs up,
    well before the overall deadline."""
    scripted.endless = True
    start = time.monotonic()
    with pytest.raises(hub.HubUnavailableError, match="oversized body"):
        hub.whoami(TOKEN, scripted.url)
    assert time.monotonic() - start < hub.TOTAL_TIMEOUT_S
    deadline = time.monotonic() + 5
    while scripted.sent < 64 * 1024 * 1024 and time.monotonic() < deadline:
        before = scripted.sent
        time.sleep(0.2)
        if scripted.sent == before:
            break  # the server's writes stopped: the client hung up
    assert scripted.sent < 16 * 1024 * 1024  # the cap plus socket buffers, not the stream


def test_an_unexpected_json_answer_is_unavailable(scripted) -> None:
    for body in (b"[]", b'{"type": "user"}', b'{"name": 5}', b"null"):
        scripted.body = body
        with pytest.raises(hub.HubUnavailableError, match="unexpected JSON"):
            hub.whoami(TOKEN, scripted.url)


def test_a_stalled_answer_is_abandoned_at_the_deadline_and_its_socket_shut(scripted, monkeypatch) -> None:
    """Headers, then silence: whoami gives up at TOTAL_TIMEOUT_S and shuts the socket down so
    the worker thread ends now, not at the read timeout (10 s) or never."""
    import threading

    scripted.stall, scripted.body = True, user_json()
    monkeypatch.setattr(hub, "TOTAL_TIMEOUT_S", 0.5)
    # Workers other tests abandoned may still be winding down: watch only this call's worker.
    earlier = {t for t in threading.enumerate() if t.name == "git-credential-hf-http"}
    start = time.monotonic()
    with pytest.raises(hub.HubUnavailableError) as info:
        hub.whoami(TOKEN, scripted.url)
    assert str(info.value) == f"{scripted.url} is too slow (no answer within 0.5 s)"
    assert time.monotonic() - start < 5
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        workers = [t for t in threading.enumerate()
                   if t.name == "git-credential-hf-http" and t not in earlier]
        if not workers:
            break
        time.sleep(0.05)
    assert workers == [], "the abandoned worker is still blocked on its socket"


@pytest.mark.parametrize(("status", "message"), [
    (301, "{url} answered with a redirect (301); not followed"),
    (500, "{url} answered HTTP 500"),
])
def test_unavailable_lines_are_exact(scripted, status: int, message: str) -> None:
    scripted.status = status
    with pytest.raises(hub.HubUnavailableError) as info:
        hub.whoami(TOKEN, scripted.url)
    assert str(info.value) == message.format(url=scripted.url)


@pytest.mark.parametrize(("body", "message"), [
    (b"{", "{url} answered with malformed JSON"),
    (b'{"type": "user"}', "{url} answered with unexpected JSON (no account name)"),
])
def test_bad_json_lines_are_exact(scripted, body: bytes, message: str) -> None:
    scripted.body = body
    with pytest.raises(hub.HubUnavailableError) as info:
        hub.whoami(TOKEN, scripted.url)
    assert str(info.value) == message.format(url=scripted.url)


def test_oversized_line_is_exact(scripted) -> None:
    scripted.body = user_json(hub.MAX_BODY + 1)
    with pytest.raises(hub.HubUnavailableError) as info:
        hub.whoami(TOKEN, scripted.url)
    assert str(info.value) == f"{scripted.url} answered with an oversized body"


def test_a_silent_server_times_out_on_the_read_timeout(scripted, monkeypatch) -> None:
    scripted.silent = True
    monkeypatch.setattr(hub, "READ_TIMEOUT_S", 0.3)
    with pytest.raises(hub.HubUnavailableError) as info:
        hub.whoami(TOKEN, scripted.url)
    assert str(info.value) == f"{scripted.url} timed out"


def test_unreachable_and_invalid_endpoint_lines_are_exact() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    with pytest.raises(hub.HubUnavailableError) as info:
        hub.whoami(TOKEN, base)
    assert str(info.value) == f"cannot reach {base} (connection failed)"
    with pytest.raises(hub.HubUnavailableError) as info:
        hub.whoami(TOKEN, "hub.example")
    assert str(info.value) == "request to hub.example failed (MissingSchema)"


@pytest.mark.parametrize("token", ["hf_!", "hf_~", "!~"])
def test_printable_ascii_edges_are_token_bytes(scripted, token: str) -> None:
    scripted.body = user_json()
    assert hub.whoami(token, scripted.url)["name"] == "alice"
    assert scripted.requests[-1]["authorization"] == f"Bearer {token}"


@pytest.mark.parametrize("token", ["", "hf_a b", "hf_\x7f", "hf_\x1f", "hf_é"])
def test_malformed_tokens_never_leave_the_machine(scripted, token: str) -> None:
    with pytest.raises(hub.MalformedTokenError) as info:
        hub.whoami(token, scripted.url)
    assert str(info.value) == "not a well-formed token (printable ASCII only, no spaces)"
    assert scripted.requests == []


def test_org_tokens_never_leave_the_machine(scripted) -> None:
    with pytest.raises(hub.OrgTokenError) as info:
        hub.whoami("api_org_" + "x" * 30, scripted.url)
    assert str(info.value) == hub.ORG_TOKEN_MESSAGE and scripted.requests == []


@pytest.mark.parametrize(("info", "role", "name"), [
    ({"name": "alice", "auth": None}, "unknown", "alice"),
    ({"name": "alice", "auth": {"accessToken": None}}, "unknown", "alice"),
    ({"name": "alice", "auth": {"accessToken": {"role": 5, "displayName": 7}}}, "unknown", "alice"),
    ({"name": "alice", "auth": {"accessToken": {"role": "read", "displayName": ""}}}, "read", "alice"),
    ({"name": "alice", "auth": {"accessToken": {"role": "write", "displayName": "box"}}}, "write", "box"),
])
def test_role_and_name_from_odd_answers(info: dict, role: str, name: str) -> None:
    assert hub.token_role(info) == role and hub.token_name(info) == name


@pytest.mark.parametrize("grained", [None, {"global": None, "scoped": None},
                                     {"scoped": [{"permissions": None}]}])
def test_fine_grained_without_permissions_cannot_write(grained) -> None:
    info = {"name": "a", "auth": {"accessToken": {"role": "fineGrained", "fineGrained": grained}}}
    assert hub.can_write(info) is False


def test_only_a_global_or_scoped_repo_write_is_write() -> None:
    def info(grained: dict) -> dict:
        return {"name": "a", "auth": {"accessToken": {"role": "fineGrained", "fineGrained": grained}}}

    assert hub.can_write(info({"global": ["repo.write"], "scoped": []})) is True
    assert hub.can_write(info({"global": [], "scoped": [{"permissions": ["repo.content.read"]},
                                                        {"permissions": ["repo.write"]}]})) is True
    assert hub.can_write(info({"global": ["repo.writer"], "scoped": [{"permissions": ["x.repo.write"]}]})) is False


@pytest.mark.parametrize("suffix", ["", "/", "//"])
def test_the_request_goes_to_the_whoami_path_of_the_endpoint(scripted, suffix: str) -> None:
    scripted.body = user_json()
    hub.whoami(TOKEN, scripted.url + suffix)
    assert scripted.requests[-1]["path"] == "/api/whoami-v2"


def test_the_endpoint_path_is_kept(scripted, monkeypatch) -> None:
    scripted.body = user_json()
    monkeypatch.setenv("HF_ENDPOINT", scripted.url + "/mirrorX/")
    hub.whoami(TOKEN)
    assert scripted.requests[-1]["path"] == "/mirrorX/api/whoami-v2"


def test_the_worker_is_a_daemon_thread(scripted, monkeypatch) -> None:
    """An abandoned worker must never keep the process (git's helper) alive at exit."""
    import threading

    scripted.stall, scripted.body = True, user_json()
    monkeypatch.setattr(hub, "TOTAL_TIMEOUT_S", 0.3)
    monkeypatch.setattr(hub, "_abort", lambda response: None)  # leave it blocked, to look at it
    # Only this call's worker: other tests' abandoned workers may still be winding down.
    earlier = {t for t in threading.enumerate() if t.name == "git-credential-hf-http"}
    with pytest.raises(hub.HubUnavailableError, match="too slow"):
        hub.whoami(TOKEN, scripted.url)
    workers = [t for t in threading.enumerate() if t.name == "git-credential-hf-http" and t not in earlier]
    assert len(workers) == 1 and workers[0].is_alive() and workers[0].daemon
    scripted.close()  # the server hangs up: the worker ends
    workers[0].join(5)


def test_a_server_silent_past_the_deadline_is_abandoned_without_a_response(scripted, monkeypatch) -> None:
    """No response object yet when the deadline passes: the abort has nothing to shut, quietly."""
    scripted.silent = True
    monkeypatch.setattr(hub, "TOTAL_TIMEOUT_S", 0.3)
    with pytest.raises(hub.HubUnavailableError) as info:
        hub.whoami(TOKEN, scripted.url)
    assert str(info.value) == f"{scripted.url} is too slow (no answer within 0.3 s)"


def test_abort_tolerates_a_response_without_a_socket() -> None:
    import types

    hub._abort(None)
    hub._abort(types.SimpleNamespace())
    hub._abort(types.SimpleNamespace(raw=types.SimpleNamespace()))
    hub._abort(types.SimpleNamespace(raw=types.SimpleNamespace(connection=types.SimpleNamespace())))


# --- get_status (the permission pre-flight's auth-check) and BearerAuth's repr ------------------


def test_get_status_returns_the_status_and_sends_the_token_as_a_bearer(scripted, monkeypatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", scripted.url)
    scripted.status = 403
    assert hub.get_status(scripted.url + "/api/models/a/b/auth-check/write", TOKEN) == 403
    (seen,) = scripted.requests
    assert seen["path"] == "/api/models/a/b/auth-check/write"
    assert seen["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize("token", ["", "hf_a b", "hf_\x7f", "hf_é"])
def test_get_status_refuses_a_malformed_token_before_any_request(scripted, monkeypatch, token: str) -> None:
    monkeypatch.setenv("HF_ENDPOINT", scripted.url)
    with pytest.raises(hub.MalformedTokenError) as info:
        hub.get_status(scripted.url + "/api/models/a/b/auth-check/write", token)
    assert str(info.value) == "not a well-formed token (printable ASCII only, no spaces)"
    assert scripted.requests == []


def test_get_status_failure_names_the_endpoint_not_the_url(monkeypatch) -> None:
    """The message names the configured endpoint (as every Hub error does), not the request."""
    base = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("HF_ENDPOINT", base)
    with pytest.raises(hub.HubUnavailableError) as info:
        hub.get_status(base + "/api/models/a/b/auth-check/write", TOKEN)
    assert str(info.value) == f"cannot reach {base} (connection failed)"
    assert TOKEN not in str(info.value)


def test_bearer_auth_repr_masks_the_token() -> None:
    text = repr(hub.BearerAuth(TOKEN))
    assert text == "BearerAuth(hf_****HUBX)" and TOKEN not in text


def test_abort_wakes_a_read_blocked_on_a_real_response(scripted) -> None:
    """The deadline's abort shuts the response's socket down: a read blocked on it (here with
    no socket timeout at all) returns now instead of never."""
    import threading

    import requests

    scripted.stall, scripted.body = True, user_json()
    resp = requests.get(scripted.url, stream=True, timeout=(5, None))
    ended: list[object] = []

    def read() -> None:
        try:
            ended.append(resp.raw.read(1024))
        except Exception as e:  # a reset connection is an answer too
            ended.append(e)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    hub._abort(resp)
    reader.join(5)
    woke = not reader.is_alive()
    if woke:  # (close() would wait for the lock a blocked read holds: then the daemon stays)
        resp.close()
    assert woke, "the read stayed blocked: the abort did not shut the socket down"


# --- hub.request, the transport the OAuth calls share: what reaches the server, what the error
# names, and its own deadline ----------------------------------------------------------------------


def test_a_request_without_a_token_carries_no_credential_even_from_the_url(scripted) -> None:
    """The OAuth calls pass no token: no Authorization header at all, not "Bearer None", and not
    the user info of the URL either."""
    scripted.body = b"{}"
    userinfo_url = scripted.url.replace("http://", "http://user:secret@") + "/oauth/device"
    assert hub.request("POST", userinfo_url, data={"client_id": "abc"})[0] == 200
    (seen,) = scripted.requests
    assert "authorization" not in seen
    assert seen["user-agent"] == "git-credential-hf" and seen["accept"] == "application/json"


def test_form_data_json_body_and_params_reach_the_server_as_given(scripted) -> None:
    hub.request("POST", scripted.url + "/oauth/token", data={"grant_type": "a b", "code": "x&y"})
    hub.request("POST", scripted.url + "/api/ci", json_body={"audience": "hub"})
    hub.request("GET", scripted.url + "/api/p", params={"q": "a b"})
    form, js, query = scripted.requests
    assert (form["method"], form["path"], form["body"]) == (
        "POST", "/oauth/token", "grant_type=a+b&code=x%26y")
    assert form["content-type"] == "application/x-www-form-urlencoded"
    assert (js["method"], js["body"], js["content-type"]) == (
        "POST", '{"audience": "hub"}', "application/json")
    assert (query["method"], query["path"], query["body"]) == ("GET", "/api/p?q=a+b", "")


def test_a_failure_names_the_url_without_its_query_by_default() -> None:
    """Without ``base``, the message names the URL up to its first "?": a query may hold a
    code or a token, and stays out of messages."""
    base = f"http://127.0.0.1:{closed_port()}/oauth/token"
    with pytest.raises(hub.HubUnavailableError) as info:
        hub.request("GET", base + "?code=s3cret?more=1")
    assert str(info.value) == f"cannot reach {base} (connection failed)"
    with pytest.raises(hub.HubUnavailableError) as info:
        hub.request("GET", base)
    assert str(info.value) == f"cannot reach {base} (connection failed)"


def test_total_timeout_bounds_one_request(scripted) -> None:
    """``total_timeout`` replaces the default deadline for this call (the OAuth polls use it):
    a silent server costs that long, not TOTAL_TIMEOUT_S, and the deadline reports it."""
    scripted.silent = True
    start = time.monotonic()
    with pytest.raises(hub.HubUnavailableError) as info:
        hub.request("GET", scripted.url + "/oauth/token", total_timeout=0.5)
    assert str(info.value) == f"{scripted.url}/oauth/token is too slow (no answer within 0.5 s)"
    assert time.monotonic() - start < 5


@pytest.mark.parametrize("suffix", ["/", "//"])
def test_an_endpoint_with_trailing_slashes_is_named_without_them(scripted, suffix: str) -> None:
    scripted.status = 500
    with pytest.raises(hub.HubUnavailableError) as info:
        hub.whoami(TOKEN, scripted.url + suffix)
    assert str(info.value) == f"{scripted.url} answered HTTP 500"
    assert scripted.requests[-1]["path"] == "/api/whoami-v2"
