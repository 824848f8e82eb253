"""notebook_login with the real ipywidgets: the Login button is clicked for real."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import started_hub

import git_credential_hf
from git_credential_hf import _login, settings, tokens

ipywidgets = pytest.importorskip("ipywidgets")
pytest.importorskip("IPython")

WRITE = "hf_" + "W" * 30 + "wrt1"
READ = "hf_" + "R" * 30 + "red2"


@pytest.fixture
def hub(tmp_path, monkeypatch):
    with started_hub(tmp_path / "hub", monkeypatch, [
        (WRITE, {"user": "alice", "role": "write", "display_name": "laptop"}),
        (READ, {"user": "bob", "role": "read"}),
    ]) as h:
        yield h


@pytest.fixture
def shown(monkeypatch) -> list:
    """What notebook_login displays (IPython's display, captured)."""
    import IPython.display

    displayed: list = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **_kw: displayed.extend(objs))
    return displayed


def parts(widget):
    intro, token, add_to_git, button, outcome = widget.children[:5]  # then the browser button
    return intro, token, add_to_git, button, outcome


def git_helpers(url: str) -> list[str]:
    proc = subprocess.run(["git", "config", "--global", "--get-all", f"credential.{url}.helper"],
                          capture_output=True, text=True, check=False)
    return proc.stdout.splitlines()


def test_notebook_login_shows_the_widget(hub, shown):
    git_credential_hf.notebook_login()
    assert len(shown) == 1
    intro, token, add_to_git, button, outcome = parts(shown[0])
    assert isinstance(token, ipywidgets.Password)
    assert isinstance(add_to_git, ipywidgets.Checkbox)
    assert add_to_git.value is True and add_to_git.description == "Add token as git credential?"
    assert isinstance(button, ipywidgets.Button) and button.description == "Login"
    assert f"{hub.url}/settings/tokens" in intro.value
    assert outcome.value == ""


def test_click_logs_in_and_configures_git(hub, shown, monkeypatch):
    monkeypatch.setattr("git_credential_hf.gitconfig.helper_command", lambda: "/x/git-credential-hf")
    git_credential_hf.notebook_login()
    _intro, token, _git, button, outcome = parts(shown[0])
    token.value = WRITE
    button.click()
    assert "Token is valid (permission: write)." in outcome.value
    assert "Login successful" in outcome.value
    assert WRITE not in outcome.value
    assert token.value == ""  # the secret does not stay in the page
    assert tokens.read_token_file() == WRITE
    assert git_helpers(hub.url) == ["", "/x/git-credential-hf"]


def test_unchecked_box_leaves_git_alone(hub, shown):
    git_credential_hf.notebook_login()
    _intro, token, add_to_git, button, outcome = parts(shown[0])
    add_to_git.value = False
    token.value = WRITE
    button.click()
    assert "Login successful" in outcome.value
    assert not Path(os.environ["GIT_CONFIG_GLOBAL"]).exists()


def test_click_with_a_bad_token_shows_the_error(hub, shown):
    tokens.save_token(READ, "bob")
    git_credential_hf.notebook_login(write_permission=True)
    _intro, token, _git, button, outcome = parts(shown[0])
    token.value = READ
    button.click()
    assert "a &#x27;write&#x27; token is required" in outcome.value
    token.value = "hf_" + "N" * 30 + "nope"
    button.click()
    assert "Invalid token" in outcome.value and "N" * 30 not in outcome.value
    assert token.value == "" and not button.disabled
    assert tokens.read_token_file() == READ  # unchanged


def test_unexpected_errors_show_their_type_only(hub, shown, monkeypatch):
    def boom(*_a):
        raise RuntimeError(f"leaky {WRITE}")

    monkeypatch.setattr(_login, "login_with_token", boom)
    git_credential_hf.notebook_login()
    _intro, token, _git, button, outcome = parts(shown[0])
    token.value = WRITE
    button.click()
    assert "Login failed (RuntimeError)" in outcome.value and WRITE not in outcome.value


def test_new_session_false_skips_the_widget_when_logged_in(hub, shown, capsys):
    tokens.save_token(WRITE, "laptop")
    git_credential_hf.notebook_login(new_session=False)
    assert shown == []
    assert "Already logged in as alice" in capsys.readouterr().out
    git_credential_hf.notebook_login(skip_if_logged_in=False)
    assert len(shown) == 1


def test_without_ipywidgets_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # makes `import ipywidgets` fail
    monkeypatch.delitem(sys.modules, "git_credential_hf.notebook", raising=False)
    with pytest.raises(ImportError, match=r'pip install "git-credential-hf\[notebook\]"'):
        git_credential_hf.notebook_login()
    monkeypatch.setattr(_login, "in_notebook", lambda: True)
    with pytest.raises(ImportError, match="ipywidgets"):
        git_credential_hf.login()  # no token, in a notebook: the widget, so the same error


def test_notebook_extra_is_declared():
    text = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert "notebook = [" in text and "ipywidgets" in text.split("notebook = [", 1)[1]


def test_endpoint_is_escaped_in_the_intro(monkeypatch, shown):
    monkeypatch.setenv("HF_ENDPOINT", "https://hub.example.com/a'b&c")
    git_credential_hf.notebook_login()
    assert "a&#x27;b&amp;c" in shown[0].children[0].value
    assert settings.endpoint() == "https://hub.example.com/a'b&c"


def test_an_invalid_endpoint_is_refused_before_the_widget(monkeypatch, shown):
    monkeypatch.setenv("HF_ENDPOINT", "https://hub.example.com/<b>")
    with pytest.raises(git_credential_hf.LoginError, match="HF_ENDPOINT"):
        git_credential_hf.notebook_login()
    assert shown == []
