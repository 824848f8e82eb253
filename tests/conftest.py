"""Every test runs in an isolated HOME, git config and HF cache: never the user's own."""

from __future__ import annotations

from pathlib import Path

import pytest

UNSET = (
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "HF_TOKEN_PATH",
    "HF_STORED_TOKENS_PATH",
    "HF_ENDPOINT",
    "XDG_CACHE_HOME",
    "XDG_CONFIG_HOME",
    "XDG_STATE_HOME",
    "GIT_ASKPASS",
    "SSH_ASKPASS",
    "GIT_DIR",
    "GIT_WORK_TREE",
    # OAuth / OIDC: a CI runner (GitHub Actions) sets some of these for real
    "HF_OIDC_RESOURCE",
    "HF_OIDC_ID_TOKEN",
    "GITHUB_ACTIONS",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "HF_DEVICE_CODE_OAUTH_CLIENT_ID",
)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh HOME with its own git config and HF_HOME; token variables unset."""
    home = tmp_path_factory.mktemp("home")
    for name in UNSET:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("HF_HOME", str(home / ".cache" / "huggingface"))
    monkeypatch.setenv("GIT_TERMINAL_PROMPT", "0")
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    # git reads the repository config of its working directory: never this checkout's own
    # (.git/config of the clone the tests run from), only what a test sets up.
    monkeypatch.chdir(home)
    return home
