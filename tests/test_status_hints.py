"""Issue 13 item 3: ``status`` names the file and line that hides this helper (global config,
repository config, a file pulled in by include/includeIf) and proposes the fix that works
there; ``setup`` says when a repository's config will still override it. Real git, the real
executable."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HELPER = shutil.which("git-credential-hf", path=os.path.dirname(sys.executable))
TOKEN = "hf_" + "StatusHintsStatusHintsStatusHints0"
URL = "https://huggingface.co"


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_TOKEN": TOKEN}
    return subprocess.run([HELPER, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=60, check=False)


def git(*args: str, cwd: Path | None = None) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    assert HELPER, "git-credential-hf is not installed"
    path = tmp_path / "work"
    git("init", "-q", str(path))
    assert cli("setup").returncode == 0
    return path


def _line(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_status_names_the_repository_line_and_a_fix_that_works_there(repo: Path) -> None:
    git("config", "--local", "credential.helper", "", cwd=repo)
    before = cli("status", cwd=repo)
    config = repo / ".git" / "config"
    assert before.returncode == 1
    assert f"{config}:{_line(config, 'helper')} (repository config)" in before.stderr
    assert f"git config --file {config} --add credential.helper" in before.stderr
    fix = before.stderr.split("or add this helper after it: ", 1)[1].split("\n", 1)[0]
    subprocess.run(fix, shell=True, cwd=repo, check=True, capture_output=True)
    after = cli("status", cwd=repo)
    assert after.returncode == 0, after.stdout + after.stderr
    assert cli("status").returncode == 0  # outside the repository it worked all along


def test_status_names_a_file_included_by_include_if(repo: Path, tmp_path: Path) -> None:
    included = tmp_path / "work.inc"
    included.write_text(f'[credential "{URL}"]\n\thelper =\n')
    git("config", "--global", f"includeIf.gitdir:{repo}/.path", str(included))
    status = cli("status", cwd=repo)
    assert status.returncode == 1
    assert f"{included}:2 (included by the global config: include/includeIf)" in status.stderr
    assert cli("status").returncode == 0  # the include applies to that repository only


def test_status_names_a_global_reset_after_setup(repo: Path) -> None:
    gitconfig = Path(os.environ["GIT_CONFIG_GLOBAL"])
    with gitconfig.open("a") as f:
        f.write('[credential]\n\thelper = ""\n')
    status = cli("status")
    line = len(gitconfig.read_text().splitlines())
    assert status.returncode == 1
    assert f"{gitconfig}:{line} (global config)" in status.stderr
    assert "then run git-credential-hf setup" in status.stderr


def test_setup_says_when_the_repository_still_overrides_it(repo: Path) -> None:
    git("config", "--local", "credential.helper", "", cwd=repo)
    setup = cli("setup", cwd=repo)
    assert setup.returncode == 0
    assert "this repository" in setup.stdout and str(repo / ".git" / "config") in setup.stdout


def test_setup_says_which_helpers_it_hid_for_hub_urls() -> None:
    """Issue 13 item 7: the reset hides helpers others configured; setup names them."""
    git("config", "--global", "credential.helper", "store")
    git("config", "--global", "--add", f"credential.{URL}.helper", "cache --timeout=60")
    setup = cli("setup")
    assert setup.returncode == 0
    first = setup.stdout.splitlines()[0]
    assert "(replaced: cache --timeout=60)" in first
    assert "(no longer asked for this URL: store)" in first


def test_login_without_git_setup_ends_with_how_to_let_git_use_the_token(monkeypatch,
                                                                         capsys) -> None:
    """Issue 13 item 5: one closing line, and only while git is not set up."""
    from git_credential_hf import _login, gitconfig, hub

    info = {"type": "user", "name": "alice",
            "auth": {"accessToken": {"displayName": "laptop", "role": "write"}}}
    monkeypatch.setattr(hub, "whoami", lambda token, endpoint=None: info)
    _login.login(TOKEN)
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == _login.GIT_HINT and "git-credential-hf setup" in lines[-1]
    assert sum("setup" in line for line in lines) == 1
    gitconfig.setup()
    capsys.readouterr()
    _login.login(TOKEN)
    assert "git does not use this token" not in capsys.readouterr().out
