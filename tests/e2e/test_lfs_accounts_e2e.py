"""Real git and git-lfs against the local Hub: the retry guard stops git-lfs's 401 loop, the URL's
username picks the account, list/switch/logout by name interoperate with huggingface_hub, and the
permission pre-flight asks the Hub."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from git_credential_hf import _login, tokens

BIN = Path(sys.executable).parent
HELPER = str(BIN / "git-credential-hf")
ALICE = "hf_" + "AliceAliceAliceAliceAliceAlice0001"
ALICE_READ = "hf_" + "AliceReadAliceReadAliceReadAl0002"
BOB = "hf_" + "BobBobBobBobBobBobBobBobBobBob0003"
REFUSED = "hf_" + "RefusedRefusedRefusedRefusedRe0004"
FINE = "hf_" + "FineFineFineFineFineFineFineFi0005"
LFS_BYTES = 3 * 1024 * 1024


def need_git_lfs() -> None:
    if shutil.which("git-lfs") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("git-lfs is not installed (required under CI=true)")
        pytest.skip("git-lfs is not installed")


@pytest.fixture
def hf_git(git_env, local_hub, monkeypatch: pytest.MonkeyPatch):
    """git_env with HF_ENDPOINT at the local Hub, git asking `hf` (on PATH) for it, and two
    accounts on the Hub: alice (write + read tokens) and bob (write)."""
    monkeypatch.setenv("PATH", str(BIN) + os.pathsep + os.environ["PATH"])
    monkeypatch.setenv("HF_ENDPOINT", local_hub.url)
    git_env.env.update(PATH=os.environ["PATH"], HF_ENDPOINT=local_hub.url)
    git_env.run("config", "--global", f"credential.{local_hub.url}.helper", "")
    git_env.run("config", "--global", "--add", f"credential.{local_hub.url}.helper", "hf")
    local_hub.add_token(ALICE, user="alice", role="write", display_name="alice-laptop")
    local_hub.add_token(ALICE_READ, user="alice", role="read", display_name="alice-read")
    local_hub.add_token(BOB, user="bob", role="write", display_name="bob-work")
    local_hub.create_repo("alice/other")
    local_hub.create_repo("bob/model")
    return git_env


def git(hf_git, *args: str, cwd=None, check: bool = True, env: dict | None = None, timeout: float = 120):
    return hf_git.run(*args, cwd=cwd, no_helper=False, check=check, extra_env=env, timeout=timeout)


def authenticated_users(local_hub, repo: str) -> set[str]:
    return {d["user"] for d in local_hub.request_details
            if d["path"].startswith(f"/{repo}") and d["auth"] is not None and d["user"]}


# --- the retry guard with real git-lfs ----------------------------------------------------------


@pytest.fixture
def lfs_repo(hf_git, local_hub, tmp_path: Path) -> Path:
    """alice/model holding a 3 MB LFS file (pushed with alice's write token), cloned without
    its LFS content into tmp_path/"work"; no token saved afterwards."""
    need_git_lfs()
    hf_git.run("lfs", "install", "--skip-repo")
    tokens.save_token(ALICE, "alice-laptop")
    seed = tmp_path / "seed"
    git(hf_git, "clone", f"{local_hub.url}/alice/model", str(seed))
    hf_git.run("lfs", "track", "*.bin", cwd=seed)
    (seed / "weights.bin").write_bytes(os.urandom(LFS_BYTES))
    hf_git.run("add", ".gitattributes", "weights.bin", cwd=seed)
    hf_git.run("commit", "-m", "weights", cwd=seed)
    git(hf_git, "push", "origin", "HEAD:main", cwd=seed)
    assert local_hub.counter("storage_put") == 1
    work = tmp_path / "work"
    git(hf_git, "clone", f"{local_hub.url}/alice/model", str(work), env={"GIT_LFS_SKIP_SMUDGE": "1"})
    tokens.delete_token()
    return work


def test_refused_hf_token_stops_git_lfs_fetch(hf_git, local_hub, lfs_repo: Path, capsys) -> None:
    batches, whoamis = local_hub.counter("lfs_batch"), local_hub.count("/api/whoami-v2")
    start = time.monotonic()
    done = git(hf_git, "lfs", "fetch", "--all", cwd=lfs_repo, check=False, env={"HF_TOKEN": REFUSED},
               timeout=30)  # without the guard git-lfs loops for ever
    elapsed = time.monotonic() - start
    requests = (local_hub.counter("lfs_batch") - batches) + (local_hub.count("/api/whoami-v2") - whoamis)
    with capsys.disabled():
        print(f"\n[lfs fetch --all, refused HF_TOKEN] {requests} Hub requests, {elapsed:.2f} s")
    assert done.returncode != 0
    assert requests <= 10
    assert elapsed < 10  # 1 s on an idle machine; this VM is shared
    ours = [line for line in done.stderr.splitlines() if line.startswith("git-credential-hf:")]
    assert len(ours) == 1, done.stderr
    assert "HF_TOKEN" in ours[0] and tokens.mask(REFUSED) in ours[0]
    assert REFUSED not in done.stderr + done.stdout
    # a new token is served at once: the same fetch now works
    done = git(hf_git, "lfs", "fetch", "--all", cwd=lfs_repo, check=False, env={"HF_TOKEN": ALICE})
    assert done.returncode == 0, done.stderr


def test_valid_token_refused_for_one_repo_still_works_for_another(hf_git, local_hub, lfs_repo: Path,
                                                                  tmp_path: Path) -> None:
    """A read token's LFS upload answered with 401 (git's own push would be refused first, so
    `git lfs push` alone): git-lfs would loop;
    the guard stops it, the token is kept, and the next command (another repo) works."""
    local_hub.lfs_upload_denied_status = 401
    tokens.save_token(ALICE_READ, "alice-read")
    (lfs_repo / "more.bin").write_bytes(os.urandom(1024 * 1024))
    hf_git.run("add", "more.bin", cwd=lfs_repo)
    hf_git.run("commit", "-m", "more", cwd=lfs_repo)
    batches, whoamis = local_hub.counter("lfs_batch"), local_hub.count("/api/whoami-v2")
    start = time.monotonic()
    done = git(hf_git, "lfs", "push", "--all", "origin", cwd=lfs_repo, check=False, timeout=30)
    elapsed = time.monotonic() - start
    assert done.returncode != 0
    requests = (local_hub.counter("lfs_batch") - batches) + (local_hub.count("/api/whoami-v2") - whoamis)
    assert requests <= 10 and elapsed < 10, (requests, elapsed)
    assert "'read' token" in done.stderr  # erase's line names the role
    assert sum(line.startswith("git-credential-hf: stopping git") for line in done.stderr.splitlines()) == 1, done.stderr
    assert tokens.read_token_file() == ALICE_READ  # valid: kept
    git(hf_git, "clone", f"{local_hub.url}/alice/other", str(tmp_path / "other"))  # works at once


# --- several accounts ---------------------------------------------------------------------------


@pytest.fixture
def two_accounts(hf_git, capsys):
    _login.login(token=ALICE)
    _login.login(token=BOB)  # bob is active
    capsys.readouterr()
    assert tokens.read_token_file() == BOB
    return hf_git


def test_url_username_authenticates_as_that_account(two_accounts, local_hub, tmp_path: Path) -> None:
    host = local_hub.url.removeprefix("http://")
    git(two_accounts, "clone", f"http://alice@{host}/bob/model", str(tmp_path / "a"))
    assert authenticated_users(local_hub, "bob/model") == {"alice"}
    git(two_accounts, "clone", f"{local_hub.url}/alice/other", str(tmp_path / "b"))
    assert authenticated_users(local_hub, "alice/other") == {"bob"}


def test_credential_username_config_authenticates_as_that_account(two_accounts, local_hub,
                                                                  tmp_path: Path) -> None:
    two_accounts.run("config", "--global", f"credential.{local_hub.url}.username", "alice")
    git(two_accounts, "clone", f"{local_hub.url}/bob/model", str(tmp_path / "a"))
    assert authenticated_users(local_hub, "bob/model") == {"alice"}


def test_unknown_username_gets_the_active_token(two_accounts, local_hub, tmp_path: Path) -> None:
    host = local_hub.url.removeprefix("http://")
    git(two_accounts, "clone", f"http://carol@{host}/bob/model", str(tmp_path / "a"))
    assert authenticated_users(local_hub, "bob/model") == {"bob"}  # never alice's token


def cli(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([HELPER, *args], input=input, capture_output=True, text=True, timeout=120)


def hf(code: str) -> dict:
    script = f"import json, huggingface_hub as h\nfrom huggingface_hub.utils import get_stored_tokens\n{code}\nprint(json.dumps(out))\n"
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_list_switch_logout_interop_ours_then_theirs(two_accounts) -> None:
    listed = cli("list")
    assert listed.returncode == 0
    lines = listed.stdout.splitlines()
    assert any(line.startswith("*") and "bob-work" in line and "bob" in line for line in lines)
    assert any("alice-laptop" in line and "alice" in line and not line.startswith("*") for line in lines)
    assert ALICE not in listed.stdout and BOB not in listed.stdout
    assert cli("switch", "alice-laptop").returncode == 0
    assert hf("out = {'token': h.get_token()}")["token"] == ALICE
    bad = cli("switch", "nobody")
    assert bad.returncode == 1 and tokens.read_token_file() == ALICE
    assert cli("logout", "--token-name", "bob-work").returncode == 0
    theirs = hf("out = get_stored_tokens()")
    assert theirs == {"alice-laptop": ALICE} and hf("out = {'t': h.get_token()}")["t"] == ALICE


def test_list_switch_logout_interop_theirs_then_ours(hf_git, local_hub) -> None:
    hf(f"h.login(token={ALICE!r}); h.login(token={BOB!r}); out = {{}}")
    listed = cli("list")
    assert "alice-laptop" in listed.stdout and "bob-work" in listed.stdout
    assert "alice" in listed.stdout.split("alice-laptop", 1)[1].splitlines()[0]  # learned by whoami
    hf("h.auth_switch('alice-laptop'); out = {}")
    assert tokens.read_token_file() == ALICE
    assert cli("switch", "bob-work").returncode == 0
    assert hf("out = {'t': h.get_token()}")["t"] == BOB
    hf("h.logout(token_name='alice-laptop'); out = {}")
    assert "alice-laptop" not in cli("list", "--offline").stdout
    assert cli("logout", "--token-name", "bob-work").returncode == 0
    assert hf("out = {'t': h.get_token(), 's': get_stored_tokens()}") == {"t": None, "s": {}}


# --- the permission pre-flight ------------------------------------------------------------------


@pytest.mark.parametrize(("token", "repo", "code", "words"), [
    (ALICE, "alice/model", 0, "can push"),
    (ALICE_READ, "alice/model", 1, "'read' token"),
    (ALICE, "bob/model", 1, "403"),
    (FINE, "alice/other", 0, "can push"),
    (FINE, "alice/model", 1, "without 'repo.write' on alice/model"),
])
def test_status_repo_preflight(token: str, repo: str, code: int, words: str, hf_git, local_hub) -> None:
    local_hub.add_token(FINE, user="alice", role="fineGrained", display_name="fine",
                        fine_grained={"global": [], "scoped": [
                            {"entity": {"type": "model", "name": "alice/other"}, "permissions": ["repo.write"]}]})
    tokens.save_token(token)
    done = cli("status", "--repo", repo)
    assert done.returncode == code, done.stdout + done.stderr
    assert words in done.stdout + done.stderr
    assert token not in done.stdout + done.stderr
    assert local_hub.counter("auth_checks") == 1
