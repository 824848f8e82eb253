"""Issue 9, item 1: no account swap through ``store``.

git runs ``store`` after ANY successful authentication, including one whose credentials came from
the URL (``http://mallory:<token>@huggingface.co/...`` in a submodule, a ``git+https``
requirement, a copied command). ``store`` must never replace an active token that still works:
it adopts a password only when no token is saved or the saved one is confirmed invalid (401).
It never overwrites a named copy (``stored_tokens``) holding a different token.

Before (main at 95c1e83): every valid user token reaching ``store`` became the active token and
overwrote the ``stored_tokens`` entry of the same name: the victim was silently logged in as the
attacker, for git and huggingface_hub alike.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from support import load_local_hub


def _files(sec, home: Path) -> dict:
    """The cache's content, lock files aside (taking a lock is not a change)."""
    return {k: v for k, v in sec.snapshot(home).items() if not k.endswith(".lock")}


def _cache(home: Path, active: str | None = None, named: dict[str, str] | None = None) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    if active is not None:
        (home / "token").write_text(active)
        (home / "token").chmod(0o600)
    if named:
        text = "".join(f"[{name}]\nhf_token = {token}\n\n" for name, token in named.items())
        (home / "stored_tokens").write_text(text)
        (home / "stored_tokens").chmod(0o600)
    return home


@pytest.fixture
def swap(sec, fake_hub, tmp_path):
    """A victim logged in with a working token, and an attacker with a working token of their
    own (another account, same token name as the victim's)."""
    victim, mallory = sec.make_token("swap-victim"), sec.make_token("swap-mallory")
    fake_hub.add_token(victim, name="victim", display_name="laptop")
    fake_hub.add_token(mallory, name="mallory", display_name="laptop")
    home = _cache(tmp_path / "hf", victim, {"laptop": victim})
    env = {**fake_hub.env(), "HF_HOME": str(home)}
    return fake_hub, victim, mallory, home, env


def test_store_never_replaces_a_working_active_token(sec, swap) -> None:
    hub, victim, mallory, home, env = swap
    before = _files(sec, home)
    call = sec.run_helper("store", hub.request(username="mallory", password=mallory), env=env)
    assert not call.timed_out and b"Traceback" not in call.stderr
    assert (home / "token").read_text() == victim, "store swapped the active token"
    assert _files(sec, home) == before, "store changed the token cache"
    assert len(call.err.splitlines()) <= 1


def test_store_does_not_put_back_an_old_token_after_a_switch(sec, fake_hub, tmp_path) -> None:
    """A long push started with token A ends after the user switched to B: git's ``store`` of A
    must not undo the switch."""
    old, new = sec.make_token("swap-old"), sec.make_token("swap-new")
    fake_hub.add_token(old, name="alice", display_name="old")
    fake_hub.add_token(new, name="alice", display_name="new")
    home = _cache(tmp_path / "hf", new, {"old": old, "new": new})
    before = _files(sec, home)
    sec.run_helper("store", fake_hub.request(password=old),
                   env={**fake_hub.env(), "HF_HOME": str(home)})
    assert (home / "token").read_text() == new
    assert _files(sec, home) == before


def test_store_never_overwrites_a_named_copy_holding_another_token(sec, fake_hub,
                                                                   tmp_path) -> None:
    """No active token (logged out, or huggingface_hub's ``switch`` left none): the password is
    adopted, but the victim's ``laptop`` copy is not replaced by the attacker's ``laptop``."""
    victim, mallory = sec.make_token("named-victim"), sec.make_token("named-mallory")
    fake_hub.add_token(victim, name="victim", display_name="laptop")
    fake_hub.add_token(mallory, name="mallory", display_name="laptop")
    home = _cache(tmp_path / "hf", None, {"laptop": victim})
    sec.run_helper("store", fake_hub.request(password=mallory),
                   env={**fake_hub.env(), "HF_HOME": str(home)})
    assert sec.parse_stored(home / "stored_tokens")["laptop"] == victim


def test_store_adopts_when_the_saved_token_is_confirmed_invalid(sec, fake_hub, tmp_path) -> None:
    """The guarantee's other half (passes before and after): a revoked saved token (401) is
    replaced by a password the Hub confirms; so is an empty cache."""
    revoked, fresh = sec.make_token("adopt-revoked"), sec.make_token("adopt-fresh")
    fake_hub.add_token(fresh, name="alice", display_name="fresh")
    home = _cache(tmp_path / "hf", revoked)
    env = {**fake_hub.env(), "HF_HOME": str(home)}
    call = sec.run_helper("store", fake_hub.request(password=fresh), env=env)
    assert call.returncode == 0, call
    assert (home / "token").read_text() == fresh
    assert sec.parse_stored(home / "stored_tokens")["fresh"] == fresh
    empty = _cache(tmp_path / "empty")
    call = sec.run_helper("store", fake_hub.request(password=fresh),
                          env={**fake_hub.env(), "HF_HOME": str(empty)})
    assert call.returncode == 0 and (empty / "token").read_text() == fresh


@pytest.mark.parametrize("behavior", ["500", "429:5", "close"])
def test_store_changes_nothing_when_the_saved_token_cannot_be_checked(sec, swap,
                                                                      behavior) -> None:
    """Only a 401 for the saved token lets another token in: a failing Hub changes nothing."""
    hub, _victim, mallory, home, env = swap
    before = _files(sec, home)
    hub.behavior = behavior
    sec.run_helper("store", hub.request(password=mallory), env=env)
    assert _files(sec, home) == before


def test_url_credentials_do_not_log_the_user_in_as_someone_else(sec, tmp_path) -> None:
    """The attack end to end, with real git: the victim ran ``setup`` and is logged in; a
    command copied from somewhere clones ``http://mallory:<token>@<hub>/mallory/model``. git
    authenticates with the URL's token, then runs ``store`` with it."""
    local_hub = load_local_hub()

    victim, mallory = sec.make_token("git-victim"), sec.make_token("git-mallory")
    with local_hub.LocalHub(tmp_path / "hub") as hub:
        hub.add_token(victim, user="victim", role="write", display_name="laptop")
        hub.add_token(mallory, user="mallory", role="write", display_name="laptop")
        hub.create_repo("mallory/model")
        home = tmp_path / "home"
        hf = _cache(home / "hf", victim, {"laptop": victim})
        env = {**os.environ, "HOME": str(home), "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
               "GIT_CONFIG_NOSYSTEM": "1", "HF_HOME": str(hf), "HF_ENDPOINT": hub.url,
               "GIT_TERMINAL_PROMPT": "0", "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
        assert sec.run_cli(["setup"], env=env).returncode == 0
        url = hub.url.replace("http://", f"http://mallory:{mallory}@") + "/mallory/model"
        clone = subprocess.run(["git", "clone", "-q", url, str(tmp_path / "clone")], env=env,
                               capture_output=True, text=True, timeout=60, check=False)
        assert clone.returncode == 0, sec.find_leaks(clone.stderr) or clone.stderr[-300:]
        assert (hf / "token").read_text() == victim, "a URL's credentials swapped the account"
        assert sec.parse_stored(hf / "stored_tokens") == {"laptop": victim}


def test_transfer_credentials_in_url_die_is_a_user_side_guard(sec, tmp_path) -> None:
    """The documented guard (SECURITY.md): with ``transfer.credentialsInUrl=die`` git refuses a
    URL holding a password before sending anything, so no foreign token reaches ``store``."""
    local_hub = load_local_hub()

    mallory = sec.make_token("guard-mallory")
    with local_hub.LocalHub(tmp_path / "hub") as hub:
        hub.add_token(mallory, user="mallory", role="write")
        hub.create_repo("mallory/model")
        home = tmp_path / "home"
        home.mkdir()
        env = {**os.environ, "HOME": str(home), "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
               "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"}
        subprocess.run(["git", "config", "--global", "transfer.credentialsInUrl", "die"],
                       env=env, check=True)
        url = hub.url.replace("http://", f"http://mallory:{mallory}@") + "/mallory/model"
        clone = subprocess.run(["git", "clone", "-q", url, str(tmp_path / "clone")], env=env,
                               capture_output=True, text=True, timeout=60, check=False)
        assert clone.returncode != 0 and "plaintext credentials" in clone.stderr
        assert not sec.find_leaks(clone.stderr)  # git redacts the password itself
        assert hub.requests_log == []
