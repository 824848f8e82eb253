"""gitconfig: setup / --unset, the helper git runs for a URL, and git calls that fail cleanly.

These run the real git on throwaway config files (the autouse fixture isolates HOME and
GIT_CONFIG_GLOBAL); no network is involved.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from git_credential_hf import gitconfig

URL = "https://huggingface.co"


def global_config() -> Path:
    return Path(os.environ["GIT_CONFIG_GLOBAL"])


def git(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=False, **kw)


def values(key: str) -> list[str]:
    out = git("config", "--global", "--get-all", key).stdout
    return out.splitlines()


@pytest.fixture
def ours(monkeypatch) -> str:
    """Pretend the installation's script is an absolute path not on PATH."""
    monkeypatch.setattr(gitconfig, "helper_command", lambda: "/opt/hf/bin/git-credential-hf")
    return "/opt/hf/bin/git-credential-hf"


# --- which command git runs ---------------------------------------------------------------------


def _fake_install(tmp_path: Path, name: str = "venv") -> Path:
    bindir = tmp_path / name / "bin"
    bindir.mkdir(parents=True)
    script = bindir / "git-credential-hf"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o755)
    return script


def test_helper_command_is_hf_when_path_finds_this_installation(tmp_path, monkeypatch):
    script = _fake_install(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(script), "setup"])
    monkeypatch.setenv("PATH", f"{script.parent}{os.pathsep}{os.environ['PATH']}")
    assert gitconfig.this_executable() == str(script)
    assert gitconfig.helper_command() == "hf"


def test_helper_command_is_absolute_when_path_finds_another_installation(tmp_path, monkeypatch):
    script = _fake_install(tmp_path, "mine")
    other = _fake_install(tmp_path, "other")
    monkeypatch.setattr(sys, "argv", [str(script), "setup"])
    monkeypatch.setenv("PATH", f"{other.parent}{os.pathsep}{os.environ['PATH']}")
    assert gitconfig.helper_command() == str(script)


def test_helper_command_from_python_uses_the_script_beside_the_interpreter(tmp_path, monkeypatch):
    script = _fake_install(tmp_path)
    monkeypatch.setattr(sys, "argv", ["-c"])
    monkeypatch.setattr(sys, "executable", str(script.parent / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert gitconfig.helper_command() == str(script)


def test_helper_command_quotes_a_path_with_spaces(tmp_path, monkeypatch):
    script = _fake_install(tmp_path, "my venv")
    monkeypatch.setattr(sys, "argv", [str(script)])
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    command = gitconfig.helper_command()
    assert command == f"!'{script}'"
    assert gitconfig.is_hf_helper(command)


def test_helper_command_without_a_script_runs_the_module(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["-c"])
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    command = gitconfig.helper_command()
    assert command.startswith("!") and command.endswith(" -m git_credential_hf")
    assert gitconfig.is_hf_helper(command)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("hf", True),
        ("hf --debug", True),
        ("/usr/local/bin/git-credential-hf", True),
        ("!'/a b/git-credential-hf'", True),
        ("!/venv/bin/python -m git_credential_hf", True),
        ("store", False),
        ("hfx", False),
        ("/usr/bin/git-credential-store", False),
        ("!echo hf", False),
        ("", False),
    ],
)
def test_is_hf_helper(value, expected):
    assert gitconfig.is_hf_helper(value) is expected


def test_hub_urls_default_and_custom(monkeypatch):
    assert gitconfig.hub_urls() == ["https://huggingface.co", "https://hf.co"]
    monkeypatch.setenv("HF_ENDPOINT", "https://hub.example.com/")
    assert gitconfig.hub_urls() == ["https://hub.example.com"]


# --- setup --------------------------------------------------------------------------------------


def test_setup_writes_reset_then_helper_for_each_url(ours):
    lines = gitconfig.setup()
    for url in ("https://huggingface.co", "https://hf.co"):
        assert values(f"credential.{url}.helper") == ["", ours]
    assert len(lines) == 2 and all("set credential." in line for line in lines)
    assert str(global_config()) in lines[0]


def test_setup_is_idempotent_and_never_touches_the_generic_helper(ours):
    git("config", "--global", "credential.helper", "store")
    git("config", "--global", "user.name", "Someone")
    gitconfig.setup()
    before = global_config().read_bytes()
    lines = gitconfig.setup()
    assert global_config().read_bytes() == before
    assert all("nothing changed" in line for line in lines)
    assert values("credential.helper") == ["store"]


def test_setup_replaces_an_older_value_and_says_what_it_replaced(ours):
    git("config", "--global", "--add", f"credential.{URL}.helper", "store")
    git("config", "--global", "--add", f"credential.{URL}.helper", "hf")
    lines = gitconfig.setup()
    assert values(f"credential.{URL}.helper") == ["", ours]
    assert "replaced: store" in lines[0]


def test_unset_removes_exactly_what_setup_wrote(ours):
    git("config", "--global", "credential.helper", "store")
    git("config", "--global", "user.name", "Someone")
    original = global_config().read_bytes()
    gitconfig.setup()
    assert global_config().read_bytes() != original
    lines = gitconfig.setup(unset=True)
    assert global_config().read_bytes() == original
    assert all("removed" in line for line in lines)
    assert all("nothing to remove" in line for line in gitconfig.setup(unset=True))


def test_unset_keeps_a_section_with_other_keys(ours):
    gitconfig.setup()
    git("config", "--global", f"credential.{URL}.username", "alice")
    gitconfig.setup(unset=True)
    assert values(f"credential.{URL}.helper") == []
    assert values(f"credential.{URL}.username") == ["alice"]


def test_unset_keeps_values_someone_else_added(ours):
    gitconfig.setup()
    git("config", "--global", "--add", f"credential.{URL}.helper", "cache")
    lines = gitconfig.setup(unset=True)
    assert values(f"credential.{URL}.helper") == ["cache"]
    assert "kept what others wrote: 'cache'" in lines[0]


def test_unset_leaves_a_key_setup_did_not_write(ours):
    git("config", "--global", f"credential.{URL}.helper", "store")
    before = global_config().read_bytes()
    lines = gitconfig.setup(unset=True)
    assert global_config().read_bytes() == before
    assert "left" in lines[0] and "alone" in lines[0]


def test_setup_reports_a_locked_config_in_one_line(ours):
    global_config().write_text("")
    Path(str(global_config()) + ".lock").write_text("")
    with pytest.raises(gitconfig.GitError) as err:
        gitconfig.setup()
    assert "\n" not in str(err.value) and "lock" in str(err.value)


def test_missing_git_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(gitconfig.GitError, match="git was not found on PATH"):
        gitconfig.setup()


def test_a_hanging_git_times_out(monkeypatch, tmp_path):
    fake = tmp_path / "git"
    fake.write_text("#!/bin/sh\nexec /bin/sleep 30\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(gitconfig, "GIT_TIMEOUT_S", 0.5)
    start = time.monotonic()
    with pytest.raises(gitconfig.GitError, match=r"did not finish within 0\.5 s"):
        gitconfig.run_git("config", "--list")
    assert time.monotonic() - start < 10


# --- what git runs for a URL: checked against git itself ----------------------------------------


@pytest.mark.parametrize(
    ("pattern", "url"),
    [
        ("https://huggingface.co", "https://huggingface.co"),
        ("https://huggingface.co/", "https://huggingface.co/alice/model"),
        ("https://HuggingFace.CO", "https://huggingface.co"),
        ("https://huggingface.co:443", "https://huggingface.co"),
        ("https://huggingface.co/alice", "https://huggingface.co/alice/model"),
        ("https://huggingface.co/alice", "https://huggingface.co/alicex/model"),
        ("https://huggingface.co/bob", "https://huggingface.co/alice/model"),
        ("http://huggingface.co", "https://huggingface.co"),
        ("https://hf.co", "https://huggingface.co"),
        ("https://*.co", "https://hf.co"),
        ("https://*.co", "https://a.hf.co"),
        ("https://*.hf.co", "https://a.hf.co"),
        ("https://user@huggingface.co", "https://huggingface.co"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/alice/model"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:9090"),
        ("http://127.0.0.1", "http://127.0.0.1:8080"),
        # U+212A KELVIN SIGN: str.lower() makes it "k"; git lower-cases ASCII only
        ("https://kelvin.example", "https://\u212aelvin.example"),
        ("https://\u212aelvin.example", "https://kelvin.example"),
        ("https://\u212aelvin.example", "https://\u212aelvin.example"),
        ("https://KELVIN.example", "https://kelvin.example"),
        ("https://a@b@huggingface.co", "https://huggingface.co"),
    ],
)
def test_url_matches_agrees_with_git(pattern, url):
    global_config().write_text(f'[credential "{pattern}"]\n\thelper = x\n')
    proc = git("config", "--get-urlmatch", "credential.helper", url)
    assert gitconfig.url_matches(pattern, url) is (proc.returncode == 0)


def _logging_helper(log: Path, name: str) -> str:
    return f"!echo {name} >>'{log}'"


def _helpers_git_runs(url: str, log: Path, cwd: Path | None = None) -> list[str]:
    """Ask git itself: `credential fill` runs every helper in order when none answers."""
    log.unlink(missing_ok=True)
    git("credential", "fill", input=f"url={url}\n\n", cwd=cwd,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
    return [line.split()[0] for line in log.read_text().splitlines()] if log.exists() else []


def test_helpers_for_agrees_with_git_on_order_resets_and_scopes(tmp_path):
    log = tmp_path / "log"
    repo = tmp_path / "repo"
    git("init", "-q", str(repo))
    cfg = global_config()
    cfg.write_text(
        "[credential]\n"
        f"\thelper = {_logging_helper(log, 'A')}\n"
        f'[credential "https://huggingface.co"]\n'
        f"\thelper = {_logging_helper(log, 'B')}\n"
        f'[credential "https://example.com"]\n'
        f"\thelper = {_logging_helper(log, 'X')}\n"
        "[credential]\n"
        f"\thelper = {_logging_helper(log, 'C')}\n"
    )
    local = repo / ".git" / "config"
    local.write_text(
        local.read_text() + f'[credential "https://huggingface.co/alice"]\n'
        f"\thelper = {_logging_helper(log, 'D')}\n"
    )
    cases = [
        ("https://huggingface.co/alice/model", None),
        ("https://huggingface.co/alice/model", repo),
        ("https://example.com/x", repo),
        ("https://hf.co/x", repo),
    ]
    for url, cwd in cases:
        got = [v.split()[1] for v, _origin in gitconfig.helpers_for(url, cwd=cwd)]
        assert got == _helpers_git_runs(url, log, cwd), (url, cwd)
    assert _helpers_git_runs(cases[1][0], log, repo) == ["A", "B", "C", "D"]  # not vacuous
    # An empty value resets the list, for git and for us.
    cfg.write_text(cfg.read_text() + '[credential "https://huggingface.co"]\n\thelper =\n'
                   f"\thelper = {_logging_helper(log, 'E')}\n")
    got = [v.split()[1] for v, _o in gitconfig.helpers_for("https://huggingface.co/a/b")]
    assert got == _helpers_git_runs("https://huggingface.co/a/b", log) == ["E"]
    assert gitconfig.other_helpers("https://huggingface.co")[0] == _logging_helper(log, "A")


def test_resolves(tmp_path, monkeypatch):
    script = _fake_install(tmp_path)
    monkeypatch.setenv("PATH", f"{script.parent}{os.pathsep}{os.environ['PATH']}")
    assert gitconfig.resolves("hf")
    assert gitconfig.resolves(str(script))
    assert not gitconfig.resolves(str(tmp_path / "missing" / "git-credential-hf"))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert not gitconfig.resolves("hf")
    assert gitconfig.resolves("store")  # git's own, in its exec-path


# --- forgetting copies in other helpers ---------------------------------------------------------


def test_forget_reaches_helpers_hidden_behind_the_reset(tmp_path, ours):
    store = tmp_path / "creds"
    store.write_text(
        "https://alice:hf_old1@huggingface.co\n"
        "https://bob:hf_old2@hf.co\n"
        "https://carol:secret@example.com\n"
    )
    git("config", "--global", "credential.helper", f"store --file={store}")
    gitconfig.setup()  # now git asks only our helper for the Hub
    asked = gitconfig.forget_hub_credentials()
    assert asked == [f"store --file={store}"]
    assert store.read_text() == "https://carol:secret@example.com\n"
