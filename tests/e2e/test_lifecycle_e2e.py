"""Token lifecycle end to end (issue 8): real git, the installed helper, huggingface_hub 2.4 and
the local Hub's OAuth endpoints (expiring access tokens, single-use rotating refresh tokens,
device login, OIDC token exchange)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from support import needs_hf_hub_2

from git_credential_hf import tokens

pytest.importorskip("huggingface_hub")

BIN = Path(sys.executable).parent
SCRIPT = BIN / "git-credential-hf"
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "git_credential_hf"]
NAME = "oauth-alice"


@pytest.fixture
def hub(local_hub, git_env, monkeypatch):
    """The local Hub, git calling our helper (found on PATH) for it, HF_ENDPOINT pointing at
    it in this process, its children and git's."""
    bin_dir = os.path.dirname(sys.executable)
    monkeypatch.setenv("PATH", bin_dir + os.pathsep + os.environ["PATH"])
    monkeypatch.setenv("HF_ENDPOINT", local_hub.url)
    git_env.env.update(PATH=os.environ["PATH"], HF_ENDPOINT=local_hub.url)
    git_env.run("config", "--global", f"credential.{local_hub.url}.helper", "")
    git_env.run("config", "--global", "--add", f"credential.{local_hub.url}.helper", "hf")
    local_hub.device_interval = 1
    return local_hub


def browser_login(hub, expires_in: float) -> dict:
    """An OAuth login as huggingface_hub's browser login saves it; ``expires_in < 0``: the
    access token has already expired (the Hub answers 401 to it)."""
    answer = hub.issue_oauth("alice", expires_in=expires_in)
    tokens.save_token(answer["access_token"], NAME, refresh_token=answer["refresh_token"],
                      expires_at=answer["expires_at"])
    return answer


def run_get(hub, env: dict | None = None) -> subprocess.CompletedProcess:
    host = hub.url.removeprefix("http://")
    return subprocess.run([*COMMAND, "get"], input=f"protocol=http\nhost={host}\n\n",
                          capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, **(env or {})})


def answer_of(proc: subprocess.CompletedProcess) -> dict:
    return dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)


def hf_get_token_proc() -> subprocess.Popen:
    code = ("import json, huggingface_hub as h\n"
            "print(json.dumps({'token': h.get_token()}))\n")
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ))


def hf_get_token() -> str | None:
    proc = hf_get_token_proc()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-2000:]
    return json.loads(out.strip().splitlines()[-1])["token"]


def clone(hub, git_env, dest: Path, check: bool = True, env: dict | None = None):
    return git_env.run("clone", f"{hub.url}/alice/model", str(dest), no_helper=False,
                       check=check, extra_env=env)


def section() -> dict[str, str]:
    return tokens.stored_sections()[NAME]


# --- refresh in `get` ------------------------------------------------------------------------


def test_expired_token_clone_refreshes_once_and_huggingface_hub_agrees(hub, git_env, tmp_path):
    old = browser_login(hub, expires_in=-60)
    clone(hub, git_env, tmp_path / "w")
    assert hub.counter("refreshes") == 1
    new = tokens.read_token_file()
    assert new != old["access_token"] and hub.lookup(new) is not None
    fields = section()
    assert fields["hf_token"] == new and fields["refresh_token"] != old["refresh_token"]
    assert int(fields["expires_at"]) > time.time() + 29 * 86400
    assert hf_get_token() == new  # huggingface_hub serves it and does not refresh again
    assert hub.counter("refreshes") == 1


def test_get_answers_the_expiry(hub):
    answer = browser_login(hub, expires_in=10 * 86400)
    got = answer_of(run_get(hub))
    assert got["password"] == answer["access_token"]
    assert got["password_expiry_utc"] == str(answer["expires_at"])
    assert hub.counter("refreshes") == 0


def test_eight_concurrent_gets_refresh_once(hub):
    browser_login(hub, expires_in=-60)
    host = hub.url.removeprefix("http://")
    procs = [subprocess.Popen([*COMMAND, "get"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(8)]
    outs = [p.communicate(f"protocol=http\nhost={host}\n\n", timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8
    assert all(err == "" for _out, err in outs)
    served = {answer_of(subprocess.CompletedProcess([], 0, out, err))["password"]
              for out, err in outs}
    assert hub.counter("refreshes") == 1
    assert served == {tokens.read_token_file()}


def test_gets_racing_huggingface_hub_refresh_once_and_rotation_survives(hub):
    browser_login(hub, expires_in=-60)
    host = hub.url.removeprefix("http://")
    ours = [subprocess.Popen([*COMMAND, "get"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(3)]
    theirs = [hf_get_token_proc() for _ in range(3)]
    our_out = [p.communicate(f"protocol=http\nhost={host}\n\n", timeout=120)[0] for p in ours]
    their_out = [p.communicate(timeout=120)[0] for p in theirs]
    new = tokens.read_token_file()
    assert hub.counter("refreshes") == 1
    assert [answer_of(subprocess.CompletedProcess([], 0, o, ""))["password"] for o in our_out] \
        == [new] * 3
    assert [json.loads(o.strip().splitlines()[-1])["token"] for o in their_out] == [new] * 3
    # the refresh token saved is the live one: the next refresh works
    hub.expire(new)
    tokens.save_token(new, NAME, expires_at=int(time.time()) - 1)
    assert answer_of(run_get(hub))["password"] != new
    assert hub.counter("refreshes") == 2


def test_refresh_failing_for_a_network_reason_serves_the_old_token_silently(hub):
    old = browser_login(hub, expires_in=3600)  # due (< 24 h left) but still valid
    hub.oauth_behavior = "503"
    proc = run_get(hub)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert answer_of(proc)["password"] == old["access_token"]
    assert section()["refresh_token"] == old["refresh_token"]


@pytest.mark.slow  # a wall-clock bound: .ci/run runs it with no neighbours
def test_refresh_of_a_hanging_hub_is_bounded(hub):
    old = browser_login(hub, expires_in=3600)
    hub.oauth_behavior = "hang"
    started = time.monotonic()
    proc = run_get(hub)
    assert time.monotonic() - started <= 16
    assert answer_of(proc)["password"] == old["access_token"] and proc.stderr == ""


# --- erase -----------------------------------------------------------------------------------


def test_erase_on_a_refreshable_token_keeps_the_login(hub):
    old = browser_login(hub, expires_in=20 * 86400)
    hub.expire(old["access_token"])  # revoked early: 401, though expires_at is far away
    host = hub.url.removeprefix("http://")
    proc = subprocess.run(
        [*COMMAND, "erase"], capture_output=True, text=True, timeout=60,
        input=f"protocol=http\nhost={host}\nusername=hf_user\npassword={old['access_token']}\n\n")
    assert "Traceback" not in proc.stderr and old["access_token"] not in proc.stderr
    new = tokens.read_token_file()
    assert new and new != old["access_token"] and hub.lookup(new) is not None
    assert section()["hf_token"] == new and "refresh_token" in section()
    assert hub.counter("refreshes") == 1


def test_erase_of_a_valid_oauth_token_does_not_refresh(hub):
    old = browser_login(hub, expires_in=20 * 86400)
    host = hub.url.removeprefix("http://")
    subprocess.run(
        [*COMMAND, "erase"], capture_output=True, text=True, timeout=60,
        input=f"protocol=http\nhost={host}\nusername=hf_user\npassword={old['access_token']}\n\n")
    assert tokens.read_token_file() == old["access_token"] and hub.counter("refreshes") == 0


def test_dead_refresh_token_fails_with_the_login_hint(hub, git_env, tmp_path):
    old = browser_login(hub, expires_in=-60)
    hub.revoke_refresh(old["refresh_token"])
    proc = clone(hub, git_env, tmp_path / "w", check=False)
    assert proc.returncode != 0
    assert "git-credential-hf login --web" in proc.stderr
    assert "Traceback" not in proc.stderr and old["access_token"] not in proc.stderr
    assert old["refresh_token"] not in proc.stderr


# --- browser login ---------------------------------------------------------------------------


def test_login_web_then_push(hub, git_env, tmp_path):
    hub.device_auto_approve = 1
    git_env.run("config", "--global", "--unset-all", f"credential.{hub.url}.helper")
    proc = subprocess.run([*COMMAND, "login", "--web", "--add-to-git-credential"],
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    device = hub.last_device()
    assert device["user_code"] in proc.stdout and f"{hub.url}/device" in proc.stdout
    token = tokens.read_token_file()
    assert token and token not in proc.stdout + proc.stderr
    fields = section()
    assert fields["hf_token"] == token and "refresh_token" in fields and "expires_at" in fields
    assert fields["refresh_token"] not in proc.stdout + proc.stderr
    assert hf_get_token() == token
    # --add-to-git-credential set git up: the fixture's helper config was removed above
    work = tmp_path / "w"
    clone(hub, git_env, work)
    (work / "f.txt").write_text("x\n")
    git_env.run("add", "f.txt", cwd=work)
    git_env.run("commit", "-qm", "web login push", cwd=work)
    git_env.run("push", "-q", "origin", "HEAD:main", cwd=work, no_helper=False)


def test_login_web_denied_is_one_line(hub):
    hub.device_error = "access_denied"
    proc = subprocess.run([*COMMAND, "login", "--web"], capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 1 and "denied" in proc.stderr
    assert "Traceback" not in proc.stderr and tokens.read_token_file() is None


# --- OIDC ------------------------------------------------------------------------------------


def test_oidc_clone_never_writes_the_token_file(hub, git_env, tmp_path):
    hub.add_id_token("eyJ.ci.token", user="alice", resources=["alice/model"])
    env = {"HF_OIDC_RESOURCE": "alice/model", "HF_OIDC_ID_TOKEN": "eyJ.ci.token"}
    clone(hub, git_env, tmp_path / "w", env=env)
    assert hub.counter("exchanges_ok") >= 1
    assert tokens.read_token_file() is None and not (git_env.hf_home / "stored_tokens").exists()


class _GitHubTokenService:
    """ACTIONS_ID_TOKEN_REQUEST_URL: hands out an id token for the right bearer and audience."""

    def __init__(self, audience: str) -> None:
        seen = self.seen = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                seen.append((self.path, self.headers.get("Authorization")))
                ok = (self.headers.get("Authorization") == "Bearer gh-request"
                      and f"audience={audience}".replace(":", "%3A").replace("/", "%2F")
                      in self.path)
                body = json.dumps({"value": "eyJ.minted"} if ok else {"message": "no"}).encode()
                self.send_response(200 if ok else 403)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/token?api-version=2.0"


def test_oidc_clone_with_a_github_actions_id_token(hub, git_env, tmp_path):
    service = _GitHubTokenService(hub.url)
    try:
        hub.add_id_token("eyJ.minted", user="alice", resources=["alice/model"])
        env = {"HF_OIDC_RESOURCE": "alice/model", "GITHUB_ACTIONS": "true",
               "ACTIONS_ID_TOKEN_REQUEST_URL": service.url,
               "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "gh-request"}
        clone(hub, git_env, tmp_path / "w", env=env)
        assert service.seen and tokens.read_token_file() is None
    finally:
        service.server.shutdown()


def test_oidc_wins_over_hf_token_and_a_failed_exchange_is_one_line(hub, hub_token):
    env = {"HF_OIDC_RESOURCE": "alice/model", "HF_OIDC_ID_TOKEN": "eyJ.unknown",
           "HF_TOKEN": hub_token}
    proc = run_get(hub, env)
    assert proc.returncode == 0 and proc.stdout == ""  # never a silent fallback to HF_TOKEN
    assert len(proc.stderr.splitlines()) == 1 and "OIDC" in proc.stderr
    assert "eyJ.unknown" not in proc.stderr


# --- interop ---------------------------------------------------------------------------------


def _hf(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=180, env=dict(os.environ), check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@needs_hf_hub_2
def test_huggingface_hub_browser_login_then_our_refresh_then_theirs(hub, git_env, tmp_path):
    hub.device_auto_approve = 1
    _hf("from huggingface_hub._login import _device_code_login\n_device_code_login()\n")
    theirs = tokens.read_token_file()
    fields = tokens.stored_sections()[NAME]
    assert fields["hf_token"] == theirs and "refresh_token" in fields
    assert answer_of(run_get(hub))["password"] == theirs  # not due: served as it is
    # make it due: we refresh it, huggingface_hub adopts ours
    hub.expire(theirs)
    tokens.save_token(theirs, NAME, expires_at=int(time.time()) + 60)
    clone(hub, git_env, tmp_path / "w")
    ours = tokens.read_token_file()
    assert ours != theirs and hub.counter("refreshes") == 1
    assert hf_get_token() == ours
    # and the other way: huggingface_hub refreshes, our get serves its result
    hub.expire(ours)
    tokens.save_token(ours, NAME, expires_at=int(time.time()) + 60)
    again = hf_get_token()
    assert again != ours and hub.counter("refreshes") == 2
    assert answer_of(run_get(hub))["password"] == again and hub.counter("refreshes") == 2
    listing = _hf("from huggingface_hub._login import auth_list\nauth_list()\n")
    assert NAME in listing
