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
from support import LOCAL_HUB_SCRIPT

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
         "--repo", "carol/m", "--ready-file", str(ready)],
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
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
        assert out == "" and HUB_TOKEN not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
