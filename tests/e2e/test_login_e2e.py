"""login / setup / logout with the real git and the local Hub: the token a user logs in with is
the one git pushes with, and nothing else.

git finds the helper through the global config that `setup` writes (no `-c credential.helper=`
here). The local Hub answers whoami and git smart HTTP over 127.0.0.1.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

import git_credential_hf
from git_credential_hf import settings, tokens

REPO = "alice/model"
BIN = Path(sys.executable).parent
SCRIPT = BIN / "git-credential-hf"
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "git_credential_hf"]
WRONG = "hf_" + "x" * 30 + "bad0"


@pytest.fixture
def env(local_hub, git_env, monkeypatch, hub_token):
    """The Hub's URL in HF_ENDPOINT for us, for git and for the helper git starts."""
    monkeypatch.setenv("HF_ENDPOINT", local_hub.url)
    git_env.env["HF_ENDPOINT"] = local_hub.url  # git_env.run uses this very dict
    return SimpleNamespace(hub=local_hub, git=git_env, token=hub_token,
                           remote=f"{local_hub.url}/{REPO}", bare=local_hub.root / f"{REPO}.git")


def cli(*args: str, input: str | None = None, **extra_env: str) -> subprocess.CompletedProcess:
    return subprocess.run([*COMMAND, *args], input=input, capture_output=True, text=True,
                          timeout=60, check=False, env={**os.environ, **extra_env})


def head_of(bare: Path) -> str:
    return subprocess.run(["git", "--git-dir", str(bare), "rev-parse", "refs/heads/main"],
                          capture_output=True, text=True, check=True).stdout.strip()


def clone_commit_push(env, work: Path, name: str = "new.txt") -> subprocess.CompletedProcess:
    """Clone through the configured helpers, commit, push; returns the push's result."""
    git = env.git.run
    clone = git("clone", "-q", env.remote, str(work), no_helper=False, check=False)
    if clone.returncode != 0:
        return clone
    (work / name).write_text("hello\n")
    git("-C", str(work), "add", name)
    git("-C", str(work), "commit", "-q", "-m", f"add {name}")
    push = git("-C", str(work), "push", "-q", "origin", "main", no_helper=False, check=False)
    if push.returncode == 0:
        local = git("-C", str(work), "rev-parse", "HEAD").stdout.strip()
        assert head_of(env.bare) == local
    return push


def assert_pushed(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 0, proc.stderr


def helper_values(url: str) -> list[str]:
    return subprocess.run(["git", "config", "--global", "--get-all", f"credential.{url}.helper"],
                          capture_output=True, text=True, check=False).stdout.splitlines()


def test_cli_login_add_to_git_credential_then_clone_and_push(env, tmp_path):
    proc = cli("login", "--token-stdin", "--add-to-git-credential", input=env.token + "\n")
    assert proc.returncode == 0, proc.stderr
    assert "Login successful" in proc.stdout and env.token not in proc.stdout + proc.stderr
    assert helper_values(env.hub.url) == ["", str(SCRIPT)]  # bin dir not on PATH here
    assert_pushed(clone_commit_push(env, tmp_path / "w"))


def test_python_login_then_clone_and_push(env, tmp_path, capsys):
    git_credential_hf.login(token=env.token, add_to_git_credential=True)
    assert "Login successful" in capsys.readouterr().out
    assert_pushed(clone_commit_push(env, tmp_path / "w"))


def test_setup_then_login_token_stdin_then_push(env, tmp_path, monkeypatch):
    # With this installation's bin dir on PATH, setup writes the short `hf`, and git finds it.
    path = f"{BIN}{os.pathsep}{os.environ['PATH']}"
    monkeypatch.setenv("PATH", path)
    env.git.env["PATH"] = path
    setup = cli("setup")
    assert setup.returncode == 0, setup.stderr
    assert helper_values(env.hub.url) == ["", "hf"]
    assert cli("setup").stdout.count("nothing changed") == 1
    # Not logged in yet: git gets nothing from the helper and fails without prompting.
    denied = clone_commit_push(env, tmp_path / "denied")
    assert denied.returncode != 0
    login = cli("login", "--token-stdin", input=env.token)
    assert login.returncode == 0, login.stderr
    assert_pushed(clone_commit_push(env, tmp_path / "w"))
    status = cli("status")
    assert status.returncode == 0, status.stderr
    assert f"{env.hub.url} → hf" in status.stdout


def test_a_stale_token_in_a_generic_store_helper_does_not_break_the_push(env, tmp_path):
    store = Path(os.environ["HOME"]) / ".git-credentials"
    host = env.hub.url.removeprefix("http://")
    store.write_text(f"http://alice:{WRONG}@{host}\n")
    store.chmod(0o600)
    subprocess.run(["git", "config", "--global", "credential.helper", "store"], check=True)
    # The precondition: with only the generic helper, its stale token is what git sends.
    stale = clone_commit_push(env, tmp_path / "stale")
    assert stale.returncode != 0
    assert env.hub.lookup(WRONG) is None
    store.write_text(f"http://alice:{WRONG}@{host}\n")  # git's erase removed it: put it back
    proc = cli("login", "--token-stdin", "--add-to-git-credential", input=env.token)
    assert proc.returncode == 0, proc.stderr
    assert_pushed(clone_commit_push(env, tmp_path / "w"))
    assert WRONG in store.read_text()  # never consulted (nor erased): our reset hides it
    assert subprocess.run(["git", "config", "--global", "--get-all", "credential.helper"],
                          capture_output=True, text=True).stdout == "store\n"  # untouched


def test_logout_then_git_fails_and_no_stale_copy_survives(env, tmp_path):
    store = Path(os.environ["HOME"]) / ".git-credentials"
    subprocess.run(["git", "config", "--global", "credential.helper", "store"], check=True)
    host = env.hub.url.removeprefix("http://")
    store.write_text(f"http://alice:{env.token}@{host}\nhttps://bob:keep@example.com\n")
    assert cli("login", "--token-stdin", "--add-to-git-credential", input=env.token).returncode == 0
    assert_pushed(clone_commit_push(env, tmp_path / "before"))
    out = cli("logout")
    assert out.returncode == 0, out.stderr
    assert "Logged out." in out.stdout
    assert tokens.read_token_file() is None
    assert env.token not in store.read_text()  # the copy the store helper held is gone
    assert "https://bob:keep@example.com" in store.read_text()
    proc = env.git.run("clone", "-q", env.remote, str(tmp_path / "after"), no_helper=False,
                       check=False)
    assert proc.returncode != 0
    assert "terminal prompts disabled" in proc.stderr or "Authentication failed" in proc.stderr


def test_login_with_the_hub_offline_fails_fast_and_stores_nothing(git_env, hub_token):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: connections are refused
    start = time.monotonic()
    proc = cli("login", "--token-stdin", "--add-to-git-credential", input=hub_token,
               HF_ENDPOINT=f"http://127.0.0.1:{port}")
    elapsed = time.monotonic() - start
    assert elapsed <= 15
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "cannot reach" in proc.stderr
    assert "Traceback" not in proc.stderr and hub_token not in proc.stderr + proc.stdout
    assert not Path(settings.token_path()).exists()
    assert not Path(settings.stored_tokens_path()).exists()
    assert git_env.global_config.read_text() == ""  # git config untouched


def test_interpreter_login_with_patched_prompts_then_push(env, tmp_path, monkeypatch, capsys):
    asked = []
    monkeypatch.setattr("getpass.getpass", lambda prompt="": env.token)
    monkeypatch.setattr("builtins.input", lambda prompt="": asked.append(prompt) or "")
    git_credential_hf.interpreter_login()
    assert asked == ["Add token as git credential? (Y/n) "]
    assert env.token not in capsys.readouterr().out
    assert_pushed(clone_commit_push(env, tmp_path / "w"))


def test_new_session_false_skips_the_prompt(env, monkeypatch, capsys):
    assert cli("login", "--token-stdin", input=env.token).returncode == 0

    def fail(*_a, **_k):
        raise AssertionError("prompted although logged in")

    monkeypatch.setattr("getpass.getpass", fail)
    monkeypatch.setattr("builtins.input", fail)
    requests_before = env.hub.count("/api/whoami-v2")
    git_credential_hf.login(new_session=False)
    assert env.hub.count("/api/whoami-v2") == requests_before + 1  # it did check the token
    assert "Already logged in as alice" in capsys.readouterr().out


def test_login_replacing_a_token_is_what_git_uses_next(env, tmp_path):
    """Switching accounts: the next push uses the new token, not a cached copy of the old."""
    other = "hf_" + "n" * 30 + "new1"
    env.hub.add_token(other, user="alice", role="write", display_name="second")
    assert cli("login", "--token-stdin", "--add-to-git-credential", input=env.token).returncode == 0
    assert_pushed(clone_commit_push(env, tmp_path / "a", "a.txt"))
    assert cli("login", "--token-stdin", input=other).returncode == 0
    env.hub.revoke(env.token)
    assert_pushed(clone_commit_push(env, tmp_path / "b", "b.txt"))
    assert set(tokens.stored_tokens()) == {"alice-write", "second"}


@pytest.mark.timeout(300)
def test_the_readme_demo_runs_and_cleans_up(git_env):
    """`./scripts/demo`, the README's first command: venv, install, local Hub, login, clone,
    push, logout, cleanup. Needs a package index or the demo's wheel cache (under the test's
    throwaway HOME, so a first run)."""
    demo = Path(__file__).resolve().parents[2] / "scripts" / "demo"
    proc = subprocess.run([str(demo)], capture_output=True, text=True, timeout=290, check=False,
                          stdin=subprocess.DEVNULL, env={**os.environ, "PYTHON": sys.executable})
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "Login successful: logged in as alice." in out
    assert "ok:       git will authenticate to http://127.0.0.1:" in out
    assert out.count("git asked git-credential-hf: get → store") == 2
    assert out.count("other helpers asked: none") == 2
    assert "main -> main" in out and "git ls-remote now fails" in out
    assert re.search(r"hf_demo[0-9a-f]{28}", out) is None  # the demo token never shown
    work = re.search(r"(/\S+/git-credential-hf-demo\.\w+) removed", out)
    assert work and not Path(work.group(1)).exists()
