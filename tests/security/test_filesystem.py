"""A hostile or broken filesystem: symlinks, directories, FIFOs, unreadable files, read-only
folders, umask 000, a corrupt ``stored_tokens``.

Expected: a clear one-line error or a safe result; nothing stored is lost; never a traceback;
never a world-readable secret. Design (lead): a symlinked token path is written THROUGH (the link
is kept, its target replaced atomically); the lock is ``.<name>.lock`` beside the real file.
Permission cases drop CAP_DAC_OVERRIDE when the suite runs as root (root ignores file modes).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def one_line(call) -> str:
    lines = call.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("git-credential-hf: "), call
    return lines[0]


def no_traceback(call) -> None:
    assert b"Traceback" not in call.stderr and not call.timed_out, call


@pytest.fixture
def hub(sec, fake_hub):
    """The fake Hub with a NEW token it accepts; returns (hub, old, new)."""
    old, new = sec.make_token("fs-old"), sec.make_token("fs-new")
    fake_hub.add_token(old, display_name="old")
    fake_hub.add_token(new, display_name="new")
    return fake_hub, old, new


def store(sec, hub, token: str, env: dict | None = None):
    """``store`` of ``token`` while every other token is revoked: ``store`` replaces only a saved
    token the Hub rejects (issue 9), and these tests are about how it writes."""
    others = {t: hub.tokens.pop(t) for t in list(hub.tokens) if t != token}
    try:
        return sec.run_helper("store", hub.request(password=token),
                              env={**hub.env(), **(env or {})})
    finally:
        hub.tokens.update(others)


# --- symlinks ------------------------------------------------------------------------------


def test_symlinked_token_is_written_through(sec, hub, tmp_path) -> None:
    fake, old, new = hub
    home = sec.hf_home()
    home.mkdir(parents=True)
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    (dotfiles / "hf-token").write_text(old)
    (home / "token").symlink_to(dotfiles / "hf-token")

    call = store(sec, fake, new)
    assert (call.returncode, call.stderr) == (0, b""), call
    assert (home / "token").is_symlink() and os.readlink(home / "token") == str(
        dotfiles / "hf-token"), "the link was replaced"
    assert (dotfiles / "hf-token").read_text() == new and mode(dotfiles / "hf-token") == 0o600
    assert (dotfiles / ".hf-token.lock").exists(), "the lock belongs beside the real file"
    assert sec.temp_files(home) == [] and sec.temp_files(dotfiles) == []
    got = sec.run_helper("get", sec.request())
    assert got.stdout.endswith(f"password={new}\n".encode())

    out = sec.run_cli(["logout"], env=fake.env())
    assert out.returncode == 0, out
    assert sec.run_helper("get", sec.request(protocol="http", host=fake.host)).stdout == b""


def test_dangling_symlink_gets_its_target_created(sec, hub, tmp_path) -> None:
    fake, _old, new = hub
    home = sec.hf_home()
    home.mkdir(parents=True)
    (tmp_path / "dotfiles").mkdir()
    (home / "token").symlink_to(tmp_path / "dotfiles" / "hf-token")
    call = store(sec, fake, new)
    assert call.returncode == 0, call
    assert (home / "token").is_symlink()
    assert (tmp_path / "dotfiles" / "hf-token").read_text() == new
    assert mode(tmp_path / "dotfiles" / "hf-token") == 0o600


def test_symlink_loop(sec, hub) -> None:
    fake, _old, new = hub
    home = sec.hf_home()
    home.mkdir(parents=True)
    (home / "token").symlink_to(home / "token2")
    (home / "token2").symlink_to(home / "token")
    for call in (sec.run_helper("get", fake.request(), env=fake.env()), store(sec, fake, new),
                 sec.run_cli(["logout"], env=fake.env())):
        no_traceback(call)
        assert len(call.err.splitlines()) <= 1
    assert sec.temp_files(home) == []


@pytest.mark.parametrize("kind", ["directory", "symlink-to-directory"])
def test_token_path_is_a_directory(sec, hub, tmp_path, kind) -> None:
    fake, _old, new = hub
    home = sec.hf_home()
    home.mkdir(parents=True)
    target = home / "token" if kind == "directory" else tmp_path / "somedir"
    target.mkdir()
    (target / "keep").write_text("user data")
    if kind != "directory":
        (home / "token").symlink_to(target)
    before = sec.snapshot(home), sec.snapshot(target)

    get = sec.run_helper("get", fake.request(), env=fake.env())
    assert (get.returncode, get.stdout, get.stderr) == (0, b"", b"")
    call = store(sec, fake, new)
    assert call.returncode == 1 and "directory" in one_line(call)
    login = sec.run_cli(["login", "--token-stdin"], new.encode() + b"\n", env=fake.env())
    assert login.returncode == 1 and "directory" in one_line(login)
    logout = sec.run_cli(["logout"], env=fake.env())
    no_traceback(logout)
    after = {k: v for k, v in sec.snapshot(home).items() if not k.endswith(".lock")}
    assert (after, sec.snapshot(target)) == before, "something was lost"


@pytest.mark.parametrize("how", ["HF_TOKEN_PATH", "symlink"])
def test_token_path_is_a_fifo(sec, hub, tmp_path, how) -> None:
    """A FIFO (like /dev/null or any special file) is not a token file: ``get`` must not block
    on it, and a save must not replace it with a regular file."""
    fake, _old, new = hub
    home = sec.hf_home()
    home.mkdir(parents=True)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    env = {**fake.env()}
    if how == "symlink":
        (home / "token").symlink_to(fifo)
    else:
        env["HF_TOKEN_PATH"] = str(fifo)
    get = sec.run_helper("get", fake.request(), env=env, timeout=10)
    assert not get.timed_out, "get blocked on a FIFO"
    assert (get.returncode, get.stdout, get.stderr) == (0, b"", b"")
    call = sec.run_helper("store", fake.request(password=new), env=env, timeout=20)
    assert not call.timed_out and call.returncode == 1, call
    assert "regular file" in one_line(call)
    assert stat.S_ISFIFO(fifo.lstat().st_mode), "the special file was replaced"
    assert sec.temp_files(tmp_path) == [] and sec.temp_files(home) == []


def test_dev_null_token_path_reads_as_no_token(sec) -> None:
    """Reading only: a write test against /dev/null could replace it when run as root."""
    call = sec.run_helper("get", sec.request(), env={"HF_TOKEN_PATH": os.devnull})
    assert (call.returncode, call.stdout, call.stderr) == (0, b"", b"")


# --- permissions ---------------------------------------------------------------------------


def _cache(sandbox, old: str, stored_mode: int = 0o600) -> Path:
    home = sandbox.hf_home
    (home / "token").write_text(old)
    (home / "token").chmod(0o600)
    (home / "stored_tokens").write_text(f"[old]\nhf_token = {old}\n\n")
    (home / "stored_tokens").chmod(stored_mode)
    return home


def test_unreadable_token_file(sec, hub, sandbox) -> None:
    fake, old, new = hub
    home = _cache(sandbox, old)
    (home / "token").chmod(0)
    get = sandbox.run(["get"], fake.request(), env=fake.env())
    assert (get.returncode, get.stdout, get.stderr) == (0, b"", b"")
    logout = sandbox.run(["logout"], env=fake.env())
    no_traceback(logout)
    (home / "token").chmod(0o600)
    assert (home / "token").read_text() == old, "logout lost a token it could not read"
    (home / "token").chmod(0)
    call = sandbox.run(["store"], fake.request(password=new), env=fake.env())
    # Adopting a token the Hub confirmed is fine: the unreadable one keeps its named copy,
    # and the replacement is private.
    assert (call.returncode, call.stderr) == (0, b""), call
    assert sec.parse_stored(home / "stored_tokens") == {"old": old, "new": new}
    assert (home / "token").read_text() == new and mode(home / "token") == 0o600


def test_unreadable_stored_tokens_is_left_alone(sec, hub, sandbox) -> None:
    fake, old, new = hub
    home = _cache(sandbox, old)
    (home / "stored_tokens").chmod(0)
    before = sec.snapshot(home)["stored_tokens"]
    revoked = fake.tokens.pop(old)  # store replaces only a saved token the Hub rejects
    call = sandbox.run(["store"], fake.request(password=new), env=fake.env())
    fake.tokens[old] = revoked
    assert call.returncode == 1 and "stored_tokens" in one_line(call)
    assert (home / "token").read_text() == new and mode(home / "token") == 0o600
    login = sandbox.run(["login", "--token-stdin"], old.encode() + b"\n", env=fake.env())
    assert login.returncode == 0 and "Warning" in login.out, login
    assert sec.snapshot(home)["stored_tokens"] == before


@pytest.mark.parametrize("op", ["store", "login", "logout", "erase"])
def test_read_only_folder(sec, hub, sandbox, op) -> None:
    fake, old, new = hub
    home = _cache(sandbox, old)
    fake.tokens.pop(old)  # erase: the Hub rejects the saved token, so erase wants to delete it
    home.chmod(0o555)
    before = sec.snapshot(home)
    if op == "store":
        call = sandbox.run(["store"], fake.request(password=new), env=fake.env())
    elif op == "login":
        call = sandbox.run(["login", "--token-stdin"], new.encode() + b"\n", env=fake.env())
    elif op == "erase":
        call = sandbox.run(["erase"], fake.request(password=old), env=fake.env())
    else:
        call = sandbox.run(["logout"], env=fake.env())
    assert call.returncode == 1, call
    one_line(call)
    assert sec.snapshot(home) == before, "a read-only cache changed"
    get = sandbox.run(["get"], sec.request(protocol="http", host=fake.host), env=fake.env())
    assert get.stdout.endswith(f"password={old}\n".encode()), "the saved token is gone"


def test_cache_under_an_uncreatable_folder(sec, hub, sandbox) -> None:
    fake, _old, new = hub
    locked = Path(sandbox.env["HOME"]) / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    env = {**fake.env(), "HF_HOME": str(locked / "hf")}
    call = sandbox.run(["store"], fake.request(password=new), env=env)
    assert call.returncode == 1 and "cannot" in one_line(call)
    assert not (locked / "hf").exists()


@pytest.mark.parametrize("op", ["store", "login"])
def test_umask_000_still_gives_private_files(sec, hub, op) -> None:
    fake, _old, new = hub
    home = sec.hf_home()  # does not exist yet: created by the save
    assert not home.exists()
    if op == "store":
        call = sec.run_helper("store", fake.request(password=new), env=fake.env(), umask=0)
    else:
        call = sec.run_cli(["login", "--token-stdin"], new.encode() + b"\n", env=fake.env(),
                           umask=0)
    assert call.returncode == 0, call
    assert mode(home) == 0o700
    assert mode(home / "token") == 0o600 and mode(home / "stored_tokens") == 0o600
    for path in home.iterdir():  # the lock too: whoever can open it can flock it
        assert not mode(path) & 0o077, f"{path.name} is open to others"
    assert (home / ".token.lock").exists()


def test_world_readable_files_become_private_on_the_next_write(sec, hub) -> None:
    """Files left 0644 by an old huggingface_hub (CWE-276) are replaced by 0600 ones."""
    fake, old, new = hub
    home = sec.hf_home()
    home.mkdir(parents=True)
    (home / "token").write_text(old)
    (home / "stored_tokens").write_text(f"[old]\nhf_token = {old}\n")
    for p in (home / "token", home / "stored_tokens"):
        p.chmod(0o644)
    call = store(sec, fake, new)
    assert call.returncode == 0, call
    assert mode(home / "token") == 0o600 and mode(home / "stored_tokens") == 0o600
    assert sec.parse_stored(home / "stored_tokens") == {"old": old, "new": new}


# --- corrupt stored_tokens -----------------------------------------------------------------

CORRUPT = {
    "no-section-header": b"hf_token = {old}\n",
    "duplicate-section": b"[old]\nhf_token = {old}\n[old]\nhf_token = {old}\n",
    "duplicate-key": b"[old]\nhf_token = {old}\nhf_token = x\n",
    "truncated": b"[old]\nhf_token = {old}\n[new",
    "non-utf8": b"[old]\nhf_token = {old}\n[\xff\xfe]\nhf_token = x\n",
    "binary": bytes(range(256)) * 4,
}


@pytest.mark.parametrize("case", list(CORRUPT))
def test_corrupt_stored_tokens_is_never_rewritten(sec, hub, case) -> None:
    fake, old, new = hub
    home = sec.hf_home()
    home.mkdir(parents=True)
    (home / "token").write_text(old)
    (home / "token").chmod(0o600)
    corrupt = CORRUPT[case].replace(b"{old}", old.encode())
    (home / "stored_tokens").write_bytes(corrupt)
    (home / "stored_tokens").chmod(0o600)

    calls = []
    calls.append(store(sec, fake, new))  # token saved, named copy skipped with a warning
    assert (home / "token").read_text() == new
    calls.append(sec.run_cli(["login", "--token-stdin"], old.encode() + b"\n", env=fake.env()))
    assert (home / "token").read_text() == old
    calls.append(sec.run_cli(["whoami"], env=fake.env()))
    fake.tokens.pop(old)
    calls.append(sec.run_helper("erase", fake.request(password=old), env=fake.env()))
    assert not (home / "token").exists(), "erase should remove the token the Hub rejected"
    calls.append(sec.run_cli(["logout"], env=fake.env()))
    for call in calls:
        no_traceback(call)
        assert len(call.err.splitlines()) <= 1, call
    assert calls[0].returncode == 1 and "stored_tokens" in calls[0].err
    assert (home / "stored_tokens").read_bytes() == corrupt, "stored_tokens was rewritten"
    assert sec.temp_files(home) == []


@pytest.mark.parametrize("content", [b"\x00\x01\x02" * 100, b"hf_abc\x00def\n", b"\xff\xfe\n",
                                     b"A" * (20 << 20)], ids=["binary", "nul", "non-utf8",
                                                              "20mib"])
def test_corrupt_token_file(sec, hub, content) -> None:
    fake, _old, new = hub
    home = sec.hf_home()
    home.mkdir(parents=True)
    (home / "token").write_bytes(content)
    get = sec.run_helper("get", sec.request())
    assert (get.returncode, get.stderr) == (0, b"") and not get.timed_out
    assert b"\x00" not in get.stdout and get.elapsed < 10
    assert get.stdout.count(b"\n") in (0, 2)
    call = store(sec, fake, new)
    assert call.returncode == 0 and (home / "token").read_text() == new, call


def test_odd_but_parseable_stored_tokens_keeps_every_entry(sec, hub) -> None:
    """Entries this tool did not write (``%``, non-ASCII names, NUL, extra keys) survive."""
    fake, old, new = hub
    home = sec.hf_home()
    home.mkdir(parents=True)
    (home / "token").write_text(old)
    (home / "stored_tokens").write_text(
        f"[old]\nhf_token = {old}\n\n[100% écrit]\nhf_token = hf_a%b\nrefresh_token = r%%\n"
        "expires_at = 1700000000\n\n[nul]\nhf_token = a\x00b\n\n", encoding="utf-8")
    assert store(sec, fake, new).returncode == 0
    entries = sec.parse_stored(home / "stored_tokens")
    assert entries == {"old": old, "100% écrit": "hf_a%b", "nul": "a\x00b", "new": new}
    text = (home / "stored_tokens").read_text(encoding="utf-8")
    assert "refresh_token = r%%" in text and "expires_at = 1700000000" in text
