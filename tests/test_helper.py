"""get / store / erase decisions, with the Hub faked; and the real executable's hot path."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys

import pytest

from git_credential_hf import helper, hub, tokens

TOKEN = "hf_" + "t" * 30 + "AAAA"
NEW = "hf_" + "n" * 30 + "BBBB"
READ = "hf_" + "r" * 30 + "CCCC"


class FakeHub:
    """Stands in for hub.whoami: a table of known tokens, and a record of every call."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.known: dict[str, dict] = {}
        self.error: hub.HubError | None = None

    def add(self, token: str, name: str = "alice", role: str = "write", kind: str = "user",
            display: str | None = "laptop") -> None:
        access = {"role": role}
        if display is not None:
            access["displayName"] = display
        self.known[token] = {"type": kind, "name": name, "auth": {"accessToken": access}}

    def whoami(self, token: str, endpoint: str | None = None) -> dict:
        if token.startswith("api_org_"):
            raise hub.OrgTokenError(hub.ORG_TOKEN_MESSAGE)
        self.calls.append(token)
        if self.error:
            raise self.error
        if token not in self.known:
            raise hub.InvalidTokenError(f"rejected {tokens.mask(token)} (401)")
        return self.known[token]


@pytest.fixture
def fake_hub(monkeypatch: pytest.MonkeyPatch) -> FakeHub:
    fake = FakeHub()
    monkeypatch.setattr(hub, "whoami", fake.whoami)
    return fake


def run(op: str, text: str) -> tuple[int, bytes, str]:
    out, err = io.BytesIO(), io.StringIO()
    code = helper.run(op, io.BytesIO(text.encode()), out, err)
    return code, out.getvalue(), err.getvalue()


HUB = "protocol=https\nhost=huggingface.co\n"

GET_CASES = [
    # (id, request, env, file token, expected output)
    ("cached token", HUB, {}, TOKEN, f"username=hf_user\npassword={TOKEN}\n"),
    ("request username kept", HUB + "username=bob\n", {}, TOKEN, f"username=bob\npassword={TOKEN}\n"),
    ("hf.co alias", "protocol=https\nhost=hf.co\n", {}, TOKEN, f"username=hf_user\npassword={TOKEN}\n"),
    ("explicit default port", "protocol=https\nhost=huggingface.co:443\n", {}, TOKEN,
     f"username=hf_user\npassword={TOKEN}\n"),
    ("url form", "url=https://huggingface.co/alice/model\n", {}, TOKEN,
     f"username=hf_user\npassword={TOKEN}\n"),
    ("HF_TOKEN wins over file", HUB, {"HF_TOKEN": NEW}, TOKEN, f"username=hf_user\npassword={NEW}\n"),
    ("legacy env var", HUB, {"HUGGING_FACE_HUB_TOKEN": NEW}, None, f"username=hf_user\npassword={NEW}\n"),
    ("no token", HUB, {}, None, ""),
    ("other host", "protocol=https\nhost=github.com\n", {}, TOKEN, ""),
    ("http is not https", "protocol=http\nhost=huggingface.co\n", {}, TOKEN, ""),
    ("no protocol", "host=huggingface.co\n", {}, TOKEN, ""),
    ("no host", "protocol=https\n", {}, TOKEN, ""),
    ("mirror endpoint", "protocol=http\nhost=127.0.0.1:9\n", {"HF_ENDPOINT": "http://127.0.0.1:9"}, TOKEN,
     f"username=hf_user\npassword={TOKEN}\n"),
    ("mirror has no hf.co alias", "protocol=https\nhost=hf.co\n", {"HF_ENDPOINT": "http://127.0.0.1:9"},
     TOKEN, ""),
    ("default host not served for a mirror", HUB, {"HF_ENDPOINT": "https://hub.example.com"}, TOKEN, ""),
    ("username with CR answers nothing", HUB + "username=a\rb\n", {}, TOKEN, ""),
]


@pytest.mark.parametrize(("request_text", "env", "file_token", "expected"), [c[1:] for c in GET_CASES],
                         ids=[c[0] for c in GET_CASES])
def test_get(request_text: str, env: dict[str, str], file_token: str | None, expected: str,
             fake_hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if file_token:
        tokens.save_token(file_token)
    code, out, err = run("get", request_text)
    assert (code, out.decode(), err) == (0, expected, "")
    assert fake_hub.calls == []


def test_get_malformed_input_is_silent() -> None:
    tokens.save_token(TOKEN)
    assert run("get", HUB + "garbage line\n") == (0, b"", "")


def test_store_same_token_is_a_no_op_without_network(fake_hub: FakeHub) -> None:
    tokens.save_token(TOKEN)
    assert run("store", HUB + f"username=x\npassword={TOKEN}\n") == (0, b"", "")
    assert fake_hub.calls == []


def test_store_with_env_token_changes_nothing(fake_hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_hub.add(NEW)
    tokens.save_token(TOKEN)
    monkeypatch.setenv("HF_TOKEN", NEW)
    assert run("store", HUB + f"password={NEW}\n") == (0, b"", "")
    assert fake_hub.calls == []
    assert tokens.read_token_file() == TOKEN


def test_store_new_valid_token_is_saved_and_named(fake_hub: FakeHub) -> None:
    fake_hub.add(NEW, display="ci-box")
    tokens.save_token(TOKEN)
    assert run("store", HUB + f"password={NEW}\n") == (0, b"", "")
    assert tokens.read_token_file() == NEW
    assert tokens.stored_tokens() == {"ci-box": NEW}
    assert fake_hub.calls == [NEW]


def test_store_names_by_account_without_display_name(fake_hub: FakeHub) -> None:
    fake_hub.add(NEW, name="bob", display=None)
    run("store", "protocol=https\nhost=hf.co\n" + f"password={NEW}\n")
    assert tokens.stored_tokens() == {"bob": NEW}


@pytest.mark.parametrize(
    ("setup", "password", "message"),
    [
        ("invalid", NEW, "rejected"),
        ("org", "api_org_" + "x" * 30, "organization"),
        ("org account", NEW, "'org'"),
        ("offline", NEW, "cannot reach"),
    ],
)
def test_store_refusals_change_nothing(setup: str, password: str, message: str, fake_hub: FakeHub) -> None:
    tokens.save_token(TOKEN, "laptop")
    if setup == "org account":
        fake_hub.add(NEW, kind="org")
    if setup == "offline":
        fake_hub.error = hub.HubUnavailableError("cannot reach https://huggingface.co (connection failed)")
    code, out, err = run("store", HUB + f"password={password}\n")
    assert code == 1 and out == b""
    assert message in err and err.count("\n") == 1
    assert password not in err
    assert tokens.read_token_file() == TOKEN
    assert tokens.stored_tokens() == {"laptop": TOKEN}
    if setup == "org":
        assert fake_hub.calls == []


def test_store_other_host_is_ignored(fake_hub: FakeHub) -> None:
    fake_hub.add(NEW)
    assert run("store", f"protocol=https\nhost=github.com\npassword={NEW}\n") == (0, b"", "")
    assert fake_hub.calls == [] and tokens.read_token_file() is None


def test_erase_revoked_token_is_removed(fake_hub: FakeHub) -> None:
    tokens.save_token(NEW, "ci")
    tokens.save_token(TOKEN, "laptop")  # not known to the fake hub: revoked
    code, out, err = run("erase", HUB + f"password={TOKEN}\n")
    assert code == 1 and out == b""
    assert "removed" in err and "git-credential-hf login" in err and err.count("\n") == 1
    assert TOKEN not in err and tokens.mask(TOKEN) in err
    assert tokens.read_token_file() is None
    assert tokens.stored_tokens() == {"ci": NEW}


def test_erase_valid_token_is_kept_and_explained(fake_hub: FakeHub) -> None:
    fake_hub.add(READ, role="read")
    tokens.save_token(READ, "laptop")
    code, _, err = run("erase", HUB + f"password={READ}\n")
    assert code == 1
    assert "still valid" in err and "permission" in err
    assert tokens.read_token_file() == READ and tokens.stored_tokens() == {"laptop": READ}


@pytest.mark.parametrize("error", [hub.HubUnavailableError("cannot reach x"), hub.RateLimitedError("429", 1.0)])
def test_erase_network_error_keeps_token(error: hub.HubError, fake_hub: FakeHub) -> None:
    fake_hub.error = error
    tokens.save_token(TOKEN)
    code, _, err = run("erase", HUB + f"password={TOKEN}\n")
    assert code == 1 and "kept" in err and tokens.read_token_file() == TOKEN


@pytest.mark.parametrize(
    ("env", "password"),
    [({}, NEW), ({"HF_TOKEN": NEW}, NEW), ({}, "")],
    ids=["different password", "env token", "no password"],
)
def test_erase_never_touches_another_token(env: dict[str, str], password: str, fake_hub: FakeHub,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    tokens.save_token(TOKEN)
    assert run("erase", HUB + f"password={password}\n") == (0, b"", "")
    assert fake_hub.calls == [] and tokens.read_token_file() == TOKEN


def test_erase_other_host_is_ignored(fake_hub: FakeHub) -> None:
    tokens.save_token(TOKEN)
    assert run("erase", f"protocol=https\nhost=evil.example\npassword={TOKEN}\n") == (0, b"", "")
    assert fake_hub.calls == [] and tokens.read_token_file() == TOKEN


def test_store_malformed_input_one_line(fake_hub: FakeHub) -> None:
    tokens.save_token(TOKEN)
    code, out, err = run("store", HUB + "no-equals-sign\n")
    assert (code, out) == (1, b"") and err.count("\n") == 1 and "malformed" in err
    assert tokens.read_token_file() == TOKEN


# --- the real executable -------------------------------------------------------------------


def executable() -> str:
    found = shutil.which("git-credential-hf", path=os.path.dirname(sys.executable)) or shutil.which(
        "git-credential-hf"
    )
    assert found, "git-credential-hf is not installed"
    return found


PROBE = r"""
import io, json, sys
sys.argv = ["git-credential-hf", "get"]
sys.stdin = io.TextIOWrapper(io.BytesIO(b"protocol=https\nhost=huggingface.co\n\n"))
before = set(sys.modules)
out = io.BytesIO()
sys.stdout = io.TextIOWrapper(out)
from git_credential_hf.cli import main
code = main()
sys.stdout.flush()
sys.__stdout__.write(json.dumps({"code": code, "out": out.getvalue().decode(),
                                 "new": sorted(set(sys.modules) - before)}))
"""


def test_get_imports_only_stdlib_and_this_package() -> None:
    """A real `get` in a fresh interpreter: list every module it pulled in."""
    tokens.save_token(TOKEN)
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60,
                          check=True)
    report = json.loads(done.stdout)
    assert report["code"] == 0 and f"password={TOKEN}" in report["out"]
    new = report["new"]
    ours = [m for m in new if m.split(".")[0] == "git_credential_hf"]
    assert "git_credential_hf.helper" in ours
    foreign = [m for m in new if m.split(".")[0] != "git_credential_hf"
               and m.split(".")[0] not in sys.stdlib_module_names]
    assert foreign == []
    heavy = {"requests", "urllib3", "filelock", "configparser", "subprocess", "socket", "ssl",
             "typing", "argparse", "tempfile", "json", "git_credential_hf.hub", "git_credential_hf.login"}
    assert sorted(heavy & set(new)) == []


def test_get_makes_no_subprocess_or_socket() -> None:
    """Audit hooks see every subprocess, socket and file open of a real `get`."""
    probe = (
        "import sys\n"
        "seen = []\n"
        "sys.addaudithook(lambda ev, args: seen.append((ev, str(args[0])[:200])) "
        "if ev in ('subprocess.Popen', 'os.system', 'os.exec', 'os.posix_spawn', 'socket.connect', "
        "'socket.__new__', 'open') else None)\n"
        "sys.argv = ['git-credential-hf', 'get']\n"
        "from git_credential_hf.cli import main\n"
        "code = main()\n"
        "print('\\nAUDIT', repr(seen), file=sys.stderr)\n"
    )
    tokens.save_token(TOKEN)
    for host, opens_token in (("huggingface.co", True), ("github.com", False)):
        done = subprocess.run([sys.executable, "-c", probe], input=f"protocol=https\nhost={host}\n\n",
                              capture_output=True, text=True, timeout=60)
        audit = eval(done.stderr.split("AUDIT", 1)[1])
        events = {ev for ev, _ in audit}
        assert not events & {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn",
                             "socket.connect", "socket.__new__"}
        token_opens = [a for ev, a in audit if ev == "open" and a.endswith("/token")]
        assert bool(token_opens) is opens_token, (host, audit)


def test_executable_get_round_trip() -> None:
    tokens.save_token(TOKEN)
    done = subprocess.run([executable(), "get"], input=HUB.encode() + b"\n", capture_output=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"username=hf_user\npassword={TOKEN}\n".encode(), b"")


@pytest.mark.parametrize(("op", "tty", "code", "usage"), [("capability", False, 0, False),
                                                          ("frobnicate", False, 0, False),
                                                          ("frobnicate", True, 2, True)])
def test_unknown_operation(op: str, tty: bool, code: int, usage: bool) -> None:
    if tty:
        import pty

        primary, secondary = pty.openpty()
        try:
            done = subprocess.run([executable(), op], stdin=secondary, capture_output=True, timeout=60)
        finally:
            os.close(primary)
            os.close(secondary)
    else:
        done = subprocess.run([executable(), op], input=b"protocol=https\n", capture_output=True, timeout=60)
    assert done.returncode == code and done.stdout == b""
    assert (b"usage" in done.stderr) is usage
    assert b"Traceback" not in done.stderr


# --- issue 14: tests that kill mutants (keep this block at the end of the file) ------------------


def assert_masked(text: str, token: str) -> None:
    """Every line that mentions ``token`` names it by its mask only."""
    assert text, "expected a message"
    for line in text.splitlines():
        assert token not in line, line
    assert tokens.mask(token) in text, text


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch):
    """The real hub.whoami against a server answering with a scripted status."""
    from scripted_hub import ScriptedHub  # tests/scripted_hub.py

    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with ScriptedHub() as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        yield server


MIRROR = "protocol=http\nhost={host}\npassword={password}\n"


def mirror_request(server, password: str) -> str:
    return MIRROR.format(host=server.url.removeprefix("http://"), password=password)


def test_erase_keeps_the_token_when_whoami_answers_403(scripted) -> None:
    """403 is a permission problem, not a dead token: nothing is deleted."""
    scripted.status = 403
    tokens.save_token(TOKEN, "laptop")
    code, out, err = run("erase", mirror_request(scripted, TOKEN))
    assert (code, out) == (1, b"")
    assert err.startswith(f"{helper.PREFIX}kept the saved token hf_****AAAA: could not verify it (")
    assert "HTTP 403" in err and err.count("\n") == 1
    assert_masked(err, TOKEN)
    assert tokens.read_token_file() == TOKEN and tokens.stored_tokens() == {"laptop": TOKEN}
    assert len(scripted.requests) == 1


def test_erase_removes_the_token_when_whoami_answers_401(scripted) -> None:
    scripted.status = 401
    tokens.save_token(TOKEN, "laptop")
    code, _, err = run("erase", mirror_request(scripted, TOKEN))
    assert code == 1 and "it was removed" in err
    assert_masked(err, TOKEN)
    assert tokens.read_token_file() is None and tokens.stored_tokens() == {}


@pytest.mark.parametrize("error", [hub.HubUnavailableError("cannot reach x"), hub.RateLimitedError("429", 1.0)])
def test_erase_could_not_verify_line_masks_the_token(error: hub.HubError, fake_hub: FakeHub) -> None:
    fake_hub.error = error
    tokens.save_token(TOKEN)
    code, _, err = run("erase", HUB + f"password={TOKEN}\n")
    assert code == 1
    assert err == f"{helper.PREFIX}kept the saved token hf_****AAAA: could not verify it ({error})\n"
    assert_masked(err, TOKEN)


def test_erase_still_valid_line_masks_the_token(fake_hub: FakeHub) -> None:
    fake_hub.add(TOKEN, role="read")
    tokens.save_token(TOKEN)
    code, _, err = run("erase", HUB + f"password={TOKEN}\n")
    assert code == 1 and err.startswith(f"{helper.PREFIX}the token hf_****AAAA is still valid, so it was kept;")
    assert_masked(err, TOKEN)
    assert fake_hub.calls == [TOKEN]


def test_erase_removed_line_is_exact(fake_hub: FakeHub) -> None:
    tokens.save_token(TOKEN)
    _, _, err = run("erase", HUB + f"password={TOKEN}\n")
    assert err == (f"{helper.PREFIX}the Hub rejected the saved token hf_****AAAA; it was removed. "
                   "Log in again with: git-credential-hf login\n")


def test_erase_that_cannot_delete_says_so_and_masks(fake_hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    tokens.save_token(TOKEN)

    def refuse(_token: str | None = None) -> bool:
        raise tokens.TokenStoreError("/x/token is locked by another process; try again")

    monkeypatch.setattr(tokens, "delete_token", refuse)
    code, _, err = run("erase", HUB + f"password={TOKEN}\n")
    assert code == 1
    assert err == (f"{helper.PREFIX}the Hub rejected the saved token hf_****AAAA but "
                   "/x/token is locked by another process; try again\n")
    assert tokens.read_token_file() == TOKEN


def test_store_refusal_lines_never_hold_the_password(fake_hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each of store's one-line refusals, exactly, and without the password it refused."""
    fake_hub.add(READ, kind="org")
    code, _, err = run("store", HUB + f"password={READ}\n")
    assert code == 1
    assert err == f"{helper.PREFIX}not saving the credential: it belongs to a 'org', not a user\n"
    assert READ not in err
    code, _, err = run("store", HUB + f"password={NEW}\n")
    assert code == 1 and err == f"{helper.PREFIX}not saving the credential: rejected hf_****BBBB (401)\n"
    fake_hub.add(NEW)

    def refuse(_token: str, _name: str | None = None) -> list[str]:
        raise tokens.TokenStoreError("cannot write /x/token: No space left on device")

    monkeypatch.setattr(tokens, "save_token", refuse)
    code, _, err = run("store", HUB + f"password={NEW}\n")
    assert code == 1
    assert err == f"{helper.PREFIX}not saving the credential: cannot write /x/token: No space left on device\n"
    assert NEW not in err


def test_store_reports_named_copy_warnings_in_one_line(fake_hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_hub.add(NEW)
    monkeypatch.setattr(tokens, "save_token", lambda _t, _n=None: ["first", "second"])
    assert run("store", HUB + f"password={NEW}\n") == (1, b"", f"{helper.PREFIX}first; second\n")


def test_store_of_a_user_token_without_warnings_is_silent(fake_hub: FakeHub) -> None:
    fake_hub.add(NEW, display="box")
    assert run("store", HUB + f"username=u\npassword={NEW}\n") == (0, b"", "")
    assert tokens.read_token_file() == NEW and tokens.stored_tokens() == {"box": NEW}


def test_store_and_erase_ignore_quiet_protocol_errors(fake_hub: FakeHub) -> None:
    tokens.save_token(TOKEN)
    for op in ("store", "erase"):
        assert run(op, "host=" + "a" * (2 * 64 * 1024) + "\n") == (0, b"", "")
    assert fake_hub.calls == [] and tokens.read_token_file() == TOKEN


def test_malformed_store_input_line_is_exact(fake_hub: FakeHub) -> None:
    code, out, err = run("erase", HUB + "no-equals-sign\n")
    assert (code, out) == (1, b"")
    assert err == f"{helper.PREFIX}ignoring malformed input: invalid credential line (no '=')\n"


def test_a_message_with_a_newline_stays_one_line(fake_hub: FakeHub) -> None:
    fake_hub.error = hub.HubUnavailableError("first\nsecond")
    tokens.save_token(TOKEN)
    _, _, err = run("erase", HUB + f"password={TOKEN}\n")
    assert err.count("\n") == 1 and "first second" in err


class Streams:
    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)


@pytest.mark.parametrize(("op", "code", "err"), [
    ("get", 1, ""),
    ("store", 1, f"{helper.PREFIX}store failed: RuntimeError\n"),
    ("erase", 1, f"{helper.PREFIX}erase failed: RuntimeError\n"),
])
def test_main_turns_a_crash_into_one_line_without_the_token(op: str, code: int, err: str, fake_hub: FakeHub,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    def crash(*_a: object) -> object:
        raise RuntimeError(TOKEN)

    monkeypatch.setattr(helper, "run", crash)
    assert helper.main(op) == code
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", err)


def test_main_runs_the_operation_on_the_process_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    tokens.save_token(TOKEN)
    stdin, stdout = Streams((HUB + "\n").encode()), Streams(b"")
    monkeypatch.setattr(sys, "stdin", stdin)
    monkeypatch.setattr(sys, "stdout", stdout)
    assert helper.main("get") == 0
    assert stdout.buffer.getvalue() == f"username=hf_user\npassword={TOKEN}\n".encode()


def test_erase_never_deletes_a_token_saved_while_it_asked_the_hub(fake_hub: FakeHub,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A login in another terminal replaces the token while erase waits for the Hub: the Hub's
    verdict is about the old token only, so the new one stays."""
    tokens.save_token(TOKEN)
    real_whoami = fake_hub.whoami

    def whoami_during_a_login(token: str, endpoint: str | None = None) -> dict:
        tokens.save_token(NEW)
        return real_whoami(token, endpoint)

    monkeypatch.setattr(hub, "whoami", whoami_during_a_login)
    code, _, err = run("erase", HUB + f"password={TOKEN}\n")
    assert code == 1 and "rejected" in err
    assert tokens.read_token_file() == NEW
