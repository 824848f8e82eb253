"""The command line: routing, subcommands, exit codes, one-line errors, the terminal prompt."""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import closed_port, started_hub

from git_credential_hf import cli, gitconfig, output, settings, tokens

WRITE = "hf_" + "W" * 30 + "wrt1"
READ = "hf_" + "R" * 30 + "red2"
BIN = Path(sys.executable).parent
SCRIPT = BIN / "git-credential-hf"
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "git_credential_hf"]


@pytest.fixture
def hub(tmp_path, monkeypatch):
    with started_hub(tmp_path / "hub", monkeypatch, [
        (WRITE, {"user": "alice", "role": "write", "display_name": "laptop", "orgs": ["acme", "ml"]}),
        (READ, {"user": "bob", "role": "read"}),
    ]) as h:
        yield h


@pytest.fixture
def ours(monkeypatch) -> str:
    monkeypatch.setattr(gitconfig, "helper_command", lambda: str(SCRIPT))
    return str(SCRIPT)


def run(capsys, *args: str, stdin: str | None = None, tty: bool = False, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    if monkeypatch is not None:
        monkeypatch.setattr(output, "stdin_is_tty", lambda: tty)
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> None:
    assert err.count("\n") == 1 and err.startswith("git-credential-hf: "), err
    assert "Traceback" not in err
    assert WRITE not in err and READ not in err


# --- routing --------------------------------------------------------------------------------------


def test_unknown_operation_is_ignored_silently_without_a_terminal(capsys, monkeypatch):
    assert run(capsys, "frobnicate", monkeypatch=monkeypatch) == (0, "", "")


def test_unknown_operation_on_a_terminal_prints_usage(capsys, monkeypatch):
    code, out, err = run(capsys, "frobnicate", tty=True, monkeypatch=monkeypatch)
    assert code == 2 and out == "" and err.startswith("usage: git-credential-hf")


def test_subcommands_are_not_mistaken_for_operations(capsys, monkeypatch):
    code, out, _err = run(capsys, "status", monkeypatch=monkeypatch)  # stdin not a tty
    assert code == 1 and "endpoint:" in out


@pytest.mark.parametrize("args", [[], ["get", "extra"], ["--bogus"]])
def test_usage(capsys, monkeypatch, args):
    code, _out, err = run(capsys, *args, monkeypatch=monkeypatch)
    assert code == 2 and err.startswith("usage:")


@pytest.mark.parametrize("command", [None, "login", "logout", "whoami", "setup", "status"])
def test_help_everywhere(capsys, command):
    args = [command, "--help"] if command else ["--help"]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: git-credential-hf")
    if command == "login":
        assert "--token-stdin" in out and "--add-to-git-credential" in out
    if command is None:
        assert all(c in out for c in cli.COMMANDS)


def test_version(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("git-credential-hf ")


@pytest.mark.parametrize(
    "args",
    [["login", "--token", "x", "--token-stdin"], ["setup", "--bogus"], ["login", "extra"]],
)
def test_usage_errors_are_one_line(capsys, args):
    assert cli.main(args) == 2
    one_line_error(capsys.readouterr().err)


def test_unexpected_failure_is_one_line_without_the_message(capsys, monkeypatch):
    def boom(*_a, **_k):
        raise RuntimeError(WRITE)

    monkeypatch.setattr(gitconfig, "setup", boom)
    code, _out, err = run(capsys, "setup", monkeypatch=monkeypatch)
    assert code == 1 and "setup failed unexpectedly (RuntimeError)" in err
    one_line_error(err)


# --- login --------------------------------------------------------------------------------------


def test_login_token_stdin(hub, capsys, monkeypatch):
    code, out, err = run(capsys, "login", "--token-stdin", stdin=WRITE + "\n",
                         monkeypatch=monkeypatch)
    assert (code, err) == (0, "")
    assert "Token is valid (permission: write)." in out and "Login successful" in out
    assert WRITE not in out
    assert tokens.read_token_file() == WRITE
    assert not Path(os.environ["GIT_CONFIG_GLOBAL"]).exists()


def test_login_token_with_git(hub, capsys, monkeypatch, ours):
    code, out, _err = run(capsys, "login", "--token", WRITE, "--add-to-git-credential",
                          "--write-permission", monkeypatch=monkeypatch)
    assert code == 0 and f"credential.{hub.url}.helper" in out
    assert gitconfig.helpers_for(hub.url) == [(ours, f"file:{os.environ['GIT_CONFIG_GLOBAL']}")]


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("hf_" + "N" * 30 + "nope", "login failed: Invalid token passed"),
        ("api_org_" + "o" * 30, "login failed: You must use your personal account token"),
        (READ, "login failed: Token is valid but is 'read' without write access"),
    ],
)
def test_login_failures(hub, capsys, monkeypatch, token, message):
    tokens.save_token(WRITE, "laptop")
    code, out, err = run(capsys, "login", "--token-stdin", "--write-permission",
                         stdin=token + "\n", monkeypatch=monkeypatch)
    assert code == 1 and message in err
    one_line_error(err)
    assert token not in out + err
    assert tokens.read_token_file() == WRITE


def test_login_with_an_empty_stdin(capsys, monkeypatch):
    code, _out, err = run(capsys, "login", "--token-stdin", stdin="", monkeypatch=monkeypatch)
    assert code == 2 and "no token on standard input" in err
    one_line_error(err)


def test_login_without_a_terminal_exits_2_with_a_hint():
    proc = subprocess.run([*COMMAND, "login"], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 2 and proc.stdout == ""
    one_line_error(proc.stderr)
    assert "--token-stdin" in proc.stderr


def test_login_with_the_hub_down_fails_in_one_line(capsys, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port()}")
    start = time.monotonic()
    code, _out, err = run(capsys, "login", "--token-stdin", stdin=WRITE, monkeypatch=monkeypatch)
    assert time.monotonic() - start <= 15
    assert code == 1 and "cannot reach" in err
    one_line_error(err)
    assert tokens.read_token_file() is None


def _read_until(fd: int, needle: bytes, seen: bytearray, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while needle not in seen:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            raise AssertionError(f"timed out waiting for {needle!r}; got {bytes(seen)!r}")
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the child closed the terminal
            chunk = b""
        if not chunk:
            raise AssertionError(f"EOF before {needle!r}; got {bytes(seen)!r}")
        seen += chunk


def test_login_prompts_on_a_terminal_with_hidden_input(hub, ours):
    """A real pseudo-terminal: the token typed is not echoed; the git question is asked."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([*COMMAND, "login"], stdin=slave, stdout=slave, stderr=slave,
                            start_new_session=True, env=dict(os.environ))
    os.close(slave)
    seen = bytearray()
    try:
        _read_until(master, b"Choose [1/2] (default 1): ", seen)  # browser or paste, as hf
        os.write(master, b"2\n")
        _read_until(master, b"input will not be visible): ", seen)
        os.write(master, WRITE.encode() + b"\n")
        _read_until(master, b"Add token as git credential? (Y/n) ", seen)
        os.write(master, b"\n")
        _read_until(master, b"Login successful", seen)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert WRITE.encode() not in seen  # not echoed, not printed
    assert tokens.read_token_file() == WRITE
    assert gitconfig.helpers_for(hub.url)[0][0] == ours


# --- whoami, logout, setup ------------------------------------------------------------------------


def test_whoami(hub, capsys, monkeypatch):
    tokens.save_token(WRITE, "laptop")
    code, out, err = run(capsys, "whoami", monkeypatch=monkeypatch)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "alice"
    assert "orgs: acme, ml" in lines and f"endpoint: {hub.url}" in lines
    assert "hf_****wrt1" in out and WRITE not in out


def test_whoami_failures(hub, capsys, monkeypatch):
    code, _out, err = run(capsys, "whoami", monkeypatch=monkeypatch)
    assert code == 1 and "not logged in" in err
    one_line_error(err)
    tokens.save_token(WRITE, "laptop")
    hub.revoke(WRITE)
    code, _out, err = run(capsys, "whoami", monkeypatch=monkeypatch)
    assert code == 1 and "Invalid token" in err
    one_line_error(err)


def test_whoami_with_the_hub_unreachable(capsys, monkeypatch):
    tokens.save_token(WRITE, "laptop")
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port()}")
    code, out, err = run(capsys, "whoami", monkeypatch=monkeypatch)
    assert code == 1 and out == "" and "cannot reach" in err
    one_line_error(err)


def test_logout(hub, capsys, monkeypatch):
    tokens.save_token(WRITE, "laptop")
    code, out, _err = run(capsys, "logout", monkeypatch=monkeypatch)
    assert code == 0 and "Logged out." in out
    assert tokens.read_token_file() is None


def test_setup_and_unset(capsys, monkeypatch, ours):
    code, out, _err = run(capsys, "setup", monkeypatch=monkeypatch)
    assert code == 0 and out.count("git: ") == 2
    code, out, _err = run(capsys, "setup", monkeypatch=monkeypatch)
    assert code == 0 and out.count("nothing changed") == 2
    code, out, _err = run(capsys, "setup", "--unset", monkeypatch=monkeypatch)
    assert code == 0 and out.count("removed") == 2


def test_setup_without_git(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    code, _out, err = run(capsys, "setup", monkeypatch=monkeypatch)
    assert code == 1 and "setup failed: git was not found on PATH" in err
    one_line_error(err)


# --- status ---------------------------------------------------------------------------------------


def status(capsys, monkeypatch):
    return run(capsys, "status", monkeypatch=monkeypatch)


def test_status_not_logged_in(capsys, monkeypatch, ours):
    cli.main(["setup"])
    code, out, err = status(capsys, monkeypatch)
    assert code == 1 and "token:    none" in out
    assert "not logged in; fix: git-credential-hf login" in err


def test_status_not_set_up(capsys, monkeypatch):
    tokens.save_token(WRITE)
    code, out, err = status(capsys, monkeypatch)
    assert code == 1
    assert f"token:    hf_****wrt1 (from {settings.token_path()})" in out
    assert "endpoint: https://huggingface.co" in out
    assert "https://huggingface.co → no credential helper" in out
    assert "git will not ask this helper for https://huggingface.co; fix: git-credential-hf setup" in err
    one_line_error(err)


def test_status_ok_after_setup(capsys, monkeypatch, ours):
    tokens.save_token(WRITE)
    subprocess.run(["git", "config", "--global", "credential.helper", "store"], check=True)
    cli.main(["setup"])
    capsys.readouterr()
    code, out, err = status(capsys, monkeypatch)
    assert (code, err) == (0, "")
    assert f"https://huggingface.co → {ours}" in out and f"https://hf.co → {ours}" in out
    assert "ok:       git will authenticate to https://huggingface.co" in out
    assert WRITE not in out


def test_status_names_the_environment_and_helpers_asked_first(capsys, monkeypatch, ours):
    monkeypatch.setenv("HF_TOKEN", READ)
    subprocess.run(["git", "config", "--global", "credential.helper", "store"], check=True)
    subprocess.run(["git", "config", "--global", "--add", "credential.helper", ours], check=True)
    code, out, err = status(capsys, monkeypatch)
    assert code == 0 and err == ""
    assert "token:    hf_****red2 (from $HF_TOKEN)" in out
    assert f"https://huggingface.co → store → {ours}" in out
    assert "warning:  git asks 'store'" in out and "before this helper" in out


def test_status_when_git_cannot_start_the_helper(capsys, monkeypatch, tmp_path):
    tokens.save_token(WRITE)
    missing = str(tmp_path / "gone" / "git-credential-hf")
    monkeypatch.setattr(gitconfig, "helper_command", lambda: missing)
    cli.main(["setup"])
    code, _out, err = status(capsys, monkeypatch)
    assert code == 1 and "git cannot start" in err and "fix: git-credential-hf setup" in err


def test_status_only_warns_about_the_alias(capsys, monkeypatch, ours):
    tokens.save_token(WRITE)
    subprocess.run(["git", "config", "--global", "--add",
                    "credential.https://huggingface.co.helper", ours], check=True)
    code, out, err = status(capsys, monkeypatch)
    assert code == 0 and err == ""
    assert "warning:  git will not ask this helper for https://hf.co" in out


def test_status_in_a_repository_with_its_own_reset(capsys, monkeypatch, ours, tmp_path):
    tokens.save_token(WRITE)
    cli.main(["setup"])
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "config", "credential.helper", ""], check=True)
    monkeypatch.chdir(repo)
    code, out, _err = status(capsys, monkeypatch)
    assert code == 1 and "https://huggingface.co → no credential helper" in out


# --- the hot path ---------------------------------------------------------------------------------


@pytest.mark.spawns_python
def test_get_loads_nothing_heavy():
    code = (
        "import sys, io\n"
        "from git_credential_hf import cli\n"
        "sys.stdin = io.TextIOWrapper(io.BytesIO(b'protocol=https\\nhost=example.com\\n\\n'))\n"
        "cli.main(['get'])\n"
        "heavy = {'argparse', 'subprocess', 'requests', 'git_credential_hf._login',\n"
        "         'git_credential_hf.commands', 'git_credential_hf.notebook',\n"
        "         'git_credential_hf.gitconfig', 'git_credential_hf.hub', 'getpass'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_status_without_git(capsys, monkeypatch, tmp_path):
    tokens.save_token(WRITE)
    monkeypatch.setenv("PATH", str(tmp_path))
    code, out, err = status(capsys, monkeypatch)
    assert code == 1 and "hf_****wrt1" in out
    assert "git was not found on PATH" in err
    one_line_error(err)
