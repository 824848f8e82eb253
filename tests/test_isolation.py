"""The autouse ``isolated_env`` fixture (tests/conftest.py) really isolates: checked from the
outside (git itself, the password database), not by reading back what the fixture set."""

from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path

from git_credential_hf import settings, tokens

ROOT = Path(__file__).resolve().parents[1]


def git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=False)


def test_git_reads_no_config_of_the_user_nor_of_this_checkout() -> None:
    listed = git("config", "--show-origin", "--list")
    origins = {line.split("\t", 1)[0] for line in listed.stdout.splitlines()}
    assert origins <= {f"file:{os.environ['GIT_CONFIG_GLOBAL']}"}, origins
    assert git("rev-parse", "--git-dir").returncode != 0, "the tests run inside a git checkout"


def test_home_and_token_cache_are_not_the_users() -> None:
    real_home = Path(pwd.getpwuid(os.getuid()).pw_dir).resolve()
    home = Path.home().resolve()
    assert home != real_home and real_home not in home.parents
    assert ROOT not in Path.cwd().resolve().parents and Path.cwd().resolve() != ROOT
    assert Path(settings.token_path()).resolve().is_relative_to(home)
    assert settings.env_token() is None and tokens.active_token() == (None, "file")
