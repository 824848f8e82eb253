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

from git_credential_hf import accounts, guard, helper, hub, output, state, tokens, urls

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

    def delete(self, token: str) -> bool:  # tokens.forget_active: named copies stay
        if self.saved != token:
            return False
        self.saved = None
        return True

    def context(self) -> helper.Context:
        return helper.Context(served=lambda: self.served, env_token=lambda: self.env,
                              saved_token=lambda: self.saved, whoami=self.hub.whoami,
                              save=self.save, delete=self.delete, named=lambda: self.named)


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
    assert (mem.saved, mem.named, mem.hub.calls) == (NEW, {"ci-box": NEW}, [NEW, TOKEN])


@pytest.mark.parametrize("saved_state", ["valid", "offline"])
def test_store_never_replaces_a_saved_token_the_hub_did_not_reject(mem: Memory,
                                                                   saved_state: str) -> None:
    """Issue 9: URL credentials that worked (another account) must not swap the account."""
    mem.hub.add(NEW, name="mallory", display="laptop")
    mem.saved, mem.named = TOKEN, {"laptop": TOKEN}
    if saved_state == "valid":
        mem.hub.add(TOKEN, name="alice", display="laptop")
    else:
        original = mem.hub.whoami

        def flaky(token: str) -> dict:
            if token == TOKEN:
                raise hub.HubUnavailableError("cannot reach https://huggingface.co")
            return original(token)

        mem.hub.whoami = flaky
    code, out, err = run("store", HUB + f"username=mallory\npassword={NEW}\n", mem.context())
    assert (code, out, err.count("\n")) == (1, b"", 1)
    assert "kept the active token" in err and NEW not in err and TOKEN not in err
    assert (mem.saved, mem.named) == (TOKEN, {"laptop": TOKEN})


def test_store_adopts_but_never_overwrites_a_named_copy_of_another_token(mem: Memory) -> None:
    mem.hub.add(NEW, display="laptop")
    mem.saved, mem.named = None, {"laptop": TOKEN}
    code, _out, err = run("store", HUB + f"password={NEW}\n", mem.context())
    assert code == 1 and "'laptop' holds another token" in err
    assert (mem.saved, mem.named) == (NEW, {"laptop": TOKEN})


def test_store_writes_the_real_token_files(patched_whoami: FakeHub) -> None:
    patched_whoami.add(NEW, display="ci-box")
    tokens.save_token(TOKEN)
    assert run("store", HUB + f"password={NEW}\n") == (0, b"", "")
    assert tokens.read_token_file() == NEW
    assert tokens.stored_tokens() == {"ci-box": NEW}
    assert patched_whoami.calls == [NEW, TOKEN]  # TOKEN, the saved one, is unknown: 401


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


def test_erase_revoked_token_stops_being_active_and_its_named_copy_stays(mem: Memory) -> None:
    """Issue 9: one 401 (maybe a transient Hub fault) clears the active token only."""
    mem.saved, mem.named = TOKEN, {"ci": NEW, "laptop": TOKEN}  # TOKEN unknown to the Hub: revoked
    code, out, err = run("erase", HUB + f"password={TOKEN}\n", mem.context())
    assert code == 1 and out == b""
    assert "no longer the active token" in err and "git-credential-hf login" in err
    assert "'laptop' was kept" in err and err.count("\n") == 1
    assert TOKEN not in err and tokens.mask(TOKEN) in err
    assert (mem.saved, mem.named) == (None, {"ci": NEW, "laptop": TOKEN})


def test_erase_clears_the_real_token_file_and_keeps_named_copies(patched_whoami: FakeHub) -> None:
    tokens.save_token(NEW, "ci")
    tokens.save_token(TOKEN, "laptop")  # not known to the fake hub: revoked
    code, _out, err = run("erase", HUB + f"password={TOKEN}\n")
    assert code == 1 and "no longer the active token" in err and "'laptop' was kept" in err
    assert tokens.read_token_file() is None
    assert tokens.stored_tokens() == {"ci": NEW, "laptop": TOKEN}


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


@pytest.mark.spawns_python
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


@pytest.mark.spawns_python
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


@pytest.mark.spawns_python
def test_executable_get_round_trip() -> None:
    tokens.save_token(TOKEN)
    done = subprocess.run([executable(), "get"], input=HUB.encode() + b"\n", capture_output=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"username=hf_user\npassword={TOKEN}\n".encode(), b"")


@pytest.mark.parametrize(("op", "tty", "code", "usage"), [("capability", False, 0, False),
                                                          ("frobnicate", False, 0, False),
                                                          ("frobnicate", True, 2, True)])
@pytest.mark.spawns_python
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
    assert err.startswith(f"{output.PREFIX}kept the saved token hf_****AAAA: could not verify it (")
    assert "HTTP 403" in err and err.count("\n") == 1
    assert_masked(err, TOKEN)
    assert tokens.read_token_file() == TOKEN and tokens.stored_tokens() == {"laptop": TOKEN}
    assert len(scripted.requests) == 1


def test_erase_removes_the_token_when_whoami_answers_401(scripted) -> None:
    scripted.status = 401
    tokens.save_token(TOKEN, "laptop")
    code, _, err = run("erase", mirror_request(scripted, TOKEN))
    assert code == 1 and "it is no longer the active token" in err
    assert_masked(err, TOKEN)
    assert tokens.read_token_file() is None


@pytest.mark.parametrize("error", [hub.HubUnavailableError("cannot reach x"), hub.RateLimitedError("429", 1.0)])
def test_erase_could_not_verify_line_masks_the_token(error: hub.HubError, patched_whoami: FakeHub) -> None:
    patched_whoami.error = error
    tokens.save_token(TOKEN)
    code, _, err = run("erase", HUB + f"password={TOKEN}\n")
    assert code == 1
    assert err == f"{output.PREFIX}kept the saved token hf_****AAAA: could not verify it ({error})\n"
    assert_masked(err, TOKEN)


def test_erase_still_valid_line_masks_the_token(patched_whoami: FakeHub) -> None:
    patched_whoami.add(TOKEN, role="read")
    tokens.save_token(TOKEN)
    code, _, err = run("erase", HUB + f"password={TOKEN}\n")
    assert code == 1 and "hf_****AAAA" in err and "still valid" in err and err.count("\n") == 1
    assert_masked(err, TOKEN)
    assert patched_whoami.calls == [TOKEN]


def test_store_refusal_lines_never_hold_the_password(patched_whoami: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each of store's one-line refusals, exactly, and without the password it refused."""
    patched_whoami.add(READ, kind="org")
    code, _, err = run("store", HUB + f"password={READ}\n")
    assert code == 1
    assert err == f"{output.PREFIX}not saving the credential: it belongs to a 'org', not a user\n"
    assert READ not in err
    code, _, err = run("store", HUB + f"password={NEW}\n")
    assert code == 1 and err == f"{output.PREFIX}not saving the credential: rejected hf_****BBBB (401)\n"
    patched_whoami.add(NEW)

    def refuse(_token: str, _name: str | None = None, **_kw: object) -> list[str]:
        raise tokens.TokenStoreError("cannot write /x/token: No space left on device")

    monkeypatch.setattr(tokens, "save_token", refuse)
    code, _, err = run("store", HUB + f"password={NEW}\n")
    assert code == 1
    assert err == f"{output.PREFIX}not saving the credential: cannot write /x/token: No space left on device\n"
    assert NEW not in err


def test_store_reports_named_copy_warnings_in_one_line(patched_whoami: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    patched_whoami.add(NEW)
    monkeypatch.setattr(tokens, "save_token", lambda _t, _n=None, **_kw: ["first", "second"])
    assert run("store", HUB + f"password={NEW}\n") == (1, b"", f"{output.PREFIX}first; second\n")


def test_store_of_a_user_token_without_warnings_is_silent(patched_whoami: FakeHub) -> None:
    patched_whoami.add(NEW, display="box")
    assert run("store", HUB + f"username=u\npassword={NEW}\n") == (0, b"", "")
    assert tokens.read_token_file() == NEW and tokens.stored_tokens() == {"box": NEW}


def test_store_and_erase_ignore_quiet_protocol_errors(patched_whoami: FakeHub) -> None:
    tokens.save_token(TOKEN)
    for op in ("store", "erase"):
        assert run(op, "host=" + "a" * (2 * 64 * 1024) + "\n") == (0, b"", "")
    assert patched_whoami.calls == [] and tokens.read_token_file() == TOKEN


def test_malformed_store_input_line_is_exact(patched_whoami: FakeHub) -> None:
    code, out, err = run("erase", HUB + "no-equals-sign\n")
    assert (code, out) == (1, b"")
    assert err == f"{output.PREFIX}ignoring malformed input: invalid credential line (no '=')\n"


def test_a_message_with_a_newline_stays_one_line(patched_whoami: FakeHub) -> None:
    patched_whoami.error = hub.HubUnavailableError("first\nsecond")
    tokens.save_token(TOKEN)
    _, _, err = run("erase", HUB + f"password={TOKEN}\n")
    assert err.count("\n") == 1 and "first second" in err


class Streams:
    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)


@pytest.mark.parametrize(("op", "code", "err"), [
    ("get", 1, ""),
    ("store", 1, f"{output.PREFIX}store failed: RuntimeError\n"),
    ("erase", 1, f"{output.PREFIX}erase failed: RuntimeError\n"),
])
def test_main_turns_a_crash_into_one_line_without_the_token(op: str, code: int, err: str, patched_whoami: FakeHub,
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


def test_erase_never_deletes_a_token_saved_while_it_asked_the_hub(patched_whoami: FakeHub,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A login in another terminal replaces the token while erase waits for the Hub: the Hub's
    verdict is about the old token only, so the new one stays."""
    tokens.save_token(TOKEN)
    real_whoami = patched_whoami.whoami

    def whoami_during_a_login(token: str, endpoint: str | None = None) -> dict:
        tokens.save_token(NEW)
        return real_whoami(token, endpoint)

    monkeypatch.setattr(hub, "whoami", whoami_during_a_login)
    code, _, err = run("erase", HUB + f"password={TOKEN}\n")
    assert code == 1 and "rejected" in err
    assert tokens.read_token_file() == NEW


# --- issue 14, batch 2: which login erase removes, store's exact lines, the account it learns ---

SHOWN = tokens.mask(TOKEN)
HELP_LOGIN = "Log in again with: git-credential-hf login"


def bob_has_a_named_login(fake: FakeHub) -> None:
    """alice's READ is active; bob's TOKEN is the named copy 'work', and the account map says
    so: a request with username=bob is served TOKEN."""
    fake.add(READ, name="alice")
    tokens.save_token(READ, "laptop")
    tokens.save_token(TOKEN, "work", activate=False)
    accounts.learn(TOKEN, {"type": "user", "name": "bob"})


def test_erase_of_a_dead_named_login_removes_that_entry_only_exact_line(patched_whoami: FakeHub) -> None:
    bob_has_a_named_login(patched_whoami)
    code, out, err = run("erase", HUB + f"username=bob\npassword={TOKEN}\n")
    assert (code, out) == (1, b"")
    assert err == (f"git-credential-hf: the Hub rejected the token {SHOWN} stored as 'work' (401); "
                   f"that entry was removed. {HELP_LOGIN}\n")
    assert tokens.stored_tokens() == {"laptop": READ}
    assert tokens.read_token_file() == READ


def test_erase_keeps_a_named_login_saved_again_while_it_asked_the_hub(patched_whoami: FakeHub,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """bob logs in again as 'work' while erase waits for the Hub: the Hub's 401 is about the
    old token, so the new 'work' entry stays."""
    bob_has_a_named_login(patched_whoami)
    real_whoami = patched_whoami.whoami

    def whoami_during_a_login(token: str, endpoint: str | None = None) -> dict:
        tokens.save_token(NEW, "work", activate=False)
        return real_whoami(token, endpoint)

    monkeypatch.setattr(hub, "whoami", whoami_during_a_login)
    run("erase", HUB + f"username=bob\npassword={TOKEN}\n")
    assert tokens.stored_tokens() == {"laptop": READ, "work": NEW}


def test_erase_that_cannot_remove_the_dead_token_says_why(mem: Memory) -> None:
    mem.saved = TOKEN

    def delete(token: str) -> bool:
        raise tokens.TokenStoreError("cannot write /x/token: read-only")

    ctx = helper.Context(served=lambda: mem.served, env_token=lambda: None, saved_token=lambda: mem.saved,
                         whoami=mem.hub.whoami, delete=delete, named=lambda: {})
    assert run("erase", HUB + f"password={TOKEN}\n", ctx) == (1, b"", (
        f"git-credential-hf: the Hub rejected the saved token {SHOWN} but cannot write /x/token: read-only\n"))
    assert mem.saved == TOKEN


def test_erase_without_a_named_copy_exact_line(mem: Memory) -> None:
    mem.saved = TOKEN
    assert run("erase", HUB + f"password={TOKEN}\n", mem.context()) == (1, b"", (
        f"git-credential-hf: the Hub rejected the saved token {SHOWN} (401): it is no longer the "
        f"active token. {HELP_LOGIN}\n"))


def guard_reasons() -> dict[str, str]:
    return {row[0]: row[3] for row in state.lines(guard.FILE)}


def test_erase_unverified_exact_line_and_guard_reason(mem: Memory) -> None:
    mem.saved = TOKEN
    mem.hub.error = hub.HubUnavailableError("cannot reach https://huggingface.co")
    assert run("erase", HUB + f"password={TOKEN}\n", mem.context()) == (1, b"", (
        f"git-credential-hf: kept the saved token {SHOWN}: could not verify it "
        "(cannot reach https://huggingface.co)\n"))
    assert guard_reasons() == {state.token_key(TOKEN): "could not verify it"}
    assert mem.saved == TOKEN


def test_erase_still_valid_line_names_the_account_and_guard_reason(mem: Memory) -> None:
    mem.hub.add(READ, name="alice", role="read")
    mem.saved = READ
    code, _, err = run("erase", HUB + f"password={READ}\n", mem.context())
    assert code == 1 and err.startswith(
        f"git-credential-hf: the token {tokens.mask(READ)} (alice) is still valid, so it was kept; "
        "the failure is likely a missing permission: ")
    assert READ not in err and err.count("\n") == 1
    assert guard_reasons() == {state.token_key(READ): "valid, read token"}


def test_store_of_bobs_named_copy_keeps_alices_login_and_learns_bob(patched_whoami: FakeHub) -> None:
    """git authenticated as bob with his named copy (URL credentials): alice's active login is
    kept, and from then on a request naming bob is served bob's copy."""
    patched_whoami.add(TOKEN, name="alice")
    patched_whoami.add(NEW, name="bob", display="bob-box")
    tokens.save_token(TOKEN, "laptop")
    tokens.save_token(NEW, "bob-box", activate=False)
    assert run("get", HUB + "username=bob\n")[1] == f"username=bob\npassword={TOKEN}\n".encode()
    assert run("store", HUB + f"username=bob\npassword={NEW}\n") == (1, b"", (
        f"git-credential-hf: kept the active token {SHOWN}: it still works. git authenticated with "
        f"another credential ({tokens.mask(NEW)}, e.g. from the URL); to switch to it: "
        "git-credential-hf login\n"))
    assert tokens.read_token_file() == TOKEN
    assert run("get", HUB + "username=bob\n")[1] == f"username=bob\npassword={NEW}\n".encode()


def test_store_when_the_saved_token_cannot_be_checked_exact_line(mem: Memory) -> None:
    mem.hub.add(NEW, name="mallory")
    mem.saved = TOKEN
    original = mem.hub.whoami

    def flaky(token: str) -> dict:
        if token == TOKEN:
            raise hub.HubUnavailableError("cannot reach https://huggingface.co")
        return original(token)

    ctx = mem.context()
    ctx.whoami = flaky
    assert run("store", HUB + f"password={NEW}\n", ctx) == (1, b"", (
        f"git-credential-hf: kept the active token {SHOWN} and did not save the other credential "
        "git used: the active one could not be checked (cannot reach https://huggingface.co)\n"))
    assert mem.saved == TOKEN


@pytest.mark.parametrize(("length", "asked"), [
    pytest.param(helper.MAX_TOKEN_LENGTH, True, id="4096 characters: the Hub is asked"),
    pytest.param(helper.MAX_TOKEN_LENGTH + 1, False, id="longer: corrupt, never sent"),
])
def test_store_sends_no_overlong_saved_token_to_the_hub(length: int, asked: bool, mem: Memory) -> None:
    saved = "hf_" + "x" * (length - 3)
    mem.hub.add(NEW, display="ci-box")
    mem.saved = saved
    assert run("store", HUB + f"password={NEW}\n", mem.context()) == (0, b"", "")
    assert mem.hub.calls == ([NEW, saved] if asked else [NEW])
    assert mem.saved == NEW


def test_store_with_unparsable_named_copies_still_names_the_new_token(mem: Memory) -> None:
    mem.hub.add(NEW, display="ci-box")
    saves: list[tuple[str, str | None]] = []

    def named() -> dict[str, str]:
        raise tokens.TokenStoreError("stored_tokens is not valid INI")

    ctx = helper.Context(served=lambda: mem.served, env_token=lambda: None, saved_token=lambda: None,
                         whoami=mem.hub.whoami, save=lambda t, n: saves.append((t, n)) or [],
                         named=named)
    assert run("store", HUB + f"password={NEW}\n", ctx) == (0, b"", "")
    assert saves == [(NEW, "ci-box")]


def test_store_adopting_beside_another_tokens_named_copy_exact_line(patched_whoami: FakeHub) -> None:
    patched_whoami.add(NEW, display="laptop")
    tokens.save_token(TOKEN, "laptop")  # unknown to the Hub: dead, so NEW takes over
    assert run("store", HUB + f"password={NEW}\n") == (1, b"", (
        "git-credential-hf: the named copy 'laptop' holds another token and was kept; the new token "
        "is the active one, without a named copy\n"))
    assert tokens.read_token_file() == NEW
    assert tokens.stored_tokens() == {"laptop": TOKEN}


def test_store_never_overwrites_a_named_copy_written_after_its_check(patched_whoami: FakeHub) -> None:
    """store looked at the named copies (none called 'laptop'), then another process saved
    'laptop': the save, under the lock, keeps that copy."""
    patched_whoami.add(NEW, display="laptop")
    tokens.save_token(TOKEN, "laptop", activate=False)
    code, out, err = run("store", HUB + f"password={NEW}\n", helper.Context(named=lambda: {}))
    assert (code, out, err.count("\n")) == (1, b"", 1) and "'laptop'" in err
    assert TOKEN not in err and NEW not in err
    assert tokens.stored_tokens() == {"laptop": TOKEN}
    assert tokens.read_token_file() == NEW


@pytest.mark.parametrize("op", ["store", "erase"])
def test_store_and_erase_refuse_a_relative_hf_home_exact_line(op: str, patched_whoami: FakeHub,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    patched_whoami.add(NEW)
    monkeypatch.setenv("HF_HOME", "rel/hf")
    assert run(op, HUB + f"password={NEW}\n") == (1, b"", (
        "git-credential-hf: HF_HOME is a relative path ('rel/hf'): the token would be read and "
        "written relative to the current directory (a repository, when git runs this helper); "
        "set it to an absolute path\n"))
    assert patched_whoami.calls == []
    # another host is none of its business: nothing said
    assert run(op, f"protocol=https\nhost=github.com\npassword={NEW}\n") == (0, b"", "")


def test_a_hub_user_named_like_the_default_username_gets_the_active_token(patched_whoami: FakeHub) -> None:
    """git sends back the username get answered (hf_user): that is no account choice, even
    when a Hub account is called hf_user."""
    tokens.save_token(TOKEN, "laptop")
    tokens.save_token(NEW, "other", activate=False)
    accounts.learn(NEW, {"type": "user", "name": helper.DEFAULT_USERNAME})
    assert run("get", HUB + f"username={helper.DEFAULT_USERNAME}\n")[1] == ANSWER.encode()
    assert run("get", HUB)[1] == ANSWER.encode()
