"""Fixtures for end-to-end tests: an isolated git environment and a local fake Hugging Face Hub."""
from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Callable

import pytest
from support import load_local_hub

HUB_TOKEN = "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz01234567"  # 34 chars after "hf_", like real ones
HUB_USER = "alice"
HUB_REPO = "alice/model"


@pytest.fixture(scope="session")
def local_hub_module() -> ModuleType:
    return load_local_hub()


@pytest.fixture
def hub_token() -> str:
    return HUB_TOKEN


@pytest.fixture
def local_hub(local_hub_module: ModuleType, tmp_path: Path) -> Iterator:
    """A started LocalHub on tmp_path/"hub": write token HUB_TOKEN for alice, repo alice/model."""
    with local_hub_module.LocalHub(tmp_path / "hub") as hub:
        hub.add_token(HUB_TOKEN, user=HUB_USER, role="write")
        hub.create_repo(HUB_REPO)
        yield hub


@dataclass
class GitEnv:
    """An isolated HOME/git config/HF_HOME, already exported via monkeypatch, plus a git runner."""

    env: dict[str, str]
    home: Path
    global_config: Path
    hf_home: Path
    run: Callable[..., subprocess.CompletedProcess] = field(repr=False)


@pytest.fixture
def git_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitEnv:
    home = tmp_path / "home"
    home.mkdir()
    global_config = home / "gitconfig"
    global_config.touch()
    hf_home = home / "hf"
    settings = {
        "HOME": str(home),
        "USERPROFILE": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "GIT_CONFIG_GLOBAL": str(global_config),
        "GIT_CONFIG_NOSYSTEM": "1",
        "HF_HOME": str(hf_home),
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": "Test Author",
        "GIT_AUTHOR_EMAIL": "author@example.com",
        "GIT_COMMITTER_NAME": "Test Author",
        "GIT_COMMITTER_EMAIL": "author@example.com",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    # Anything that could hand git or huggingface_hub a credential behind the test's back.
    for key in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "GIT_ASKPASS",
                "SSH_ASKPASS", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT", "GIT_DIR",
                "GIT_WORK_TREE", "GIT_TRACE", "GIT_CURL_VERBOSE"):
        monkeypatch.delenv(key, raising=False)
    env = dict(os.environ)

    def run(*args: str, cwd: str | os.PathLike | None = None, check: bool = True,
            no_helper: bool = True, input: str | None = None,
            extra_env: dict[str, str] | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess:
        """Run git; `no_helper` adds `-c credential.helper=` (clears every configured helper)."""
        cmd = ["git", *(["-c", "credential.helper="] if no_helper else []), *args]
        proc = subprocess.run(cmd, cwd=cwd, env={**env, **(extra_env or {})}, input=input,
                              capture_output=True, text=True, timeout=timeout, check=False)
        if check and proc.returncode != 0:
            raise AssertionError(f"{cmd} failed ({proc.returncode}):\n{proc.stderr}")
        return proc

    return GitEnv(env=env, home=home, global_config=global_config, hf_home=hf_home, run=run)
