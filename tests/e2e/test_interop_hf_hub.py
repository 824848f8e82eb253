"""Interop with the real huggingface_hub: one token cache, read and written by both.

huggingface_hub reads HF_ENDPOINT/HF_HOME when it is imported, so it runs in a fresh Python
process for each check, against the local Hub.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import git_credential_hf
from git_credential_hf import tokens

pytest.importorskip("huggingface_hub")

BIN = Path(sys.executable).parent
SCRIPT = BIN / "git-credential-hf"
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "git_credential_hf"]
SECOND = "hf_" + "c" * 30 + "ci02"
THIRD = "hf_" + "t" * 30 + "th03"


@pytest.fixture
def hub(local_hub, git_env, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", local_hub.url)
    git_env.env["HF_ENDPOINT"] = local_hub.url
    local_hub.add_token(SECOND, user="alice", role="write", display_name="ci")
    local_hub.add_token(THIRD, user="carol", role="read", display_name="carol-laptop")
    return local_hub


def hf(code: str) -> dict:
    """Run ``code`` with huggingface_hub imported as ``h``; it assigns a dict to ``out``."""
    script = (
        "import json, huggingface_hub as h\n"
        "from huggingface_hub.utils import get_stored_tokens\n"
        f"{code}\n"
        "print(json.dumps(out))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, check=False, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def our_get(hub) -> str:
    host = hub.url.removeprefix("http://")
    proc = subprocess.run([*COMMAND, "get"], input=f"protocol=http\nhost={host}\n\n",
                          capture_output=True, text=True, timeout=60, check=True)
    return dict(line.split("=", 1) for line in proc.stdout.splitlines()).get("password", "")


def test_after_our_cli_login_huggingface_hub_sees_the_token_and_account(hub, hub_token):
    proc = subprocess.run([*COMMAND, "login", "--token-stdin"], input=hub_token,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    out = hf("out = {'token': h.get_token(), 'name': h.whoami()['name'],"
             " 'stored': get_stored_tokens()}")
    assert out == {"token": hub_token, "name": "alice", "stored": {"alice-write": hub_token}}


def test_after_our_python_login_huggingface_hub_sees_the_same(hub, hub_token):
    git_credential_hf.login(token=SECOND)
    out = hf("out = {'token': h.get_token(), 'name': h.whoami()['name']}")
    assert out == {"token": SECOND, "name": "alice"}


def test_after_huggingface_hub_login_our_get_serves_that_token(hub, hub_token, git_env, tmp_path):
    hf(f"h.login(token={hub_token!r}); out = {{}}")
    assert our_get(hub) == hub_token
    assert git_credential_hf.get_token() == hub_token
    # And git, through `setup`, clones with it.
    subprocess.run([*COMMAND, "setup"], check=True, capture_output=True, timeout=60)
    git_env.run("clone", "-q", f"{hub.url}/alice/model", str(tmp_path / "w"), no_helper=False)


def test_huggingface_hub_stored_tokens_survive_our_login(hub, hub_token):
    hf(f"h.login(token={hub_token!r}); h.login(token={SECOND!r}); out = {{}}")
    before = Path(os.environ["HF_HOME"], "stored_tokens").read_text()
    assert "[ci]" in before and "[alice-write]" in before
    git_credential_hf.login(token=THIRD)
    out = hf("out = {'token': h.get_token(), 'stored': get_stored_tokens()}")
    assert out == {
        "token": THIRD,
        "stored": {"alice-write": hub_token, "ci": SECOND, "carol-laptop": THIRD},
    }
    # huggingface_hub can still switch back to a token it stored; our helper follows.
    hf("h.auth_switch('ci'); out = {}")
    assert our_get(hub) == SECOND


def test_our_logout_is_seen_by_huggingface_hub_and_theirs_by_us(hub, hub_token):
    git_credential_hf.login(token=hub_token)
    git_credential_hf.logout()
    assert hf("out = {'token': h.get_token()}") == {"token": None}
    hf(f"h.login(token={SECOND!r}); out = {{}}")
    assert our_get(hub) == SECOND
    hf("h.logout(); out = {}")
    assert our_get(hub) == ""
    assert tokens.read_token_file() is None
