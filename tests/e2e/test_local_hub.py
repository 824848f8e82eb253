"""The local fake Hub (scripts/local_hub.py) behaves like the Hub for the real git binary.

No credential helper is involved here: credentials go in the URL or in http.extraHeader.
"""
from __future__ import annotations

import base64
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from support import LOCAL_HUB_SCRIPT, load_local_hub

# Not imported from conftest: several test dirs may have one, and `conftest` is not unique.
HUB_TOKEN = "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz01234567"  # what the local_hub fixture registers
HUB_REPO = "alice/model"
READ_TOKEN = "hf_" + "r" * 34


@pytest.fixture(autouse=True)
def _fixture_token_matches(hub_token: str) -> None:
    assert hub_token == HUB_TOKEN


def whoami(hub, token: str | None = HUB_TOKEN, timeout: float = 5) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(f"{hub.url}/api/whoami-v2", headers=headers, timeout=timeout,
                        allow_redirects=False)


def cred_url(hub, token: str, repo: str = HUB_REPO) -> str:
    return hub.url.replace("http://", f"http://alice:{token}@") + f"/{repo}"


def head_of(bare: Path) -> str:
    return subprocess.run(["git", "--git-dir", str(bare), "rev-parse", "refs/heads/main"],
                          capture_output=True, text=True, check=True).stdout.strip()


def commit_file(git_env, work: Path, name: str = "new.txt") -> str:
    (work / name).write_text("hello\n")
    git_env.run("-C", str(work), "add", name)
    git_env.run("-C", str(work), "commit", "-q", "-m", f"add {name}")
    return git_env.run("-C", str(work), "rev-parse", "HEAD").stdout.strip()


def test_whoami_ok(local_hub):
    local_hub.add_token("hf_" + "o" * 34, user="bob", role="read", orgs=["acme"])
    r = whoami(local_hub, "hf_" + "o" * 34)
    assert r.status_code == 200
    body = r.json()
    assert body["type"] == "user" and body["name"] == "bob" and body["fullname"] == "Bob"
    assert body["email"] == "bob@example.com" and body["emailVerified"] is True
    assert body["orgs"] == [{"type": "org", "name": "acme", "roleInOrg": "write"}]
    assert body["auth"] == {"type": "access_token", "accessToken": {
        "displayName": "bob-read", "role": "read", "createdAt": "2024-01-01T00:00:00.000Z"}}
    assert whoami(local_hub).json()["id"] == whoami(local_hub).json()["id"]  # stable
    assert local_hub.count("/api/whoami-v2") == 3
    assert ("GET", "/api/whoami-v2", "Bearer", 200) in local_hub.requests_log
    assert all(HUB_TOKEN not in repr(entry) for entry in local_hub.requests_log)


def test_whoami_fine_grained_and_org(local_hub):
    local_hub.add_token("hf_fg", role="fineGrained", display_name="ci")
    access = whoami(local_hub, "hf_fg").json()["auth"]["accessToken"]
    assert access["displayName"] == "ci"
    assert access["fineGrained"] == {"global": [], "scoped": []}
    local_hub.add_token("api_org_x", user="acme")
    assert whoami(local_hub, "api_org_x").json()["type"] == "org"


@pytest.mark.parametrize("token", [None, "hf_unknown"])
def test_whoami_unauthorized(local_hub, token):
    r = whoami(local_hub, token)
    assert r.status_code == 401
    assert r.json() == {"error": "Invalid credentials in Authorization header"}


def test_whoami_revoked(local_hub):
    assert whoami(local_hub).status_code == 200
    local_hub.revoke(HUB_TOKEN)
    assert whoami(local_hub).status_code == 401


def test_clone_with_url_credentials(local_hub, git_env, tmp_path):
    git_env.run("clone", "-q", cred_url(local_hub, HUB_TOKEN), str(tmp_path / "w"))
    assert (tmp_path / "w" / "README.md").read_text() == f"# {HUB_REPO}\n"
    assert local_hub.count("/api/whoami-v2") == 0
    assert ("POST", f"/{HUB_REPO}/git-upload-pack", "Basic", 200) in local_hub.requests_log


def test_clone_dot_git_url_and_extra_header(local_hub, git_env, tmp_path):
    local_hub.create_repo("datasets/alice/data")
    basic = base64.b64encode(f"x:{HUB_TOKEN}".encode()).decode()
    git_env.run("-c", f"http.extraHeader=Authorization: Basic {basic}", "clone", "-q",
                f"{local_hub.url}/datasets/alice/data.git", str(tmp_path / "d"))
    assert (tmp_path / "d" / "README.md").exists()


def test_clone_without_credentials_fails_without_prompting(local_hub, git_env, tmp_path):
    proc = git_env.run("clone", f"{local_hub.url}/{HUB_REPO}", str(tmp_path / "w"), check=False,
                       timeout=20)
    assert proc.returncode != 0
    assert "terminal prompts disabled" in proc.stderr
    assert ("GET", f"/{HUB_REPO}/info/refs", None, 401) in local_hub.requests_log


def test_unknown_repo_and_traversal_are_404(local_hub):
    auth = ("alice", HUB_TOKEN)
    for path in ("/alice/nope/info/refs", "/../hub/alice/model/info/refs", "/alice/../x/HEAD"):
        r = requests.get(local_hub.url + path + "?service=git-upload-pack", auth=auth, timeout=5)
        assert r.status_code in (400, 404), path


def test_push_with_write_token(local_hub, git_env, tmp_path):
    work = tmp_path / "w"
    git_env.run("clone", "-q", cred_url(local_hub, HUB_TOKEN), str(work))
    sha = commit_file(git_env, work)
    git_env.run("-C", str(work), "push", "-q", "origin", "main")
    assert head_of(local_hub.root / f"{HUB_REPO}.git") == sha


def test_large_chunked_push(local_hub, git_env, tmp_path):
    work = tmp_path / "w"
    git_env.run("clone", "-q", cred_url(local_hub, HUB_TOKEN), str(work))
    (work / "blob.bin").write_bytes(bytes(range(256)) * 8192)  # 2 MiB > http.postBuffer (1 MiB)
    git_env.run("-C", str(work), "add", "blob.bin")
    git_env.run("-C", str(work), "-c", "core.compression=0", "commit", "-q", "-m", "big")
    sha = git_env.run("-C", str(work), "rev-parse", "HEAD").stdout.strip()
    git_env.run("-C", str(work), "-c", "pack.compression=0", "push", "-q", "origin", "main")
    assert head_of(local_hub.root / f"{HUB_REPO}.git") == sha


@pytest.mark.parametrize("status", [401, 403])
def test_push_with_read_token_is_refused(local_hub, git_env, tmp_path, status):
    local_hub.read_push_status = status
    local_hub.add_token(READ_TOKEN, role="read")
    work = tmp_path / "w"
    git_env.run("clone", "-q", cred_url(local_hub, READ_TOKEN), str(work))  # reading is fine
    before = head_of(local_hub.root / f"{HUB_REPO}.git")
    commit_file(git_env, work)
    proc = git_env.run("-C", str(work), "push", "origin", "main", check=False, timeout=20)
    assert proc.returncode != 0
    assert ("GET", f"/{HUB_REPO}/info/refs", "Basic", status) in local_hub.requests_log
    assert head_of(local_hub.root / f"{HUB_REPO}.git") == before


def test_fine_grained_write_scope_allows_push(local_hub, git_env, tmp_path):
    scoped = {"global": [], "scoped": [{"entity": {"type": "user", "name": "alice"},
                                        "permissions": ["repo.content.read", "repo.write"]}]}
    local_hub.add_token("hf_fgw", role="fineGrained", fine_grained=scoped)
    work = tmp_path / "w"
    git_env.run("clone", "-q", cred_url(local_hub, "hf_fgw"), str(work))
    sha = commit_file(git_env, work)
    git_env.run("-C", str(work), "push", "-q", "origin", "main")
    assert head_of(local_hub.root / f"{HUB_REPO}.git") == sha


def test_revoked_token_cannot_clone(local_hub, git_env, tmp_path):
    git_env.run("clone", "-q", cred_url(local_hub, HUB_TOKEN), str(tmp_path / "a"))
    local_hub.revoke(HUB_TOKEN)
    proc = git_env.run("clone", cred_url(local_hub, HUB_TOKEN), str(tmp_path / "b"), check=False,
                       timeout=20)
    assert proc.returncode != 0
    assert "Authentication failed" in proc.stderr


def test_whoami_behavior_errors(local_hub):
    local_hub.whoami_behavior = "500"
    assert whoami(local_hub).status_code == 500
    local_hub.whoami_behavior = "429"
    r = whoami(local_hub)
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    local_hub.whoami_behavior = "badjson"
    r = whoami(local_hub)
    assert r.status_code == 200
    with pytest.raises(ValueError):
        r.json()
    local_hub.whoami_behavior = "redirect:http://elsewhere.invalid"
    r = whoami(local_hub)
    assert r.status_code == 302
    assert r.headers["Location"] == "http://elsewhere.invalid/api/whoami-v2"


@pytest.mark.parametrize("behavior", ["hang", "slow"])
def test_whoami_behavior_stalls(local_hub, behavior):
    local_hub.whoami_behavior = behavior
    start = time.monotonic()
    # "slow" sends a byte every second, so the per-read timeout must be below 1 s to fire.
    with pytest.raises((requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError)):
        whoami(local_hub, timeout=(2, 1 if behavior == "hang" else 0.5))
    assert time.monotonic() - start < 5


def test_slow_body_is_valid_json_eventually(local_hub):
    local_hub.whoami_behavior = "slow"
    with requests.get(f"{local_hub.url}/api/whoami-v2", stream=True, timeout=5,
                      headers={"Authorization": f"Bearer {HUB_TOKEN}"}) as r:
        assert r.status_code == 200
        assert r.raw.read(1) == b"{"  # headers came at once, the body trickles


def test_stop_releases_hanging_requests(local_hub_module, tmp_path):
    hub = local_hub_module.LocalHub(tmp_path / "h").start()
    hub.whoami_behavior = "hang"
    start = time.monotonic()
    result: list[BaseException] = []

    def call() -> None:
        try:
            whoami(hub, timeout=30)
        except requests.RequestException as exc:
            result.append(exc)

    t = threading.Thread(target=call)
    t.start()
    while hub.count("/api/whoami-v2") == 0:
        time.sleep(0.05)
    hub.stop()
    t.join(10)
    assert result and time.monotonic() - start < 10


def test_cli_mode(tmp_path):
    ready = tmp_path / "ready"
    proc = subprocess.Popen(
        [sys.executable, str(LOCAL_HUB_SCRIPT), "--root", str(tmp_path / "root"),
         "--token", f"{HUB_TOKEN}:carol", "--token", f"{READ_TOKEN}:dave:read",
         "--repo", "carol/m", "--ready-file", str(ready), "--device-auto-approve", "0",
         "--device-user", "carol", "--device-interval", "0", "--oauth-expires-in", "77"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and not url.endswith("/")
        assert ready.read_text().strip() == url
        r = requests.get(f"{url}/api/whoami-v2", timeout=5,
                         headers={"Authorization": f"Bearer {HUB_TOKEN}"})
        assert r.json()["name"] == "carol"
        assert r.json()["auth"]["accessToken"]["role"] == "write"
        r = requests.get(f"{url}/api/whoami-v2", timeout=5,
                         headers={"Authorization": f"Bearer {READ_TOKEN}"})
        assert r.json()["auth"]["accessToken"]["role"] == "read"
        assert (tmp_path / "root" / "carol" / "m.git" / "HEAD").exists()
        info = requests.post(f"{url}/oauth/device", data={"client_id": "c"}, timeout=5).json()
        assert info["interval"] == 0
        r = requests.post(f"{url}/oauth/token", timeout=5, data={
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "device_code": info["device_code"], "client_id": "c"})
        assert r.json()["expires_in"] == 77
        r = requests.get(f"{url}/api/whoami-v2", timeout=5,
                         headers={"Authorization": f"Bearer {r.json()['access_token']}"})
        assert r.json()["name"] == "carol"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
        assert out == "" and HUB_TOKEN not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# --- namespaces and auth-check ------------------------------------------------------------------

def auth_check(hub, repo: str, token: str | None, kind: str = "models", write: bool = True):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    suffix = "/write" if write else ""
    return requests.get(f"{hub.url}/api/{kind}/{repo}/auth-check{suffix}", headers=headers,
                        timeout=5)


def test_auth_check_write(local_hub):
    local_hub.add_token(READ_TOKEN, role="read")
    local_hub.add_token("hf_bob", user="bob", role="write")
    local_hub.create_repo("datasets/alice/data")
    r = auth_check(local_hub, HUB_REPO, HUB_TOKEN)
    assert r.status_code == 200 and r.json()["access"] == "write"
    assert auth_check(local_hub, "alice/data", HUB_TOKEN, "datasets").status_code == 200
    assert auth_check(local_hub, HUB_REPO, READ_TOKEN).status_code == 403
    assert auth_check(local_hub, HUB_REPO, READ_TOKEN, write=False).status_code == 200
    assert auth_check(local_hub, HUB_REPO, "hf_bob").status_code == 403  # not bob's namespace
    assert auth_check(local_hub, HUB_REPO, "hf_unknown").status_code == 401
    assert auth_check(local_hub, HUB_REPO, None).status_code == 401
    r = auth_check(local_hub, "alice/nope", HUB_TOKEN)
    assert r.status_code == 404 and r.headers["X-Error-Code"] == "RepoNotFound"
    assert auth_check(local_hub, "alice/data", HUB_TOKEN).status_code == 404  # a model: none
    assert local_hub.counter("auth_checks") == 9


@pytest.mark.parametrize(("orgs", "expected"), [
    pytest.param(["acme"], 200, id="member-default-write"),
    pytest.param({"acme": "admin"}, 200, id="admin"),
    pytest.param([("acme", "read")], 403, id="read-member"),
    pytest.param({"acme": "contributor"}, 403, id="contributor"),
    pytest.param([], 403, id="not-a-member"),
])
def test_org_namespace_needs_a_write_role(local_hub, orgs, expected):
    local_hub.create_repo("acme/model")
    local_hub.add_token("hf_bob", user="bob", role="write", orgs=orgs)
    assert auth_check(local_hub, "acme/model", "hf_bob").status_code == expected
    roles = {o["name"]: o["roleInOrg"] for o in whoami(local_hub, "hf_bob").json()["orgs"]}
    assert roles == {k: v for k, v in local_hub.lookup("hf_bob").orgs.items()}


@pytest.mark.parametrize(("scoped", "repo", "expected"), [
    pytest.param("alice", HUB_REPO, 200, id="user-entity"),
    pytest.param("alice/model", HUB_REPO, 200, id="repo-entity"),
    pytest.param("alice/other", HUB_REPO, 403, id="other-repo-entity"),
    pytest.param("acme", HUB_REPO, 403, id="org-entity-elsewhere"),
    pytest.param("acme", "acme/model", 200, id="org-entity"),
])
def test_fine_grained_scopes(local_hub, scoped, repo, expected):
    local_hub.create_repo("acme/model")
    fg = {"global": [], "scoped": [{"entity": {"type": "user", "name": scoped},
                                    "permissions": ["repo.content.read", "repo.write"]}]}
    local_hub.add_token("hf_fg", role="fineGrained", fine_grained=fg)
    assert auth_check(local_hub, repo, "hf_fg").status_code == expected


def test_push_to_another_users_repo_is_refused(local_hub, git_env, tmp_path):
    local_hub.create_repo("bob/model")
    local_hub.read_push_status = 403
    url = cred_url(local_hub, HUB_TOKEN, "bob/model")
    work = tmp_path / "w"
    git_env.run("clone", "-q", url, str(work))  # anyone may read
    before = head_of(local_hub.root / "bob/model.git")
    commit_file(git_env, work)
    proc = git_env.run("-C", str(work), "push", "origin", "main", check=False, timeout=20)
    assert proc.returncode != 0 and "not authorized" in proc.stderr
    assert ("GET", "/bob/model/info/refs", "Basic", 403) in local_hub.requests_log
    assert head_of(local_hub.root / "bob/model.git") == before
    local_hub.add_token("hf_" + "b" * 34, user="bob")  # bob himself may
    git_env.run("-C", str(work), "push", "-q", cred_url(local_hub, "hf_" + "b" * 34, "bob/model"),
                "main")
    assert head_of(local_hub.root / "bob/model.git") != before


def test_org_member_with_write_role_pushes(local_hub, git_env, tmp_path):
    local_hub.create_repo("acme/model")
    local_hub.add_token("hf_" + "m" * 34, user="bob", orgs={"acme": "write"})
    work = tmp_path / "w"
    git_env.run("clone", "-q", cred_url(local_hub, "hf_" + "m" * 34, "acme/model"), str(work))
    sha = commit_file(git_env, work)
    git_env.run("-C", str(work), "push", "-q", "origin", "main")
    assert head_of(local_hub.root / "acme/model.git") == sha
    details = [d for d in local_hub.request_details if d["path"] == "/acme/model/git-receive-pack"]
    assert details and details[-1]["user"] == "bob"  # who authenticated, seen by the Hub


# --- expiring tokens and OAuth ------------------------------------------------------------------

def token_post(hub, **fields) -> requests.Response:
    return requests.post(f"{hub.url}/oauth/token", data=fields, timeout=5)


def test_expired_token_is_401_for_whoami_git_and_lfs(local_hub, git_env, tmp_path):
    answer = local_hub.issue_oauth("alice", expires_in=3600)
    token = answer["access_token"]
    assert token.startswith("hf_oauth_") and answer["expires_at"] > time.time() + 3500
    assert whoami(local_hub, token).status_code == 200
    git_env.run("ls-remote", cred_url(local_hub, token))
    local_hub.expire(token)
    assert whoami(local_hub, token).status_code == 401
    proc = git_env.run("ls-remote", cred_url(local_hub, token), check=False, timeout=20)
    assert proc.returncode != 0 and "Authentication failed" in proc.stderr
    r = lfs_batch(local_hub, token, "download", [])
    assert r.status_code == 401
    already = local_hub.issue_oauth("alice", expires_in=-1)["access_token"]
    assert whoami(local_hub, already).status_code == 401
    local_hub.add_token("hf_timed", expires_at=time.time() + 0.5)
    assert whoami(local_hub, "hf_timed").status_code == 200
    time.sleep(0.6)
    assert whoami(local_hub, "hf_timed").status_code == 401


def test_oauth_whoami_shape(local_hub):
    token = local_hub.issue_oauth("carol")["access_token"]
    body = whoami(local_hub, token).json()
    assert body["name"] == "carol" and body["auth"]["type"] == "access_token"
    access = body["auth"]["accessToken"]
    assert "displayName" not in access and access["role"] == "write" and "expiresAt" in access
    local_hub.oauth_display_name = "my-browser-login"
    assert whoami(local_hub, token).json()["auth"]["accessToken"]["displayName"] == \
        "my-browser-login"


def test_device_flow_with_approve_url(local_hub):
    r = requests.post(f"{local_hub.url}/oauth/device", data={"client_id": "cid"}, timeout=5)
    assert r.status_code == 200
    info = r.json()
    assert set(info) == {"device_code", "user_code", "verification_uri",
                         "verification_uri_complete", "interval", "expires_in"}
    assert info["interval"] == 5 and info["expires_in"] == 900
    assert info["verification_uri_complete"].endswith(f"?user_code={info['user_code']}")
    page = requests.get(info["verification_uri_complete"], timeout=5)
    assert page.status_code == 200 and info["user_code"] in page.text
    poll = {"grant_type": local_hub_grant("device"), "device_code": info["device_code"],
            "client_id": "cid"}
    r = token_post(local_hub, **poll)
    assert r.status_code == 400 and r.json()["error"] == "authorization_pending"
    assert local_hub.last_device()["polls"] == 1
    ok = requests.get(f"{local_hub.url}/oauth/device/approve",
                      params={"user_code": info["user_code"].lower(), "user": "bob"}, timeout=5)
    assert ok.status_code == 200 and ok.json()["user"] == "bob"
    r = token_post(local_hub, **poll)
    assert r.status_code == 200
    tokens = r.json()
    assert set(tokens) == {"access_token", "refresh_token", "expires_in", "token_type"}
    assert tokens["expires_in"] == 30 * 24 * 3600
    assert whoami(local_hub, tokens["access_token"]).json()["name"] == "bob"
    r = token_post(local_hub, **poll)  # a device code is good once
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert local_hub.counter("device_codes") == 1 and local_hub.counter("device_polls") == 3
    assert local_hub.counter("device_grants") == 1
    assert local_hub.client_ids == ["cid"] * 4
    again = requests.post(f"{local_hub.url}/oauth/device/approve",
                          data={"user_code": info["user_code"]}, timeout=5)
    assert again.status_code == 404


def local_hub_grant(kind: str) -> str:
    hub = load_local_hub()
    return {"device": hub.DEVICE_GRANT, "refresh": hub.REFRESH_GRANT,
            "exchange": hub.EXCHANGE_GRANT}[kind]


def start_device(hub) -> dict:
    return requests.post(f"{hub.url}/oauth/device", json={"client_id": "cid"}, timeout=5).json()


def poll(hub, info: dict) -> requests.Response:
    return token_post(hub, grant_type=local_hub_grant("device"), device_code=info["device_code"],
                      client_id="cid")


def test_device_auto_approve_and_slow_down(local_hub):
    local_hub.device_auto_approve, local_hub.device_slow_down = 2, 1
    local_hub.device_user, local_hub.device_interval = "dave", 0
    info = start_device(local_hub)
    assert info["interval"] == 0
    errors = [poll(local_hub, info).json().get("error") for _ in range(3)]
    assert errors == ["slow_down", "authorization_pending", "authorization_pending"]
    r = poll(local_hub, info)
    assert r.status_code == 200
    assert whoami(local_hub, r.json()["access_token"]).json()["name"] == "dave"


@pytest.mark.parametrize("case", ["deny", "access_denied", "expired_token", "expired"])
def test_device_flow_failures(local_hub, case):
    if case == "expired":
        local_hub.device_expires_in = 0
    elif case != "deny":
        local_hub.device_error = case
    info = start_device(local_hub)
    if case == "deny":
        assert local_hub.approve_device(info["user_code"], deny=True)
    r = poll(local_hub, info)
    expected = {"deny": "access_denied", "expired": "expired_token"}.get(case, case)
    assert r.status_code == 400 and r.json()["error"] == expected
    assert r.headers["Content-Type"] == "application/json"


def test_oauth_bad_requests(local_hub):
    r = requests.post(f"{local_hub.url}/oauth/device", data={}, timeout=5)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    assert token_post(local_hub).json()["error"] == "invalid_request"
    assert token_post(local_hub, grant_type="password").json()["error"] == \
        "unsupported_grant_type"
    assert token_post(local_hub, grant_type=local_hub_grant("device"),
                      device_code="nope").json()["error"] == "invalid_grant"
    assert requests.get(f"{local_hub.url}/oauth/token", timeout=5).status_code == 404


def test_refresh_rotation_is_single_use(local_hub):
    first = local_hub.issue_oauth("alice", expires_in=-1)
    r = token_post(local_hub, grant_type="refresh_token", refresh_token=first["refresh_token"],
                   client_id="cid")
    assert r.status_code == 200
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert whoami(local_hub, second["access_token"]).status_code == 200
    assert whoami(local_hub, first["access_token"]).status_code == 401  # expired before
    r = token_post(local_hub, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"  # used once already
    r = token_post(local_hub, grant_type="refresh_token", refresh_token=second["refresh_token"])
    assert r.status_code == 200
    assert local_hub.counter("refresh_grants") == 3 and local_hub.counter("refreshes") == 2
    local_hub.revoke_refresh(r.json()["refresh_token"])
    r = token_post(local_hub, grant_type="refresh_token", refresh_token=r.json()["refresh_token"])
    assert r.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("rotation", ["same", "omit"])
def test_refresh_without_rotation(local_hub, rotation):
    local_hub.refresh_rotation, local_hub.oauth_expires_in = rotation, 120
    rt = local_hub.issue_oauth("alice")["refresh_token"]
    for _ in range(2):
        r = token_post(local_hub, grant_type="refresh_token", refresh_token=rt)
        assert r.status_code == 200 and r.json()["expires_in"] == 120
        assert r.json().get("refresh_token") == (rt if rotation == "same" else None)


def test_oauth_faults(local_hub):
    rt = local_hub.issue_oauth("alice")["refresh_token"]
    local_hub.oauth_behavior = "503"
    r = token_post(local_hub, grant_type="refresh_token", refresh_token=rt)
    assert r.status_code == 503
    local_hub.oauth_behavior = "badjson"
    r = token_post(local_hub, grant_type="refresh_token", refresh_token=rt)
    assert r.status_code == 200
    with pytest.raises(ValueError):
        r.json()


def test_token_exchange(local_hub):
    local_hub.add_id_token("eyJ.id.token", user="alice", resources=["alice/model", "alice"])
    local_hub.oidc_expires_in = 600
    exchange = {"grant_type": local_hub_grant("exchange"), "subject_token": "eyJ.id.token",
                "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
                "resource": "alice/model"}
    r = requests.post(f"{local_hub.url}/oauth/token", json=exchange, timeout=5)  # JSON, as hf
    assert r.status_code == 200
    answer = r.json()
    assert answer["expires_in"] == 600 and "refresh_token" not in answer
    token = answer["access_token"]
    assert token.startswith("hf_jwt_")
    assert auth_check(local_hub, HUB_REPO, token).status_code == 200
    local_hub.create_repo("alice/other")
    assert auth_check(local_hub, "alice/other", token).status_code == 403  # scoped to one repo
    user_token = requests.post(f"{local_hub.url}/oauth/token", timeout=5,
                               json={**exchange, "resource": "alice"}).json()["access_token"]
    assert auth_check(local_hub, HUB_REPO, user_token).status_code == 403
    assert auth_check(local_hub, HUB_REPO, user_token, write=False).status_code == 200
    for change, error in (({"subject_token": "forged"}, "invalid_grant"),
                          ({"resource": ""}, "invalid_request"),
                          ({"resource": "bob/model"}, "invalid_target")):
        r = requests.post(f"{local_hub.url}/oauth/token", json={**exchange, **change}, timeout=5)
        assert r.status_code == 400 and r.json()["error"] == error, change
    assert local_hub.counter("exchanges") == 5 and local_hub.counter("exchanges_ok") == 2
    assert [e["resource"] for e in local_hub.exchanges] == ["alice/model", "alice"]


HF_SCRIPT = """
import json, os, time
from huggingface_hub.utils import _oauth_device as dev
from huggingface_hub import _oidc, get_token
out = {}
info = dev.request_device_code()
out["device"] = dev.poll_device_token(info)
out["refreshed"] = dev.refresh_access_token(os.environ["RT"])
try:
    dev.refresh_access_token(os.environ["RT"])
except Exception as e:
    out["reuse"] = getattr(e, "error_code", None)
out["oidc"] = _oidc.exchange_oidc_token(subject_token="eyJ.id", resource="alice/model")
out["get_token"] = get_token()
print(json.dumps(out))
"""


def test_real_huggingface_hub_talks_oauth_to_it(local_hub, git_env, tmp_path):
    """huggingface_hub 2.x's own device flow, refresh, OIDC exchange and get_token() refresh."""
    pytest.importorskip("huggingface_hub.utils._oauth_device")
    local_hub.device_auto_approve, local_hub.device_interval = 1, 0
    local_hub.add_id_token("eyJ.id")
    rt = local_hub.issue_oauth("alice")["refresh_token"]
    stale = local_hub.issue_oauth("alice", expires_in=60)  # < 24 h left: get_token() refreshes
    hf_home = tmp_path / "hf"
    hf_home.mkdir()
    (hf_home / "token").write_text(stale["access_token"])
    (hf_home / "stored_tokens").write_text(
        f"[oauth-alice]\nhf_token = {stale['access_token']}\n"
        f"refresh_token = {stale['refresh_token']}\nexpires_at = {stale['expires_at']}\n")
    env = {**git_env.env, "HF_ENDPOINT": local_hub.url, "HF_HOME": str(hf_home), "RT": rt,
           "HF_HUB_DISABLE_TELEMETRY": "1"}
    proc = subprocess.run([sys.executable, "-c", HF_SCRIPT], env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    import json

    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert whoami(local_hub, out["device"]["access_token"]).json()["name"] == "alice"
    assert out["refreshed"]["refresh_token"] != rt and out["reuse"] == "invalid_grant"
    assert out["oidc"]["access_token"].startswith("hf_jwt_")
    assert out["get_token"] not in (stale["access_token"], None)
    assert whoami(local_hub, out["get_token"]).status_code == 200
    assert (hf_home / "token").read_text() == out["get_token"]
    assert local_hub.counter("refreshes") == 2 and local_hub.counter("exchanges_ok") == 1
    assert local_hub.counter("device_grants") == 1
    assert set(local_hub.client_ids) == {"26be6b09-91c5-47da-9861-d2d2bb7a7e36"}


# --- LFS ------------------------------------------------------------------------------------------

def lfs_batch(hub, token: str | None, operation: str, objects: list,
              url: str | None = None) -> requests.Response:
    auth = ("alice", token) if token else None
    return requests.post(url or f"{hub.url}/{HUB_REPO}.git/info/lfs/objects/batch", auth=auth,
                         json={"operation": operation, "transfers": ["basic"],
                               "objects": objects},
                         headers={"Accept": "application/vnd.git-lfs+json"}, timeout=10)


def test_lfs_upload_download_roundtrip(local_hub):
    import hashlib

    data = b"weights" * 1000
    oid = hashlib.sha256(data).hexdigest()
    obj = {"oid": oid, "size": len(data)}
    r = lfs_batch(local_hub, HUB_TOKEN, "upload", [obj])
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/vnd.git-lfs+json"
    answer = r.json()
    assert answer["transfer"] == "basic"
    entry = answer["objects"][0]
    assert entry["authenticated"] is True and set(entry["actions"]) == {"upload", "verify"}
    href = entry["actions"]["upload"]["href"]
    assert href.startswith(f"{local_hub.url}/lfs-storage/") and "sig=" in href
    # Presigned: an Authorization header is refused (as S3 does), a tampered signature too.
    assert requests.put(href, data=data, auth=("alice", HUB_TOKEN), timeout=5).status_code == 400
    assert requests.put(href.replace("sig=", "sig=0"), data=data, timeout=5).status_code == 403
    assert requests.put(href, data=data[:-1] + b"X", timeout=5).status_code == 400  # digest
    assert requests.put(href, data=data, timeout=5).status_code == 200
    assert local_hub.lfs_object_path(HUB_REPO, oid).read_bytes() == data
    verify = entry["actions"]["verify"]["href"]
    assert requests.post(verify, json=obj, timeout=5).status_code == 200
    again = lfs_batch(local_hub, HUB_TOKEN, "upload", [obj]).json()["objects"][0]
    assert "actions" not in again  # already there
    down = lfs_batch(local_hub, HUB_TOKEN, "download", [obj],
                     url=f"{local_hub.url}/{HUB_REPO}/info/lfs/objects/batch").json()
    get = requests.get(down["objects"][0]["actions"]["download"]["href"], timeout=5)
    assert get.status_code == 200 and get.content == data
    missing = lfs_batch(local_hub, HUB_TOKEN, "download", [{"oid": "0" * 64, "size": 1}])
    assert missing.json()["objects"][0]["error"]["code"] == 404
    assert local_hub.counter("lfs_batch") == 4 and local_hub.counter("lfs_batch_upload") == 2
    assert local_hub.counter("storage_put") == 2 and local_hub.counter("storage_get") == 1
    assert local_hub.counter("storage_refused") == 2
    assert local_hub.count(f"/{HUB_REPO}.git/info/lfs/objects/batch") == 3


def test_lfs_auth_and_errors(local_hub):
    local_hub.add_token(READ_TOKEN, role="read")
    obj = [{"oid": "a" * 64, "size": 3}]
    for token in (None, "hf_unknown"):
        r = lfs_batch(local_hub, token, "download", obj)
        assert r.status_code == 401 and r.headers["LFS-Authenticate"].startswith("Basic")
    r = lfs_batch(local_hub, READ_TOKEN, "upload", obj)
    assert r.status_code == 403 and "not authorized" in r.json()["message"]
    assert lfs_batch(local_hub, READ_TOKEN, "download", obj).status_code == 200
    assert local_hub.counter("lfs_batch_refused") == 3
    r = lfs_batch(local_hub, HUB_TOKEN, "download", obj,
                  url=f"{local_hub.url}/alice/nope.git/info/lfs/objects/batch")
    assert r.status_code == 404
    assert lfs_batch(local_hub, HUB_TOKEN, "delete", obj).status_code == 422
    bad = lfs_batch(local_hub, HUB_TOKEN, "upload", [{"oid": "../x", "size": -1}])
    assert bad.json()["objects"][0]["error"]["code"] == 422
    r = requests.post(f"{local_hub.url}/{HUB_REPO}.git/info/lfs/locks/verify",
                      auth=("alice", HUB_TOKEN), json={}, timeout=5)
    assert r.status_code == 501
    local_hub.lfs_behavior = "429:9"
    r = lfs_batch(local_hub, HUB_TOKEN, "download", obj)
    assert r.status_code == 429 and r.headers["Retry-After"] == "9"


# --- more faults, listeners, TLS ------------------------------------------------------------------

@pytest.mark.parametrize("behavior", ["503", "429:7", "html", "notdict", "huge", "close"])
def test_whoami_more_faults(local_hub, behavior):
    local_hub.whoami_behavior = behavior
    if behavior == "close":
        with pytest.raises(requests.exceptions.ConnectionError):
            whoami(local_hub)
        return
    r = whoami(local_hub)
    if behavior == "503":
        assert r.status_code == 503
    elif behavior == "429:7":
        assert r.status_code == 429 and r.headers["Retry-After"] == "7"
    elif behavior == "html":
        assert r.headers["Content-Type"] == "text/html" and "<html>" in r.text
    elif behavior == "notdict":
        assert r.json() == ["alice"]
    else:
        assert len(r.content) > 5 * 1024 * 1024


@pytest.mark.parametrize("behavior", ["trickle", "trickle-chunked"])
def test_whoami_trickles(local_hub, behavior):
    local_hub.whoami_behavior = behavior
    with requests.get(f"{local_hub.url}/api/whoami-v2", stream=True, timeout=5,
                      headers={"Authorization": f"Bearer {HUB_TOKEN}"}) as r:
        assert r.status_code == 200
        assert ("Transfer-Encoding" in r.headers) == (behavior == "trickle-chunked")
        start = time.monotonic()
        assert r.raw.read(3) == b"   "
        assert time.monotonic() - start >= 0.2
    assert whoami(local_hub, "hf_unknown").status_code == 401  # checks credentials first


def test_listen_also_shares_state(local_hub):
    other = local_hub.listen_also("127.0.0.1")
    assert other != local_hub.url
    r = requests.get(f"{other}/api/whoami-v2", timeout=5,
                     headers={"Authorization": f"Bearer {HUB_TOKEN}"})
    assert r.status_code == 200
    host = other.removeprefix("http://")
    assert local_hub.count("/api/whoami-v2") == 1
    assert [d["host"] for d in local_hub.request_details] == [host]
    local_hub.revoke(HUB_TOKEN)
    assert requests.get(f"{other}/api/whoami-v2", timeout=5,
                        headers={"Authorization": f"Bearer {HUB_TOKEN}"}).status_code == 401


def test_tls_behind_connect_proxy(local_hub, local_hub_module, tmp_path):
    """https://hf.co and https://huggingface.co reach this Hub through HTTPS_PROXY."""
    import os
    import shutil

    if shutil.which("openssl") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("openssl is needed for the TLS tests")
        pytest.skip("no openssl")
    ca, cert, key = local_hub_module.make_tls_files(tmp_path / "tls")
    local_hub.enable_tls(cert, key, hosts={"hf.co", "huggingface.co"})
    proxies = {"https": local_hub.url}
    for name in ("hf.co", "huggingface.co"):
        r = requests.get(f"https://{name}/api/whoami-v2", proxies=proxies, verify=ca, timeout=10,
                         headers={"Authorization": f"Bearer {HUB_TOKEN}"})
        assert r.status_code == 200 and r.json()["name"] == "alice"
    assert local_hub.count("/api/whoami-v2", host="hf.co") == 1
    assert all(d["tls"] for d in local_hub.request_details if d["path"] == "/api/whoami-v2")
    with pytest.raises(requests.exceptions.ProxyError):
        requests.get("https://example.com/", proxies=proxies, verify=ca, timeout=10)
    with pytest.raises(requests.exceptions.SSLError):  # an untrusted CA stays untrusted
        requests.get("https://hf.co/api/whoami-v2", proxies=proxies, timeout=10)
