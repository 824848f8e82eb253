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
    python = tmp_path / "python"  # an interpreter with no script beside it
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    monkeypatch.setattr(sys, "argv", ["-c"])
    monkeypatch.setattr(sys, "executable", str(python))
    command = gitconfig.helper_command()
    assert command.startswith("!") and command.endswith(" -I -m git_credential_hf")
    assert gitconfig.is_hf_helper(command)


def test_module_command_is_not_shadowed_by_the_repository_git_runs_in(tmp_path, monkeypatch):
    """git runs the helper in the repository's work tree: a `git_credential_hf/` folder there
    must not be what `python -m git_credential_hf` imports."""
    python = tmp_path / "python"
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    monkeypatch.setattr(sys, "argv", ["-c"])
    monkeypatch.setattr(sys, "executable", str(python))
    command = gitconfig.helper_command()
    repo = tmp_path / "repo"
    planted = repo / "git_credential_hf"
    planted.mkdir(parents=True)
    marker = tmp_path / "planted-code-ran"
    (planted / "__init__.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    (planted / "__main__.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    proc = subprocess.run(["sh", "-c", gitconfig.shell_command(command) + " get"], cwd=repo,
                          input="protocol=https\nhost=example.com\n\n", capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert not marker.exists()


def test_helper_command_that_does_not_start_is_refused(tmp_path, monkeypatch):
    """Issue 9: setup must not write a helper git cannot run (and hide the others with it)."""
    monkeypatch.setattr(sys, "argv", ["-c"])
    monkeypatch.setattr(sys, "executable", str(tmp_path / "missing-python"))
    with pytest.raises(gitconfig.GitError, match="no command for this helper starts"):
        gitconfig.helper_command()


def test_starts_runs_the_command_as_git_does(tmp_path):
    ok = tmp_path / "ok helper"
    ok.write_text("#!/bin/sh\ncat >/dev/null\nexit 0\n")
    ok.chmod(0o755)
    assert gitconfig.starts(f"!'{ok}'") is None
    assert "exit code 127" in gitconfig.starts(str(tmp_path / "missing" / "git-credential-hf"))
    bad = tmp_path / "bad"
    bad.write_text("#!/no/such/interpreter\n")
    bad.chmod(0o755)
    assert gitconfig.starts(str(bad)).startswith("exit code")
    assert gitconfig.shell_command("hf") == "git credential-hf"


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
def test_url_matches_agrees_with_git(pattern, url, tmp_path):
    assert gitconfig.url_matches(pattern, url) is _git_runs_helper_for(pattern, url, tmp_path)


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


# --- issue 14: tests that kill mutants (keep this block at the end of the file) ------------------


def test_run_git_forces_terminal_prompt_off_when_the_environment_does_not(monkeypatch):
    """The test fixture sets GIT_TERMINAL_PROMPT=0 for every test; here it is unset, so what git
    sees comes from run_git alone (a git alias prints git's own environment)."""
    monkeypatch.delenv("GIT_TERMINAL_PROMPT", raising=False)
    proc = gitconfig.run_git("-c", "alias.showenv=!printenv GIT_TERMINAL_PROMPT", "showenv")
    assert proc.stdout == "0\n"
    assert "GIT_TERMINAL_PROMPT" not in os.environ  # the caller's environment is left alone


def test_run_git_overrides_a_prompting_environment(monkeypatch):
    monkeypatch.setenv("GIT_TERMINAL_PROMPT", "1")
    monkeypatch.setenv("GCHF_PROBE", "kept")
    proc = gitconfig.run_git("-c", "alias.showenv=!printenv GIT_TERMINAL_PROMPT GCHF_PROBE", "showenv")
    assert proc.stdout == "0\nkept\n"
    assert os.environ["GIT_TERMINAL_PROMPT"] == "1"


def test_run_git_feeds_input_and_runs_in_cwd(tmp_path):
    proc = gitconfig.run_git("-c", "alias.echo=!cat; pwd", "echo", input="from stdin\n", cwd=str(tmp_path))
    assert proc.stdout == f"from stdin\n{tmp_path}\n"


def test_run_git_failure_names_the_subcommand_and_git_first_stderr_line(tmp_path):
    with pytest.raises(gitconfig.GitError) as err:
        gitconfig.run_git("-c", "alias.fail=!echo; echo '  first  ' >&2; echo second >&2; exit 3", "fail")
    assert str(err.value) == "`git -c` failed: first"
    with pytest.raises(gitconfig.GitError) as err:
        gitconfig.run_git("-c", "alias.quiet=!exit 4", "quiet")
    assert str(err.value) == "`git -c` failed: exit code 4"
    assert gitconfig.run_git("-c", "alias.four=!exit 4", "four", ok=(0, 4)).returncode == 4


def test_run_git_that_cannot_start_is_one_line(tmp_path, monkeypatch):
    fake = tmp_path / "git"
    fake.write_text("not a script\n")
    fake.chmod(0o644)  # on PATH but not executable: exec fails with EACCES
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(gitconfig.GitError) as err:
        gitconfig.run_git("version")
    assert str(err.value) == "cannot run git: Permission denied"


def _git_runs_helper_for(pattern: str, url: str, tmp_path: Path) -> bool:
    """Ask git itself whether `credential.<pattern>.helper` applies to `url`."""
    log = tmp_path / "matched"
    log.unlink(missing_ok=True)
    global_config().write_text(f'[credential "{pattern}"]\n\thelper = !echo M >>\'{log}\'\n')
    git("credential", "fill", input=f"url={url}\n\n", cwd=tmp_path,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
    return log.exists()


MATCH_CASES = [
    # scheme, user, host, port, path: each part alone, and git's partial (scheme-less) patterns
    ("https://hf.co", "https://hf.co/x://y", True),
    ("hf.co", "https://hf.co", True),
    ("hf.co", "http://hf.co/a/b", True),
    ("hf.co/a", "https://hf.co/a", True),
    ("hf.co/a", "https://hf.co/a/b", False),
    ("hf.co/a/b", "https://hf.co/a/b", True),
    ("hf.co:8443", "https://hf.co:8443", True),
    ("hf.co:8443", "https://hf.co", False),
    ("other.co", "https://hf.co", False),
    ("hf.co", "https://other.co/hf.co", False),
    ("https://hf.co", "https://alice@hf.co", True),
    ("https://alice@hf.co", "https://alice@hf.co", True),
    ("https://alice@hf.co", "https://bob@hf.co", False),
    ("https://alice@hf.co", "https://hf.co", False),
    ("https://alice:pw@hf.co", "https://alice@hf.co", True),
    ("https://a:b:c@hf.co", "https://a@hf.co", True),
    ("https://a:b@hf.co", "https://b@hf.co", False),
    ("https://[::1]:8080", "https://[::1]:8080/x", True),
    ("https://[::1]", "https://[::1]:443", True),
    ("https://[::1]:8080", "https://[::1]:9090", False),
    ("https://[::1]:8080", "https://[::2]:8080", False),
    ("http://[::1]", "http://[::1]:80", True),
    ("http://hf.co", "http://hf.co:80", True),
    ("http://hf.co:80", "http://hf.co", True),
    ("http://hf.co:8080", "http://hf.co", False),
    ("ftp://hf.co", "ftp://hf.co:21", False),
    ("ftp://hf.co:21", "ftp://hf.co:21", True),
    ("https://h[fg].co", "https://hf.co", False),
    ("https://h[f.co", "https://h[f.co", True),
    ("https://*.co", "https://hf.co/x", True),
    ("https://hf.co", "https://HF.CO", True),
    ("https://hf.co/A", "https://hf.co/a", False),
    ("https://hf.co:443/a", "https://hf.co/a/b", True),
    # "?" and "#" belong to the credential's path, which git %-encodes before matching it
    # against the pattern's path and query
    ("https://hf.co/a", "https://hf.co/a?x", False),
    ("https://hf.co/a", "https://hf.co/a#x", False),
    ("https://hf.co/a?x", "https://hf.co/a", False),
    ("https://hf.co/a?x", "https://hf.co/a?x", False),
    ("https://hf.co/a%3Fx", "https://hf.co/a?x", True),
    ("https://hf.co?x", "https://hf.co", False),
    # a pattern git cannot normalize is compared field by field, as written (match_partial_url)
    ("hf.co:443", "https://hf.co", False),
    ("hf.co:443", "https://hf.co:443", True),
    ("HF.co", "https://hf.co", False),
    ("hf.co", "https://HF.co", False),
    ("hf.co", "https://hf.co:8443", False),
    ("hf%2eco", "https://hf.co", True),
    ("hf.co/a?x", "https://hf.co/a?x", True),
    ("hf.co//a//", "https://hf.co/a", True),
    ("alice@hf.co", "https://hf.co", False),
    ("@hf.co", "https://hf.co", False),
    ("h\u00e9.co", "https://h\u00e9.co", True),
    ("https://h\u00e9.co", "https://h\u00e9.co", True),
    # an empty protocol, host or path is unset, and matches anything
    ("://hf.co", "https://hf.co", True),
    ("://", "https://hf.co", True),
    ("https://", "https://hf.co", True),
    ("https://", "http://hf.co", False),
    ("https:///a", "https://hf.co/a", True),
    ("https://", "https://", True),
]


@pytest.mark.parametrize(("pattern", "url", "expected"), MATCH_CASES)
def test_url_matches_agrees_with_git_credential_fill(pattern, url, expected, tmp_path):
    assert _git_runs_helper_for(pattern, url, tmp_path) is expected  # the table is git's truth
    assert gitconfig.url_matches(pattern, url) is expected


@pytest.mark.parametrize(("pattern", "url"), [("https://hf.co", "https://"), ("https://hf.co", "://hf.co"),
                                              ("hf.co", "hf.co"), ("hf.co", "://hf.co")])
def test_url_matches_is_false_for_a_url_without_host_or_scheme(pattern, url):
    assert gitconfig.url_matches(pattern, url) is False


def test_this_executable_with_an_empty_argv_looks_beside_the_interpreter(tmp_path, monkeypatch):
    script = _fake_install(tmp_path)
    monkeypatch.setattr(sys, "argv", [])
    monkeypatch.setattr(sys, "executable", str(script.parent / "python"))
    assert gitconfig.this_executable() == str(script)


def test_this_executable_ignores_another_program_in_argv0(tmp_path, monkeypatch):
    other = tmp_path / "pytest"
    other.write_text("")
    monkeypatch.setattr(sys, "argv", [str(other)])
    monkeypatch.setattr(sys, "executable", str(tmp_path / "nowhere" / "python"))
    assert gitconfig.this_executable() is None


def test_resolves_commands_directories_and_plain_files(tmp_path, monkeypatch):
    assert gitconfig.resolves("!anything the shell runs") is True
    assert gitconfig.resolves("  !x") is True
    folder = tmp_path / "git-credential-hf"
    folder.mkdir()  # executable bit set, but a directory
    assert gitconfig.resolves(str(folder)) is False
    plain = tmp_path / "plain"
    plain.write_text("#!/bin/sh\n")
    plain.chmod(0o644)
    assert gitconfig.resolves(str(plain)) is False


def test_unset_line_when_nothing_is_configured(ours):
    assert gitconfig.setup(unset=True) == ["https://huggingface.co: nothing to remove",
                                           "https://hf.co: nothing to remove"]


def test_unset_of_setups_pair_says_exactly_what_it_removed(ours):
    gitconfig.setup()
    lines = gitconfig.setup(unset=True)
    key = f"credential.{URL}.helper"
    assert lines[0] == f"{URL}: removed {key} in {global_config()}"


def test_unset_keeps_a_helper_placed_before_ours_without_a_reset(ours):
    git("config", "--global", "--add", f"credential.{URL}.helper", "store")
    git("config", "--global", "--add", f"credential.{URL}.helper", ours)
    lines = gitconfig.setup(unset=True)
    assert values(f"credential.{URL}.helper") == ["store"]
    assert lines[0] == (f"{URL}: removed this helper from credential.{URL}.helper in {global_config()}; "
                        "kept what others wrote: 'store'")


def test_unset_keeps_every_other_value_in_order(ours):
    for value in ("store", "", ours, "cache"):
        git("config", "--global", "--add", f"credential.{URL}.helper", value)
    lines = gitconfig.setup(unset=True)
    assert values(f"credential.{URL}.helper") == ["store", "cache"]
    assert lines[0].endswith("kept what others wrote: 'store', 'cache'")


def test_unset_of_only_a_reset_and_ours_among_others_says_nothing_is_kept(ours):
    for value in ("", ours, ours):
        git("config", "--global", "--add", f"credential.{URL}.helper", value)
    lines = gitconfig.setup(unset=True)
    assert values(f"credential.{URL}.helper") == []
    assert lines[0].endswith("kept what others wrote: nothing")


def test_unset_left_alone_line_lists_every_value(ours):
    git("config", "--global", "--add", f"credential.{URL}.helper", "store")
    git("config", "--global", "--add", f"credential.{URL}.helper", "cache")
    lines = gitconfig.setup(unset=True)
    assert lines[0] == (f"{URL}: left credential.{URL}.helper in {global_config()} alone: setup did not "
                        "write it ('store', 'cache')")


def test_helpers_for_with_no_helper_anywhere_is_empty(tmp_path):
    assert gitconfig.helpers_for(URL, cwd=str(tmp_path)) == []
    assert gitconfig.other_helpers(URL, cwd=str(tmp_path)) == []


def test_helpers_for_names_each_origin_and_keeps_odd_values(tmp_path):
    cfg = global_config()
    git("config", "--global", "--add", "credential.helper", "first\nsecond")
    git("config", "--global", "--add", "credential.xhelper", "not-a-helper")
    git("config", "--global", "--add", f"credential.{URL}.usehelper", "not-either")
    git("config", "--global", "--add", f"credential.{URL}.helper", "scoped")
    got = gitconfig.helpers_for(URL + "/a/b", cwd=str(tmp_path))
    assert got == [("first\nsecond", f"file:{cfg}"), ("scoped", f"file:{cfg}")]


def test_a_helper_key_without_a_value_is_skipped_not_the_end(tmp_path):
    global_config().write_text("[credential]\n\thelper\n\thelper = after\n")
    assert gitconfig.helpers_for(URL, cwd=str(tmp_path)) == [("after", f"file:{global_config()}")]


def test_other_helpers_reads_the_repository_config_of_cwd(tmp_path):
    repo = tmp_path / "repo"
    git("init", "-q", str(repo))
    git("-C", str(repo), "config", f"credential.{URL}.helper", "local-one")
    assert gitconfig.other_helpers(URL, cwd=str(repo)) == ["local-one"]
    assert gitconfig.other_helpers(URL, cwd=str(tmp_path)) == []


def test_forget_asks_url_scoped_others_once_and_ours_only_once(tmp_path, monkeypatch):
    """The second `reject` (through helpers our reset hides) must start with a reset of its own,
    or git would run our helper, and every other one, a second time."""
    log = tmp_path / "log"
    ours = f"!echo ours >>'{log}'; true"
    monkeypatch.setattr(gitconfig, "helper_command", lambda: ours)
    monkeypatch.setattr(gitconfig, "is_hf_helper", lambda value: value == ours)
    monkeypatch.chdir(tmp_path)  # no repository config in play
    other = f"!echo other >>'{log}'; true"
    git("config", "--global", f"credential.{URL}/.helper", other)  # another key: setup keeps it
    gitconfig.setup()
    asked = gitconfig.forget_hub_credentials()
    assert asked == [other]
    assert log.read_text().splitlines() == ["ours", "other", "ours"]  # huggingface.co: both; hf.co: ours


def test_run_git_without_arguments_names_plain_git():
    with pytest.raises(gitconfig.GitError) as err:
        gitconfig.run_git()
    assert str(err.value).startswith("`git` failed: ")


def test_run_git_keeps_bytes_that_are_not_utf8():
    proc = gitconfig.run_git("-c", "alias.bytes=!printf 'a\\377b'", "bytes")
    assert proc.stdout == "a\udcffb"


def test_is_hf_helper_refuses_an_unparsable_command():
    assert gitconfig.is_hf_helper("!'/opt/git-credential-hf") is False


def test_setup_reads_only_the_global_config(ours, tmp_path, monkeypatch):
    """A repository's own credential entries are not what setup wrote: they neither count as
    done nor get reported."""
    repo = tmp_path / "repo"
    git("init", "-q", str(repo))
    git("-C", str(repo), "config", "--add", f"credential.{URL}.helper", "")
    git("-C", str(repo), "config", "--add", f"credential.{URL}.helper", ours)
    monkeypatch.chdir(repo)
    lines = gitconfig.setup()
    assert values(f"credential.{URL}.helper") == ["", ours]
    assert lines[0] == f'{URL}: set credential.{URL}.helper = "" then {ours} in {global_config()}'


def test_setup_replaced_line_lists_only_foreign_helpers(ours):
    for value in ("", "store", "hf", "cache"):
        git("config", "--global", "--add", f"credential.{URL}.helper", value)
    lines = gitconfig.setup()
    assert lines[0] == (f'{URL}: set credential.{URL}.helper = "" then {ours} in {global_config()} '
                        "(replaced: store, cache)")


def test_setup_configures_the_second_url_when_the_first_is_done(ours):
    gitconfig.setup()
    git("config", "--global", "--unset-all", "credential.https://hf.co.helper")
    lines = gitconfig.setup()
    assert lines[0].endswith("; nothing changed")
    assert lines[1].startswith('https://hf.co: set credential.https://hf.co.helper = "" then')
    assert values("credential.https://hf.co.helper") == ["", ours]


def test_memory_config_tracks_section_headers_like_a_file(ours):
    memory = gitconfig.MemoryConfig()
    memory.add("credential.helper", "generic")
    gitconfig.setup(config=memory)
    assert memory.sections == ["credential", f"credential.{URL}", "credential.https://hf.co"]
    memory.add(f"credential.{URL}.username", "alice")  # same section: no second header
    assert memory.sections.count(f"credential.{URL}") == 1
    gitconfig.setup(unset=True, config=memory)
    assert memory.sections == ["credential", f"credential.{URL}"]  # still holds username
    assert memory.entries == [("credential.helper", "generic"), (f"credential.{URL}.username", "alice")]


def test_memory_config_errors_like_git(ours):
    with pytest.raises(gitconfig.GitError) as real:
        gitconfig.GitConfig().unset_all("credential.x.helper")
    with pytest.raises(gitconfig.GitError) as memory:
        gitconfig.MemoryConfig().unset_all("credential.x.helper")
    assert str(memory.value) == str(real.value) == "`git config` failed: exit code 5"


def test_memory_config_reads_repository_entries_last(ours):
    memory = gitconfig.MemoryConfig()
    memory.local.append((f"credential.{URL}.helper", "local-one"))
    memory.add(f"credential.{URL}.helper", "global-one")
    assert gitconfig.helpers_for(URL, config=memory) == [("global-one", "<memory>"),
                                                         ("local-one", "<memory:local>")]


# --- issue 14: the launcher through its interpreter, the refusal line, the probe's bytes, the
# in-memory config's scopes -----------------------------------------------------------------------


def _sh(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def test_a_launcher_whose_shebang_cannot_run_is_started_through_its_interpreter(tmp_path,
                                                                               monkeypatch):
    """pip writes the interpreter's path as the shebang; with a space in it the kernel cannot
    run the launcher, so git must be given `!'<python>' '<launcher>'`."""
    bindir = tmp_path / "my venv" / "bin"
    bindir.mkdir(parents=True)
    python = _sh(bindir / "python", f'exec "{sys.executable}" "$@"\n')
    launcher = bindir / "git-credential-hf"
    launcher.write_text(f"#!{python}\nimport sys\nsys.stdin.read()\n")
    launcher.chmod(0o755)
    monkeypatch.setattr(sys, "argv", [str(launcher), "setup"])
    monkeypatch.setattr(sys, "executable", str(python))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert gitconfig.starts(f"!'{launcher}'") is not None  # as is, it does not start
    command = gitconfig.helper_command()
    assert command == f"!'{python}' '{launcher}'"
    assert gitconfig.is_hf_helper(command)


def test_helper_command_refusal_names_every_candidate_and_why(tmp_path, monkeypatch):
    bindir = tmp_path / "venv" / "bin"
    bindir.mkdir(parents=True)
    python = _sh(bindir / "python", "echo 'no python here' >&2\nexit 4\n")
    launcher = _sh(bindir / "git-credential-hf", "echo broken >&2\nexit 3\n")
    monkeypatch.setattr(sys, "argv", ["-c"])
    monkeypatch.setattr(sys, "executable", str(python))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(gitconfig.GitError) as e:
        gitconfig.helper_command()
    assert str(e.value) == (
        f"no command for this helper starts ({launcher}: exit code 3: broken; "
        f"!{python} {launcher}: exit code 4: no python here; "
        f"!{python} -I -m git_credential_hf: exit code 4: no python here)")


def test_starts_sends_git_a_get_for_a_host_that_is_not_the_hub(tmp_path):
    """The probe is what git would send: a `get` for a host no endpoint serves."""
    seen = tmp_path / "seen"
    helper = f"!f() {{ echo \"$1\" > '{seen}.op'; cat > '{seen}'; }}; f"
    assert gitconfig.starts(helper) is None
    assert (tmp_path / "seen.op").read_text() == "get\n"
    assert seen.read_text() == "protocol=https\nhost=git-credential-hf.invalid\n\n"


def test_starts_reason_is_the_exit_code_and_first_stderr_line(tmp_path):
    helper = _sh(tmp_path / "git-credential-x",
                 "cat >/dev/null\nprintf '\\n  caf\\303\\251 down\\nmore\\n' >&2\nexit 2\n")
    assert gitconfig.starts(str(helper)) == "exit code 2: caf\u00e9 down"


def test_memory_config_scopes_agree_with_git(ours, tmp_path):
    repo = tmp_path / "repo"
    git("init", "-q", str(repo))
    real, memory = gitconfig.GitConfig(), gitconfig.MemoryConfig()
    for config in (real, memory):
        gitconfig.setup(config=config)
    git("-C", str(repo), "config", "credential.helper", "")
    memory.local.append(("credential.helper", ""))

    def scopes(config) -> list[tuple[str, str, str]]:
        return [(url, value, scope) for url, value, _o, scope in config.scoped_entries(str(repo))]

    assert scopes(memory) == scopes(real)
    assert [scope for _u, _v, scope in scopes(real)] == ["global"] * 4 + ["local"]
