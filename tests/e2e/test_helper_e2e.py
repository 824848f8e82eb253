"""The real git, configured with `credential.<hub>.helper = hf`, against the local Hub."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from git_credential_hf import tokens

READ_TOKEN = "hf_" + "ReadOnlyReadOnlyReadOnlyReadOnly12"
OTHER_TOKEN = "hf_" + "OtherOtherOtherOtherOtherOther1234"


@pytest.fixture
def hf_git(git_env, local_hub, monkeypatch: pytest.MonkeyPatch):
    """git_env with HF_ENDPOINT at the local Hub and git calling `hf` for it, found on PATH."""
    bin_dir = os.path.dirname(sys.executable)
    assert os.path.exists(os.path.join(bin_dir, "git-credential-hf"))
    monkeypatch.setenv("PATH", bin_dir + os.pathsep + os.environ["PATH"])
    monkeypatch.setenv("HF_ENDPOINT", local_hub.url)
    git_env.env.update(PATH=os.environ["PATH"], HF_ENDPOINT=local_hub.url)
    git_env.run("config", "--global", f"credential.{local_hub.url}.helper", "")
    git_env.run("config", "--global", "--add", f"credential.{local_hub.url}.helper", "hf")
    return git_env


def clone(hf_git, local_hub, dest: Path, check: bool = True, env: dict | None = None):
    return hf_git.run("clone", f"{local_hub.url}/alice/model", str(dest), no_helper=False, check=check,
                      extra_env=env)


def commit_and_push(hf_git, work: Path, check: bool = True, env: dict | None = None):
    (work / "weights.txt").write_text("new weights\n")
    hf_git.run("add", "weights.txt", cwd=work)
    hf_git.run("commit", "-m", "Add weights", cwd=work)
    return hf_git.run("push", "origin", "HEAD:main", cwd=work, no_helper=False, check=check, extra_env=env)


def remote_log(local_hub) -> str:
    import subprocess

    return subprocess.run(["git", "--git-dir", str(local_hub.root / "alice/model.git"), "log", "--format=%s",
                           "main"], capture_output=True, text=True, check=True).stdout


def test_cached_token_clone_commit_push(hf_git, local_hub, hub_token, tmp_path: Path) -> None:
    tokens.save_token(hub_token, "laptop")
    clone(hf_git, local_hub, tmp_path / "work")
    push = commit_and_push(hf_git, tmp_path / "work")
    assert "Add weights" in remote_log(local_hub)
    assert hub_token not in push.stderr + push.stdout
    assert local_hub.count("/api/whoami-v2") == 0  # get/store on the happy path never call the Hub
    assert tokens.read_token_file() == hub_token


def test_same_host_other_port_gets_no_token(hf_git, local_hub, local_hub_module, hub_token,
                                           tmp_path: Path) -> None:
    """A second Hub on another port of the same host, which would accept the same token, gets
    nothing: the helper serves exactly the configured endpoint."""
    tokens.save_token(hub_token)
    with local_hub_module.LocalHub(tmp_path / "hub2") as other:
        other.add_token(hub_token)
        other.create_repo("alice/model")
        hf_git.run("config", "--global", f"credential.{other.url}.helper", "hf")
        done = hf_git.run("ls-remote", f"{other.url}/alice/model", no_helper=False, check=False)
        assert done.returncode != 0
        assert [e for e in other.requests_log if e[2] is not None] == []  # no credential ever sent
    hf_git.run("ls-remote", f"{local_hub.url}/alice/model", no_helper=False)  # the endpoint works


def test_no_token_fails_without_prompting(hf_git, local_hub, tmp_path: Path) -> None:
    done = clone(hf_git, local_hub, tmp_path / "work", check=False)
    assert done.returncode != 0
    assert "terminal prompts disabled" in done.stderr or "Authentication failed" in done.stderr
    assert not (tmp_path / "work").exists()


def test_revoked_token_fails_and_is_removed(hf_git, local_hub, hub_token, tmp_path: Path) -> None:
    tokens.save_token(hub_token, "laptop")
    local_hub.revoke(hub_token)
    done = clone(hf_git, local_hub, tmp_path / "work", check=False)
    assert done.returncode != 0
    assert tokens.read_token_file() is None
    assert tokens.stored_tokens() == {}
    assert "git-credential-hf login" in done.stderr
    assert hub_token not in done.stderr
    assert local_hub.count("/api/whoami-v2") == 1  # erase checked with the Hub before removing


@pytest.mark.parametrize("status", [401, 403])
def test_read_token_clones_but_cannot_push_and_is_kept(status: int, hf_git, local_hub,
                                                       tmp_path: Path) -> None:
    local_hub.read_push_status = status
    local_hub.add_token(READ_TOKEN, user="alice", role="read")
    tokens.save_token(READ_TOKEN, "reader")
    clone(hf_git, local_hub, tmp_path / "work")
    done = commit_and_push(hf_git, tmp_path / "work", check=False)
    assert done.returncode != 0
    assert "Add weights" not in remote_log(local_hub)
    assert tokens.read_token_file() == READ_TOKEN
    assert tokens.stored_tokens() == {"reader": READ_TOKEN}
    if status == 401:  # git called erase: the helper checked and explained
        assert "still valid" in done.stderr and "permission" in done.stderr
    assert READ_TOKEN not in done.stderr


def test_hf_token_env_wins_over_file(hf_git, local_hub, hub_token, tmp_path: Path) -> None:
    local_hub.add_token(OTHER_TOKEN, user="alice", role="write", display_name="ci")
    tokens.save_token(hub_token)
    local_hub.revoke(hub_token)  # the file's token would fail: only the env token can succeed
    env = {"HF_TOKEN": OTHER_TOKEN}
    clone(hf_git, local_hub, tmp_path / "work", env=env)
    commit_and_push(hf_git, tmp_path / "work", env=env)
    assert "Add weights" in remote_log(local_hub)
    assert tokens.read_token_file() == hub_token  # the env token never lands in the cache


def test_store_adopts_a_token_another_helper_supplied(hf_git, local_hub, hub_token, tmp_path: Path) -> None:
    """git's own `store` helper answers first with a valid token; on success git calls every
    helper's store, and ours validates it and makes it the active token."""
    store_file = tmp_path / "git-credentials"
    port = local_hub.port
    store_file.write_text(f"http://someone:{hub_token}@127.0.0.1:{port}\n")
    store_file.chmod(0o600)
    url = local_hub.url
    hf_git.run("config", "--global", "--replace-all", f"credential.{url}.helper", "")
    hf_git.run("config", "--global", "--add", f"credential.{url}.helper", f"store --file={store_file}")
    hf_git.run("config", "--global", "--add", f"credential.{url}.helper", "hf")
    hf_git.run("ls-remote", f"{url}/alice/model", no_helper=False)
    assert tokens.read_token_file() == hub_token
    assert tokens.stored_tokens() == {"alice-write": hub_token}
    assert local_hub.count("/api/whoami-v2") == 1
