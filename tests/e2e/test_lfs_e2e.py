"""git-lfs end to end: the real git and git-lfs, with git-credential-hf as the only helper, against
the local Hub's LFS batch API and presigned-style storage (scripts/local_hub.py).

Without git-lfs these tests skip on a workstation and FAIL under ``CI=true`` (scripts/test installs
git-lfs). The hf.co case reaches the local Hub as https://hf.co through its CONNECT proxy and TLS
(HF_ENDPOINT unset: the default endpoint, whose alias hf.co is the helper's own rule).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import load_script

from git_credential_hf import tokens

READ_TOKEN = "hf_" + "LfsReadLfsReadLfsReadLfsReadLfs123"
BOB_TOKEN = "hf_" + "BobWriteBobWriteBobWriteBobWrite12"
REPO = "alice/model"
BATCH = f"/{REPO}.git/info/lfs/objects/batch"
SIZE = 3 * 1024 * 1024


@pytest.fixture(scope="module", autouse=True)
def _git_lfs() -> None:
    proc = subprocess.run(["git", "lfs", "version"], capture_output=True, check=False)
    if proc.returncode != 0:
        message = "git-lfs is not installed (Debian: apt-get install git-lfs; scripts/test does)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def lfs_git(git_env, local_hub, monkeypatch: pytest.MonkeyPatch):
    """git_env with git-lfs installed in the isolated global config, HF_ENDPOINT at the local Hub
    and `credential.<hub>.helper = "" then hf` (what `setup` writes)."""
    bin_dir = os.path.dirname(sys.executable)
    assert os.path.exists(os.path.join(bin_dir, "git-credential-hf"))
    monkeypatch.setenv("PATH", bin_dir + os.pathsep + os.environ["PATH"])
    monkeypatch.setenv("HF_ENDPOINT", local_hub.url)
    git_env.env.update(PATH=os.environ["PATH"], HF_ENDPOINT=local_hub.url,
                       XDG_STATE_HOME=str(git_env.home / ".local" / "state"),
                       XDG_CACHE_HOME=str(git_env.home / ".cache"))
    git_env.run("lfs", "install", "--skip-repo", cwd=git_env.home)
    git_env.run("config", "--global", f"credential.{local_hub.url}.helper", "", cwd=git_env.home)
    git_env.run("config", "--global", "--add", f"credential.{local_hub.url}.helper", "hf",
                cwd=git_env.home)
    return git_env


def git(g, *args: str, cwd: Path | None = None, check: bool = True, timeout: float = 60,
        env: dict | None = None) -> subprocess.CompletedProcess:
    """git through the configured helper (never a terminal prompt: GIT_TERMINAL_PROMPT=0), run
    in the isolated HOME unless told otherwise: never inside this checkout."""
    return g.run(*args, cwd=cwd or g.home, check=check, no_helper=False, timeout=timeout,
                 extra_env=env)


def add_lfs_file(g, work: Path, name: str = "weights.bin", size: int = SIZE) -> bytes:
    data = os.urandom(size)
    git(g, "lfs", "track", "*.bin", cwd=work)
    (work / name).write_bytes(data)
    git(g, "add", ".gitattributes", name, cwd=work)
    git(g, "commit", "-q", "-m", f"add {name}", cwd=work)
    return data


def head(hub, repo: str = REPO) -> str:
    return subprocess.run(["git", "--git-dir", str(hub.root / f"{repo}.git"), "rev-parse", "main"],
                          capture_output=True, text=True, check=True).stdout.strip()


def storage_requests_carry_no_credentials(hub) -> bool:
    details = [d for d in hub.request_details if d["path"].startswith("/lfs-storage/")]
    return bool(details) and all(d["auth"] is None for d in details)


def test_push_3mb_lfs_file_and_read_it_back(lfs_git, local_hub, hub_token, tmp_path):
    tokens.save_token(hub_token, "laptop")
    work = tmp_path / "work"
    git(lfs_git, "clone", "-q", f"{local_hub.url}/{REPO}", str(work))
    data = add_lfs_file(lfs_git, work)
    push = git(lfs_git, "push", "origin", "main", cwd=work)
    assert hub_token not in push.stdout + push.stderr
    assert local_hub.counter("lfs_batch_upload") == 1 and local_hub.counter("storage_put") == 1
    import hashlib

    oid = hashlib.sha256(data).hexdigest()
    assert local_hub.lfs_object_path(REPO, oid).read_bytes() == data
    # The pointer, not the bytes, went into git.
    blob = subprocess.run(["git", "--git-dir", str(local_hub.root / f"{REPO}.git"), "show",
                           "main:weights.bin"], capture_output=True, check=True).stdout
    assert blob.startswith(b"version https://git-lfs.github.com/spec/v1") and oid.encode() in blob

    fresh = tmp_path / "fresh"
    clone = git(lfs_git, "clone", "-q", f"{local_hub.url}/{REPO}", str(fresh))
    assert (fresh / "weights.bin").read_bytes() == data
    assert hub_token not in clone.stdout + clone.stderr
    assert local_hub.counter("lfs_batch_download") >= 1 and local_hub.counter("storage_get") == 1
    assert storage_requests_carry_no_credentials(local_hub)  # presigned URLs: no Authorization
    assert local_hub.count("/api/whoami-v2") == 0  # the happy path never calls whoami
    assert tokens.read_token_file() == hub_token


def test_read_token_lfs_upload_is_refused_and_the_token_kept(lfs_git, local_hub, tmp_path):
    local_hub.add_token(READ_TOKEN, user="alice", role="read")
    tokens.save_token(READ_TOKEN, "ro")
    stored = (lfs_git.hf_home / "stored_tokens").read_bytes()
    work = tmp_path / "work"
    git(lfs_git, "clone", "-q", f"{local_hub.url}/{REPO}", str(work))  # reading is fine
    add_lfs_file(lfs_git, work, size=4096)
    start = time.monotonic()
    push = git(lfs_git, "lfs", "push", "origin", "main", cwd=work, check=False, timeout=60)
    assert push.returncode != 0, push.stderr
    assert time.monotonic() - start < 30
    assert "403" in push.stderr or "not authorized" in push.stderr.lower(), push.stderr
    assert local_hub.counter("storage_put") == 0
    assert local_hub.counter("lfs_batch_upload") >= 1
    assert READ_TOKEN not in push.stdout + push.stderr
    # A plain push fails too (at the git step), and the read token survives both.
    before = head(local_hub)
    proc = git(lfs_git, "push", "origin", "main", cwd=work, check=False, timeout=60)
    assert proc.returncode != 0 and head(local_hub) == before
    assert tokens.read_token_file() == READ_TOKEN
    assert (lfs_git.hf_home / "stored_tokens").read_bytes() == stored


def test_no_token_fails_without_prompting(lfs_git, local_hub, hub_token, tmp_path):
    """A clone made by other means (pointers only); fetching LFS objects with no token saved
    fails at once: no prompt, no hang, a handful of requests."""
    tokens.save_token(hub_token)
    seed = tmp_path / "seed"
    git(lfs_git, "clone", "-q", f"{local_hub.url}/{REPO}", str(seed))
    add_lfs_file(lfs_git, seed, size=2048)
    git(lfs_git, "push", "-q", "origin", "main", cwd=seed)
    tokens.delete_token()
    assert tokens.read_token_file() is None
    work = tmp_path / "work"
    lfs_git.run("clone", "-q", str(local_hub.root / f"{REPO}.git"), str(work), cwd=tmp_path,
                extra_env={"GIT_LFS_SKIP_SMUDGE": "1"})
    git(lfs_git, "remote", "set-url", "origin", f"{local_hub.url}/{REPO}", cwd=work)
    batches, seen = local_hub.count(BATCH), len(local_hub.request_details)
    start = time.monotonic()
    proc = git(lfs_git, "lfs", "fetch", "origin", "main", cwd=work, check=False, timeout=60)
    assert proc.returncode != 0
    assert time.monotonic() - start < 30
    assert "terminal prompts disabled" in proc.stderr or "credentials" in proc.stderr.lower(), \
        proc.stderr
    assert local_hub.count(BATCH) - batches <= 3
    new = local_hub.request_details[seen:]
    assert new and all(d["auth"] is None and d["status"] == 401 for d in new), new


@pytest.mark.parametrize("status", [401, 403])
def test_push_to_another_users_repo_fails_and_the_token_is_kept(lfs_git, local_hub, hub_token,
                                                                 tmp_path, status):
    """Issue 13 item 8: the Hub's namespace rule. alice's write token may read bob's repo but
    not push there (git push nor LFS upload); the token and the cache stay as they were."""
    local_hub.read_push_status = status
    local_hub.create_repo("bob/model")
    local_hub.add_token(BOB_TOKEN, user="bob")
    tokens.save_token(hub_token, "laptop")
    stored = (lfs_git.hf_home / "stored_tokens").read_bytes()
    work = tmp_path / "work"
    git(lfs_git, "clone", "-q", f"{local_hub.url}/bob/model", str(work))
    add_lfs_file(lfs_git, work, size=4096)
    before = head(local_hub, "bob/model")
    proc = git(lfs_git, "push", "origin", "main", cwd=work, check=False, timeout=60)
    assert proc.returncode != 0
    assert ("GET", "/bob/model/info/refs", "Basic", status) in local_hub.requests_log
    lfs = git(lfs_git, "lfs", "push", "origin", "main", cwd=work, check=False, timeout=60)
    assert lfs.returncode != 0 and local_hub.counter("storage_put") == 0
    assert head(local_hub, "bob/model") == before
    assert tokens.read_token_file() == hub_token
    assert (lfs_git.hf_home / "stored_tokens").read_bytes() == stored
    # Pushing to alice's own repo still works with the same token.
    mine = tmp_path / "mine"
    git(lfs_git, "clone", "-q", f"{local_hub.url}/{REPO}", str(mine))
    add_lfs_file(lfs_git, mine, size=4096)
    git(lfs_git, "push", "-q", "origin", "main", cwd=mine)
    assert local_hub.counter("storage_put") == 1


@pytest.fixture
def alias_git(git_env, local_hub, local_hub_module, tmp_path, monkeypatch: pytest.MonkeyPatch):
    """The default endpoint (HF_ENDPOINT unset): https://huggingface.co and https://hf.co reach the
    local Hub through its CONNECT proxy (HTTPS_PROXY) with a test CA that git, git-lfs and
    requests trust; `git-credential-hf setup` configures the helper for both names."""
    if shutil.which("openssl") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("openssl is needed for the hf.co test")
        pytest.skip("openssl is needed for the hf.co test")
    ca, cert, key = local_hub_module.make_tls_files(tmp_path / "tls")
    local_hub.enable_tls(cert, key, hosts={"hf.co", "huggingface.co"})
    bin_dir = os.path.dirname(sys.executable)
    settings = {"PATH": bin_dir + os.pathsep + os.environ["PATH"], "HTTPS_PROXY": local_hub.url,
                "https_proxy": local_hub.url, "GIT_SSL_CAINFO": ca, "REQUESTS_CA_BUNDLE": ca,
                "XDG_STATE_HOME": str(git_env.home / ".local" / "state"),
                "XDG_CACHE_HOME": str(git_env.home / ".cache")}
    for key_, value in settings.items():
        monkeypatch.setenv(key_, value)
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    git_env.env.update(settings)
    git_env.env.pop("HF_ENDPOINT", None)
    git_env.run("lfs", "install", "--skip-repo", cwd=git_env.home)
    setup = subprocess.run([os.path.join(bin_dir, "git-credential-hf"), "setup"],
                           env=git_env.env, capture_output=True, text=True, timeout=60,
                           check=False, cwd=git_env.home)
    assert setup.returncode == 0, setup.stderr
    assert "https://hf.co" in setup.stdout + setup.stderr
    return git_env


def test_hf_co_alias_serves_lfs(alias_git, local_hub, hub_token, tmp_path):
    """Issue 10 item 3: a repo pushed over https://hf.co/… authenticates its LFS batch calls
    through the helper (hf.co is the default endpoint's alias), and reads back the same way."""
    tokens.save_token(hub_token, "laptop")
    work = tmp_path / "work"
    git(alias_git, "clone", "-q", f"https://hf.co/{REPO}", str(work))
    data = add_lfs_file(alias_git, work, size=1024 * 1024)
    git(alias_git, "push", "-q", "origin", "main", cwd=work)
    assert local_hub.count(BATCH, host="hf.co") >= 1
    assert local_hub.count(BATCH, host="huggingface.co") == 0
    batch = [d for d in local_hub.request_details if d["path"] == BATCH and d["status"] == 200]
    assert batch and all(d["tls"] and d["user"] == "alice" and d["auth"] == "Basic"
                         for d in batch)
    fresh = tmp_path / "fresh"
    git(alias_git, "clone", "-q", f"https://hf.co/{REPO}", str(fresh))
    assert (fresh / "weights.bin").read_bytes() == data
    assert local_hub.counter("storage_get") == 1
    assert storage_requests_carry_no_credentials(local_hub)
    assert tokens.read_token_file() == hub_token


def test_refused_token_retry_storm_is_measurable(tmp_path):
    """scripts/lfs_retry_storm.py, bounded to 3 s: it counts the batch requests git-lfs makes
    with a refused HF_TOKEN (issue 10's before/after number) and never outlives its bound."""
    lfs_retry_storm = load_script("lfs_retry_storm")

    start = time.monotonic()
    result = lfs_retry_storm.measure(3.0, workdir=str(tmp_path / "storm"))
    assert time.monotonic() - start < 60
    assert result["wall_s"] <= 3.0 + 2
    assert result["batch_requests"] >= 1
    assert result["token_in_output"] is False
