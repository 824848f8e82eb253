"""get / store / erase decisions, with the Hub faked; and the real executable's hot path."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import sysconfig

import pytest

from git_credential_hf import helper, hub, tokens, urls

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
def patched_whoami(monkeypatch: pytest.MonkeyPatch) -> FakeHub:
    """``hub.whoami`` replaced in process, where the default Context calls it (tests of the real
    token files). Not the security suite's ``fake_hub`` server."""
    fake = FakeHub()
    monkeypatch.setattr(hub, "whoami", fake.whoami)
    return fake


class Memory:
    """Everything get/store/erase depend on, in memory: served hosts, environment token, token
    file, named copies, the Hub. ``context()`` hands it to the helper."""

    def __init__(self, endpoint: str = urls.DEFAULT_ENDPOINT) -> None:
        self.served = urls.parse_endpoint(endpoint).served_hosts()
        self.env: tuple[str, str] | None = None
        self.saved: str | None = None
        self.named: dict[str, str] = {}
        self.hub = FakeHub()
        self.save_error: tokens.TokenStoreError | None = None

    def save(self, token: str, name: str | None) -> list[str]:
        if self.save_error:
            raise self.save_error
        self.saved = token
        if name:
            self.named[name] = token
        return []

    def delete(self, token: str) -> bool:
        if self.saved != token:
            return False
        self.saved = None
        self.named = {k: v for k, v in self.named.items() if v != token}
        return True

    def context(self) -> helper.Context:
        return helper.Context(served=lambda: self.served, env_token=lambda: self.env,
                              saved_token=lambda: self.saved, whoami=self.hub.whoami,
                              save=self.save, delete=self.delete)


@pytest.fixture
def mem() -> Memory:
    return Memory()


def run(op: str, text: str, ctx: helper.Context | None = None) -> tuple[int, bytes, str]:
    out, err = io.BytesIO(), io.StringIO()
    code = helper.run(op, io.BytesIO(text.encode()), out, err, ctx)
    return code, out.getvalue(), err.getvalue()


HUB = "protocol=https\nhost=huggingface.co\n"
ANSWER = f"username=hf_user\npassword={TOKEN}\n"

GET_CASES = [
    # request, endpoint, environment token, file token, expected output
    pytest.param(HUB, None, None, TOKEN, ANSWER, id="cached token"),
    pytest.param(HUB + "username=bob\n", None, None, TOKEN, f"username=bob\npassword={TOKEN}\n",
                 id="request username kept"),
    pytest.param("protocol=https\nhost=hf.co\n", None, None, TOKEN, ANSWER, id="hf.co alias"),
    pytest.param("protocol=https\nhost=huggingface.co:443\n", None, None, TOKEN, ANSWER,
                 id="explicit default port"),
    pytest.param("protocol=https\nhost=HuggingFace.CO\n", None, None, TOKEN, ANSWER, id="host case"),
    pytest.param("protocol=https\nhost=\u212auggingface.co\n", None, None, TOKEN, "", id="kelvin sign host"),
    pytest.param("url=https://huggingface.co/alice/model\n", None, None, TOKEN, ANSWER, id="url form"),
    pytest.param(HUB, None, NEW, TOKEN, f"username=hf_user\npassword={NEW}\n", id="env token wins over file"),
    pytest.param(HUB, None, NEW, None, f"username=hf_user\npassword={NEW}\n", id="env token alone"),
    pytest.param(HUB, None, None, None, "", id="no token"),
    pytest.param("protocol=https\nhost=github.com\n", None, None, TOKEN, "", id="other host"),
    pytest.param("protocol=http\nhost=huggingface.co\n", None, None, TOKEN, "", id="http is not https"),
    pytest.param("host=huggingface.co\n", None, None, TOKEN, "", id="no protocol"),
    pytest.param("protocol=https\n", None, None, TOKEN, "", id="no host"),
    pytest.param("protocol=http\nhost=127.0.0.1:9\n", "http://127.0.0.1:9", None, TOKEN,
                 ANSWER, id="mirror endpoint"),
    pytest.param("protocol=https\nhost=hf.co\n", "http://127.0.0.1:9", None, TOKEN, "",
                 id="mirror has no hf.co alias"),
    pytest.param(HUB, "https://hub.example.com", None, TOKEN, "", id="default host not served for a mirror"),
    pytest.param(HUB + "username=a\rb\n", None, None, TOKEN, "", id="username with CR answers nothing"),
]


@pytest.mark.parametrize(("request_text", "endpoint", "env", "saved", "expected"), GET_CASES)
def test_get(request_text: str, endpoint: str | None, env: str | None, saved: str | None, expected: str) -> None:
    mem = Memory(endpoint or urls.DEFAULT_ENDPOINT)
    mem.env = (env, "HF_TOKEN") if env else None
    mem.saved = saved
    code, out, err = run("get", request_text, mem.context())
    assert (code, out.decode(), err) == (0, expected, "")
    assert mem.hub.calls == []


@pytest.mark.parametrize(("env", "endpoint", "host", "expected"), [
    pytest.param({}, None, "huggingface.co", ANSWER, id="token file"),
    pytest.param({"HF_TOKEN": NEW}, None, "huggingface.co", f"username=hf_user\npassword={NEW}\n", id="HF_TOKEN"),
    pytest.param({"HUGGING_FACE_HUB_TOKEN": NEW}, None, "huggingface.co", f"username=hf_user\npassword={NEW}\n",
                 id="legacy variable"),
    pytest.param({}, "http://127.0.0.1:9", "127.0.0.1:9", "", id="HF_ENDPOINT (protocol differs)"),
])
def test_get_default_context_reads_environment_and_files(env, endpoint, host, expected, patched_whoami,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if endpoint:
        monkeypatch.setenv("HF_ENDPOINT", endpoint)
    tokens.save_token(TOKEN)
    assert run("get", f"protocol=https\nhost={host}\n") == (0, expected.encode(), "")
    assert patched_whoami.calls == []


def test_get_malformed_input_is_silent(mem: Memory) -> None:
    mem.saved = TOKEN
    assert run("get", HUB + "garbage line\n", mem.context()) == (0, b"", "")


def test_store_same_token_is_a_no_op_without_network(mem: Memory) -> None:
    mem.saved = TOKEN
    assert run("store", HUB + f"username=x\npassword={TOKEN}\n", mem.context()) == (0, b"", "")
    assert mem.hub.calls == []


def test_store_with_env_token_changes_nothing(mem: Memory) -> None:
    mem.hub.add(NEW)
    mem.saved, mem.env = TOKEN, (NEW, "HF_TOKEN")
    assert run("store", HUB + f"password={NEW}\n", mem.context()) == (0, b"", "")
    assert mem.hub.calls == [] and mem.saved == TOKEN


def test_store_new_valid_token_is_saved_and_named(mem: Memory) -> None:
    mem.hub.add(NEW, display="ci-box")
    mem.saved = TOKEN
    assert run("store", HUB + f"password={NEW}\n", mem.context()) == (0, b"", "")
    assert (mem.saved, mem.named, mem.hub.calls) == (NEW, {"ci-box": NEW}, [NEW])


def test_store_writes_the_real_token_files(patched_whoami: FakeHub) -> None:
    patched_whoami.add(NEW, display="ci-box")
    tokens.save_token(TOKEN)
    assert run("store", HUB + f"password={NEW}\n") == (0, b"", "")
    assert tokens.read_token_file() == NEW
    assert tokens.stored_tokens() == {"ci-box": NEW}
    assert patched_whoami.calls == [NEW]


def test_store_names_by_account_without_display_name(mem: Memory) -> None:
    mem.hub.add(NEW, name="bob", display=None)
    run("store", "protocol=https\nhost=hf.co\n" + f"password={NEW}\n", mem.context())
    assert mem.named == {"bob": NEW}


@pytest.mark.parametrize(("setup", "password", "message"), [
    pytest.param("invalid", NEW, "rejected", id="invalid"),
    pytest.param("org", "api_org_" + "x" * 30, "organization", id="org token"),
    pytest.param("org account", NEW, "'org'", id="org account"),
    pytest.param("offline", NEW, "cannot reach", id="offline"),
    pytest.param("save fails", NEW, "disk full", id="save fails"),
])
def test_store_refusals_change_nothing(setup: str, password: str, message: str, mem: Memory) -> None:
    mem.saved, mem.named = TOKEN, {"laptop": TOKEN}
    if setup == "org account":
        mem.hub.add(NEW, kind="org")
    if setup == "offline":
        mem.hub.error = hub.HubUnavailableError("cannot reach https://huggingface.co (connection failed)")
    if setup == "save fails":
        mem.hub.add(NEW)
        mem.save_error = tokens.TokenStoreError("disk full")
    code, out, err = run("store", HUB + f"password={password}\n", mem.context())
    assert code == 1 and out == b""
    assert message in err and err.count("\n") == 1
    assert password not in err
    assert (mem.saved, mem.named) == (TOKEN, {"laptop": TOKEN})
    if setup == "org":
        assert mem.hub.calls == []


def test_store_other_host_is_ignored(mem: Memory) -> None:
    mem.hub.add(NEW)
    assert run("store", f"protocol=https\nhost=github.com\npassword={NEW}\n", mem.context()) == (0, b"", "")
    assert mem.hub.calls == [] and mem.saved is None


def test_erase_revoked_token_is_removed(mem: Memory) -> None:
    mem.saved, mem.named = TOKEN, {"ci": NEW, "laptop": TOKEN}  # TOKEN unknown to the Hub: revoked
    code, out, err = run("erase", HUB + f"password={TOKEN}\n", mem.context())
    assert code == 1 and out == b""
    assert "removed" in err and "git-credential-hf login" in err and err.count("\n") == 1
    assert TOKEN not in err and tokens.mask(TOKEN) in err
    assert (mem.saved, mem.named) == (None, {"ci": NEW})


def test_erase_removes_the_real_token_files(patched_whoami: FakeHub) -> None:
    tokens.save_token(NEW, "ci")
    tokens.save_token(TOKEN, "laptop")  # not known to the fake hub: revoked
    code, _out, err = run("erase", HUB + f"password={TOKEN}\n")
    assert code == 1 and "removed" in err
    assert tokens.read_token_file() is None
    assert tokens.stored_tokens() == {"ci": NEW}


def test_erase_valid_token_is_kept_and_explained(mem: Memory) -> None:
    mem.hub.add(READ, role="read")
    mem.saved, mem.named = READ, {"laptop": READ}
    code, _, err = run("erase", HUB + f"password={READ}\n", mem.context())
    assert code == 1
    assert "still valid" in err and "permission" in err
    assert (mem.saved, mem.named) == (READ, {"laptop": READ})


@pytest.mark.parametrize("error", [
    pytest.param(hub.HubUnavailableError("cannot reach x"), id="unreachable"),
    pytest.param(hub.RateLimitedError("429", 1.0), id="rate limited"),
])
def test_erase_network_error_keeps_token(error: hub.HubError, mem: Memory) -> None:
    mem.hub.error = error
    mem.saved = TOKEN
    code, _, err = run("erase", HUB + f"password={TOKEN}\n", mem.context())
    assert code == 1 and "kept" in err and mem.saved == TOKEN


@pytest.mark.parametrize(("env", "password"), [
    pytest.param(None, NEW, id="different password"),
    pytest.param((NEW, "HF_TOKEN"), NEW, id="env token"),
    pytest.param(None, "", id="no password"),
])
def test_erase_never_touches_another_token(env: tuple[str, str] | None, password: str, mem: Memory) -> None:
    mem.env, mem.saved = env, TOKEN
    assert run("erase", HUB + f"password={password}\n", mem.context()) == (0, b"", "")
    assert mem.hub.calls == [] and mem.saved == TOKEN


def test_erase_other_host_is_ignored(mem: Memory) -> None:
    mem.saved = TOKEN
    assert run("erase", f"protocol=https\nhost=evil.example\npassword={TOKEN}\n", mem.context()) == (0, b"", "")
    assert mem.hub.calls == [] and mem.saved == TOKEN


def test_store_malformed_input_one_line(mem: Memory) -> None:
    mem.saved = TOKEN
    code, out, err = run("store", HUB + "no-equals-sign\n", mem.context())
    assert (code, out) == (1, b"") and err.count("\n") == 1 and "malformed" in err
    assert mem.saved == TOKEN


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
new = sorted(set(sys.modules) - before)
files = {m: getattr(sys.modules[m], "__file__", None) for m in new}
sys.__stdout__.write(json.dumps({"code": code, "out": out.getvalue().decode(), "new": new,
                                 "files": files}))
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
               and not _is_stdlib(report["files"][m])]
    assert foreign == []
    heavy = {"requests", "urllib3", "filelock", "configparser", "subprocess", "socket", "ssl", "re",
             "typing", "argparse", "tempfile", "json", "pathlib", "platformdirs"}
    heavy |= {f"git_credential_hf.{m}" for m in ("hub", "_login", "commands", "gitconfig", "notebook")}
    assert sorted(heavy & set(new)) == []
    ours_heavy = [m for m in heavy if m.startswith("git_credential_hf.")]
    assert all(importlib.util.find_spec(m) for m in ours_heavy), "a heavy module that does not exist"


def _is_stdlib(path: str | None) -> bool:
    """Built in (no file), or a file of the standard library (not site-packages). Works on 3.9,
    which has no ``sys.stdlib_module_names``."""
    if path is None:
        return True
    roots = {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib")}
    real = os.path.realpath(path)
    return any(real.startswith(os.path.realpath(r) + os.sep) for r in roots) and not any(
        part in real.split(os.sep) for part in ("site-packages", "dist-packages"))


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
