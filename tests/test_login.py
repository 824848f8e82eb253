"""The Python API: login, interpreter_login, logout, whoami, get_token.

The Hub is the local one (scripts/local_hub.py) running in this process on 127.0.0.1, so
requests go over a real socket; the prompts are patched.
"""

from __future__ import annotations

import configparser
import os
import stat
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest
from support import closed_port, started_hub

import git_credential_hf
from git_credential_hf import _login, gitconfig, settings, tokens

WRITE = "hf_" + "W" * 30 + "wrt1"
READ = "hf_" + "R" * 30 + "red2"
FG_NONE = "hf_" + "F" * 30 + "fgn3"
FG_SCOPED = "hf_" + "S" * 30 + "fgs4"
FG_GLOBAL = "hf_" + "G" * 30 + "fgg5"
OLD = "hf_" + "O" * 30 + "old6"
ALL_TOKENS = (WRITE, READ, FG_NONE, FG_SCOPED, FG_GLOBAL, OLD)


@pytest.fixture
def hub(tmp_path, monkeypatch):
    with started_hub(tmp_path / "hub", monkeypatch) as h:
        h.add_token(WRITE, user="alice", role="write", display_name="laptop", orgs=["acme"])
        h.add_token(READ, user="bob", role="read")
        h.add_token(OLD, user="alice", role="write", display_name="old")
        h.add_token(FG_NONE, role="fineGrained", fine_grained={
            "global": ["discussion.write"],
            "scoped": [{"entity": {"type": "user", "name": "alice"},
                        "permissions": ["repo.content.read"]}]})
        h.add_token(FG_SCOPED, role="fineGrained", fine_grained={
            "global": [],
            "scoped": [{"entity": {"type": "org", "name": "acme"},
                        "permissions": ["repo.content.read", "repo.write"]}]})
        h.add_token(FG_GLOBAL, role="fineGrained", fine_grained={"global": ["repo.write"]})
        yield h


@pytest.fixture
def no_prompt(monkeypatch):
    def fail(*_a, **_k):
        raise AssertionError("prompted")

    monkeypatch.setattr("getpass.getpass", fail)
    monkeypatch.setattr("builtins.input", fail)


def token_file() -> Path:
    return Path(settings.token_path())


def stored() -> dict[str, str]:
    return tokens.stored_tokens()


def assert_no_secret(text: str) -> None:
    for token in ALL_TOKENS:
        assert token not in text


# --- login(token=...) ---------------------------------------------------------------------------


def test_login_validates_saves_and_says_so(hub, capsys):
    git_credential_hf.login(token=WRITE)
    out = capsys.readouterr().out
    assert "Token is valid (permission: write)." in out
    assert f"Your token has been saved to {token_file()}" in out
    assert "Login successful" in out
    assert_no_secret(out)
    assert token_file().read_text() == WRITE
    assert stat.S_IMODE(token_file().stat().st_mode) == 0o600
    assert stored() == {"laptop": WRITE}
    assert not Path(os.environ["GIT_CONFIG_GLOBAL"]).exists()  # git left alone by default


def test_login_strips_a_pasted_newline(hub):
    git_credential_hf.login(token=f"  {WRITE}\r\n")
    assert token_file().read_text() == WRITE


def test_organization_token_is_refused_before_any_network_call(hub):
    tokens.save_token(OLD, "old")
    with pytest.raises(ValueError, match="personal account token, not an organization token"):
        git_credential_hf.login(token="api_org_" + "x" * 30)
    assert hub.count("/api/whoami-v2") == 0
    assert token_file().read_text() == OLD


def test_invalid_token_stores_nothing_and_keeps_the_existing_one(hub, capsys):
    tokens.save_token(OLD, "old")
    before = Path(settings.stored_tokens_path()).read_bytes()
    with pytest.raises(ValueError, match="Invalid token") as err:
        git_credential_hf.login(token="hf_" + "N" * 30 + "nope", add_to_git_credential=True)
    assert "N" * 30 not in str(err.value)
    assert token_file().read_text() == OLD
    assert Path(settings.stored_tokens_path()).read_bytes() == before
    assert not Path(os.environ["GIT_CONFIG_GLOBAL"]).exists()
    assert "Login successful" not in capsys.readouterr().out


@pytest.mark.parametrize("bad", ["hf_with space", "hf_tab\there", "hf_ünïcode", "", "   "])
def test_malformed_tokens_are_refused_locally(hub, bad):
    with pytest.raises(ValueError):
        git_credential_hf.login(token=bad)
    assert hub.count("/api/whoami-v2") == 0
    assert not token_file().exists()


@pytest.mark.parametrize(
    ("token", "ok"),
    [(WRITE, True), (FG_SCOPED, True), (FG_GLOBAL, True), (READ, False), (FG_NONE, False)],
)
def test_write_permission(hub, token, ok):
    tokens.save_token(OLD, "old")
    if ok:
        git_credential_hf.login(token=token, write_permission=True)
        assert token_file().read_text() == token
    else:
        with pytest.raises(ValueError, match="a 'write' token is required"):
            git_credential_hf.login(token=token, write_permission=True)
        assert token_file().read_text() == OLD
        assert token not in stored().values()


def test_read_token_is_fine_without_write_permission(hub, capsys):
    git_credential_hf.login(token=READ)
    assert "Token is valid (permission: read)." in capsys.readouterr().out


def test_a_non_user_answer_is_refused(hub, monkeypatch):
    monkeypatch.setattr(_login.hub, "whoami", lambda token: {"type": "org", "name": "acme"})
    with pytest.raises(ValueError, match="not a user account"):
        git_credential_hf.login(token=WRITE)
    assert not token_file().exists()


def test_unreachable_hub_fails_fast_and_stores_nothing(monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port()}")
    tokens.save_token(OLD, "old")
    start = time.monotonic()
    with pytest.raises(ValueError, match="cannot check the token: cannot reach"):
        git_credential_hf.login(token=WRITE)
    assert time.monotonic() - start <= 15
    assert token_file().read_text() == OLD


@pytest.mark.parametrize("behavior", ["500", "429", "badjson"])
def test_hub_errors_are_value_errors(hub, behavior):
    hub.whoami_behavior = behavior
    with pytest.raises(_login.LoginError, match="cannot check the token"):
        git_credential_hf.login(token=WRITE)
    assert not token_file().exists()


def test_environment_token_note(hub, monkeypatch, capsys):
    monkeypatch.setenv("HF_TOKEN", READ)
    git_credential_hf.login(token=WRITE)
    out = capsys.readouterr().out
    assert out.splitlines()[-2] == (
        "Note: HF_TOKEN is set and overrides the token you just saved, for git and "
        "huggingface_hub alike.")
    assert_no_secret(out)


def test_unnamable_token_still_saved_with_a_warning(hub, capsys):
    hub.add_token(WRITE, user="alice", role="write", display_name="bad[name]")
    git_credential_hf.login(token=WRITE)
    out = capsys.readouterr().out
    assert "Warning: token name 'bad[name]' cannot be an INI section" in out
    assert token_file().read_text() == WRITE


def test_unwritable_cache_is_a_login_error(hub, monkeypatch):
    monkeypatch.setenv("HF_TOKEN_PATH", str(Path(os.environ["HOME"]) / "dir-not-file"))
    (Path(os.environ["HOME"]) / "dir-not-file").mkdir()
    with pytest.raises(ValueError, match="token not saved"):
        git_credential_hf.login(token=WRITE)


# --- git setup from login -------------------------------------------------------------------------


def test_add_to_git_credential_configures_git(hub, capsys, monkeypatch):
    monkeypatch.setattr(gitconfig, "helper_command", lambda: "/x/bin/git-credential-hf")
    git_credential_hf.login(token=WRITE, add_to_git_credential=True)
    out = capsys.readouterr().out
    got = subprocess.run(
        ["git", "config", "--global", "--get-all", f"credential.{hub.url}.helper"],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()
    assert got == ["", "/x/bin/git-credential-hf"]
    assert f"git: {hub.url}: set credential.{hub.url}.helper" in out


def test_without_git_the_token_is_still_saved(hub, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))
    git_credential_hf.login(token=WRITE, add_to_git_credential=True)
    out = capsys.readouterr().out
    assert "Git not configured: git was not found on PATH" in out
    assert "Login successful" in out
    assert token_file().read_text() == WRITE


# --- prompts ------------------------------------------------------------------------------------


def patch_prompts(monkeypatch, token: str, answers: list[str]) -> dict:
    calls = {"getpass": [], "input": []}

    def fake_getpass(prompt: str = "") -> str:
        calls["getpass"].append(prompt)
        return token

    def fake_input(prompt: str = "") -> str:
        calls["input"].append(prompt)
        return answers.pop(0)

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    monkeypatch.setattr("builtins.input", fake_input)
    return calls


@pytest.mark.parametrize("answer", ["", "y", "YES"])
def test_interpreter_login_yes_configures_git(hub, monkeypatch, capsys, answer):
    calls = patch_prompts(monkeypatch, WRITE, [answer])
    git_credential_hf.interpreter_login()
    assert calls["getpass"] == ["Enter your token (input will not be visible): "]
    assert calls["input"] == ["Add token as git credential? (Y/n) "]
    assert token_file().read_text() == WRITE
    assert f"credential.{hub.url}.helper" in capsys.readouterr().out
    assert Path(os.environ["GIT_CONFIG_GLOBAL"]).exists()


def test_interpreter_login_no_leaves_git_untouched(hub, monkeypatch, capsys):
    cfg = Path(os.environ["GIT_CONFIG_GLOBAL"])
    cfg.write_text("[user]\n\tname = Someone\n")
    patch_prompts(monkeypatch, WRITE, ["n"])
    git_credential_hf.interpreter_login()
    assert cfg.read_text() == "[user]\n\tname = Someone\n"
    assert token_file().read_text() == WRITE
    assert_no_secret(capsys.readouterr().out)


def test_interpreter_login_asks_again_on_a_bad_answer(hub, monkeypatch):
    calls = patch_prompts(monkeypatch, WRITE, ["maybe", "no"])
    git_credential_hf.interpreter_login()
    assert len(calls["input"]) == 2
    assert not Path(os.environ["GIT_CONFIG_GLOBAL"]).exists()


def test_interpreter_login_errors_like_login(hub, monkeypatch):
    patch_prompts(monkeypatch, READ, ["n"])
    with pytest.raises(ValueError, match="'write' token is required"):
        git_credential_hf.interpreter_login(write_permission=True)
    assert not token_file().exists()


def test_login_without_token_prompts_outside_a_notebook(hub, monkeypatch):
    calls = patch_prompts(monkeypatch, WRITE, ["n"])
    git_credential_hf.login()
    assert calls["getpass"] and token_file().read_text() == WRITE


def test_login_without_token_uses_the_widget_in_a_notebook(monkeypatch):
    seen = []
    monkeypatch.setattr(_login, "in_notebook", lambda: True)
    monkeypatch.setattr(_login, "notebook_login", lambda **kw: seen.append(kw))
    git_credential_hf.login(new_session=False, write_permission=True)
    assert seen == [{"new_session": False, "write_permission": True}]


def test_new_session_false_skips_the_prompt_when_the_token_works(hub, no_prompt, capsys):
    tokens.save_token(WRITE, "laptop")
    git_credential_hf.interpreter_login(new_session=False)
    git_credential_hf.login(new_session=False)
    git_credential_hf.login(skip_if_logged_in=True)  # huggingface_hub >= 1.0's keyword
    out = capsys.readouterr().out
    assert out.count("Already logged in as alice") == 3
    assert_no_secret(out)


def test_skip_if_logged_in_false_forces_a_prompt(hub, monkeypatch):
    tokens.save_token(OLD, "old")
    calls = patch_prompts(monkeypatch, WRITE, ["n"])
    git_credential_hf.login(new_session=False, skip_if_logged_in=False)
    assert calls["getpass"] and token_file().read_text() == WRITE


@pytest.mark.parametrize(("saved", "write"), [(OLD, False), (READ, True)])
def test_new_session_false_prompts_when_the_saved_token_does_not_do(hub, monkeypatch, saved, write):
    tokens.save_token(saved, "saved")
    hub.revoke(OLD)
    calls = patch_prompts(monkeypatch, WRITE, ["n"])
    git_credential_hf.interpreter_login(new_session=False, write_permission=write)
    assert calls["getpass"] and token_file().read_text() == WRITE


def test_in_notebook(monkeypatch):
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert _login.in_notebook() is False

    def fake_ipython(shell_class_name: str | None) -> types.ModuleType:
        module = types.ModuleType("IPython")
        shell = type(shell_class_name, (), {})() if shell_class_name else None
        module.get_ipython = lambda: shell
        return module

    monkeypatch.setitem(sys.modules, "IPython", fake_ipython("ZMQInteractiveShell"))
    assert _login.in_notebook() is True
    monkeypatch.setitem(sys.modules, "IPython", fake_ipython("TerminalInteractiveShell"))
    assert _login.in_notebook() is False
    monkeypatch.setitem(sys.modules, "IPython", fake_ipython(None))
    assert _login.in_notebook() is False


# --- logout, whoami, get_token ------------------------------------------------------------------


def test_logout_removes_the_token_and_its_entry_only(hub, capsys):
    tokens.save_token(OLD, "old")
    git_credential_hf.login(token=WRITE)
    git_credential_hf.logout()
    out = capsys.readouterr().out
    assert not token_file().exists()
    assert stored() == {"old": OLD}
    assert "Logged out." in out and "hf_****wrt1" in out
    assert_no_secret(out)
    assert git_credential_hf.get_token() is None


def test_logout_says_the_environment_still_authenticates(hub, monkeypatch, capsys):
    tokens.save_token(WRITE, "laptop")
    monkeypatch.setenv("HUGGING_FACE_HUB_TOKEN", READ)
    git_credential_hf.logout()
    out = capsys.readouterr().out
    assert "HUGGING_FACE_HUB_TOKEN is still set" in out
    assert "Logged out." not in out
    assert_no_secret(out)


def test_logout_when_not_logged_in(capsys):
    git_credential_hf.logout()
    assert "No token saved in" in capsys.readouterr().out


def test_logout_without_git_still_removes_the_token(monkeypatch, capsys, tmp_path):
    tokens.save_token(WRITE, "laptop")
    monkeypatch.setenv("PATH", str(tmp_path))
    git_credential_hf.logout()
    assert "Could not ask git to forget Hub credentials: git was not found" in (
        capsys.readouterr().out
    )
    assert not token_file().exists()


def test_logout_keeps_an_unparsable_stored_tokens_file(hub):
    git_credential_hf.login(token=WRITE)
    Path(settings.stored_tokens_path()).write_text("not [ini\n")
    git_credential_hf.logout()
    assert not token_file().exists()
    assert Path(settings.stored_tokens_path()).read_text() == "not [ini\n"


def test_whoami(hub, monkeypatch):
    with pytest.raises(ValueError, match="not logged in"):
        git_credential_hf.whoami()
    assert git_credential_hf.whoami(READ)["name"] == "bob"
    tokens.save_token(WRITE, "laptop")
    info = git_credential_hf.whoami()
    assert info["name"] == "alice" and info["orgs"][0]["name"] == "acme"
    hub.revoke(WRITE)
    with pytest.raises(ValueError, match="Invalid token"):
        git_credential_hf.whoami()


def test_get_token_precedence(monkeypatch):
    assert git_credential_hf.get_token() is None
    tokens.save_token(WRITE)
    assert git_credential_hf.get_token() == WRITE
    monkeypatch.setenv("HUGGING_FACE_HUB_TOKEN", READ)
    assert git_credential_hf.get_token() == READ
    monkeypatch.setenv("HF_TOKEN", OLD)
    assert git_credential_hf.get_token() == OLD


def test_stored_tokens_of_others_survive_login(hub):
    path = Path(settings.stored_tokens_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[ci]\nhf_token = hf_ci%value\nrefresh_token = r\n")
    git_credential_hf.login(token=WRITE)
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path)
    assert parser.get("ci", "hf_token") == "hf_ci%value"
    assert parser.get("ci", "refresh_token") == "r"
    assert parser.get("laptop", "hf_token") == WRITE


# --- the package surface --------------------------------------------------------------------------


@pytest.mark.spawns_python
def test_package_import_loads_nothing_else():
    code = (
        "import sys, git_credential_hf as g\n"
        "print(sorted(m for m in sys.modules if m.startswith('git_credential_hf')))\n"
        "print(callable(g.login), g.login is g._login.login)\n"
        "import git_credential_hf._login\n"
        "from git_credential_hf import login, logout, whoami, get_token, interpreter_login,"
        " notebook_login\n"
        "print(all(callable(f) for f in (login, logout, whoami, get_token, interpreter_login,"
        " notebook_login)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["['git_credential_hf']", "True True", "True"]
    with pytest.raises(AttributeError):
        _ = git_credential_hf.no_such_name
    assert set(git_credential_hf.__all__) <= set(dir(git_credential_hf))


# --- issue 14: tests that kill mutants (keep this block at the end of the file) ------------------


def assert_lines_masked(text: str, *secrets: str) -> None:
    """Every line names the given tokens by their masks only (and the text is not empty)."""
    assert text
    for line in text.splitlines():
        for token in (*secrets, *ALL_TOKENS):
            assert token not in line, line


def test_logout_removes_the_files_token_not_the_environments(hub, monkeypatch, capsys):
    """With HF_TOKEN set, logout still removes the token *file* (and its named copy), says which
    token it removed by mask, and leaves the environment's token (not its to remove) alone."""
    tokens.save_token(OLD, "old")
    tokens.save_token(WRITE, "laptop")
    monkeypatch.setenv("HF_TOKEN", READ)
    git_credential_hf.logout()
    out = capsys.readouterr().out
    assert not token_file().exists()
    assert stored() == {"old": OLD}
    assert os.environ["HF_TOKEN"] == READ
    lines = out.splitlines()
    assert lines[0] == f"Removed the token hf_****wrt1 from {token_file()}"
    assert lines[-1] == ("Note: HF_TOKEN is still set, so the environment still authenticates git and "
                         "huggingface_hub (hf_****red2). Unset it to log out completely.")
    assert "Logged out." not in out
    assert_lines_masked(out)


def test_logout_with_an_env_token_equal_to_a_stored_one_keeps_that_entry(hub, monkeypatch, capsys):
    tokens.save_token(READ, "ci")
    tokens.save_token(WRITE, "laptop")
    monkeypatch.setenv("HUGGING_FACE_HUB_TOKEN", READ)
    git_credential_hf.logout()
    assert not token_file().exists()
    assert stored() == {"ci": READ}
    assert "HUGGING_FACE_HUB_TOKEN is still set" in capsys.readouterr().out


def test_logout_lines_are_exact(hub, capsys):
    tokens.save_token(WRITE, "laptop")
    git_credential_hf.logout()
    host = hub.url.removeprefix("http://")
    assert capsys.readouterr().out.splitlines() == [
        f"Removed the token hf_****wrt1 from {token_file()}",
        f"git: asked every credential helper to forget {host}",
        "Logged out.",
    ]


def test_logout_names_the_other_helpers_it_asked(hub, capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(gitconfig, "forget_hub_credentials", lambda: ["store", "cache"])
    git_credential_hf.logout()
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"No token saved in {token_file()}"
    assert out[1].endswith(" (also asked: store, cache)")


def test_logout_that_cannot_delete_is_a_login_error(hub, monkeypatch):
    tokens.save_token(WRITE, "laptop")

    def refuse(_token=None):
        raise tokens.TokenStoreError("/x/token is locked by another process; try again")

    monkeypatch.setattr(tokens, "delete_token", refuse)
    with pytest.raises(_login.LoginError) as err:
        git_credential_hf.logout()
    assert str(err.value) == "logout failed: /x/token is locked by another process; try again"
    assert token_file().read_text() == WRITE


def test_login_lines_mask_every_token(hub, monkeypatch, capsys):
    tokens.save_token(OLD, "old")
    monkeypatch.setenv("HF_TOKEN", READ)
    git_credential_hf.login(token=WRITE)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[:4] == [
        "Token is valid (permission: write).",
        f"Your token has been saved to {token_file()}",
        f"It is stored as 'laptop' in {settings.stored_tokens_path()}",
        "Login successful: logged in as alice.",
    ]
    assert any(line.startswith("Note: HF_TOKEN is set and overrides the token you just saved") for line in lines)
    assert_lines_masked(out)


def test_login_with_the_env_token_itself_has_no_note(hub, monkeypatch, capsys):
    monkeypatch.setenv("HF_TOKEN", WRITE)
    git_credential_hf.login(token=WRITE)
    assert "Note:" not in capsys.readouterr().out


def test_invalid_token_message_is_masked(hub):
    bad = "hf_" + "N" * 30 + "nope"
    with pytest.raises(_login.LoginError) as err:
        git_credential_hf.login(token=bad)
    assert str(err.value) == f"Invalid token passed: {hub.url} does not know hf_****nope"
    assert type(err.value) is _login.LoginError


def test_whoami_of_a_revoked_token_is_masked(hub):
    hub.revoke(OLD)
    with pytest.raises(_login.LoginError) as err:
        git_credential_hf.whoami(OLD)
    assert str(err.value) == f"Invalid token passed: {hub.url} does not know hf_****old6"


def test_error_kinds_and_messages(hub, monkeypatch):
    with pytest.raises(_login.LoginError) as err:
        git_credential_hf.login(token="api_org_" + "o" * 30)
    assert str(err.value) == "You must use your personal account token, not an organization token."
    with pytest.raises(_login.LoginError) as err:
        git_credential_hf.login(token="hf_with space")
    assert str(err.value).startswith("invalid token: not a well-formed token")
    with pytest.raises(_login.LoginError) as err:
        git_credential_hf.login(token=" \r\n")
    assert str(err.value) == "no token given"
    hub.whoami_behavior = "500"
    with pytest.raises(_login.LoginError) as err:
        git_credential_hf.login(token=WRITE)
    assert str(err.value) == f"cannot check the token: {hub.url} answered HTTP 500"
    with pytest.raises(_login.NotLoggedInError) as err:
        git_credential_hf.whoami()
    assert str(err.value) == "not logged in: run `git-credential-hf login`"


def test_a_403_from_whoami_stores_nothing(monkeypatch):
    from scripted_hub import ScriptedHub  # tests/scripted_hub.py

    tokens.save_token(OLD, "old")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with ScriptedHub() as server:
        server.status = 403
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        with pytest.raises(_login.LoginError, match=r"cannot check the token: .*HTTP 403"):
            git_credential_hf.login(token=WRITE)
    assert token_file().read_text() == OLD and stored() == {"old": OLD}


def test_non_user_refusal_and_read_token_refusal_lines(hub, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(_login.hub, "whoami", lambda token: {"type": "org", "name": "acme"})
        with pytest.raises(_login.LoginError) as err:
            git_credential_hf.login(token=WRITE)
    assert str(err.value) == ("this token belongs to 'org' 'acme', not a user account: use your "
                              "personal account token")
    with pytest.raises(_login.LoginError) as err:
        git_credential_hf.login(token=READ, write_permission=True)
    assert str(err.value) == ("Token is valid but is 'read' without write access, and a 'write' token is "
                              "required. Please provide a new token with correct permission.")


def test_already_logged_in_line_masks_the_token(hub, no_prompt, capsys):
    tokens.save_token(WRITE, "laptop")
    git_credential_hf.login(new_session=False)
    assert capsys.readouterr().out == (
        "Already logged in as alice (token hf_****wrt1, permission: write); pass new_session=True "
        "to log in again.\n"
    )


def test_new_session_false_without_any_token_prompts(hub, monkeypatch):
    calls = patch_prompts(monkeypatch, WRITE, ["n"])
    git_credential_hf.interpreter_login(new_session=False)
    assert calls["getpass"] and token_file().read_text() == WRITE


def test_prompt_lines(hub, monkeypatch, capsys):
    patch_prompts(monkeypatch, WRITE, ["maybe", "n"])
    git_credential_hf.interpreter_login()
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (f"To log in, paste a token from {hub.url}/settings/tokens (a 'write' token to push).")
    assert out[1] == "Please answer y or n."


@pytest.mark.parametrize(("where", "message"), [("getpass", "login cancelled (no token)"),
                                                ("input", "login cancelled (no answer)")])
def test_end_of_input_cancels_the_login(hub, monkeypatch, where, message):
    def eof(_prompt=""):
        raise EOFError

    monkeypatch.setattr("getpass.getpass", eof if where == "getpass" else (lambda _p="": WRITE))
    monkeypatch.setattr("builtins.input", eof)
    with pytest.raises(_login.LoginError) as err:
        git_credential_hf.interpreter_login()
    assert str(err.value) == message
    assert not token_file().exists()


def test_git_setup_failure_after_login_is_one_line(hub, monkeypatch, capsys):
    def fail():
        raise gitconfig.GitError("`git config` failed: could not lock config file")

    monkeypatch.setattr(gitconfig, "setup", fail)
    git_credential_hf.login(token=WRITE, add_to_git_credential=True)
    out = capsys.readouterr().out
    assert ("Git not configured: `git config` failed: could not lock config file. The token is saved; run "
            "`git-credential-hf setup` once git works.") in out.splitlines()
    assert token_file().read_text() == WRITE


def test_logout_never_deletes_a_token_saved_after_it_looked(hub, monkeypatch):
    """A login elsewhere right after logout read the file: logout removes only what it read."""
    tokens.save_token(WRITE, "laptop")
    real_read = tokens.read_token_file
    calls = []

    def read_then_a_login_elsewhere():
        value = real_read()
        if not calls:
            tokens.save_token(READ, "other")
        calls.append(value)
        return value

    with monkeypatch.context() as patch:  # (never monkeypatch.undo(): it would undo the isolation)
        patch.setattr(tokens, "read_token_file", read_then_a_login_elsewhere)
        git_credential_hf.logout()
    assert tokens.read_token_file() == READ
    assert stored() == {"laptop": WRITE, "other": READ}


def test_configure_git_says_whether_git_was_configured(monkeypatch):
    monkeypatch.setattr(gitconfig, "setup", lambda: ["https://hf.example: set x"])
    assert _login.configure_git() == (["https://hf.example: set x"], None)

    def fail():
        raise gitconfig.GitError("git was not found on PATH")

    monkeypatch.setattr(gitconfig, "setup", fail)
    assert _login.configure_git() == ([], "git was not found on PATH")


def test_defaults_prompt_even_when_a_valid_token_is_saved(hub, monkeypatch):
    """login() and interpreter_login() default to a new session, without requiring write."""
    tokens.save_token(WRITE, "laptop")
    calls = patch_prompts(monkeypatch, READ, ["n", "n"])
    git_credential_hf.login()
    assert token_file().read_text() == READ
    git_credential_hf.interpreter_login()
    assert len(calls["getpass"]) == 2 and token_file().read_text() == READ


def test_login_passes_write_permission_to_the_prompt(hub, monkeypatch):
    patch_prompts(monkeypatch, READ, ["n"])
    with pytest.raises(_login.LoginError, match="'write' token is required"):
        git_credential_hf.login(write_permission=True)
    assert not token_file().exists()


def test_interpreter_login_honours_skip_if_logged_in(hub, no_prompt, capsys):
    tokens.save_token(WRITE, "laptop")
    git_credential_hf.interpreter_login(skip_if_logged_in=True)
    assert "Already logged in as alice" in capsys.readouterr().out


def fake_notebook(monkeypatch):
    """IPython.display.display and the widget factory, recorded."""
    from git_credential_hf import notebook  # imports ipywidgets, which needs the real IPython

    shown = []
    display_module = types.ModuleType("IPython.display")
    display_module.display = shown.append
    monkeypatch.setitem(sys.modules, "IPython.display", display_module)

    monkeypatch.setattr(notebook, "login_widget",
                        lambda submit, endpoint, write_permission, **_kw: ("widget", write_permission))
    return shown


def test_notebook_login_shows_the_widget(monkeypatch):
    shown = fake_notebook(monkeypatch)
    git_credential_hf.notebook_login()
    git_credential_hf.notebook_login(write_permission=True)
    assert shown == [("widget", False), ("widget", True)]


def test_notebook_login_skips_the_widget_only_when_logged_in(hub, monkeypatch, capsys):
    shown = fake_notebook(monkeypatch)
    git_credential_hf.notebook_login(new_session=False)
    assert shown == [("widget", False)]  # no token yet
    tokens.save_token(READ, "ci")
    git_credential_hf.notebook_login(new_session=False)
    git_credential_hf.notebook_login(skip_if_logged_in=True)
    assert shown == [("widget", False)]
    assert capsys.readouterr().out.count("Already logged in as bob") == 2
    git_credential_hf.notebook_login(new_session=False, write_permission=True)  # read: not enough
    git_credential_hf.notebook_login(skip_if_logged_in=True, new_session=False, write_permission=True)
    assert shown == [("widget", False), ("widget", True), ("widget", True)]


def test_notebook_login_without_ipython_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "IPython.display", None)
    with pytest.raises(ImportError) as err:
        git_credential_hf.notebook_login()
    assert str(err.value) == _login.NOTEBOOK_HINT


def test_logout_line_names_both_default_hosts(monkeypatch, capsys):
    monkeypatch.setattr(gitconfig, "forget_hub_credentials", lambda: [])
    git_credential_hf.logout()
    assert "git: asked every credential helper to forget huggingface.co, hf.co" in capsys.readouterr().out


def test_a_fresh_login_result_reads_as_a_plain_success():
    result = _login.LoginResult("alice", "laptop", "read")
    assert result.lines() == [
        "Token is valid (permission: read).",
        f"Your token has been saved to {token_file()}",
        f"It is stored as 'laptop' in {settings.stored_tokens_path()}",
        "Login successful: logged in as alice.",
    ]


def test_login_with_token_defaults_leave_git_alone_and_accept_a_read_token(hub):
    result = _login.login_with_token(READ)
    assert result.git is None and result.git_error is None
    assert not Path(os.environ["GIT_CONFIG_GLOBAL"]).exists()
    assert token_file().read_text() == READ


def test_notebook_login_widget_logs_in_with_what_was_typed(hub, monkeypatch):
    from git_credential_hf import notebook

    shown = []
    display_module = types.ModuleType("IPython.display")
    display_module.display = shown.append
    monkeypatch.setitem(sys.modules, "IPython.display", display_module)
    monkeypatch.setattr(notebook, "login_widget",
                        lambda submit, endpoint, write_permission, **_kw: (submit, endpoint, write_permission))
    monkeypatch.setattr(gitconfig, "helper_command", lambda: "/x/bin/git-credential-hf")
    git_credential_hf.notebook_login(write_permission=True)
    ((submit, endpoint, write),) = shown
    assert (endpoint, write) == (hub.url, True)
    with pytest.raises(_login.LoginError, match="'write' token is required"):
        submit(READ, False)
    lines = submit(WRITE, True)
    assert token_file().read_text() == WRITE
    assert lines[-1] == "Login successful: logged in as alice."
    assert any(line.startswith(f"git: {hub.url}: set") for line in lines)
    assert_lines_masked("\n".join(lines))


def test_notebook_login_shows_the_widget_by_default_even_when_logged_in(hub, monkeypatch):
    shown = fake_notebook(monkeypatch)
    tokens.save_token(WRITE, "laptop")
    git_credential_hf.notebook_login()
    assert shown == [("widget", False)]


# --- issue 14: the several-accounts wrappers of the Python API (logout by name, switch, list,
# check_access): the lines they print, the token files left, what git holds afterwards ----------


def git_values(key: str) -> list[str]:
    proc = subprocess.run(["git", "config", "--global", "--get-all", key], capture_output=True,
                          text=True, check=False)
    return proc.stdout.splitlines()


def test_logout_by_name_of_another_token_keeps_the_active_one(hub, capsys):
    git_credential_hf.login(token=WRITE)  # stored as "laptop"
    git_credential_hf.login(token=READ)  # stored as "bob", now the active token
    capsys.readouterr()
    git_credential_hf.logout(token_name="laptop")
    out = capsys.readouterr().out
    assert out.splitlines() == [
        f"Removed the token 'laptop' (hf_****wrt1) from {settings.stored_tokens_path()}"]
    assert_no_secret(out)
    assert stored() == {"bob-read": READ} and tokens.read_token_file() == READ


def test_logout_by_name_of_the_active_token_removes_the_token_file_too(hub, capsys):
    git_credential_hf.login(token=READ)
    git_credential_hf.login(token=WRITE)  # "laptop" is active
    capsys.readouterr()
    git_credential_hf.logout(token_name="laptop")
    out = capsys.readouterr().out
    assert out.splitlines() == [
        f"Removed the token 'laptop' (hf_****wrt1) from {settings.stored_tokens_path()}",
        f"It was the active token: {token_file()} was removed too.",
    ]
    assert_no_secret(out)
    assert stored() == {"bob-read": READ} and not token_file().exists()


def test_logout_by_an_unknown_name_changes_nothing(hub, capsys):
    git_credential_hf.login(token=WRITE)
    capsys.readouterr()
    with pytest.raises(_login.LoginError) as e:
        git_credential_hf.logout(token_name="nobody")
    assert str(e.value) == f"no token named 'nobody' in {settings.stored_tokens_path()}"
    assert capsys.readouterr().out == ""
    assert stored() == {"laptop": WRITE} and tokens.read_token_file() == WRITE


def test_auth_switch_lines_and_token_file(hub, capsys):
    git_credential_hf.login(token=WRITE)
    git_credential_hf.login(token=READ)
    capsys.readouterr()
    git_credential_hf.auth_switch("laptop")
    out = capsys.readouterr().out
    assert out.splitlines() == ["The current active token is: laptop"]
    assert tokens.read_token_file() == WRITE
    assert git_values(f"credential.{hub.url}.helper") == []  # git left alone by default


def test_auth_switch_with_git_sets_it_up_and_says_so(hub, capsys, monkeypatch):
    monkeypatch.setattr(gitconfig, "helper_command", lambda: "/opt/hf/bin/git-credential-hf")
    git_credential_hf.login(token=WRITE)
    git_credential_hf.login(token=READ)
    capsys.readouterr()
    git_credential_hf.auth_switch("laptop", add_to_git_credential=True)
    key = f"credential.{hub.url}.helper"
    assert capsys.readouterr().out.splitlines() == [
        f'git: {hub.url}: set {key} = "" then /opt/hf/bin/git-credential-hf in '
        f"{os.environ['GIT_CONFIG_GLOBAL']}",
        "The current active token is: laptop",
    ]
    assert git_values(key) == ["", "/opt/hf/bin/git-credential-hf"]
    assert tokens.read_token_file() == WRITE


def test_auth_switch_notes_an_environment_token_that_overrides(hub, capsys, monkeypatch):
    git_credential_hf.login(token=WRITE)
    git_credential_hf.login(token=READ)
    monkeypatch.setenv("HF_TOKEN", OLD)
    capsys.readouterr()
    git_credential_hf.auth_switch("laptop")
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "The current active token is: laptop",
        "Note: HF_TOKEN is set and overrides the token you switched to.",
    ]
    assert_no_secret(out)


def test_auth_switch_to_an_unknown_name_changes_nothing(hub, capsys):
    git_credential_hf.login(token=WRITE)
    capsys.readouterr()
    with pytest.raises(_login.LoginError) as e:
        git_credential_hf.auth_switch("nobody")
    assert str(e.value) == (f"no token named 'nobody' in {settings.stored_tokens_path()} "
                            "(known: laptop)")
    assert capsys.readouterr().out == "" and tokens.read_token_file() == WRITE


def test_list_tokens_asks_the_hub_only_when_told(hub):
    tokens.save_token(READ, "from-hf")  # saved by huggingface_hub: its account is not known
    rows = git_credential_hf.list_tokens()
    assert [(r["name"], r["token"], r["account"]) for r in rows] == [
        ("from-hf", "hf_****red2", None)]
    assert hub.count("/api/whoami-v2") == 0
    rows = git_credential_hf.list_tokens(check=True)
    assert [(r["name"], r["account"], r["role"], r["active"]) for r in rows] == [
        ("from-hf", "bob", "read", True)]
    assert_no_secret(repr(rows))


def test_check_access_of_the_active_token(hub):
    git_credential_hf.login(token=WRITE)
    got = git_credential_hf.check_access("alice/model")  # a model by default
    assert (got["account"], got["role"], got["source"], got["can_write"]) == (
        "alice", "write", "file", True)
    assert_no_secret(repr(got))


def test_check_access_for_a_username_picks_that_accounts_token(hub):
    git_credential_hf.login(token=WRITE)
    git_credential_hf.login(token=READ)  # bob is active
    got = git_credential_hf.check_access("alice/data", "dataset", username="alice")
    assert (got["account"], got["source"], got["can_write"]) == ("alice", "stored:laptop", True)
    assert git_credential_hf.check_access("alice/data", "dataset")["account"] == "bob"


def test_check_access_refusals_are_login_errors_with_the_reason(hub):
    git_credential_hf.login(token=WRITE)
    with pytest.raises(_login.LoginError) as e:
        git_credential_hf.check_access("alice/x", "bucket")
    assert str(e.value) == "unknown repository type 'bucket' (model, dataset or space)"


# --- round 2: the git hint after a login, and an invalid HF_ENDPOINT ----------------------------


def test_a_login_says_how_to_let_git_use_the_token_until_git_is_set_up(hub, capsys, monkeypatch):
    monkeypatch.setattr(gitconfig, "helper_command", lambda: "/x/bin/git-credential-hf")
    git_credential_hf.login(token=WRITE)
    saved = [
        "Token is valid (permission: write).",
        f"Your token has been saved to {token_file()}",
        f"It is stored as 'laptop' in {settings.stored_tokens_path()}",
        "Login successful: logged in as alice.",
    ]
    out = capsys.readouterr().out
    assert out.splitlines() == [*saved, (
        "git does not use this token yet: run `git-credential-hf setup` once (or log in with "
        "--add-to-git-credential; in Python, add_to_git_credential=True)")]
    assert_no_secret(out)
    gitconfig.setup()  # git now asks this helper for the endpoint: no hint any more
    git_credential_hf.login(token=WRITE)
    assert capsys.readouterr().out.splitlines() == saved


def test_an_invalid_endpoint_is_a_login_error_naming_it_and_logout_changes_nothing(
        hub, capsys, monkeypatch):
    git_credential_hf.login(token=WRITE)
    capsys.readouterr()
    monkeypatch.setenv("HF_ENDPOINT", "ftp://hub.example")
    with pytest.raises(_login.LoginError) as e:
        git_credential_hf.logout()
    assert str(e.value) == ("HF_ENDPOINT 'ftp://hub.example' is not an http(s)://host[:port][/path] "
                            "URL: only http:// and https:// are supported")
    assert capsys.readouterr().out == ""
    assert token_file().read_text() == WRITE and stored() == {"laptop": WRITE}


def test_without_git_a_login_still_says_how_to_let_git_use_the_token(hub, capsys, monkeypatch,
                                                                       tmp_path):
    """Whether git is set up is unknown without git: the hint is worth its line then."""
    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))
    git_credential_hf.login(token=WRITE)
    out = capsys.readouterr().out
    assert out.splitlines()[-2:] == [
        "Login successful: logged in as alice.",
        "git does not use this token yet: run `git-credential-hf setup` once (or log in with "
        "--add-to-git-credential; in Python, add_to_git_credential=True)",
    ]
    assert token_file().read_text() == WRITE
