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


# --- issue 14: tests that kill mutants (keep this block at the end of the file) ------------------


def fd_path(fd: int) -> str:
    return os.readlink(f"/proc/self/fd/{fd}")


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc to name an fd")
def test_the_temp_file_is_fsynced_before_it_replaces_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """Crash safety: data reaches the disk before the rename makes it the token, and the folder
    is synced after the rename."""
    events: list[tuple] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        path = fd_path(fd)
        events.append(("fsync", path, Path(path).read_bytes() if Path(path).is_file() else None))
        real_fsync(fd)

    def replace(src: str, dst: str) -> None:
        events.append(("replace", os.path.realpath(src), os.path.realpath(dst)))
        real_replace(src, dst)

    hf_home().mkdir(parents=True)
    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    tokens.save_token(TOKEN)
    token = os.path.realpath(hf_home() / "token")
    assert [e[0] for e in events] == ["fsync", "replace", "fsync"], events
    (_, synced, content), (_, src, dst), (_, folder, _) = events
    assert synced == src and os.path.dirname(src) == os.path.dirname(token)
    assert os.path.basename(src).startswith(".tmp-token-")
    assert content == TOKEN.encode()  # the whole token was written before the fsync
    assert dst == token and folder == os.path.dirname(token)


@pytest.mark.parametrize("umask", [0o277, 0o377])
def test_strict_umask_still_gives_0600_files_and_a_0700_folder(umask: int) -> None:
    """mkstemp and makedirs obey the umask; an explicit chmod makes the files readable and
    writable by their owner (as huggingface_hub needs) whatever it is."""
    hf_home().parent.mkdir(parents=True)  # only the folder itself is created under the umask
    old = os.umask(umask)
    try:
        tokens.save_token(TOKEN, "laptop")
    finally:
        os.umask(old)
    assert mode(hf_home()) == 0o700
    assert mode(hf_home() / "token") == 0o600
    assert mode(hf_home() / "stored_tokens") == 0o600
    assert mode(hf_home() / ".token.lock") & 0o077 == 0
    assert tokens.read_token_file() == TOKEN


def test_lax_umask_gives_a_0600_lock_file() -> None:
    old = os.umask(0)
    try:
        tokens.save_token(TOKEN)
    finally:
        os.umask(old)
    assert mode(hf_home() / ".token.lock") == 0o600


def test_a_killed_writers_temp_files_are_swept(tmp_path: Path) -> None:
    """Leftover temp files may hold a token: the next save or delete removes them."""
    hf_home().mkdir(parents=True)
    (hf_home() / ".tmp-token-dead1").write_text(OTHER)
    (hf_home() / ".tmp-stored_tokens-dead2").write_text(f"[x]\nhf_token = {OTHER}\n")
    (hf_home() / ".tmp-unrelated").write_text("keep")
    tokens.save_token(TOKEN, "laptop")
    assert leftovers(hf_home()) == [".tmp-unrelated"]
    (hf_home() / ".tmp-token-dead3").write_text(OTHER)
    (hf_home() / ".tmp-stored_tokens-dead4").write_text(OTHER)
    assert tokens.delete_token(TOKEN) is True
    assert leftovers(hf_home()) == [".tmp-unrelated"]


def test_a_failed_replace_keeps_the_old_token_and_leaves_no_temp(monkeypatch: pytest.MonkeyPatch) -> None:
    tokens.save_token(OTHER)

    def fail(_src: str, _dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(tokens.TokenStoreError) as info:
        tokens.save_token(TOKEN)
    real = os.path.realpath(hf_home() / "token")
    assert str(info.value) == f"cannot write {real}: No space left on device"
    assert tokens.read_token_file() == OTHER
    assert leftovers(hf_home()) == []


def test_an_interrupted_write_leaves_no_temp(monkeypatch: pytest.MonkeyPatch) -> None:
    tokens.save_token(OTHER)

    def interrupt(_src: str, _dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupt)
    with pytest.raises(KeyboardInterrupt):
        tokens.save_token(TOKEN)
    assert tokens.read_token_file() == OTHER
    assert leftovers(hf_home()) == []


def test_a_fifo_token_file_reads_as_none_without_blocking() -> None:
    hf_home().mkdir(parents=True)
    os.mkfifo(hf_home() / "token")
    assert tokens.read_token_file() is None
    with pytest.raises(tokens.TokenStoreError, match="not a regular file"):
        tokens.save_token(TOKEN)
    assert stat.S_ISFIFO((hf_home() / "token").lstat().st_mode)


def test_a_token_file_over_the_cap_holds_no_token() -> None:
    hf_home().mkdir(parents=True)
    (hf_home() / "token").write_bytes(b"a" * tokens.MAX_TOKEN_FILE)
    assert tokens.read_token_file() == "a" * tokens.MAX_TOKEN_FILE
    (hf_home() / "token").write_bytes(b"a" * (tokens.MAX_TOKEN_FILE + 1))
    assert tokens.read_token_file() is None


def test_a_token_file_is_read_whole_across_short_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    hf_home().mkdir(parents=True)
    (hf_home() / "token").write_text(TOKEN)
    real_read = os.read
    monkeypatch.setattr(os, "read", lambda fd, n: real_read(fd, min(n, 3)))
    assert tokens.read_token_file() == TOKEN


def test_a_save_creates_the_folder_0700_and_a_delete_removes_only_the_token() -> None:
    tokens.save_token(TOKEN, "laptop")
    tokens.save_token(OTHER, "ci")
    assert tokens.stored_tokens() == {"laptop": TOKEN, "ci": OTHER}
    assert tokens.delete_token(OTHER) is True
    assert tokens.stored_tokens() == {"laptop": TOKEN}
    assert tokens.read_token_file() is None
    assert tokens.delete_token(OTHER) is False


@pytest.mark.parametrize("name", ["laptop", "my laptop", "a-b_c.d"])
def test_usable_names_get_their_named_copy(name: str) -> None:
    assert tokens.save_token(TOKEN, name) == []
    assert tokens.stored_tokens() == {name: TOKEN}


@pytest.mark.parametrize("bad", ["hf_a\tb", "hf_\x1fab", "hf_\x20ab"])
def test_control_and_space_bytes_are_refused_with_a_fixed_message(bad: str) -> None:
    with pytest.raises(tokens.TokenStoreError) as info:
        tokens.save_token(bad)
    assert str(info.value) == "refusing to save a token containing whitespace or control bytes"
    assert tokens.read_token_file() is None


def test_the_lowest_printable_byte_is_a_token_byte() -> None:
    tokens.save_token("hf_!ab")
    assert tokens.read_token_file() == "hf_!ab"


@pytest.mark.parametrize(("token", "masked"), [
    ("hf_" + "a" * 8, "hf_****aaaa"),  # prefix + 8: the shortest token that shows its tail
    ("hf_" + "a" * 7, "hf_****"),
    ("api_org_" + "b" * 8, "api_org_****bbbb"),
    ("abcdefgh", "****efgh"),
    ("abcdefg", "****"),
])
def test_mask_boundaries(token: str, masked: str) -> None:
    assert tokens.mask(token) == masked


def test_a_token_file_that_cannot_be_removed_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    tokens.save_token(TOKEN, "laptop")
    real_unlink = os.unlink

    def refuse(path: str, *a: object, **k: object) -> None:
        if os.path.basename(path) == "token":
            raise PermissionError(13, "Permission denied")
        real_unlink(path, *a, **k)

    monkeypatch.setattr(os, "unlink", refuse)
    with pytest.raises(tokens.TokenStoreError) as info:
        tokens.delete_token(TOKEN)
    assert str(info.value) == f"cannot remove {os.path.realpath(hf_home() / 'token')}: Permission denied"
    assert tokens.read_token_file() == TOKEN and tokens.stored_tokens() == {"laptop": TOKEN}


def test_delete_keeps_sections_without_a_token() -> None:
    hf_home().mkdir(parents=True)
    (hf_home() / "stored_tokens").write_text(f"[notes]\nkey = value\n\n[laptop]\nhf_token = {TOKEN}\n")
    tokens.save_token(TOKEN)
    assert tokens.delete_token(TOKEN) is True
    config = configparser.ConfigParser(interpolation=None)
    config.read(hf_home() / "stored_tokens")
    assert config.sections() == ["notes"] and config.get("notes", "key") == "value"
    assert tokens.stored_tokens() == {}


def test_unparsable_stored_tokens_warning_is_exact() -> None:
    hf_home().mkdir(parents=True)
    (hf_home() / "stored_tokens").write_bytes(b"no section\n")
    path = hf_home() / "stored_tokens"
    assert tokens.save_token(TOKEN, "laptop") == [
        f"named copy not saved: {path} cannot be parsed (MissingSectionHeaderError); left as it is"]
    with pytest.raises(tokens.TokenStoreError) as info:
        tokens.stored_tokens()
    assert str(info.value) == f"{path} cannot be parsed (MissingSectionHeaderError); left as it is"


def test_an_unreadable_stored_tokens_names_the_os_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    (hf_home() / "stored_tokens").mkdir(parents=True)  # open() fails with IsADirectoryError
    with pytest.raises(tokens.TokenStoreError) as info:
        tokens.stored_tokens()
    assert str(info.value).endswith("stored_tokens cannot be read (Is a directory); left as it is")


def test_a_folder_that_cannot_be_created_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("HF_HOME", str(blocker / "hf"))
    with pytest.raises(tokens.TokenStoreError) as info:
        tokens.save_token(TOKEN)
    assert str(info.value) == f"cannot create {blocker / 'hf'}: Not a directory"


def test_a_directory_in_place_of_the_token_is_a_clear_error() -> None:
    (hf_home() / "token").mkdir(parents=True)
    with pytest.raises(tokens.TokenStoreError) as info:
        tokens.save_token(TOKEN)
    assert str(info.value) == f"{os.path.realpath(hf_home() / 'token')} is a directory, not a token file"


def test_a_temp_file_that_cannot_be_made_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    tokens.save_token(OTHER)

    def refuse(*_a: object, **_k: object) -> tuple[int, str]:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(tokens.TokenStoreError) as info:
        tokens.save_token(TOKEN)
    assert str(info.value) == f"cannot write in {os.path.realpath(hf_home())}: No space left on device"
    assert tokens.read_token_file() == OTHER


def test_lock_timeout_line_is_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    from filelock import Timeout

    def timeout(self: object, *a: object, **k: object) -> None:
        raise Timeout("x")

    monkeypatch.setattr("filelock.FileLock.acquire", timeout)
    with pytest.raises(tokens.TokenStoreError) as info:
        tokens.save_token(TOKEN)
    assert str(info.value).endswith(" is locked by another process; try again")
    assert str(info.value).startswith(str(hf_home()))


def test_lock_failure_line_is_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(self: object, *a: object, **k: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("filelock.FileLock.acquire", fail)
    with pytest.raises(tokens.TokenStoreError) as info:
        tokens.delete_token()
    assert str(info.value).startswith(f"cannot lock {hf_home()}") and str(info.value).endswith(": Permission denied")


def test_the_lock_is_taken_beside_the_real_token_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "dotfiles" / "hf-token"
    target.parent.mkdir()
    target.write_text(OTHER)
    hf_home().mkdir(parents=True)
    (hf_home() / "token").symlink_to(target)
    seen = []
    real_acquire = __import__("filelock").FileLock.acquire

    def spy(self, *a, **k):
        seen.append(self.lock_file)
        return real_acquire(self, *a, **k)

    monkeypatch.setattr("filelock.FileLock.acquire", spy)
    tokens.save_token(TOKEN)
    assert str(target.parent / ".hf-token.lock") in seen


def test_a_token_file_that_is_not_utf8_still_reads() -> None:
    hf_home().mkdir(parents=True)
    (hf_home() / "token").write_bytes(b"hf_\xff\xfeab\n")
    assert tokens.read_token_file() == "hf_\ufffd\ufffdab"


def test_a_token_file_at_the_cap_reads_whole_in_short_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    hf_home().mkdir(parents=True)
    (hf_home() / "token").write_bytes(b"a" * tokens.MAX_TOKEN_FILE)
    real_read = os.read
    monkeypatch.setattr(os, "read", lambda fd, n: real_read(fd, min(n, 7)))
    assert tokens.read_token_file() == "a" * tokens.MAX_TOKEN_FILE


def test_a_folder_created_meanwhile_by_another_writer_is_fine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Between "is there a folder?" and makedirs another process may create it."""
    hf_home().mkdir(parents=True)
    real_isdir = os.path.isdir
    asked = []

    def not_yet_the_first_time(p: object) -> bool:
        if os.fspath(p) == str(hf_home()) and not asked:
            asked.append(p)
            return False  # "not there": then the other writer creates it
        return real_isdir(p)

    monkeypatch.setattr(os.path, "isdir", not_yet_the_first_time)
    tokens.save_token(TOKEN)
    assert asked and tokens.read_token_file() == TOKEN


@pytest.mark.parametrize("name", ["XPS laptop", "box-X"])
def test_names_with_x_are_usable(name: str) -> None:
    assert tokens.save_token(TOKEN, name) == []
    assert tokens.stored_tokens() == {name: TOKEN}
