"""The token cache: precedence, atomic 0600 writes, stored_tokens kept intact."""

from __future__ import annotations

import configparser
import os
import stat
from pathlib import Path

import pytest

from git_credential_hf import settings, tokens

TOKEN = "hf_" + "a" * 30 + "WXYZ"
OTHER = "hf_" + "b" * 30 + "QRST"


def hf_home() -> Path:
    return Path(settings.hf_home())


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".tmp-"))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"hf_abc\n", "hf_abc"),
        (b"  hf_abc \r\n", "hf_abc"),
        (b"hf_a\r\nbc", None),  # two lines: two tokens, not one (huggingface_hub joins them)
        (b"hf_abc\nhf_def\n", None),
        (b"\xef\xbb\xbfhf_abc\n", "hf_abc"),  # a UTF-8 BOM is stripped like whitespace
        (b"  \xef\xbb\xbf hf_abc", "hf_abc"),
        (b"", None),
        (b"\n \n", None),
    ],
)
def test_read_token_file(content: bytes, expected: str | None) -> None:
    hf_home().mkdir(parents=True)
    (hf_home() / "token").write_bytes(content)
    assert tokens.read_token_file() == expected


def test_read_missing_or_directory_is_none() -> None:
    assert tokens.read_token_file() is None
    (hf_home() / "token").mkdir(parents=True)
    assert tokens.read_token_file() is None


@pytest.mark.parametrize(
    ("env", "file", "expected"),
    [
        ({}, None, (None, "file")),
        ({}, TOKEN, (TOKEN, "file")),
        ({"HF_TOKEN": OTHER}, TOKEN, (OTHER, "HF_TOKEN")),
        ({"HUGGING_FACE_HUB_TOKEN": OTHER}, TOKEN, (OTHER, "HUGGING_FACE_HUB_TOKEN")),
        ({"HF_TOKEN": ""}, TOKEN, (TOKEN, "file")),
    ],
)
def test_active_token_precedence(env: dict[str, str], file: str | None, expected: tuple,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if file:
        tokens.save_token(file)
    assert tokens.active_token() == expected


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077])
def test_save_creates_0600_file_in_0700_folder(umask: int) -> None:
    old = os.umask(umask)
    try:
        tokens.save_token(TOKEN, "laptop")
    finally:
        os.umask(old)
    assert (hf_home() / "token").read_text() == TOKEN
    assert mode(hf_home() / "token") == 0o600
    assert mode(hf_home() / "stored_tokens") == 0o600
    assert mode(hf_home()) == 0o700
    assert leftovers(hf_home()) == []


def test_existing_folder_mode_is_left_alone() -> None:
    hf_home().mkdir(parents=True)
    hf_home().chmod(0o755)
    tokens.save_token(TOKEN)
    assert mode(hf_home()) == 0o755
    assert mode(hf_home() / "token") == 0o600


def test_existing_world_readable_token_becomes_0600() -> None:
    hf_home().mkdir(parents=True)
    (hf_home() / "token").write_text(OTHER)
    (hf_home() / "token").chmod(0o644)
    tokens.save_token(TOKEN)
    assert mode(hf_home() / "token") == 0o600
    assert tokens.read_token_file() == TOKEN


def test_save_replaces_the_file_atomically() -> None:
    tokens.save_token(OTHER)
    before = (hf_home() / "token").stat().st_ino
    tokens.save_token(TOKEN)
    assert (hf_home() / "token").stat().st_ino != before  # a new file, renamed over the old one


def test_stored_tokens_format_matches_huggingface_hub() -> None:
    tokens.save_token(TOKEN, "laptop")
    config = configparser.ConfigParser(interpolation=None)
    config.read(hf_home() / "stored_tokens")
    assert config.sections() == ["laptop"]
    assert config.get("laptop", "hf_token") == TOKEN


def test_stored_tokens_keeps_other_sections_and_keys() -> None:
    hf_home().mkdir(parents=True)
    (hf_home() / "stored_tokens").write_text(
        "[ci]\nhf_token = hf_ci%value\nrefresh_token = r1\nExpires_At = 123\n\n"
        "[laptop]\nhf_token = old\nextra = keep me\n"
    )
    assert tokens.save_token(TOKEN, "laptop") == []
    config = configparser.ConfigParser(interpolation=None)
    config.optionxform = str
    config.read(hf_home() / "stored_tokens")
    assert config.get("ci", "hf_token") == "hf_ci%value"
    assert config.get("ci", "refresh_token") == "r1"
    assert config.get("ci", "Expires_At") == "123"
    assert config.get("laptop", "hf_token") == TOKEN
    # saving a name with another token replaces that section whole (as huggingface_hub does)
    assert not config.has_option("laptop", "extra")


@pytest.mark.parametrize("corrupt", [
    pytest.param(b"not an ini file\n", id="no section"),
    pytest.param(b"[dup]\nhf_token=a\n[dup]\nhf_token=b\n", id="duplicate section"),
    pytest.param(b"[s]\nhf_token=\xff\xfe\n", id="not utf-8"),
])
def test_unparsable_stored_tokens_is_never_rewritten(corrupt: bytes) -> None:
    hf_home().mkdir(parents=True)
    (hf_home() / "stored_tokens").write_bytes(corrupt)
    warnings = tokens.save_token(TOKEN, "laptop")
    assert len(warnings) == 1 and "\n" not in warnings[0]
    assert "stored_tokens" in warnings[0] and TOKEN not in warnings[0]
    assert (hf_home() / "stored_tokens").read_bytes() == corrupt
    assert tokens.read_token_file() == TOKEN
    assert tokens.delete_token(TOKEN) is True
    assert (hf_home() / "stored_tokens").read_bytes() == corrupt


@pytest.mark.parametrize(
    "name", ["", "a]b", "x]", "x\ny", "x\ry", " padded", "tab\there", "DEFAULT", "l\u2028s"]
)
def test_unusable_names_write_nothing(name: str) -> None:
    tokens.save_token(OTHER, "old")
    before = (hf_home() / "stored_tokens").read_bytes()
    with pytest.raises(tokens.UnusableNameError):
        tokens.save_token(TOKEN, name)
    assert tokens.read_token_file() == OTHER
    assert (hf_home() / "stored_tokens").read_bytes() == before


@pytest.mark.parametrize("bad", ["hf_a b", "hf_a\nb", " hf_ab", "hf_a\0b", ""])
def test_refuses_tokens_that_cannot_round_trip(bad: str) -> None:
    tokens.save_token(TOKEN)
    with pytest.raises(tokens.TokenStoreError) as info:
        tokens.save_token(bad)
    assert bad not in str(info.value) or not bad
    assert tokens.read_token_file() == TOKEN


def test_delete_only_the_named_token() -> None:
    tokens.save_token(OTHER, "ci")
    tokens.save_token(TOKEN, "laptop")
    assert tokens.delete_token(OTHER) is False  # not the active one: nothing happens
    assert tokens.read_token_file() == TOKEN
    assert tokens.delete_token(TOKEN) is True
    assert tokens.read_token_file() is None
    assert tokens.stored_tokens() == {"ci": OTHER}
    assert tokens.delete_token(None) is False


def test_delete_any_token() -> None:
    tokens.save_token(TOKEN, "laptop")
    assert tokens.delete_token() is True
    assert tokens.stored_tokens() == {}
    assert leftovers(hf_home()) == []


def test_symlinked_token_file_is_written_through(tmp_path: Path) -> None:
    target = tmp_path / "dotfiles" / "hf-token"
    target.parent.mkdir()
    target.write_text(OTHER)
    hf_home().mkdir(parents=True)
    (hf_home() / "token").symlink_to(target)
    tokens.save_token(TOKEN)
    assert (hf_home() / "token").is_symlink()
    assert target.read_text() == TOKEN
    assert mode(target) == 0o600


def test_token_path_is_a_directory() -> None:
    (hf_home() / "token").mkdir(parents=True)
    with pytest.raises(tokens.TokenStoreError, match="directory"):
        tokens.save_token(TOKEN)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_folder_is_a_clear_error() -> None:
    hf_home().mkdir(parents=True)
    hf_home().chmod(0o500)
    try:
        with pytest.raises(tokens.TokenStoreError):
            tokens.save_token(TOKEN)
    finally:
        hf_home().chmod(0o700)


def test_lock_times_out_with_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from filelock import FileLock

    hf_home().mkdir(parents=True)
    monkeypatch.setattr(tokens, "LOCK_TIMEOUT_S", 0.2)
    import multiprocessing

    ready = multiprocessing.get_context("fork").Event()
    release = multiprocessing.get_context("fork").Event()

    def hold() -> None:
        with FileLock(str(hf_home() / ".token.lock")):  # another process holds the lock
            ready.set()
            release.wait(10)

    proc = multiprocessing.get_context("fork").Process(target=hold)
    proc.start()
    try:
        assert ready.wait(10)
        with pytest.raises(tokens.TokenStoreError, match="locked"):
            tokens.save_token(TOKEN)
    finally:
        release.set()
        proc.join(10)
    tokens.save_token(TOKEN)
    assert tokens.read_token_file() == TOKEN


@pytest.mark.parametrize(
    ("token", "masked"),
    [
        ("hf_abcdefghijklmnopqrstuvwxyzABCD", "hf_****ABCD"),
        ("api_org_abcdefghijklmnopWXYZ", "api_org_****WXYZ"),
        ("hf_short", "hf_****"),
        ("secretsecret", "****cret"),
        ("", "<none>"),
        (None, "<none>"),
    ],
)
def test_mask(token: str | None, masked: str) -> None:
    assert tokens.mask(token) == masked
