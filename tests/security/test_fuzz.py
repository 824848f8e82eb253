"""Property-based fuzzing (hypothesis) of the parser and of the get/store/erase decisions.

Inputs are built to sit near the edge: served hosts with a byte added, case flipped or a port
changed; ``url=`` with userinfo, ``%0a`` and delimiters; CR, VT, U+2028, NUL and non-UTF-8 bytes
anywhere. Each decision is compared with an independent model of git's rules (``model()``,
written from git's credential.c, on bytes, so ``bytes.lower()`` is ASCII-only by construction).

Properties: no exception escapes; a token is given exactly when the model says the request is
served; no output value holds LF, CR or NUL; store/erase call the Hub and touch the files only
for served requests, and only as the Hub's answer allows.

Example counts (CI runs them all, derandomized when ``$CI`` is set):
"""

from __future__ import annotations

import io
import json
import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from git_credential_hf import helper, hub, protocol, tokens

EXAMPLES_PARSER_BYTES = 1500
EXAMPLES_GET = 1500
EXAMPLES_STORE = 1000
EXAMPLES_ERASE = 1000
EXAMPLES_MASK = 300
EXAMPLES_GET_EXECUTABLE = 60  # through the real executable: ~65 ms each
__doc__ += "".join(
    f"  {name}: {value}\n" for name, value in sorted(globals().items())
    if name.startswith("EXAMPLES_")
)

pytestmark = pytest.mark.slow  # not run on the extra Pythons of .ci/run (pyproject: markers)

FUZZ = settings(
    deadline=None,
    database=None,  # nothing written into the work tree
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.filter_too_much, HealthCheck.data_too_large],
)

SAVED = "hf_SavedSavedSavedSavedSavedSavedSa"
NEW = "hf_NewValidNewValidNewValidNewValid"
BAD = "hf_RevokedRevokedRevokedRevokedRevo"
ALL_TOKENS = (SAVED, NEW, BAD)

# --- an independent model of git's rules ---------------------------------------------------

_UNSAFE = re.compile(rb"[\n\r\0]")


def _pct(raw: bytes) -> bytes:
    return re.sub(rb"%([0-9a-fA-F]{2})", lambda m: bytes([int(m.group(1), 16)]), raw)


def model_url(url: bytes) -> dict[str, bytes | None]:
    """git's credential_from_url: first '@' before the first of '/?#' splits userinfo off."""
    empty: dict[str, bytes | None] = dict.fromkeys(("protocol", "host", "username", "password"))
    scheme, sep, rest = url.partition(b"://")
    if not sep or not scheme:
        return empty
    end = min([i for i in (rest.find(c) for c in (b"/", b"?", b"#")) if i >= 0] or [len(rest)])
    at = rest.find(b"@", 0, end)
    user = password = None
    hostpart = rest[:end]
    if at >= 0:
        user, colon, secret = rest[:at].partition(b":")
        user, password = _pct(user), (_pct(secret) if colon else None)
        hostpart = rest[at + 1 : end]
    path = _pct(rest[end:].strip(b"/"))
    parts = {"protocol": scheme, "host": _pct(hostpart), "username": user, "password": password}
    if any(v is not None and _UNSAFE.search(v) for v in [*parts.values(), path]):
        return empty
    return parts


def model(data: bytes) -> dict[str, bytes | None] | None:
    """The attributes git would see, or ``None`` when the input must be refused (NUL, a line
    without '='). Inputs here stay far below the size limits."""
    cred: dict[str, bytes | None] = dict.fromkeys(("protocol", "host", "username", "password"))
    lines = data.split(b"\n")
    for i, line in enumerate(lines):
        if i == len(lines) - 1 and not line:
            break  # EOF after a final LF
        line = line[:-1] if line.endswith(b"\r") else line
        if not line:
            break
        if b"\0" in line or b"=" not in line:
            return None
        key, value = line.split(b"=", 1)
        if key == b"url":
            cred = model_url(value)
        elif key.decode("latin-1") in cred:
            cred[key.decode("latin-1")] = value
    return cred


def served(cred: dict[str, bytes | None] | None) -> bool:
    if not cred or cred["protocol"] != b"https" or not cred["host"]:
        return False
    host = cred["host"].lower()  # bytes: ASCII letters only
    host = host[:-4] if host.endswith(b":443") else host
    return host in (b"huggingface.co", b"hf.co")


# --- strategies: near the edge --------------------------------------------------------------

SERVED_HOSTS = [b"huggingface.co", b"hf.co", b"HuggingFace.CO", b"huggingface.co:443",
                b"HF.co:443"]
ATOMS = [b"\r", b"\n", b"\0", b"\x0b", b"\x0c", b"\x1c", b"\x1e", b"\t", b" ", b"\xe2\x80\xa8",
         b"\xc2\x85", b"\xff", b"\xe2\x84\xaa", b"\xc4\xb0", b"%0a", b"%0d", b"%00", b"%0A",
         b"%2e", b"@", b":", b"/", b"?", b"#", b".", b"=", b"host=", b"huggingface.co",
         b"hf.co", b"evil.example", b"https://", b":443", b":8443", b"[::1]", b"xn--", b"\r\n",
         b"\n\n", b"protocol=https\n", b"host=hf.co\n"]

atoms = st.lists(st.sampled_from(ATOMS), max_size=3).map(b"".join)


def _flip_case(raw: bytes, flips: list[bool]) -> bytes:
    flips = flips + [False] * len(raw)
    return bytes(c ^ 0x20 if f and 97 <= c <= 122 else c for c, f in zip(raw, flips))


@st.composite
def hosts(draw: st.DrawFn) -> bytes:
    base = draw(st.sampled_from(SERVED_HOSTS))
    if draw(st.booleans()):
        base = _flip_case(base, draw(st.lists(st.booleans(), max_size=len(base))))
    choice = draw(st.integers(-2, 4))
    if choice <= 0:
        return base
    if choice == 1:
        return draw(atoms) + base + draw(atoms)
    if choice == 2:
        i = draw(st.integers(0, len(base)))
        return base[:i] + draw(atoms) + base[i:]
    if choice == 3:
        return draw(st.binary(max_size=24))
    return draw(st.sampled_from([b"huggingface.co.", b"huggingface.co.evil.example",
                                 b"evilhuggingface.co", b"huggingface.co:8443", b"hf.co:80",
                                 b"huggingface.co:", b"", b"xn--hggingface-r8a.co"]))


@st.composite
def urls(draw: st.DrawFn) -> bytes:
    scheme = draw(st.sampled_from([b"https", b"http", b"ssh", b"", b"HTTPS", b"https "]))
    user = draw(st.sampled_from([b"", b"bob@", b"bob:pw@", b"hf.co@", b"a%0ab@", b"x:y%0d@"]))
    tail = draw(st.sampled_from([b"", b"/", b"/alice/model", b"?q", b"#f", b"/a%0ab", b"@x"]))
    sep = draw(st.sampled_from([b"://", b"://", b":/", b"//"]))
    return scheme + sep + user + draw(hosts()) + draw(atoms) + tail


def passwords() -> st.SearchStrategy[bytes]:
    return st.one_of(st.sampled_from([t.encode() for t in ALL_TOKENS]), st.just(b""),
                     atoms, st.sampled_from([SAVED.encode() + b"\r", b" " + NEW.encode()]))


@st.composite
def requests(draw: st.DrawFn) -> bytes:
    lines = []
    if draw(st.booleans()):  # most attacks start from a request that would be served
        lines += [b"protocol=https", b"host=" + draw(st.sampled_from(SERVED_HOSTS))]
    for _ in range(draw(st.integers(0, 5))):
        key = draw(st.sampled_from([b"protocol", b"host", b"host", b"url", b"username",
                                    b"password", b"path", b"wwwauth[]", b"capability[]",
                                    b"quit", b"", b"Host", b"host ", b"url[]"]))
        if key in (b"host", b"Host", b"host "):
            value = draw(hosts())
        elif key == b"url":
            value = draw(urls())
        elif key == b"protocol":
            value = draw(st.sampled_from([b"https", b"https", b"http", b"ssh", b"HTTPS", b""]))
            value += draw(st.sampled_from([b"", b"", b"\r", b" ", b"\x0b"]))
        elif key == b"password":
            value = draw(passwords())
        else:
            value = draw(atoms)
        lines.append(key + b"=" + value if draw(st.integers(0, 20)) else draw(atoms))
    ending = draw(st.sampled_from([b"\n", b"\r\n"]))
    body = ending.join(lines)
    return body + draw(st.sampled_from([b"", ending, ending + ending, ending + b"\n"]))


def served_requests() -> st.SearchStrategy[bytes]:
    """Mostly well-formed served requests with a password, so store/erase get past the gate."""
    plain = st.builds(
        lambda host, pw, extra: b"protocol=https\nhost=" + host + b"\npassword=" + pw
        + b"\n" + extra + b"\n",
        st.sampled_from(SERVED_HOSTS), passwords(), st.one_of(st.just(b""), atoms))
    return st.one_of(plain, requests())


# --- in-process runs ------------------------------------------------------------------------


def run(op: str, data: bytes) -> tuple[int, bytes, str]:
    out, err = io.BytesIO(), io.StringIO()
    code = helper.run(op, io.BytesIO(data), out, err)  # any exception fails the property
    return code, out.getvalue(), err.getvalue()


def assert_clean_output(out: bytes, err: str) -> None:
    if out:
        assert out.endswith(b"\n")
        for line in out[:-1].split(b"\n"):
            key, _, value = line.partition(b"=")
            assert key in (b"username", b"password")
            assert not _UNSAFE.search(value)
    assert err.count("\n") <= 1 and not _UNSAFE.search(err.rstrip("\n").encode())
    for token in ALL_TOKENS:
        assert token[3:11] not in err, "token shown on stderr"


@pytest.fixture
def token_file(monkeypatch) -> str:
    path = os.path.join(os.environ["HF_HOME"], "token")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return path


def reset(path: str) -> None:
    with open(path, "w") as f:
        f.write(SAVED)
    stored = os.path.join(os.path.dirname(path), "stored_tokens")
    if os.path.exists(stored):
        os.unlink(stored)


@settings(FUZZ, max_examples=EXAMPLES_PARSER_BYTES)
@given(data=st.one_of(st.binary(max_size=600), requests()))
def test_parser_never_raises_anything_but_protocol_error(data: bytes) -> None:
    try:
        cred = protocol.parse_bytes(data)
    except protocol.ProtocolError:
        assert model(data) is None
        return
    expected = model(data)
    assert expected is not None
    for attr in ("protocol", "host", "username", "password"):
        value = getattr(cred, attr)
        got = value.encode("utf-8", "surrogateescape") if value is not None else None
        assert got == expected[attr], attr
    if cred.password and len(cred.password) >= 8:  # the repr masks it
        assert "password='****'" in repr(cred)
        # The other fields are shown as they are, and may equal the password by chance
        # (host=huggingface.co, password=huggingface.co): look only outside them.
        rest = repr(cred)
        for attr in ("protocol", "host", "path", "username"):
            rest = rest.replace(f"{attr}={getattr(cred, attr)!r}", "")
        assert cred.password not in rest


@settings(FUZZ, max_examples=EXAMPLES_GET)
@given(data=requests())
def test_get_answers_exactly_the_served_requests(token_file, data: bytes) -> None:
    reset(token_file)
    code, out, err = run("get", data)
    assert (code, err) == (0, "")
    assert_clean_output(out, err)
    cred = model(data)
    if served(cred) and not (cred["username"] and _UNSAFE.search(cred["username"])):
        user = (cred["username"] or b"hf_user").decode("utf-8", "surrogateescape")
        expected = f"username={user}\npassword={SAVED}\n".encode("utf-8", "surrogateescape")
        assert out == expected
    else:
        assert out == b""


class FakeNetwork:
    """Stands in for ``hub._get`` (the real ``whoami`` logic runs on top of it)."""

    def __init__(self) -> None:
        self.valid: set[str] = {NEW, SAVED}
        self.calls: list[str] = []

    def __call__(self, url: str, token: str, base: str) -> tuple[int, bytes, dict[str, str]]:
        self.calls.append(token)
        if token not in self.valid:
            return 401, b'{"error": "Invalid credentials"}', {}
        info = {"type": "user", "name": "alice",
                "auth": {"accessToken": {"displayName": f"name-{token[-4:]}", "role": "write"}}}
        return 200, json.dumps(info).encode(), {}


@pytest.fixture
def network(monkeypatch) -> FakeNetwork:
    fake = FakeNetwork()
    monkeypatch.setattr(hub, "_get", fake)
    return fake


@settings(FUZZ, max_examples=EXAMPLES_STORE)
@given(data=served_requests(), saved_still_valid=st.booleans())
def test_store_saves_only_a_confirmed_token_for_a_served_request(token_file, network,
                                                                 data: bytes,
                                                                 saved_still_valid: bool) -> None:
    reset(token_file)
    network.calls.clear()
    network.valid = {NEW, SAVED} if saved_still_valid else {NEW}
    code, out, err = run("store", data)
    assert out == b""
    assert_clean_output(out, err)
    cred = model(data)
    saved_now = tokens.read_token_file()
    password = (cred or {}).get("password")
    if cred is None:  # malformed: one line, exit 1, nothing else
        assert network.calls == [] and saved_now == SAVED and (code, err.count("\n")) == (1, 1)
        return
    if not served(cred) or not password:
        assert network.calls == [] and saved_now == SAVED and (code, err) == (0, "")
        return
    pw = password.decode("utf-8", "surrogateescape")
    if pw == SAVED:
        assert network.calls == [] and saved_now == SAVED and code == 0
    elif pw == NEW and saved_still_valid:  # a working saved token is never replaced (issue 9)
        assert network.calls == [NEW, SAVED] and saved_now == SAVED
        assert code == 1 and err.count("\n") == 1
    elif pw == NEW:  # the saved token is confirmed dead (401): the new one takes its place
        assert network.calls == [NEW, SAVED] and saved_now == NEW and (code, err) == (0, "")
    else:  # invalid or not a token at all: nothing saved, one line, exit 1
        assert saved_now == SAVED and code == 1 and err.count("\n") == 1
        assert network.calls in ([], [pw])


@settings(FUZZ, max_examples=EXAMPLES_ERASE)
@given(data=served_requests(), saved_still_valid=st.booleans())
def test_erase_removes_only_the_saved_token_and_only_when_the_hub_rejects_it(
        token_file, network, data: bytes, saved_still_valid: bool) -> None:
    reset(token_file)
    network.calls.clear()
    network.valid = {NEW, SAVED} if saved_still_valid else {NEW}
    code, out, err = run("erase", data)
    assert out == b""
    assert_clean_output(out, err)
    cred = model(data)
    password = (cred or {}).get("password")
    after = tokens.read_token_file()
    if cred is None:
        assert network.calls == [] and after == SAVED and (code, err.count("\n")) == (1, 1)
    elif not served(cred) or password != SAVED.encode():
        assert network.calls == [] and after == SAVED and (code, err) == (0, "")
    elif saved_still_valid:
        assert network.calls == [SAVED] and after == SAVED and code == 1
    else:
        assert network.calls == [SAVED] and after is None and code == 1


@settings(FUZZ, max_examples=EXAMPLES_MASK)
@given(token=st.text(min_size=12, max_size=80),
       prefix=st.sampled_from(["", "hf_", "api_org_"]))
def test_mask_shows_at_most_the_prefix_and_four_characters(token: str, prefix: str) -> None:
    masked = tokens.mask(prefix + token)
    shown = masked.replace("****", "", 1)
    assert masked.count("****") >= 1
    assert len(shown) <= len(prefix) + 4
    assert (prefix + token) not in masked


@settings(FUZZ, max_examples=EXAMPLES_GET_EXECUTABLE)
@given(data=requests())
def test_get_through_the_real_executable(sec, token_file, data: bytes) -> None:
    for token in ALL_TOKENS:
        sec.register_secret(token)  # audited like every other CLI call
    with open(token_file, "w") as f:
        f.write(SAVED)
    call = sec.run_helper("get", data)
    assert (call.returncode, call.stderr) == (0, b"")
    assert_clean_output(call.stdout, "")
    cred = model(data)
    assert bool(call.stdout) == (served(cred) and not (
        cred["username"] and _UNSAFE.search(cred["username"])))
