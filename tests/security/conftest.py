"""Shared machinery of the adversarial suite.

- ``run_helper`` / ``run_cli``: run the real installed ``git-credential-hf`` executable in a child
  process (bounded time, bounded address space) and check each call's output for token leaks on
  the spot; every call is also recorded for the suite-wide leak audit (test_zz_secrets.py).
- ``make_token``: realistic tokens, each registered as a secret the outputs must never show.
- ``FakeHub``: the local Hub (scripts/local_hub.py) seen through this suite's names; it can
  misbehave on purpose (hang, trickle, 5xx, 429, bad JSON, redirects, a huge body) and logs what
  it was sent.
- ``sandbox``: permission tests mean nothing to a process that ignores file modes, so as root the
  child runs without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH (still uid 0, modes now apply).
"""

from __future__ import annotations

import configparser
import os
import random
import resource
import shutil
import stat
import string
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

import pytest
from support import load_local_hub

LocalHub = load_local_hub().LocalHub


def _locate_helper() -> str:
    """The installed console script: next to this interpreter first (the venv), else PATH."""
    found = shutil.which("git-credential-hf", path=os.path.dirname(sys.executable))
    found = found or shutil.which("git-credential-hf")
    if not found:
        raise RuntimeError("git-credential-hf is not installed (pip install -e '.[test]')")
    return found


HELPER = _locate_helper()
# Every child runs under this address-space limit (the helper with requests loaded needs about
# 35 MiB): input that made it balloon would end in a MemoryError, which the tests see.
MEMORY_LIMIT = 256 * 1024 * 1024

# --- secrets -----------------------------------------------------------------------------------

SECRETS: set[str] = set()
_GRAM = 8  # any 8 consecutive characters of a token body count as a leak (mask() shows 4)
_GRAMS: dict[str, str] = {}


def make_token(seed: object, prefix: str = "hf_") -> str:
    """A token shaped like the Hub's (prefix + 34 letters), deterministic per seed, registered
    as a secret that no output may show."""
    rng = random.Random(f"security-suite:{seed}")
    token = prefix + "".join(rng.choice(string.ascii_letters) for _ in range(34))
    register_secret(token)
    return token


def register_secret(token: str) -> None:
    SECRETS.add(token)
    body = token.split("_", 1)[1] if token.startswith(("hf_", "api_org_")) else token
    body = body[len("org_") :] if token.startswith("api_org_") else body
    for i in range(len(body) - _GRAM + 1):
        _GRAMS[body[i : i + _GRAM]] = token


def find_leaks(text: str) -> list[str]:
    """Masked names of secrets a piece of text shows (whole or any 8-character slice)."""
    found = {
        _GRAMS[text[i : i + _GRAM]]
        for i in range(len(text) - _GRAM + 1)
        if text[i : i + _GRAM] in _GRAMS
    }
    return sorted(f"{t[:3]}…{t[-4:]}" for t in found)


@dataclass
class Call:
    args: list[str]
    returncode: int
    stdout: bytes
    stderr: bytes
    elapsed: float
    timed_out: bool = False

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8", "replace")

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "replace")

    def leaks(self) -> list[str]:
        """Secrets shown anywhere except ``get``'s own ``password=<token>`` answer line."""
        stdout = self.out
        if self.args[-1:] == ["get"]:
            stdout = "\n".join(
                line
                for line in stdout.split("\n")
                if not (line.startswith("password=") and line[len("password=") :] in SECRETS)
            )
        return find_leaks(stdout) + find_leaks(self.err)


CALLS: list[Call] = []  # every CLI call of the session, for the session-end audit
CAPTURED: list[tuple[str, str]] = []  # (test id, what it printed) for the same audit


def audit(calls: list[Call] | None = None, captured: list[tuple[str, str]] | None = None
          ) -> list[str]:
    """One line per leak among ``calls`` (default: the session's CLI calls) and ``captured``
    outputs (default: what this suite's tests printed)."""
    calls = CALLS if calls is None else calls
    captured = CAPTURED if captured is None else captured
    found = [f"{c.args}: {c.leaks()}" for c in calls if c.leaks()]
    return found + [f"{test}: printed {find_leaks(text)}" for test, text in captured
                    if find_leaks(text)]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Keep what each test of this suite printed (pytest's capture) for the audit."""
    text = report.capstdout + report.capstderr
    if text:
        CAPTURED.append((f"{report.nodeid} ({report.when})", text))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The secrets audit, at the end of whatever subset of the suite ran (-k, one file, random
    order): no token in any recorded CLI output or captured print. A leak fails the run."""
    if not CALLS and not CAPTURED:
        return
    leaking = audit()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write("\n")
        reporter.write_line(
            f"secrets audit: {len(CALLS)} CLI calls and {len(CAPTURED)} captured outputs "
            f"checked against {len(SECRETS)} tokens, {len(leaking)} leaking",
            red=bool(leaking),
        )
        for line in leaking:
            reporter.write_line(f"  leak: {line}", red=True)
    if leaking:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# --- running the real executable ---------------------------------------------------------------


def _child_env(env: dict[str, str | None] | None) -> dict[str, str]:
    merged = dict(os.environ)
    merged.setdefault("NO_PROXY", "127.0.0.1,localhost")
    merged["no_proxy"] = merged["NO_PROXY"]
    for key in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        merged.pop(key, None)  # the fake Hub is on 127.0.0.1: never through a proxy
    for key, value in (env or {}).items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def start_cli(
    args: list[str],
    env: dict[str, str | None] | None = None,
    umask: int = -1,
    drop_dac: bool = False,
    **popen: object,
) -> subprocess.Popen:
    """Start the executable (no waiting): for races, kills and parallel network cases."""
    proc = subprocess.Popen(
        [HELPER, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_child_env(env),
        umask=umask,
        preexec_fn=_drop_dac_capabilities if drop_dac and os.geteuid() == 0 else None,
        **popen,
    )
    try:  # Popen returns after exec: the limit applies to the helper, before it reads stdin
        resource.prlimit(proc.pid, resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    except ProcessLookupError:
        pass
    return proc


def finish(proc: subprocess.Popen, args: list[str], stdin: bytes = b"", timeout: float = 30,
           started: float | None = None, check_leaks: bool = True) -> Call:
    """Feed stdin, collect both streams, reap the child and kill it if it outlives ``timeout``.
    Records the call and checks it for leaks."""
    started = time.monotonic() if started is None else started
    chunks: dict[str, bytes] = {}

    def feed() -> None:
        try:
            if stdin:
                proc.stdin.write(stdin)
        except (BrokenPipeError, ValueError, OSError):
            pass  # the helper stopped reading: refusing over-long input is allowed
        finally:
            try:
                proc.stdin.close()
            except OSError:
                pass

    def drain(name: str, stream) -> None:
        chunks[name] = stream.read()

    threads = [threading.Thread(target=feed, daemon=True)]
    threads += [threading.Thread(target=drain, args=(n, s), daemon=True)
                for n, s in (("out", proc.stdout), ("err", proc.stderr))]
    for t in threads:
        t.start()
    timed_out = threading.Event()

    def on_timeout() -> None:
        timed_out.set()
        proc.kill()  # Popen knows when the child was reaped: never a recycled pid

    timer = threading.Timer(timeout, on_timeout)
    timer.start()
    try:
        proc.wait()
    finally:
        timer.cancel()
    elapsed = time.monotonic() - started
    for t in threads:
        t.join(10)
    call = Call(args, proc.returncode, chunks.get("out", b""), chunks.get("err", b""), elapsed,
                timed_out.is_set())
    CALLS.append(call)
    if check_leaks:
        assert not call.leaks(), f"{args}: token shown in output: {call.leaks()}"
    return call


def run_cli(args: list[str], stdin: bytes = b"", env: dict[str, str | None] | None = None,
            timeout: float = 30, umask: int = -1, drop_dac: bool = False,
            check_leaks: bool = True) -> Call:
    started = time.monotonic()
    proc = start_cli(args, env, umask=umask, drop_dac=drop_dac)
    return finish(proc, args, stdin, timeout, started, check_leaks)


def run_helper(op: str, stdin: bytes = b"", env: dict[str, str | None] | None = None,
               **kw: object) -> Call:
    """``git-credential-hf <op>`` with ``stdin``, as git runs it."""
    return run_cli([op], stdin, env, **kw)


def request(protocol: str | None = "https", host: str | None = "huggingface.co",
            **attrs: str) -> bytes:
    """A credential description as git writes it."""
    lines = []
    if protocol is not None:
        lines.append(f"protocol={protocol}")
    if host is not None:
        lines.append(f"host={host}")
    lines += [f"{k}={v}" for k, v in attrs.items()]
    return ("\n".join(lines) + "\n\n").encode()


# --- the token cache -------------------------------------------------------------------------


def hf_home() -> Path:
    return Path(os.environ["HF_HOME"])


def snapshot(folder: Path) -> dict[str, tuple[int, bytes | str]]:
    """Every entry under ``folder``: mode and content (symlinks: their target)."""
    result: dict[str, tuple[int, bytes | str]] = {}
    if not folder.exists():
        return result
    for path in sorted(folder.rglob("*")):
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode):
            result[str(path.relative_to(folder))] = (st.st_mode, os.readlink(path))
        elif stat.S_ISREG(st.st_mode):
            result[str(path.relative_to(folder))] = (st.st_mode, path.read_bytes())
        else:
            result[str(path.relative_to(folder))] = (st.st_mode, b"")
    return result


def parse_stored(path: Path) -> dict[str, str]:
    """``stored_tokens`` read as huggingface_hub reads it (raises if it does not parse)."""
    config = configparser.ConfigParser(interpolation=None)
    config.optionxform = str
    config.read_string(path.read_text(encoding="utf-8"))
    return {s: config.get(s, "hf_token") for s in config.sections()}


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob(".tmp-*")) if folder.exists() else []


# --- a misbehaving whoami server --------------------------------------------------------------


class FakeHub:
    """The suite's view of the one local Hub (scripts/local_hub.py), started on 127.0.0.1.

    ``behavior`` is the Hub's ``whoami_behavior`` (see ``local_hub.FAULTS``): ``None`` (answer
    like the Hub: 401 for unknown tokens), ``"500"``/``"503"``, ``"429:<s>"`` (with
    ``Retry-After``), ``"badjson"``, ``"html"``, ``"notdict"``, ``"huge"`` (5 MiB), ``"hang"``
    (never answers), ``"trickle"`` (a byte every 0.1 s of a 1 MB body), ``"trickle-chunked"``,
    ``"close"`` (drops the connection), ``"redirect:<url>"``. ``requests`` lists ``(path,
    Authorization scheme + " ****")`` of everything received (the Hub never keeps a token)."""

    def __init__(self) -> None:
        self._root = tempfile.mkdtemp(prefix="security-hub-")
        self.hub = LocalHub(self._root)

    @property
    def tokens(self) -> dict:
        return self.hub.tokens  # the live table: ``tokens.pop(t)`` revokes ``t``

    @property
    def behavior(self) -> str | None:
        return self.hub.whoami_behavior

    @behavior.setter
    def behavior(self, value: str | None) -> None:
        self.hub.whoami_behavior = value

    @property
    def requests(self) -> list[tuple[str, str | None]]:
        with self.hub._lock:
            details = list(self.hub.request_details)
        return [(d["path"] + (f"?{d['query']}" if d["query"] else ""),
                 f"{d['auth']} ****" if d["auth"] else None) for d in details]

    @property
    def stopping(self) -> threading.Event:
        return self.hub._stopping

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.hub.port}"

    @property
    def url(self) -> str:
        return self.hub.url

    def env(self) -> dict[str, str]:
        return {"HF_ENDPOINT": self.url}

    def request(self, **attrs: str) -> bytes:
        """A credential description for this Hub's host."""
        return request("http", self.host, **attrs)

    def add_token(self, token: str, name: str = "alice", display_name: str | None = None,
                  role: str = "write", kind: str = "user") -> None:
        self.hub.add_token(token, user=name, role=role, display_name=display_name,
                           is_org=kind == "org")

    def start(self) -> FakeHub:
        self.hub.start()
        return self

    def stop(self) -> None:
        self.hub.stop()
        shutil.rmtree(self._root, ignore_errors=True)


@pytest.fixture
def fake_hub() -> Iterator[FakeHub]:
    hub = FakeHub().start()
    try:
        yield hub
    finally:
        hub.stop()


@pytest.fixture
def make_hub() -> Iterator[Callable[[], FakeHub]]:
    hubs: list[FakeHub] = []

    def factory() -> FakeHub:
        hubs.append(FakeHub().start())
        return hubs[-1]

    yield factory
    for hub in hubs:
        hub.stop()


# --- permissions that mean something as root --------------------------------------------------


def _drop_dac_capabilities() -> None:
    """In the child, before exec: take the capabilities that bypass file modes out of the
    bounding set, so root's exec'd helper gets permission errors like anyone else."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


@dataclass
class Sandbox:
    """A HOME for permission tests: children run with file modes enforced even as root."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def hf_home(self) -> Path:
        return Path(self.env["HF_HOME"])

    def run(self, args: list[str], stdin: bytes = b"", **kw: object) -> Call:
        env = {**self.env, **kw.pop("env", {})}
        try:
            return run_cli(args, stdin, env=env, drop_dac=True, **kw)
        except subprocess.SubprocessError as e:  # prctl refused (a container without SETPCAP)
            pytest.skip(f"cannot drop CAP_DAC_OVERRIDE here: {e}")


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    home = tmp_path / "sandbox-home"
    (home / ".cache" / "huggingface").mkdir(parents=True)
    box = Sandbox(tmp_path, {"HOME": str(home), "HF_HOME": str(home / ".cache" / "huggingface"),
                             "GIT_CONFIG_GLOBAL": str(home / ".gitconfig")})
    yield box
    for p in [tmp_path, *tmp_path.rglob("*")]:  # let pytest clean up
        if not p.is_symlink():
            try:
                os.chmod(p, 0o700 if p.is_dir() else 0o600)
            except OSError:
                pass


# --- fixtures exposing the helpers (test modules cannot import a conftest by name) ------------


@pytest.fixture
def sec() -> SimpleNamespace:
    """The plain helpers above, for test modules: ``sec.run_helper(...)``, ``sec.request(...)``."""
    return SimpleNamespace(
        HELPER=HELPER, CALLS=CALLS, SECRETS=SECRETS, FakeHub=FakeHub, make_token=make_token,
        register_secret=register_secret, find_leaks=find_leaks, run_cli=run_cli,
        run_helper=run_helper, start_cli=start_cli, finish=finish, request=request,
        hf_home=hf_home, snapshot=snapshot, parse_stored=parse_stored, temp_files=temp_files,
        Call=Call, audit=audit,
    )



@pytest.fixture(name="run_helper")
def _run_helper_fixture() -> Callable[..., Call]:
    """``run_helper(op, stdin_bytes, env=None)``: the real executable, as git runs it."""
    return run_helper
