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


# --- issue 14: the same hints in this process (a child interpreter cannot see a mutant) ----------
# Every case below reads real git config files with real git, and asserts the exact line status
# prints: the file, the line git reads the entry from, its kind, and the fix that works there.


@pytest.fixture
def ours(monkeypatch: pytest.MonkeyPatch) -> str:
    from git_credential_hf import gitconfig

    monkeypatch.setattr(gitconfig, "helper_command", lambda: HELPER)
    return HELPER


def status_here(capsys) -> tuple[int, str, str]:
    from git_credential_hf import cli

    code = cli.main(["status"])
    out, err = capsys.readouterr()
    assert TOKEN not in out + err
    return code, out, err


def hides(where: str, key: str, fix: str, url: str = URL) -> str:
    return (f"git-credential-hf: git will not ask this helper for {url}: {where} sets "
            f'{key} = "" after it, which drops every helper configured before; fix: {fix}\n')


@pytest.fixture
def set_up(ours: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys) -> Path:
    """setup done (in this process), a token in the environment, a fresh repository."""
    from git_credential_hf import cli

    monkeypatch.setenv("HF_TOKEN", TOKEN)
    assert cli.main(["setup"]) == 0
    path = tmp_path / "repo"
    git("init", "-q", str(path))
    capsys.readouterr()
    return path


def test_repository_reset_line_and_fix_in_process(set_up: Path, ours: str, capsys,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    config = set_up / ".git" / "config"
    git("config", "--local", "credential.helper", "", cwd=set_up)
    line = _line(config, "helper")
    monkeypatch.chdir(set_up)
    code, _out, err = status_here(capsys)
    add = f"git config --file {config} --add credential.helper {ours}"
    assert (code, err) == (1, hides(f"{config}:{line} (repository config)", "credential.helper",
                                    f"delete line {line} of {config}, or add this helper after "
                                    f"it: {add}"))
    subprocess.run(add, shell=True, check=True, capture_output=True)  # the fix, as printed
    assert subprocess.run(["git", "config", "--file", str(config), "--get-all",
                           "credential.helper"], capture_output=True, text=True,
                          check=True).stdout == f"\n{ours}\n"
    code, out, err = status_here(capsys)
    assert (code, err) == (0, "") and f"{URL} → {ours}" in out


def test_url_scoped_repository_reset_names_its_section_line(set_up: Path, ours: str, capsys,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    config = set_up / ".git" / "config"
    key = f"credential.{URL}.helper"
    # decoys before it: the same value for another URL, and in the generic section
    git("config", "--local", "credential.https://example.com.helper", "", cwd=set_up)
    git("config", "--local", "credential.helper", "store", cwd=set_up)
    git("config", "--local", key, "", cwd=set_up)
    text = config.read_text().splitlines()
    line = len(text)  # the last line: `helper = ` under [credential "https://huggingface.co"]
    assert text[line - 2] == f'[credential "{URL}"]'
    monkeypatch.chdir(set_up)
    code, _out, err = status_here(capsys)
    add = f"git config --file {config} --add {key} {ours}"
    assert (code, err) == (1, hides(f"{config}:{line} (repository config)", key,
                                    f"delete line {line} of {config}, or add this helper after "
                                    f"it: {add}"))


@pytest.mark.parametrize(("body", "line"), [
    # the last matching line wins; other sections, other values and comments do not count
    ('[credential]\n\thelper =\n[core]\n\thelper =\n[credential]\n\thelper = ""\n', 6),
    ('[credential]\n\thelper =\n[core]\n\thelper =\n', 2),  # core.helper is no helper
    ('[credential]\n\thelper = store\n\tHELPER = "" # reset\n', 3),
    ('[Credential]\n\thelper = ; reset\n[credential "https://example.com"]\n\thelper =\n', 2),
    ('[credential] helper =\n[user]\n\tname = x\n', 1),  # a key on the header's line
    ('[credential "https://example.com"]\n\thelper = x\n[credential]\n\n\thelper\t=\t\n', 5),
    ('# caf\xe9 \xff\n[credential]\n\thelper =\n', 3),  # bytes that are not UTF-8
])
def test_repository_reset_line_is_the_one_git_reads(set_up: Path, ours: str, capsys,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    body: str, line: int) -> None:
    config = set_up / ".git" / "config"
    line += len(config.read_bytes().splitlines())  # after what `git init` wrote
    with config.open("ab") as f:
        f.write(body.encode("latin-1"))
    monkeypatch.chdir(set_up)
    code, _out, err = status_here(capsys)
    assert code == 1
    assert f": {config}:{line} (repository config) sets credential.helper = \"\"" in err
    assert f"fix: delete line {line} of {config}, or add this helper after it:" in err


def test_legacy_section_header_line(set_up: Path, ours: str, capsys,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """`[credential.huggingface.co]`: git's old subsection syntax, read as
    credential.huggingface.co.helper, a pattern for that host."""
    config = set_up / ".git" / "config"
    with config.open("a") as f:
        f.write("[credential.example.com]\n\thelper =\n[credential.huggingface.co]\n\thelper =\n")
    line = len(config.read_text().splitlines())
    monkeypatch.chdir(set_up)
    code, _out, err = status_here(capsys)
    key = "credential.huggingface.co.helper"
    assert (code, err) == (1, hides(f"{config}:{line} (repository config)", key,
                                    f"delete line {line} of {config}, or add this helper after "
                                    f"it: git config --file {config} --add {key} {ours}"))


def test_global_reset_after_setup_in_process(set_up: Path, capsys) -> None:
    gitconfig_file = Path(os.environ["GIT_CONFIG_GLOBAL"])
    with gitconfig_file.open("a") as f:
        f.write('[credential]\n\thelper = ""\n')
    line = len(gitconfig_file.read_text().splitlines())
    code, _out, err = status_here(capsys)
    assert (code, err) == (1, hides(f"{gitconfig_file}:{line} (global config)",
                                    "credential.helper",
                                    f"delete line {line} of {gitconfig_file}, then run "
                                    "git-credential-hf setup"))


@pytest.mark.parametrize("where", ["explicit", "home", "xdg", "xdg-default"])
def test_each_global_file_git_reads_is_named_as_the_global_config(
        where: str, ours: str, capsys, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """$GIT_CONFIG_GLOBAL, else ~/.gitconfig and $XDG_CONFIG_HOME/git/config (default
    ~/.config/git/config): a reset in any of them is in the global config, whose fix is setup."""
    from git_credential_hf import cli

    home = Path(os.environ["HOME"])
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    if where == "explicit":
        path = tmp_path / "elsewhere" / "global.cfg"
        path.parent.mkdir()
        monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(path))
    else:
        monkeypatch.delenv("GIT_CONFIG_GLOBAL")
        path = home / ".gitconfig"
        if where == "xdg":
            monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
            path = tmp_path / "xdg" / "git" / "config"
        elif where == "xdg-default":
            path = home / ".config" / "git" / "config"
        path.parent.mkdir(parents=True, exist_ok=True)
        if where != "home":
            path.write_text("")  # git writes ~/.gitconfig; the XDG file only when it exists
            (home / ".gitconfig").unlink(missing_ok=True)
    assert cli.main(["setup"]) == 0
    assert f"= \"\" then {ours} in {path}" in capsys.readouterr().out
    with path.open("a") as f:
        f.write('[credential]\n\thelper =\n')
    line = len(path.read_text().splitlines())
    code, _out, err = status_here(capsys)
    assert (code, err) == (1, hides(f"{path}:{line} (global config)", "credential.helper",
                                    f"delete line {line} of {path}, then run "
                                    "git-credential-hf setup"))


def test_a_file_the_global_config_includes_is_named_with_its_fix(set_up: Path, ours: str,
                                                                 capsys, tmp_path: Path
                                                                 ) -> None:
    included = tmp_path / "work.inc"
    included.write_text(f'# shared\n[credential "{URL}"]\n\thelper =\n')
    git("config", "--global", "include.path", str(included))
    key = f"credential.{URL}.helper"
    code, _out, err = status_here(capsys)
    assert (code, err) == (1, hides(
        f"{included}:3 (included by the global config: include/includeIf)", key,
        f"delete line 3 of {included}, or add this helper after it: "
        f"git config --file {included} --add {key} {ours}"))


def test_a_file_the_repository_includes_is_named_with_its_fix(set_up: Path, ours: str,
                                                              capsys, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    included = tmp_path / "team.inc"
    included.write_text("[credential]\n\thelper =\n")
    git("config", "--local", "include.path", str(included), cwd=set_up)
    monkeypatch.chdir(set_up)
    code, _out, err = status_here(capsys)
    assert (code, err) == (1, hides(
        f"{included}:2 (included by the repository config: include/includeIf)",
        "credential.helper",
        f"delete line 2 of {included}, or add this helper after it: "
        f"git config --file {included} --add credential.helper {ours}"))


def test_a_reset_on_the_command_line_is_named_as_such(set_up: Path, capsys,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "credential.helper")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "")
    code, _out, err = status_here(capsys)
    assert (code, err) == (1, hides(
        "the command line (-c or GIT_CONFIG_PARAMETERS)", "credential.helper",
        "drop -c credential.helper= (or GIT_CONFIG_PARAMETERS) from the command"))


def test_hint_for_an_entry_git_read_from_no_file(ours: str, capsys,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry without a file or a line (here the in-memory config): where it is, as git named
    it, and a fix that needs no line number."""
    from git_credential_hf import commands, gitconfig

    monkeypatch.setenv("HF_TOKEN", TOKEN)
    memory = gitconfig.MemoryConfig()
    gitconfig.setup(config=memory)
    memory.local.append((f"credential.{URL}.helper", ""))
    report = commands.status_report(config=memory)
    key = f"credential.{URL}.helper"
    assert report.problems == [hides(
        "<memory:local> (included by the repository config: include/includeIf)", key,
        f"delete the empty helper in <memory:local>, or add this helper after it: "
        f"git config --file '<memory:local>' --add {key} {ours}")[len("git-credential-hf: "):-1]]


def test_helpers_asked_before_this_one_are_named_with_their_file_and_line(
        ours: str, capsys, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """status warns about each helper git asks first, at the line git reads it from (not the
    same value for another URL, not an earlier value, quotes as git reads them)."""
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    included = tmp_path / "team.inc"
    included.write_text("[credential]\n\thelper = store\n")
    global_file = Path(os.environ["GIT_CONFIG_GLOBAL"])
    global_file.write_text(
        f"[include]\n\tpath = {included}\n"
        '[credential "https://example.com"]\n\thelper = store\n'
        '[credential]\n\thelper = "cache --timeout=60"\n\thelper = store\n'
        f'[credential "{URL}"]\n\thelper = manager\n'
        f"[credential]\n\thelper = {ours}\n")
    code, out, err = status_here(capsys)
    assert (code, err) == (0, "")
    tail = f"before this helper for {URL}: a Hub credential it holds wins; fix: "
    warnings = [line for line in out.splitlines() if line.startswith("warning:") and tail in line]
    assert warnings == [
        f"warning:  git asks 'store' ({included}:2 (included by the global config: "
        f"include/includeIf)) {tail}remove it from {included}:2",
        f"warning:  git asks 'cache --timeout=60' ({global_file}:6 (global config)) "
        f"{tail}git-credential-hf setup",
        f"warning:  git asks 'store' ({global_file}:7 (global config)) {tail}"
        "git-credential-hf setup",
        f"warning:  git asks 'manager' ({global_file}:9 (global config)) {tail}"
        "git-credential-hf setup",
    ]


def test_entry_of_a_repository_helper_is_read_in_that_repository(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from git_credential_hf import gitconfig

    repo = tmp_path / "repo"
    git("init", "-q", str(repo))
    git("config", "--local", "credential.helper", "store", cwd=repo)
    config = repo / ".git" / "config"
    line = len(config.read_text().splitlines())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the caller is not in the repository: cwd says where
    assert gitconfig.helpers_for(URL) == []
    [(value, origin)] = gitconfig.helpers_for(URL, cwd=str(repo))
    entry = gitconfig.entry_for(value, origin, URL, cwd=str(repo))
    assert entry is not None
    assert (entry.key, entry.where()) == ("credential.helper",
                                          f"{config}:{line} (repository config)")
    assert gitconfig.entry_for(value, origin, URL) is None  # not visible from elsewhere


@pytest.mark.parametrize("scope", ["system", "worktree"])
def test_a_reset_in_the_system_or_worktree_config_is_named_so(
        scope: str, ours: str, capsys, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    repo = tmp_path / "repo"
    git("init", "-q", str(repo))
    if scope == "system":
        path = tmp_path / "gitconfig-system"
        path.write_text(f"[credential]\n\thelper = {ours}\n\thelper =\n")
        monkeypatch.delenv("GIT_CONFIG_NOSYSTEM")
        monkeypatch.setenv("GIT_CONFIG_SYSTEM", str(path))
        line = 3
    else:
        from git_credential_hf import cli

        assert cli.main(["setup"]) == 0
        git("config", "extensions.worktreeConfig", "true", cwd=repo)
        git("config", "--worktree", "credential.helper", "", cwd=repo)
        path = repo / ".git" / "config.worktree"
        line = _line(path, "helper")
    monkeypatch.chdir(repo)
    capsys.readouterr()
    code, _out, err = status_here(capsys)
    assert (code, err) == (1, hides(f"{path}:{line} ({scope} config)", "credential.helper",
                                    f"delete line {line} of {path}, or add this helper after "
                                    f"it: git config --file {path} --add credential.helper {ours}"))


# --- issue 14, round 2: setup's own report lines, in this process ---------------------------------

HF_CO = "https://hf.co"


def get_all(key: str, path: Path | None = None) -> list[str]:
    where = ["--file", str(path)] if path else ["--global"]
    proc = subprocess.run(["git", "config", *where, "--get-all", key], capture_output=True,
                          text=True, check=False, timeout=60)
    return proc.stdout.splitlines()


def test_setup_names_the_helpers_its_reset_hides_and_the_ones_it_replaced(ours: str) -> None:
    """A generic helper stops being asked for the Hub URLs (named once per URL), a URL-scoped
    one is replaced (named as replaced, not again as hidden); git holds "" then ours."""
    from git_credential_hf import gitconfig

    global_file = Path(os.environ["GIT_CONFIG_GLOBAL"])
    git("config", "--global", "credential.helper", "store")
    git("config", "--global", "--add", "credential.helper", "osxkeychain")
    git("config", "--global", "--add", f"credential.{URL}.helper", "cache --timeout=60")
    assert gitconfig.setup() == [
        f'{URL}: set credential.{URL}.helper = "" then {ours} in {global_file} '
        "(replaced: cache --timeout=60) (no longer asked for this URL: store, osxkeychain)",
        f'{HF_CO}: set credential.{HF_CO}.helper = "" then {ours} in {global_file} '
        "(no longer asked for this URL: store, osxkeychain)",
    ]
    assert get_all(f"credential.{URL}.helper") == ["", ours]
    assert get_all(f"credential.{HF_CO}.helper") == ["", ours]
    assert get_all("credential.helper") == ["store", "osxkeychain"]  # never touched


def test_setup_notes_a_repository_reset_that_still_hides_it(ours: str, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    """Run in a repository whose config resets the helpers: setup still writes the global
    entries, and ends with one note per Hub URL naming the line and a fix that works there."""
    from git_credential_hf import gitconfig

    repo = tmp_path / "repo"
    git("init", "-q", str(repo))
    git("config", "--local", "credential.helper", "", cwd=repo)
    config = repo / ".git" / "config"
    line = _line(config, "helper")
    monkeypatch.chdir(repo)
    global_file = Path(os.environ["GIT_CONFIG_GLOBAL"])
    report = gitconfig.setup()
    notes = [
        f"{url}: note: in this repository {config}:{line} (repository config) still hides this "
        f"helper; fix: delete line {line} of {config}, or add this helper after it: "
        f"git config --file {config} --add credential.helper {ours}"
        for url in (URL, HF_CO)]
    assert report == [
        f'{URL}: set credential.{URL}.helper = "" then {ours} in {global_file}',
        f'{HF_CO}: set credential.{HF_CO}.helper = "" then {ours} in {global_file}',
        *notes]
    assert get_all(f"credential.{URL}.helper") == ["", ours]
    assert get_all("credential.helper", config) == [""]  # the repository is left alone


def test_setup_notes_a_repository_helper_asked_before_it(ours: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    """A repository that resets, adds another helper, then ours: git asks that helper first;
    the note names it with its line, for that URL only; a global helper is not noted."""
    from git_credential_hf import gitconfig

    repo = tmp_path / "repo"
    git("init", "-q", str(repo))
    key = f"credential.{URL}.helper"
    for value in ("", "store", ours):
        git("config", "--local", "--add", key, value, cwd=repo)
    config = repo / ".git" / "config"
    line = _line(config, "store")
    monkeypatch.chdir(repo)
    report = gitconfig.setup()
    assert report[2:] == [
        f"{URL}: note: in this repository git asks store ({config}:{line} (repository config)) "
        "before this helper; remove it there"]
    assert gitconfig.helpers_for(URL) == [("store", "file:.git/config"),
                                          (ours, "file:.git/config")]


def test_setup_does_not_note_what_the_global_config_itself_holds(
        ours: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A global reset after ours, or a global helper between our reset and ours, is the global
    file's business (status names it; setup's notes are about repositories): setup, finding
    its pair in place, changes nothing and adds no note."""
    from git_credential_hf import gitconfig

    global_file = Path(os.environ["GIT_CONFIG_GLOBAL"])
    already = [f"{url}: git already asks only {ours} in {global_file}; nothing changed"
               for url in (URL, HF_CO)]
    global_file.write_text(f'[credential "{URL}"]\n\thelper =\n\thelper = {ours}\n'
                           f'[credential "{HF_CO}"]\n\thelper =\n\thelper = {ours}\n'
                           "[credential]\n\thelper =\n")
    assert gitconfig.setup() == already
    repo = tmp_path / "repo"  # a repository helper after the global reset: ours is not asked
    git("init", "-q", str(repo))
    git("config", "--local", "credential.helper", "store", cwd=repo)
    monkeypatch.chdir(repo)
    assert gitconfig.setup() == already
    monkeypatch.chdir(tmp_path)
    global_file.write_text(f'[credential "{URL}"]\n\thelper =\n[credential]\n\thelper = store\n'
                           f'[credential "{URL}"]\n\thelper = {ours}\n'
                           f'[credential "{HF_CO}"]\n\thelper =\n\thelper = {ours}\n')
    assert gitconfig.setup() == already
    assert gitconfig.helpers_for(URL)[0][0] == "store"  # git does ask store first


def test_setup_decides_from_the_config_it_is_given(ours: str) -> None:
    """setup(config=...) reads the helpers before/after and the notes from that config, not
    from git's (empty here): the hidden helper, a kept one, a repository reset, a repository
    helper asked first."""
    from git_credential_hf import gitconfig

    assert get_all("credential.helper") == []  # git's own global config is empty
    memory = gitconfig.MemoryConfig()
    memory.entries.append(("credential.helper", "store"))
    report = gitconfig.setup(config=memory)
    assert [line.partition(" (")[2] for line in report] == [
        "no longer asked for this URL: store)"] * 2
    memory = gitconfig.MemoryConfig()
    memory.local.append(("credential.helper", "store"))  # read after ours: still asked
    assert [line.endswith(f'= "" then {ours} in <memory>') for line in
            gitconfig.setup(config=memory)] == [True, True]
    memory = gitconfig.MemoryConfig()
    memory.local.append(("credential.helper", ""))
    notes = gitconfig.setup(config=memory)[2:]
    assert [(n.partition(": note: ")[0], "still hides this helper" in n) for n in notes] == [
        (URL, True), (HF_CO, True)]
    memory = gitconfig.MemoryConfig()
    memory.local += [(f"credential.{URL}.helper", v) for v in ("", "store", ours)]
    notes = gitconfig.setup(config=memory)[2:]
    assert len(notes) == 1 and notes[0].startswith(f"{URL}: note: in this repository git asks "
                                                   "store (")
    assert notes[0].endswith(") before this helper; remove it there")
