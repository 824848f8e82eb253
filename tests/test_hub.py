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
