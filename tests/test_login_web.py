"""Browser login (OAuth device code) through the Python API, the terminal menu and the notebook
widget, and the expiry shown by `status` / `whoami`, against the local Hub's OAuth endpoints."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import closed_port, load_local_hub

import git_credential_hf
from git_credential_hf import _login, cli, gitconfig, output, tokens

BIN = Path(sys.executable).parent
SCRIPT = BIN / "git-credential-hf"
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "git_credential_hf"]
WRITE = "hf_" + "W" * 30 + "wrt1"


@pytest.fixture
def hub(tmp_path, monkeypatch):
    local_hub = load_local_hub()

    with local_hub.LocalHub(tmp_path / "hub") as h:
        h.add_token(WRITE, user="alice", role="write", display_name="laptop")
        h.device_interval = 1
        h.device_auto_approve = 1
        monkeypatch.setenv("HF_ENDPOINT", h.url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
        yield h


@pytest.fixture
def ours(monkeypatch) -> str:
    monkeypatch.setattr(gitconfig, "helper_command", lambda: str(SCRIPT))
    return str(SCRIPT)


def assert_saved_browser_login(name: str = "oauth-alice") -> str:
    token = tokens.read_token_file()
    fields = tokens.stored_sections()[name]
    assert fields["hf_token"] == token and fields["refresh_token"]
    assert int(fields["expires_at"]) > time.time() + 29 * 86400
    return token


def test_python_login_web_with_git(hub, ours, capsys):
    git_credential_hf.login(web=True, add_to_git_credential=True)
    out = capsys.readouterr().out
    token = assert_saved_browser_login()
    assert hub.last_device()["user_code"] in out and f"{hub.url}/device" in out
    assert token not in out and tokens.stored_sections()["oauth-alice"]["refresh_token"] not in out
    assert "refreshed automatically" in out
    assert gitconfig.helpers_for(hub.url)[0][0] == ours
    assert hub.client_ids and set(hub.client_ids) == {"26be6b09-91c5-47da-9861-d2d2bb7a7e36"}


def test_login_web_uses_the_display_name_and_the_client_id_override(hub, monkeypatch):
    hub.oauth_display_name = "my laptop"
    monkeypatch.setenv("HF_DEVICE_CODE_OAUTH_CLIENT_ID", "my-client")
    git_credential_hf.login(web=True)
    assert_saved_browser_login("my laptop")
    assert set(hub.client_ids) == {"my-client"}


def test_unusable_display_name_falls_back_to_oauth_user(hub, capsys):
    hub.oauth_display_name = "bad]name"
    git_credential_hf.login(web=True)
    assert_saved_browser_login("oauth-alice")
    assert "stored as 'oauth-alice'" in capsys.readouterr().out


def test_token_and_web_together_is_an_error(hub):
    with pytest.raises(git_credential_hf.LoginError, match="either"):
        git_credential_hf.login(WRITE, web=True)


@pytest.mark.parametrize(("error", "words"), [("access_denied", "denied"),
                                              ("expired_token", "expired")])
def test_denied_or_expired_browser_login_saves_nothing(hub, error, words):
    tokens.save_token(WRITE, "laptop")
    hub.device_error = error
    with pytest.raises(git_credential_hf.LoginError, match=words):
        git_credential_hf.login(web=True)
    assert tokens.read_token_file() == WRITE and list(tokens.stored_sections()) == ["laptop"]


def test_interpreter_login_web_asks_the_git_question(hub, ours, monkeypatch, capsys):
    monkeypatch.setattr("builtins.input", lambda question: "n")
    git_credential_hf.interpreter_login(web=True)
    assert_saved_browser_login()
    assert gitconfig.helpers_for(hub.url) == [] or all(
        not gitconfig.is_hf_helper(v) for v, _o in gitconfig.helpers_for(hub.url))


def test_interpreter_login_web_yes_sets_git_up_without_the_not_set_up_hint(hub, ours, monkeypatch, capsys):
    """The git question is answered before the outcome is built: a "y" gives the setup lines,
    not also the hint that git does not use the token yet."""
    monkeypatch.setattr("builtins.input", lambda question: "y")
    git_credential_hf.interpreter_login(web=True)
    out = capsys.readouterr().out
    assert gitconfig.helpers_for(hub.url)[0][0] == ours
    assert "git: " in out and _login.GIT_HINT not in out
    assert out.index("And enter the code") < out.index("Waiting for authorization")


def _read_until(fd: int, marker: bytes, seen: bytearray, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while marker not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"timed out waiting for {marker!r}; got {bytes(seen)!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            assert chunk, f"EOF before {marker!r}; got {bytes(seen)!r}"
            seen += chunk


@pytest.mark.spawns_python
def test_terminal_login_offers_the_browser_first(hub, ours):
    master, slave = pty.openpty()
    proc = subprocess.Popen([*COMMAND, "login"], stdin=slave, stdout=slave, stderr=slave,
                            start_new_session=True, env=dict(os.environ))
    os.close(slave)
    seen = bytearray()
    try:
        _read_until(master, b"Choose [1/2] (default 1): ", seen)
        os.write(master, b"\n")  # the default: browser
        _read_until(master, b"Add token as git credential? (Y/n) ", seen)
        os.write(master, b"y\n")
        _read_until(master, b"Login successful", seen)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    token = assert_saved_browser_login()
    assert hub.last_device()["user_code"].encode() in seen and token.encode() not in seen
    assert gitconfig.helpers_for(hub.url)[0][0] == ours


def test_login_without_a_terminal_names_both_ways(capsys, monkeypatch):
    monkeypatch.setattr(output, "stdin_is_tty", lambda: False)
    assert cli.main(["login"]) == 2
    err = capsys.readouterr().err
    assert "--web" in err and "--token-stdin" in err and err.count("\n") == 1


def test_notebook_browser_button_shows_link_and_code(hub, monkeypatch):
    ipywidgets = pytest.importorskip("ipywidgets")
    pytest.importorskip("IPython")
    import IPython.display

    shown: list = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **_kw: shown.extend(objs))
    hub.device_auto_approve = 3
    git_credential_hf.notebook_login()
    widget = shown[0]
    web = widget.children[5]
    outcome = widget.children[4]
    assert isinstance(web, ipywidgets.Button) and "browser" in web.description
    widget.children[2].value = False  # no git setup
    web.click()
    code = hub.last_device()["user_code"]
    assert code in outcome.value and f"{hub.url}/device?user_code={code}" in outcome.value
    web.worker.join(60)
    assert "Login successful" in outcome.value
    token = assert_saved_browser_login()
    assert token not in outcome.value


# --- expiry in status / whoami -------------------------------------------------------------------


@pytest.mark.parametrize(("left", "has_refresh", "text"), [
    (12 * 86400 + 5, True, "expires in 12 days"),
    (86400 + 5, True, "expires in 1 day"),
    (5 * 3600 + 5, True, "expires in 5 hours, will refresh"),
    (-10, True, "expired, will refresh"),
    (-10, False, "expired; log in again: git-credential-hf login --web"),
    (3 * 86400 + 5, False, "expires in 3 days (no refresh token: log in again then)"),
])
def test_describe_expiry(left, has_refresh, text):
    now = 1_800_000_000
    assert _login.describe_expiry(now + left, has_refresh, now) == text


def test_status_and_whoami_show_expiry_and_refresh(hub, capsys, monkeypatch):
    answer = hub.issue_oauth("alice", expires_in=12 * 86400 + 60)
    tokens.save_token(answer["access_token"], "oauth-alice", refresh_token=answer["refresh_token"],
                      expires_at=answer["expires_at"])
    monkeypatch.setattr(output, "stdin_is_tty", lambda: False)
    cli.main(["status"])
    out = capsys.readouterr().out
    assert "expiry:   expires in 12 days" in out and "refresh token present" in out
    assert cli.main(["whoami"]) == 0
    out = capsys.readouterr().out
    assert "expiry: expires in 12 days" in out
    assert answer["access_token"] not in out


def test_whoami_and_get_token_refresh_an_expired_login(hub, capsys):
    answer = hub.issue_oauth("alice", expires_in=-60)
    tokens.save_token(answer["access_token"], "oauth-alice", refresh_token=answer["refresh_token"],
                      expires_at=answer["expires_at"])
    assert cli.main(["whoami"]) == 0
    assert "alice" in capsys.readouterr().out
    assert hub.counter("refreshes") == 1
    assert git_credential_hf.get_token() == tokens.read_token_file() != answer["access_token"]
    assert hub.counter("refreshes") == 1


def _web_login_in_a_notebook(monkeypatch) -> list:
    """``login(web=True)`` as a notebook kernel runs it; what it displayed, in order."""
    pytest.importorskip("IPython")
    import IPython.display

    shown: list = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **_kw: shown.extend(objs))
    monkeypatch.setattr(_login, "in_notebook", lambda: True)
    git_credential_hf.login(web=True)
    return shown


def test_login_web_in_a_notebook_shows_link_and_code(hub, monkeypatch):
    shown = _web_login_in_a_notebook(monkeypatch)
    code = hub.last_device()["user_code"]
    assert code in shown[0].data and f"{hub.url}/device?user_code={code}" in shown[0].data
    assert "Login successful" in shown[-1].data
    token = assert_saved_browser_login()
    assert all(token not in s.data for s in shown)


# issue 14: the boundaries of the expiry line: the very second it expires, under a minute,
# exactly an hour / a day, minutes counted by 60 s.
@pytest.mark.parametrize(("left", "has_refresh", "text"), [
    (0, True, "expired, will refresh"),
    (0, False, "expired; log in again: git-credential-hf login --web"),
    (1, False, "expires in 1 minute (no refresh token: log in again then)"),
    (0.5, False, "expires in 1 minute (no refresh token: log in again then)"),
    (30, False, "expires in 1 minute (no refresh token: log in again then)"),
    (600, False, "expires in 10 minutes (no refresh token: log in again then)"),
    (3599, False, "expires in 59 minutes (no refresh token: log in again then)"),
    (3600, False, "expires in 1 hour (no refresh token: log in again then)"),
    (86399, False, "expires in 23 hours (no refresh token: log in again then)"),
    (86400, False, "expires in 1 day (no refresh token: log in again then)"),
    (600, True, "expires in 10 minutes, will refresh"),
])
def test_describe_expiry_boundaries(left, has_refresh, text):
    now = 1_800_000_000
    assert _login.describe_expiry(now + left, has_refresh, now) == text


def test_get_token_never_refreshes_a_token_the_environment_sets(hub, monkeypatch):
    """HF_TOKEN wins as it is, even when it is also a stored browser login due for refresh: the
    refresh is the token file's business."""
    answer = hub.issue_oauth("alice", expires_in=-60)
    tokens.save_token(answer["access_token"], "oauth-alice", refresh_token=answer["refresh_token"],
                      expires_at=answer["expires_at"])
    monkeypatch.setenv("HF_TOKEN", answer["access_token"])
    assert git_credential_hf.get_token() == answer["access_token"]
    assert hub.counter("refresh_grants") == 0
    assert tokens.stored_sections()["oauth-alice"]["hf_token"] == answer["access_token"]


# --- round 2: DeviceLogin as an API user drives it (the notebook widget does) --------------------


def read_only_device_grants(hub, monkeypatch) -> None:
    """The local Hub grants write tokens to the device flow; make it grant read ones."""
    import functools

    monkeypatch.setattr(hub, "issue_oauth", functools.partial(hub.issue_oauth, role="read"))


def test_device_login_defaults_accept_a_read_token_and_leave_git_alone(hub, monkeypatch):
    read_only_device_grants(hub, monkeypatch)
    device = _login.DeviceLogin()
    assert device.expires_in == 900  # the code's lifetime, from the Hub's answer
    lines = device.finish().lines()
    assert lines[0] == "Token is valid (permission: read)."
    assert lines[-1] == _login.GIT_HINT and not any(line.startswith("git: ") for line in lines)
    token = assert_saved_browser_login()
    assert all(token not in line for line in lines)
    assert not Path(os.environ["GIT_CONFIG_GLOBAL"]).exists()  # git left alone


def test_device_login_with_write_permission_refuses_a_read_token(hub, monkeypatch):
    read_only_device_grants(hub, monkeypatch)
    device = _login.DeviceLogin(write_permission=True)
    with pytest.raises(_login.LoginError) as e:
        device.finish()
    assert str(e.value) == (
        "Token is valid but is 'read' without write access, and a 'write' token is required. "
        "Please provide a new token with correct permission.")
    assert tokens.read_token_file() is None and tokens.stored_sections() == {}


def test_device_login_refusals_are_one_line_login_errors(monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "ftp://hub.example")
    with pytest.raises(_login.LoginError) as e:
        _login.DeviceLogin()
    assert str(e.value) == ("HF_ENDPOINT 'ftp://hub.example' is not an http(s)://host[:port][/path] "
                            "URL: only http:// and https:// are supported")
    base = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("HF_ENDPOINT", base)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with pytest.raises(_login.LoginError) as e:
        _login.DeviceLogin()
    assert str(e.value) == f"browser login unavailable: cannot reach {base} (connection failed)"


def test_login_web_in_a_notebook_shows_the_code_large_then_the_outcome_line_by_line(hub, monkeypatch):
    shown = _web_login_in_a_notebook(monkeypatch)
    code = hub.last_device()["user_code"]
    assert ("<p style='font-size: 1.6em; letter-spacing: 0.3em; font-family: monospace;'>"
            f"<b class='hf-user-code'>{code}</b></p>") in shown[0].data
    assert shown[0].data.endswith("<p><i>Waiting for authorization…</i></p>")
    lines = shown[-1].data.split("<br>")
    assert lines[0] == "Token is valid (permission: write)."
    assert "Login successful: logged in as alice." in lines
    assert not Path(os.environ["GIT_CONFIG_GLOBAL"]).exists()  # add_to_git_credential=False


def test_login_web_with_write_permission_refuses_a_read_token_on_a_terminal(hub, monkeypatch,
                                                                            capsys):
    read_only_device_grants(hub, monkeypatch)
    with pytest.raises(_login.LoginError) as e:
        git_credential_hf.login(web=True, write_permission=True)
    assert str(e.value).startswith("Token is valid but is 'read' without write access")
    assert "Login successful" not in capsys.readouterr().out
    assert tokens.read_token_file() is None and tokens.stored_sections() == {}


def click_the_browser_button(monkeypatch, notebook_login_kwargs: dict, git_box: bool) -> str:
    """The notebook widget's "Log in with your browser" button, the git box set as told: what
    the widget's outcome area shows at the end."""
    pytest.importorskip("ipywidgets")
    pytest.importorskip("IPython")
    import IPython.display

    shown: list = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **_kw: shown.extend(objs))
    git_credential_hf.notebook_login(**notebook_login_kwargs)
    widget = shown[0]
    widget.children[2].value = git_box
    widget.children[5].click()
    widget.children[5].worker.join(60)
    return widget.children[4].value


def test_notebook_browser_button_sets_git_up_when_its_box_is_ticked(hub, ours, monkeypatch):
    read_only_device_grants(hub, monkeypatch)
    shown = click_the_browser_button(monkeypatch, {}, git_box=True)
    assert "Login successful" in shown
    assert gitconfig.helpers_for(hub.url)[0][0] == ours
    assert_saved_browser_login()


def test_notebook_browser_button_honours_write_permission(hub, monkeypatch):
    read_only_device_grants(hub, monkeypatch)
    shown = click_the_browser_button(monkeypatch, {"write_permission": True}, git_box=False)
    assert "without write access" in shown and "Login successful" not in shown
    assert tokens.read_token_file() is None and tokens.stored_sections() == {}
