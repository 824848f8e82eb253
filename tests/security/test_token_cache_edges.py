"""Issue 9, items 4, 5 and 8: what a 401, an odd token name and odd token files may do.

- item 4: ``erase`` on a 401 clears the active token but keeps its named copy (``switch`` can
  restore it after a transient Hub fault), and says so. Before: both copies were deleted.
- item 5: a token named ``DEFAULT`` (or any name configparser cannot round-trip) is refused
  before anything is written; the Python API raises ``LoginError``. Before: the active token was
  replaced, then configparser raised a raw ``ValueError``: a half-done login.
- item 8: a relative ``HF_HOME``/``HF_TOKEN_PATH`` never makes the tool write into (or serve a
  token from) the current work tree; a UTF-8 BOM is stripped like whitespace; a token file of
  several lines is served nothing and never erased. Before: written into the work tree and read
  relative to git's cwd (a repository could plant its own token); the BOM was served as part of
  the token; two lines were joined into one token, then erased whole.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest


def _files(sec, home: Path) -> dict:
    """The cache's content, lock files aside (taking a lock is not a change)."""
    return {k: v for k, v in sec.snapshot(home).items() if not k.endswith(".lock")}


def _cache(home: Path, active: str | bytes | None = None,
           named: dict[str, str] | None = None) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    if active is not None:
        data = active if isinstance(active, bytes) else active.encode()
        (home / "token").write_bytes(data)
        (home / "token").chmod(0o600)
    if named:
        text = "".join(f"[{name}]\nhf_token = {token}\n\n" for name, token in named.items())
        (home / "stored_tokens").write_text(text)
    return home


# --- item 4: a 401 clears the active token only -------------------------------------------------


def test_erase_on_401_keeps_the_named_copy(sec, fake_hub, tmp_path) -> None:
    token = sec.make_token("erase-named")  # unknown to the Hub: 401
    home = _cache(tmp_path / "hf", token, {"laptop": token})
    call = sec.run_helper("erase", fake_hub.request(password=token),
                          env={**fake_hub.env(), "HF_HOME": str(home)})
    assert not (home / "token").exists(), "the rejected token is still the active one"
    assert sec.parse_stored(home / "stored_tokens") == {"laptop": token}
    line = call.err.strip()
    assert len(call.err.splitlines()) == 1 and "laptop" in line and "kept" in line, line


# --- item 5: all-or-nothing saves -------------------------------------------------------------


@pytest.mark.parametrize("name", ["DEFAULT", " padded ", "two\nlines", "a]b"])
def test_a_name_configparser_cannot_round_trip_changes_nothing(sec, fake_hub, tmp_path,
                                                               name) -> None:
    old, new = sec.make_token(f"name-old-{name!r}"), sec.make_token(f"name-new-{name!r}")
    fake_hub.add_token(old, display_name="old")
    fake_hub.add_token(new, display_name=name)
    home = _cache(tmp_path / "hf", old, {"old": old})
    gitconfig = tmp_path / "gitconfig"
    env = {**fake_hub.env(), "HF_HOME": str(home), "GIT_CONFIG_GLOBAL": str(gitconfig)}
    before = _files(sec, home)
    call = sec.run_cli(["login", "--token-stdin", "--add-to-git-credential"],
                       new.encode() + b"\n", env=env)
    assert b"Traceback" not in call.stderr
    if call.returncode == 0:  # accepted: then completely, the named copy saved or said skipped
        assert (home / "token").read_text() == new
        stored = sec.parse_stored(home / "stored_tokens")
        assert new in stored.values() or ("named copy skipped" in call.out and stored == {
            "old": old}), call.out
        assert gitconfig.exists()
    else:  # refused: then nothing at all changed
        assert _files(sec, home) == before and not gitconfig.exists()
        assert len(call.err.splitlines()) == 1, call.err


def test_python_api_raises_login_error_for_a_default_named_token(sec, fake_hub, tmp_path,
                                                                 monkeypatch) -> None:
    from git_credential_hf import _login

    old, new = sec.make_token("api-default-old"), sec.make_token("api-default-new")
    fake_hub.add_token(new, display_name="DEFAULT")
    home = _cache(tmp_path / "hf", old)
    monkeypatch.setenv("HF_ENDPOINT", fake_hub.url)
    monkeypatch.setenv("HF_HOME", str(home))
    before = _files(sec, home)
    try:
        _login.login(new)
    except _login.LoginError:
        assert _files(sec, home) == before
    except Exception as e:  # pragma: no cover - the defect
        pytest.fail(f"raised {type(e).__name__}, not LoginError")
    else:
        assert (home / "token").read_text() == new


# --- item 8: odd token files ------------------------------------------------------------------


def test_a_bom_is_stripped_like_whitespace(sec, tmp_path) -> None:
    token = sec.make_token("bom")
    home = _cache(tmp_path / "hf", b"\xef\xbb\xbf" + token.encode() + b"\n")
    call = sec.run_helper("get", sec.request(), env={"HF_HOME": str(home)})
    assert call.stdout == f"username=hf_user\npassword={token}\n".encode()


def test_a_multi_line_token_file_is_served_nothing_and_never_erased(sec, fake_hub,
                                                                    tmp_path) -> None:
    first, second = sec.make_token("multi-1"), sec.make_token("multi-2")
    content = f"{first}\n{second}\n".encode()
    home = _cache(tmp_path / "hf", content)
    env = {**fake_hub.env(), "HF_HOME": str(home)}
    get = sec.run_helper("get", fake_hub.request(), env=env)
    assert get.stdout == b""
    for password in (first + second, first, second):  # all unknown to the Hub: 401
        sec.run_helper("erase", fake_hub.request(password=password), env=env)
    assert (home / "token").read_bytes() == content


def _work_tree(tmp_path: Path) -> Path:
    tree = tmp_path / "project"
    tree.mkdir()
    subprocess.run(["git", "init", "-q", str(tree)], check=True, capture_output=True)
    return tree


def _in(sec, cwd: Path, args: list[str], stdin: bytes, env: dict[str, str]):
    proc = sec.start_cli(args, env, cwd=str(cwd))
    return sec.finish(proc, args, stdin)


@pytest.mark.parametrize("variable", ["HF_HOME", "HF_TOKEN_PATH"])
def test_a_relative_token_path_never_writes_into_the_work_tree(sec, fake_hub, tmp_path,
                                                               variable) -> None:
    token = sec.make_token(f"relative-write-{variable}")
    fake_hub.add_token(token)
    tree = _work_tree(tmp_path)
    value = "hf-cache" if variable == "HF_HOME" else "hf-cache/token"
    env = {**fake_hub.env(), "HF_HOME": str(tmp_path / "abs-hf"), variable: value}
    before = sorted(p.name for p in tree.iterdir())
    login = _in(sec, tree, ["login", "--token-stdin"], token.encode() + b"\n", env)
    store = _in(sec, tree, ["store"], fake_hub.request(password=token), env)
    assert sorted(p.name for p in tree.iterdir()) == before, "wrote into the work tree"
    assert login.returncode != 0 and len(login.err.splitlines()) == 1, login
    assert "relative" in login.err and store.stdout == b""


@pytest.mark.parametrize("variable", ["HF_HOME", "HF_TOKEN_PATH"])
def test_a_relative_token_path_never_serves_a_token_planted_in_a_repository(sec, tmp_path,
                                                                           variable) -> None:
    planted = sec.make_token(f"relative-planted-{variable}")
    tree = _work_tree(tmp_path)
    _cache(tree / "hf-cache", planted)  # a file the cloned repository ships
    value = "hf-cache" if variable == "HF_HOME" else "hf-cache/token"
    call = _in(sec, tree, ["get"], sec.request(), {variable: value})
    assert (call.stdout, call.stderr, call.returncode) == (b"", b"", 0)
    assert os.path.exists(tree / "hf-cache" / "token")


def test_the_python_api_refuses_a_relative_token_path(sec, fake_hub, tmp_path,
                                                      monkeypatch) -> None:
    from git_credential_hf import _login

    token = sec.make_token("relative-api")
    fake_hub.add_token(token)
    tree = _work_tree(tmp_path)
    monkeypatch.chdir(tree)
    monkeypatch.setenv("HF_ENDPOINT", fake_hub.url)
    monkeypatch.setenv("HF_HOME", "hf-cache")
    with pytest.raises(_login.LoginError, match="relative path"):
        _login.login(token)
    assert _login.get_token() is None
    assert sorted(p.name for p in tree.iterdir()) == [".git"]
