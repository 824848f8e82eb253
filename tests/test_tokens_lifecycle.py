"""The token cache as huggingface_hub 2.x keeps it: OAuth fields, whole-section replacement,
forget/switch/delete-named, both writer locks 0600, cheap reads for `get`."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from support import needs_hf_hub_2

from git_credential_hf import settings, tokens

TOKEN = "hf_" + "a" * 30 + "WXYZ"
OTHER = "hf_" + "b" * 30 + "QRST"
THIRD = "hf_" + "c" * 30 + "LMNO"
REFRESH = "hf_oauth_refresh_" + "r" * 20


def home() -> Path:
    return Path(settings.hf_home())


def stored() -> Path:
    return home() / "stored_tokens"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def hf_sections() -> dict[str, dict[str, str]]:
    """What huggingface_hub 2.x itself reads from the file."""
    from huggingface_hub import constants
    from huggingface_hub.utils import _auth

    constants.HF_STORED_TOKENS_PATH = str(stored())
    return _auth._read_stored_tokens_full()


@needs_hf_hub_2
def test_oauth_save_is_read_by_huggingface_hub_exactly() -> None:
    tokens.save_token(TOKEN, "oauth-alice", refresh_token=REFRESH, expires_at=1_900_000_000)
    assert hf_sections() == {
        "oauth-alice": {"hf_token": TOKEN, "refresh_token": REFRESH, "expires_at": "1900000000"}
    }
    assert tokens.stored_sections() == hf_sections()
    assert tokens.read_token_file() == TOKEN
    assert tokens.section_for_token(TOKEN) == ("oauth-alice", hf_sections()["oauth-alice"])
    assert tokens.section_for_token(OTHER) is None


@needs_hf_hub_2
def test_we_read_everything_huggingface_hub_writes() -> None:
    from huggingface_hub import constants
    from huggingface_hub.utils import _auth

    home().mkdir(parents=True)
    constants.HF_STORED_TOKENS_PATH = str(stored())
    _auth._save_token(TOKEN, "web", refresh_token=REFRESH, expires_at=123)
    _auth._save_token(OTHER, "pässe ☃ [x")  # arbitrary Unicode display names
    assert tokens.stored_sections() == _auth._read_stored_tokens_full()
    assert tokens.oauth_section(TOKEN) == ("web", _auth._read_stored_tokens_full()["web"])
    assert tokens.oauth_section(OTHER) is None


@needs_hf_hub_2
def test_every_other_field_and_section_survives_our_writes() -> None:
    home().mkdir(parents=True)
    original = (
        "[DEFAULT]\nshared = 1\n\n"
        "[web]\nhf_token = " + OTHER + "\nrefresh_token = r%1\nexpires_at = 77\nfuture_field = x\n\n"
        "[ci]\nhf_token = " + THIRD + "\nNote = kept as written\n"
    )
    stored().write_text(original)
    before = tokens.stored_sections()
    tokens.save_token(TOKEN, "laptop")
    tokens.switch("ci")
    tokens.save_token(TOKEN, "laptop", activate=False)
    tokens.forget_active(THIRD)
    after = tokens.stored_sections()
    assert {k: after[k] for k in ("web", "ci")} == {k: before[k] for k in ("web", "ci")}
    text = stored().read_text()
    assert "[DEFAULT]" in text and "Note = kept as written" in text and "r%1" in text
    assert after["laptop"] == {"hf_token": TOKEN, "shared": "1"}
    assert hf_sections() == after  # huggingface_hub still parses it


def test_same_name_another_token_replaces_the_section_whole() -> None:
    tokens.save_token(TOKEN, "web", refresh_token=REFRESH, expires_at=100)
    tokens.save_token(OTHER, "web")  # a re-login under that name: stale metadata dropped
    assert tokens.stored_sections() == {"web": {"hf_token": OTHER}}


def test_same_name_same_token_keeps_its_refresh_token() -> None:
    tokens.save_token(TOKEN, "web", refresh_token=REFRESH, expires_at=100)
    tokens.save_token(TOKEN, "web")  # e.g. the same token pasted again: nothing to drop
    assert tokens.stored_sections() == {
        "web": {"hf_token": TOKEN, "refresh_token": REFRESH, "expires_at": "100"}
    }
    tokens.save_token(TOKEN, "web", expires_at=200)
    assert tokens.stored_sections()["web"]["expires_at"] == "200"


def test_replace_false_never_overwrites_another_token() -> None:
    tokens.save_token(OTHER, "laptop")
    warnings = tokens.save_token(TOKEN, "laptop", replace=False, activate=False)
    assert len(warnings) == 1 and TOKEN not in warnings[0]
    assert tokens.stored_tokens() == {"laptop": OTHER}
    assert tokens.read_token_file() == OTHER


@pytest.mark.parametrize(
    "kwargs",
    [
        {"refresh_token": "has space"},
        {"refresh_token": ""},
        {"expires_at": "123"},
        {"expires_at": -1},
        {"expires_at": True},
    ],
)
def test_bad_oauth_fields_write_nothing(kwargs: dict) -> None:
    tokens.save_token(OTHER, "old")
    before = stored().read_bytes()
    with pytest.raises(tokens.TokenStoreError):
        tokens.save_token(TOKEN, "web", **kwargs)
    assert stored().read_bytes() == before and tokens.read_token_file() == OTHER


def test_oauth_save_with_unparsable_stored_tokens_writes_nothing() -> None:
    home().mkdir(parents=True)
    stored().write_bytes(b"garbage\n")
    with pytest.raises(tokens.TokenStoreError, match="stored_tokens"):
        tokens.save_token(TOKEN, "web", refresh_token=REFRESH, expires_at=5)
    assert tokens.read_token_file() is None and stored().read_bytes() == b"garbage\n"


@needs_hf_hub_2
def test_case_duplicates_huggingface_hub_cannot_parse_are_left_alone() -> None:
    home().mkdir(parents=True)
    stored().write_text("[a]\nhf_token = x\nHF_TOKEN = y\n")
    assert hf_sections() == {}  # huggingface_hub gives up on it
    with pytest.raises(tokens.TokenStoreError):
        tokens.stored_sections()
    assert tokens.save_token(TOKEN, "b") != []  # plain token: saved, named copy skipped
    assert stored().read_text() == "[a]\nhf_token = x\nHF_TOKEN = y\n"


def test_forget_active_keeps_the_named_copy() -> None:
    tokens.save_token(TOKEN, "laptop", refresh_token=REFRESH, expires_at=9)
    assert tokens.forget_active(OTHER) is False
    assert tokens.forget_active(TOKEN) is True
    assert tokens.read_token_file() is None
    assert tokens.stored_tokens() == {"laptop": TOKEN}
    assert tokens.switch("laptop") == TOKEN and tokens.read_token_file() == TOKEN


def test_switch_unknown_name_changes_nothing() -> None:
    tokens.save_token(TOKEN, "laptop")
    before = stored().read_bytes()
    with pytest.raises(tokens.TokenStoreError, match="no token named"):
        tokens.switch("nope")
    assert tokens.read_token_file() == TOKEN and stored().read_bytes() == before


def test_delete_named_removes_the_token_file_only_when_it_held_it() -> None:
    tokens.save_token(OTHER, "ci")
    tokens.save_token(TOKEN, "laptop")
    assert tokens.delete_named("ci") == (True, False)
    assert tokens.read_token_file() == TOKEN
    assert tokens.delete_named("ci") == (False, False)
    assert tokens.delete_named("laptop") == (True, True)
    assert tokens.read_token_file() is None and tokens.stored_tokens() == {}


def test_delete_named_holding_leaves_a_section_that_now_holds_another_token() -> None:
    """erase removes a rejected named login only if the section still holds that token when
    the lock is held: a login that replaced it meanwhile stays."""
    tokens.save_token(TOKEN, "laptop")
    before = stored().read_bytes()
    assert tokens.delete_named("laptop", holding=OTHER) == (False, False)
    assert stored().read_bytes() == before and tokens.read_token_file() == TOKEN
    assert tokens.delete_named("laptop", holding=TOKEN) == (True, True)
    assert tokens.stored_tokens() == {}


def test_replace_active_respects_a_switch_made_meanwhile() -> None:
    tokens.save_token(TOKEN, "a")
    assert tokens.replace_active(TOKEN, OTHER) is True and tokens.read_token_file() == OTHER
    assert tokens.replace_active(TOKEN, THIRD) is False and tokens.read_token_file() == OTHER


def save_under_umask(umask: int) -> None:
    old = os.umask(umask)
    try:
        tokens.save_token(TOKEN, "laptop")
    finally:
        os.umask(old)


def assert_locks_0600() -> None:
    assert mode(home() / ".token.lock") == 0o600
    assert mode(home() / "stored_tokens.lock") == 0o600


@pytest.mark.parametrize("umask", [0o000, 0o022])
def test_both_lock_files_are_0600(umask: int) -> None:
    save_under_umask(umask)
    assert_locks_0600()


def test_a_group_readable_lock_file_of_ours_is_brought_back_to_0600() -> None:
    home().mkdir(parents=True)
    (home() / "stored_tokens.lock").touch()
    (home() / "stored_tokens.lock").chmod(0o664)  # as huggingface_hub's WeakFileLock makes it
    tokens.save_token(TOKEN, "laptop")
    assert mode(home() / "stored_tokens.lock") == 0o600


def test_writers_hold_huggingface_hubs_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    """While another process holds `<stored_tokens>.lock` (as huggingface_hub's refresh does),
    our writers wait for it."""
    import multiprocessing

    from filelock import FileLock

    home().mkdir(parents=True)
    monkeypatch.setattr(tokens, "LOCK_TIMEOUT_S", 0.3)
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()

    def hold() -> None:
        with FileLock(str(stored()) + ".lock"):
            ready.set()
            release.wait(10)

    proc = ctx.Process(target=hold)
    proc.start()
    try:
        assert ready.wait(10)
        with pytest.raises(tokens.TokenStoreError, match="locked"):
            tokens.save_token(TOKEN, "laptop")
        assert tokens.read_token_file() is None
    finally:
        release.set()
        proc.join(10)
    tokens.save_token(TOKEN, "laptop")


def test_locked_is_reentrant() -> None:
    with tokens.locked():
        tokens.save_token(TOKEN, "laptop")
        with tokens.locked():
            assert tokens.switch("laptop") == TOKEN
    tokens.save_token(OTHER, "x")  # released: a new writer gets in


PROBE = r"""
import json, sys
before = set(sys.modules)
from git_credential_hf import tokens
token = tokens.read_token_file()
found = tokens.oauth_section(token)
print(json.dumps({"found": found, "configparser": "configparser" in set(sys.modules) - before}))
"""


def _probe() -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          timeout=60, check=True)
    return json.loads(done.stdout)


@pytest.mark.spawns_python
def test_plain_cache_read_needs_no_configparser() -> None:
    for i in range(20):
        tokens.save_token(f"hf_{i:02d}" + "x" * 30, f"name-{i}")
    tokens.save_token(TOKEN, "laptop")
    assert _probe() == {"found": None, "configparser": False}


@pytest.mark.spawns_python
def test_oauth_cache_read_finds_the_section() -> None:
    tokens.save_token(OTHER, "other")
    tokens.save_token(TOKEN, "web", refresh_token=REFRESH, expires_at=42)
    report = _probe()
    assert report["found"] == ["web", {"hf_token": TOKEN, "refresh_token": REFRESH,
                                       "expires_at": "42"}]


# --- get's configparser-free reader agrees with configparser ----------------------------------


_PIECES = ["[a]", "[b]", "[DEFAULT]", "[a]b]", "[ x ]", "[]", "hf_token = t1", "HF_Token=t2",
           "refresh_token: r%1", "expires_at = 12", "expires_at=x", " indented = 1", "\tcont",
           "# comment", "; c", "", "   ", "novalue", "=v", "k = a = b", "k:v=w", "\ufeff[a]",
           "[c]\r", "k = v\u2028w", "[é ☃]", "key = \x0bv"]


def _configparser_view(text: str):
    try:
        return tokens._sections_of(tokens._parse_stored(text, "x"))
    except tokens.TokenStoreError:
        return "error"


@hsettings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PIECES), max_size=12),
       st.sampled_from(["\n", "\r\n", "\r"]))
def test_quick_reader_agrees_with_configparser(lines: list[str], newline: str) -> None:
    text = newline.join(lines)
    quick = tokens._quick_sections(text)
    if quick is not None:
        assert _configparser_view(text) == quick


def test_quick_reader_reads_what_we_and_huggingface_hub_write() -> None:
    tokens.save_token(OTHER, "plain")
    tokens.save_token(TOKEN, "web", refresh_token=REFRESH, expires_at=7)
    text = stored().read_text()
    assert tokens._quick_sections(text) == tokens.stored_sections()


# --- issue 14: values refused before anything is written ---------------------------------------


def test_replace_active_refuses_a_new_token_with_control_bytes_and_keeps_the_old() -> None:
    tokens.save_token(TOKEN, "a")
    with pytest.raises(tokens.TokenStoreError) as info:
        tokens.replace_active(TOKEN, "hf_new\x01token")
    assert str(info.value) == "refusing to save a token containing whitespace or control bytes"
    assert tokens.read_token_file() == TOKEN


def test_switch_to_a_section_holding_control_bytes_is_refused_and_changes_nothing() -> None:
    """Another tool wrote a value no HTTP header can carry: it never becomes the active token."""
    tokens.save_token(TOKEN, "laptop")
    with stored().open("ab") as f:
        f.write(b"\n[broken]\nhf_token = hf_ab\x7fcd\n")
    before = stored().read_bytes()
    with pytest.raises(tokens.TokenStoreError) as info:
        tokens.switch("broken")
    assert str(info.value) == "refusing to save a token containing whitespace or control bytes"
    assert tokens.read_token_file() == TOKEN and stored().read_bytes() == before


def test_a_token_that_is_not_utf8_is_simply_not_mentioned() -> None:
    """A token from the environment may hold undecodable bytes (surrogates in Python): the
    cheap stored_tokens check answers False instead of raising."""
    tokens.save_token(TOKEN, "laptop")
    assert tokens.mentioned_in_stored(TOKEN) is True
    assert tokens.mentioned_in_stored("hf_ab\udcffcd") is False


# --- issue 14: get's OAuth section lookup -------------------------------------------------------


def test_a_section_with_only_a_refresh_token_is_an_oauth_section() -> None:
    """huggingface_hub may store a refresh token without an expiry: still an OAuth login."""
    stored().parent.mkdir(parents=True, exist_ok=True)
    stored().write_text(f"[plain]\nhf_token = {OTHER}\n\n[web]\nhf_token = {TOKEN}\n"
                        f"refresh_token = {REFRESH}\n")
    assert tokens.oauth_section(TOKEN) == ("web", {"hf_token": TOKEN, "refresh_token": REFRESH})
    assert tokens.oauth_section(OTHER) is None


def test_an_ordinary_oauth_cache_is_read_without_configparser(monkeypatch: pytest.MonkeyPatch) -> None:
    """What huggingface_hub and we write is read by the light reader: get never pays for
    configparser (an import made to fail here would surface)."""
    tokens.save_token(OTHER, "other")
    tokens.save_token(TOKEN, "web", refresh_token=REFRESH, expires_at=42)
    monkeypatch.setitem(sys.modules, "configparser", None)
    assert tokens.oauth_section(TOKEN) == ("web", {"hf_token": TOKEN, "refresh_token": REFRESH,
                                                   "expires_at": "42"})


def test_an_unusual_cache_is_read_by_configparser_and_still_finds_the_section() -> None:
    """An indented continuation line (hand-edited, or another tool) is configparser's to judge:
    the OAuth section is still found, as huggingface_hub finds it."""
    stored().parent.mkdir(parents=True, exist_ok=True)
    stored().write_text(f"[notes]\ntext = first line\n  second line\n\n[web]\nhf_token = {TOKEN}\n"
                        f"refresh_token = {REFRESH}\nexpires_at = 42\n")
    assert tokens._quick_sections(stored().read_text()) is None  # the light reader passes
    assert tokens.oauth_section(TOKEN) == ("web", {"hf_token": TOKEN, "refresh_token": REFRESH,
                                                   "expires_at": "42"})


@pytest.mark.parametrize(("text", "quick"), [
    ("[a]\nk = v\n indented = 1\n", None),  # a continuation: configparser's call
    ("[a]\nk = v\n\tindented = 1\n", None),
    ("[a]\n#\n;\nk = v\n", {"a": {"k": "v"}}),
    ("[a]\nXkey = 1\n", {"a": {"xkey": "1"}}),
    ("[a]\nk = a = b\n", {"a": {"k": "a = b"}}),
    ("[a]\nk: v:w\n", {"a": {"k": "v:w"}}),
    ("[a]\n=v:w\n", None),  # no key: configparser refuses it
    ("[a]\nk=v\n", {"a": {"k": "v"}}),  # a one-letter key is ordinary: no configparser needed
])
def test_quick_reader_on_edge_lines(text: str, quick) -> None:
    assert tokens._quick_sections(text) == quick
    if quick is not None:
        assert _configparser_view(text) == quick


# --- issue 14 round 2: expiry bounds, lock files whoever creates them, old filelock -----------


@pytest.mark.parametrize("expires", [0, 10**11 - 1])
def test_the_expiry_bounds_are_unix_seconds(expires: int) -> None:
    tokens.save_token(TOKEN, "web", refresh_token=REFRESH, expires_at=expires)
    assert tokens.stored_sections() == {
        "web": {"hf_token": TOKEN, "refresh_token": REFRESH, "expires_at": str(expires)}}


@pytest.mark.parametrize("expires", [10**11, 10**12 - 1, -1])
def test_an_expiry_past_the_bounds_is_refused_with_an_exact_line(expires: int) -> None:
    tokens.save_token(OTHER, "old")
    before = stored().read_bytes()
    with pytest.raises(tokens.TokenStoreError) as info:
        tokens.save_token(TOKEN, "web", refresh_token=REFRESH, expires_at=expires)
    assert str(info.value) == "refusing to save an expiry that is not a unix time in seconds"
    assert stored().read_bytes() == before and tokens.read_token_file() == OTHER


def test_a_lock_file_filelock_creates_itself_is_0600(monkeypatch: pytest.MonkeyPatch) -> None:
    """Another tool may remove a lock file between our preparing it and filelock opening it:
    filelock then creates it, and with our explicit mode it is still 0600 under a lax umask."""
    real_prepare = tokens._prepare_lock_file

    def prepared_then_removed(path: str) -> None:
        real_prepare(path)
        os.unlink(path)

    monkeypatch.setattr(tokens, "_prepare_lock_file", prepared_then_removed)
    save_under_umask(0)
    assert_locks_0600()
    assert tokens.read_token_file() == TOKEN


def test_with_a_filelock_without_mode_the_locks_still_guard_and_time_out(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """filelock < 3.10 takes no mode: the lock is still taken on the same files, 0600, and a
    held lock still times out with the exact line instead of waiting for its holder."""
    import multiprocessing
    import time

    import filelock

    real = filelock.FileLock

    def old_filelock(path, timeout=-1, **kwargs):
        if kwargs:
            raise TypeError("__init__() got an unexpected keyword argument 'mode'")
        # filelock < 3.10 created the file with the default mode and never changed an existing
        # one's; the real class underneath (3.19.1 on Python 3.9) would set 0644 by itself
        umask = os.umask(0)
        os.umask(umask)
        keep = os.stat(path).st_mode & 0o777 if os.path.exists(path) else 0o666 & ~umask
        return real(path, timeout=timeout, mode=keep)

    home().mkdir(parents=True)
    monkeypatch.setattr(filelock, "FileLock", old_filelock)
    monkeypatch.setattr(tokens, "LOCK_TIMEOUT_S", 0.3)
    tokens.save_token(OTHER, "laptop")
    assert mode(home() / ".token.lock") == 0o600 and mode(home() / "stored_tokens.lock") == 0o600
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()

    def hold() -> None:
        with real(str(home() / ".token.lock")):
            ready.set()
            release.wait(3)  # a writer without a timeout would get in after 3 s

    proc = ctx.Process(target=hold)
    proc.start()
    try:
        assert ready.wait(10)
        start = time.monotonic()
        with pytest.raises(tokens.TokenStoreError) as info:
            tokens.save_token(TOKEN, "laptop")
        assert time.monotonic() - start < 2.5
        assert str(info.value) == f"{home() / '.token.lock'} is locked by another process; try again"
        assert tokens.read_token_file() == OTHER
    finally:
        release.set()
        proc.join(10)
    tokens.save_token(TOKEN, "laptop")
    assert tokens.read_token_file() == TOKEN and tokens.stored_tokens() == {"laptop": TOKEN}


@pytest.mark.parametrize(("args", "kwargs", "line"), [
    ((TOKEN,), {"refresh_token": REFRESH}, "an OAuth token needs a name to keep its refresh token under"),
    ((TOKEN,), {"expires_at": 5}, "an OAuth token needs a name to keep its refresh token under"),
    ((TOKEN, "web"), {"refresh_token": "r\x01"},
     "refusing to save a refresh token containing whitespace or control bytes"),
    ((TOKEN, ""), {}, "token name '' cannot be an INI section (empty)"),
    ((TOKEN, "DEFAULT"), {}, "token name 'DEFAULT' is reserved by the INI format"),
    ((TOKEN, "n" * 257), {}, f"token name {'n' * 257!r} is too long"),
])
def test_refusals_before_any_write_are_exact_lines(args: tuple, kwargs: dict, line: str) -> None:
    tokens.save_token(OTHER, "old")
    before = stored().read_bytes()
    with pytest.raises(tokens.TokenStoreError) as info:
        tokens.save_token(*args, **kwargs)
    assert str(info.value) == line and TOKEN not in str(info.value)
    assert stored().read_bytes() == before and tokens.read_token_file() == OTHER


def test_a_256_character_name_is_usable() -> None:
    assert tokens.save_token(TOKEN, "n" * 256) == []
    assert tokens.stored_tokens() == {"n" * 256: TOKEN}
