"""Several accounts: the username git sends picks the account's token; list / switch / logout by
name; the permission pre-flight. The Hub is faked here (tests/e2e has the real git runs)."""

from __future__ import annotations

import os

import pytest
from test_helper import HUB, FakeHub, run

from git_credential_hf import _login, accounts, hub, manage, permissions, state, tokens

ALICE = "hf_" + "a" * 30 + "AL01"
ALICE2 = "hf_" + "a" * 30 + "AL02"
BOB = "hf_" + "b" * 30 + "BOB1"
CAROL = "hf_" + "c" * 30 + "CAR1"


@pytest.fixture
def fake_hub(monkeypatch: pytest.MonkeyPatch) -> FakeHub:
    fake = FakeHub()
    fake.add(ALICE, name="alice", display="alice-laptop")
    fake.add(ALICE2, name="alice", display="alice-ci")
    fake.add(BOB, name="bob", display="bob-work")
    monkeypatch.setattr(hub, "whoami", fake.whoami)
    return fake


def login(token: str) -> None:
    _login.login(token=token)


def served(username: str | None, host: str = HUB) -> tuple[str | None, str | None]:
    text = host + (f"username={username}\n" if username else "")
    out = run("get", text)[1].decode()
    pairs = dict(line.split("=", 1) for line in out.splitlines())
    return pairs.get("username"), pairs.get("password")


@pytest.fixture
def two_accounts(fake_hub: FakeHub) -> FakeHub:
    login(ALICE)
    login(BOB)  # bob is active
    fake_hub.calls.clear()
    return fake_hub


def test_username_picks_the_account_token(two_accounts: FakeHub) -> None:
    assert tokens.read_token_file() == BOB
    assert served("alice") == ("alice", ALICE)
    assert served("bob") == ("bob", BOB)
    assert served(None) == ("hf_user", BOB)
    assert two_accounts.calls == []  # no network in get


def test_unknown_username_gets_the_active_token_never_another_accounts(two_accounts: FakeHub) -> None:
    for name in ("carol", "Alice", "alic", "alice ", "hf_user"):
        assert served(name)[1] == BOB, name
    tokens.delete_token(BOB)  # no active token any more: the unknown name gets nothing
    assert served("carol") == (None, None)
    assert served("alice") == ("alice", ALICE)


def test_most_recently_saved_token_of_the_account(fake_hub: FakeHub) -> None:
    login(ALICE)
    login(ALICE2)
    login(BOB)
    assert served("alice")[1] == ALICE2
    login(ALICE)  # validated again: now the most recent
    login(BOB)
    assert served("alice")[1] == ALICE


def test_active_token_of_that_account_is_preferred(fake_hub: FakeHub) -> None:
    login(ALICE2)
    login(ALICE)  # active, and alice's
    assert served("alice")[1] == ALICE


def test_account_whose_token_is_gone_falls_back_to_active(two_accounts: FakeHub) -> None:
    tokens.delete_named("alice-laptop")
    assert served("alice")[1] == BOB


def test_a_changed_section_is_never_served_for_the_old_account(two_accounts: FakeHub) -> None:
    """huggingface_hub rewrote alice's section with carol's token: the hash no longer matches."""
    path = tokens.settings.stored_tokens_path()
    text = open(path).read().replace(ALICE, CAROL)
    with open(path, "w") as f:
        f.write(text)
    assert served("alice")[1] == BOB


def test_username_wins_over_the_environment(two_accounts: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", BOB)
    assert served("alice")[1] == ALICE
    assert served("carol")[1] == BOB


def test_state_holds_no_token(two_accounts: FakeHub) -> None:
    with open(state.path(accounts.FILE), "rb") as f:
        data = f.read()
    assert ALICE.encode() not in data and BOB.encode() not in data
    assert b"alice" in data and b"bob" in data
    assert oct(os.stat(state.path(accounts.FILE)).st_mode & 0o777) == "0o600"


def test_store_learns_the_account(fake_hub: FakeHub) -> None:
    run("store", HUB + f"password={ALICE}\n")
    assert accounts.account_of(ALICE) == "alice"
    login(BOB)
    assert served("alice")[1] == ALICE


def test_entries_of_removed_tokens_are_dropped(two_accounts: FakeHub) -> None:
    manage.logout_token("alice-laptop")
    assert accounts.account_of(ALICE) is None and accounts.account_of(BOB) == "bob"


def test_stored_light_agrees_with_configparser(two_accounts: FakeHub) -> None:
    path = tokens.settings.stored_tokens_path()
    with open(path, "a") as f:
        f.write("\n[odd name: with = signs]\n# comment\nHF_TOKEN : " + CAROL + "\nother = x\n")
    assert accounts.stored_light() == tokens.stored_tokens()


# --- list / switch / logout by name ---------------------------------------------------------


def test_list_marks_active_and_accounts(two_accounts: FakeHub) -> None:
    rows = manage.list_tokens()
    assert [(r["name"], r["token"], r["account"], r["role"], r["active"]) for r in rows] == [
        ("alice-laptop", tokens.mask(ALICE), "alice", "write", False),
        ("bob-work", tokens.mask(BOB), "bob", "write", True),
    ]
    assert ALICE not in repr(rows) and BOB not in repr(rows)


def test_list_learns_tokens_saved_by_others(fake_hub: FakeHub) -> None:
    tokens.save_token(ALICE, "from-hf")  # as huggingface_hub would: never validated by us
    assert manage.list_tokens()[0]["account"] is None
    assert manage.list_tokens(check=True)[0]["account"] == "alice"
    assert served("alice")[1] == ALICE


def test_switch(two_accounts: FakeHub) -> None:
    done = manage.switch("alice-laptop")
    assert tokens.read_token_file() == ALICE and done["account"] == "alice"
    with pytest.raises(manage.ManageError):
        manage.switch("nobody")
    assert tokens.read_token_file() == ALICE
    assert [r["name"] for r in manage.list_tokens()] == ["alice-laptop", "bob-work"]


def test_logout_by_name_keeps_the_active_token_unless_it_was_that_one(two_accounts: FakeHub) -> None:
    manage.logout_token("alice-laptop")
    assert tokens.read_token_file() == BOB and list(tokens.stored_tokens()) == ["bob-work"]
    done = manage.logout_token("bob-work")
    assert done["active_removed"] and tokens.read_token_file() is None
    with pytest.raises(manage.ManageError):
        manage.logout_token("bob-work")


# --- the permission pre-flight -------------------------------------------------------------


def whoami(role: str, name: str = "alice", orgs: list | None = None, fine: dict | None = None) -> dict:
    access = {"role": role}
    if fine is not None:
        access["fineGrained"] = fine
    return {"type": "user", "name": name, "orgs": orgs or [], "auth": {"accessToken": access}}


@pytest.mark.parametrize(("info", "repo", "ok", "words"), [
    (whoami("read"), "alice/model", False, "'read' token"),
    (whoami("write"), "alice/model", True, "own namespace"),
    (whoami("write", orgs=[{"name": "acme", "roleInOrg": "read"}]), "acme/model", False, "'read'"),
    (whoami("write", orgs=[{"name": "acme", "roleInOrg": "contributor"}]), "acme/model", False, "contributor"),
    (whoami("write", orgs=[{"name": "acme", "roleInOrg": "admin"}]), "acme/model", True, "admin"),
    (whoami("write"), "bob/model", None, "neither your account"),
    (whoami("fineGrained", fine={"global": [], "scoped": [
        {"entity": {"type": "user", "name": "alice"}, "permissions": ["repo.content.read"]}]}),
     "alice/model", False, "without 'repo.write' on alice/model or alice"),
    (whoami("fineGrained", fine={"global": [], "scoped": [
        {"entity": {"type": "model", "name": "alice/model"}, "permissions": ["repo.write"]}]}),
     "alice/model", True, "fine-grained"),
    (whoami("fineGrained", fine={"global": [], "scoped": [
        {"entity": {"type": "model", "name": "alice/model"}, "permissions": ["repo.write"]}]}),
     "alice/other", False, "alice/other"),
    (whoami("fineGrained", fine={"global": ["repo.write"], "scoped": []}), "alice/x", True, "fine-grained"),
])
def test_explain(info: dict, repo: str, ok: bool | None, words: str) -> None:
    got, why = permissions.explain(info, repo)
    assert got is ok and words in why


@pytest.mark.parametrize(("path", "expected"), [
    ("alice/model.git/info/lfs/objects/batch", ("model", "alice/model")),
    ("datasets/acme/data.git/info/lfs/objects/batch", ("dataset", "acme/data")),
    ("spaces/alice/demo", ("space", "alice/demo")),
    ("alice", None), (None, None),
])
def test_repo_from_path(path: str | None, expected: tuple | None) -> None:
    assert permissions.repo_from_path(path) == expected


@pytest.mark.parametrize(("status", "expected"), [(200, True), (403, False), (401, False), (404, None)])
def test_check_access_prefers_the_hubs_auth_check(status: int, expected: bool | None, fake_hub: FakeHub,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []
    monkeypatch.setattr(hub, "get_status", lambda url, token: seen.append(url) or status)
    login(ALICE)
    got = manage.check_access("bob/model", "dataset")
    assert seen == ["https://huggingface.co/api/datasets/bob/model/auth-check/write"]
    assert got["can_write"] is expected and got["account"] == "alice" and got["role"] == "write"
    assert ALICE not in repr(got)


def test_check_access_refuses_bad_ids(fake_hub: FakeHub) -> None:
    login(ALICE)
    for bad in ("model", "a/b/c", "../x", "a/"):
        with pytest.raises(manage.ManageError):
            manage.check_access(bad)
    with pytest.raises(manage.ManageError):
        manage.check_access("a/b", "bucket")


def test_erase_line_names_the_missing_scope(fake_hub: FakeHub) -> None:
    fake_hub.known[ALICE]["auth"]["accessToken"] = {"role": "fineGrained", "fineGrained": {
        "global": [], "scoped": [{"entity": {"name": "alice"}, "permissions": ["repo.content.read"]}]}}
    tokens.save_token(ALICE, "alice-laptop")
    code, _, err = run("erase", HUB + "path=alice/model.git/info/lfs/objects/batch\n" + f"password={ALICE}\n")
    assert code == 1 and "without 'repo.write' on alice/model" in err and ALICE not in err


def test_erase_of_a_revoked_named_token_removes_only_that_entry(two_accounts: FakeHub) -> None:
    del two_accounts.known[ALICE]  # revoked on the Hub
    code, _, err = run("erase", HUB + f"username=alice\npassword={ALICE}\n")
    assert code == 1 and "removed" in err and ALICE not in err
    assert tokens.stored_tokens() == {"bob-work": BOB} and tokens.read_token_file() == BOB
    assert accounts.account_of(ALICE) is None
    assert served("alice")[1] == BOB  # alice has no token any more: the active one


def test_erase_of_a_dead_named_browser_login_removes_that_entry_and_its_account(
        two_accounts: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dead-refresh-token path removes through the same step as the 401 path: the entry the
    username picked goes, and so does its account entry (bob's login is untouched)."""
    from types import SimpleNamespace

    from git_credential_hf import oauth

    tokens.save_token(ALICE, "alice-laptop", activate=False, refresh_token="hf_oauth_r_" + "r" * 20,
                      expires_at=1)
    del two_accounts.known[ALICE]  # the access token is refused...
    refused = []  # ...and so is its refresh token (invalid_grant)
    monkeypatch.setattr(oauth, "refresh_if_due", lambda token, force=False: refused.append(token)
                        or SimpleNamespace(state="dead", token=token, problem="invalid_grant"))
    code, _, err = run("erase", HUB + f"username=alice\npassword={ALICE}\n")
    assert refused == [ALICE] and code == 1 and "cannot be renewed" in err and ALICE not in err
    assert tokens.stored_tokens() == {"bob-work": BOB} and tokens.read_token_file() == BOB
    assert accounts.account_of(ALICE) is None and accounts.account_of(BOB) == "bob"


def test_store_of_the_selected_named_token_is_a_no_op(two_accounts: FakeHub) -> None:
    assert run("store", HUB + f"username=alice\npassword={ALICE}\n") == (0, b"", "")
    assert two_accounts.calls == [] and tokens.read_token_file() == BOB


def test_switch_add_to_git_credential_sets_git_up(two_accounts: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    from git_credential_hf import gitconfig

    monkeypatch.setattr(gitconfig, "setup", lambda: ["added the helper"])
    done = manage.switch("alice-laptop", add_to_git_credential=True)
    assert done["git"] == ["git: added the helper"]


@pytest.mark.spawns_python
def test_get_with_a_username_stays_light(two_accounts: FakeHub) -> None:
    """A real `get` naming a stored account: right token, no heavy module, no socket."""
    import json
    import subprocess
    import sys

    probe = (
        "import io, json, sys\n"
        "seen = []\n"
        "sys.addaudithook(lambda ev, a: seen.append(ev) if ev in ('socket.connect', 'subprocess.Popen') else None)\n"
        "sys.argv = ['git-credential-hf', 'get']\n"
        "sys.stdin = io.TextIOWrapper(io.BytesIO(b'protocol=https\\nhost=huggingface.co\\nusername=alice\\n\\n'))\n"
        "before = set(sys.modules)\n"
        "out = io.BytesIO(); sys.stdout = io.TextIOWrapper(out)\n"
        "from git_credential_hf.cli import main\n"
        "main(); sys.stdout.flush()\n"
        "sys.__stdout__.write(json.dumps({'out': out.getvalue().decode(), 'seen': seen,\n"
        "                                 'new': sorted(set(sys.modules) - before)}))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    report = json.loads(done.stdout)
    assert f"password={ALICE}" in report["out"] and report["seen"] == []
    heavy = {"hashlib", "_hashlib", "configparser", "json", "re", "platformdirs", "filelock", "requests",
             "typing", "pathlib", "subprocess", "git_credential_hf.hub"}
    assert sorted(heavy & set(report["new"])) == []


def test_a_refreshed_token_keeps_its_account(two_accounts: FakeHub) -> None:
    """oauth's refresh replaces alice's token under the same name: carry() moves the entry."""
    tokens.save_token(CAROL, "alice-laptop", activate=False)  # the refreshed access token
    tokens.delete_named("bob-work")
    tokens.save_token(BOB, "bob-work")
    assert served("alice")[1] == BOB  # the map does not know the new token yet
    accounts.carry(ALICE, CAROL)
    assert served("alice")[1] == CAROL and accounts.account_of(CAROL) == "alice"


def test_a_refreshed_token_keeps_its_own_role_not_another_of_the_accounts(fake_hub: FakeHub) -> None:
    fake_hub.add(ALICE2, name="alice", role="read", display="alice-ci")
    login(ALICE2)  # alice's read token is learned first
    login(ALICE)  # then her write token
    accounts.carry(ALICE, CAROL)
    assert accounts.known()[state.token_key(CAROL)] == ("alice", "write")


def test_cli_list_shows_expiry_and_active(two_accounts: FakeHub, capsys) -> None:
    from git_credential_hf import cli

    tokens.save_token(CAROL, "oauth-carol", refresh_token="hf_oauth_refresh_xyz", expires_at=1000,
                      activate=False)
    capsys.readouterr()
    assert cli.main(["list", "--offline"]) == 0
    out = capsys.readouterr().out
    carol = next(line for line in out.splitlines() if "oauth-carol" in line)
    assert "1970-01-01 00:16 UTC (expired)" in carol and carol.split()[2] == "?"  # account unknown offline
    bob = next(line for line in out.splitlines() if "bob-work" in line)
    assert bob.startswith("*") and " bob " in bob
    assert CAROL not in out and BOB not in out and "hf_oauth_refresh_xyz" not in out
    assert cli.main(["switch", "nobody"]) == 1 and tokens.read_token_file() == BOB


def test_whoami_learns_the_account(fake_hub: FakeHub) -> None:
    tokens.save_token(ALICE, "from-hf")  # saved by someone else, never validated here
    assert accounts.account_of(ALICE) is None
    _login.whoami()
    assert accounts.account_of(ALICE) == "alice"


# --- with OAuth logins (lifecycle's fresh/renew hooks) ------------------------------------------


def cred_for(username: str, password: str | None = None):
    from git_credential_hf import protocol

    text = HUB + f"username={username}\n" + (f"password={password}\n" if password else "")
    return protocol.parse_bytes(text.encode())


def test_a_selected_named_login_is_made_current(two_accounts: FakeHub) -> None:
    from git_credential_hf import helper

    seen: list[str] = []
    ctx = helper.Context(fresh=lambda t: (seen.append(t), (CAROL, 1234, None))[1])
    assert helper.get(cred_for("alice"), ctx) == [("username", "alice"), ("password", CAROL),
                                                  ("password_expiry_utc", "1234")]
    assert seen == [ALICE]


def test_a_dead_named_login_removes_only_that_entry(two_accounts: FakeHub) -> None:
    from types import SimpleNamespace

    from git_credential_hf import helper

    del two_accounts.known[ALICE]
    ctx = helper.Context(renew=lambda t: SimpleNamespace(state="dead", token=t, problem=None))
    line = helper.erase(cred_for("alice", ALICE), ctx)
    assert "cannot be renewed" in line and ALICE not in line
    assert tokens.stored_tokens() == {"bob-work": BOB} and tokens.read_token_file() == BOB


def test_a_login_that_cannot_be_renewed_now_counts_for_the_guard(two_accounts: FakeHub) -> None:
    from types import SimpleNamespace

    from git_credential_hf import helper

    del two_accounts.known[ALICE]
    ctx = helper.Context(renew=lambda t: SimpleNamespace(state="transient", token=t, problem="503"),
                         fresh=lambda t: (t, None, None))
    for _ in range(2):
        assert "could not be renewed now" in helper.erase(cred_for("alice", ALICE), ctx)
    problems: list[str] = []
    assert helper.get(cred_for("alice"), ctx, problems) == [("quit", "1")]
    assert len(problems) == 1 and "'alice-laptop'" in problems[0] and ALICE not in problems[0]
    assert tokens.stored_tokens()["alice-laptop"] == ALICE  # never removed


# --- issue 14: the account map's edge rows (hand-edited, or written by an older version) --------


def write_map(*rows: list[str]) -> None:
    with state.lock():
        state.write_lines(accounts.FILE, [list(r) for r in rows])


def test_an_unreadable_validation_time_counts_as_the_oldest(fake_hub: FakeHub) -> None:
    tokens.save_token(ALICE, "alice-laptop", activate=False)
    tokens.save_token(ALICE2, "alice-ci", activate=False)
    tokens.save_token(BOB, "bob-work")
    write_map([state.token_key(ALICE), "alice", "garbage", "write"],
              [state.token_key(ALICE2), "alice", "0.5", "write"])
    assert served("alice") == ("alice", ALICE2)


def test_equal_validation_times_serve_the_first_section_in_the_file(fake_hub: FakeHub) -> None:
    """A tie is broken by stored_tokens' order, the same on every request (never the other
    token of the account on the next one)."""
    tokens.save_token(ALICE2, "alice-ci", activate=False)
    tokens.save_token(ALICE, "alice-laptop", activate=False)
    tokens.save_token(BOB, "bob-work")
    write_map([state.token_key(ALICE), "alice", "100.000", "write"],
              [state.token_key(ALICE2), "alice", "100.000", "write"])
    assert list(tokens.stored_tokens()) == ["alice-ci", "alice-laptop", "bob-work"]
    assert served("alice") == ("alice", ALICE2)


def test_a_row_without_a_role_reads_as_no_role(fake_hub: FakeHub) -> None:
    tokens.save_token(ALICE, "alice-laptop")
    write_map([state.token_key(ALICE), "alice", "100.000"])
    assert accounts.known() == {state.token_key(ALICE): ("alice", "")}


def test_a_refresh_of_a_token_recorded_without_a_role_carries_no_role(fake_hub: FakeHub) -> None:
    tokens.save_token(ALICE, "alice-laptop")
    write_map([state.token_key(ALICE), "alice", "100.000"])
    tokens.replace_active(ALICE, CAROL)
    accounts.carry(ALICE, CAROL)
    assert accounts.known()[state.token_key(CAROL)] == ("alice", "")


TOKC = "hf_" + "c" * 30 + "=:C1"  # printable ASCII: '=' and ':' are token bytes too
TOKD = "hf_" + "d" * 30 + "D:D1"


def test_stored_light_agrees_with_configparser_on_an_unusual_valid_file() -> None:
    """Bare comments, delimiters inside tokens, no space around '=', an indented '[x]' or
    'hf_token = ' that continues another value: read as configparser (and huggingface_hub)
    reads them."""
    path = tokens.settings.stored_tokens_path()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("#\n;\n[a]\nhf_token=" + ALICE + "\n"
                "[c]\nhf_token = " + TOKC + "\n"
                "[d]\nhf_token: " + TOKD + "\n"
                "[e]\nhf_token = " + BOB + "\nnote = first\n  hf_token = " + CAROL + "\n"
                "[f]\nx = 1\n  [fake]\nhf_token = " + ALICE2 + "\n")
    assert accounts.stored_light() == tokens.stored_tokens() == {
        "a": ALICE, "c": TOKC, "d": TOKD, "e": BOB, "f": ALICE2}


def test_stored_light_skips_what_it_cannot_read_and_finds_the_rest() -> None:
    """get's reader is lenient: a stray line, bytes that are not UTF-8, a key before any
    section cost nothing but themselves."""
    path = tokens.settings.stored_tokens_path()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(b"hf_token = " + CAROL.encode() + b"\n[a]\n# caf\xe9\nx\nhf_token = "
                + ALICE.encode() + b"\n")
    assert accounts.stored_light() == {"a": ALICE}


def learned() -> list[list[str]]:
    return state.lines(accounts.FILE)


def test_only_user_accounts_with_a_clean_name_are_learned() -> None:
    tokens.save_token(ALICE)
    accounts.learn(ALICE, {"name": "acme", "type": "org"})
    accounts.learn(ALICE, {"name": 5, "type": "user"})
    accounts.learn(ALICE, {"name": "al\tice", "type": "user"})
    assert learned() == []
    accounts.learn(ALICE, {"name": "Xavier", "type": "user",
                           "auth": {"accessToken": {"role": "wr\tite"}}})
    assert accounts.known() == {state.token_key(ALICE): ("Xavier", "")}


def test_learning_a_token_again_keeps_one_line_for_it() -> None:
    tokens.save_token(ALICE)
    accounts.learn(ALICE, {"name": "alice", "auth": {"accessToken": {"role": "read"}}})
    accounts.learn(ALICE, {"name": "alice-renamed", "auth": {"accessToken": {"role": "write"}}})
    assert [row[:2] for row in learned()] == [[state.token_key(ALICE), "alice-renamed"]]
    assert accounts.account_of(ALICE) == "alice-renamed"


def test_learning_keeps_entries_of_tokens_saved_anywhere_and_drops_the_rest(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUGGING_FACE_HUB_TOKEN", BOB)
    tokens.save_token(ALICE)  # the token file, no named copy
    write_map([state.token_key(CAROL), "carol", "1.000", "read"])  # no longer saved anywhere
    accounts.learn(ALICE, {"name": "alice"})
    accounts.learn(BOB, {"name": "bob"})
    tokens.save_token(ALICE2, "ci", activate=False)
    accounts.learn(ALICE2, {"name": "alice"})
    assert {key: value[0] for key, value in accounts.known().items()} == {
        state.token_key(ALICE): "alice", state.token_key(BOB): "bob", state.token_key(ALICE2): "alice"}


def test_a_truncated_row_is_ignored(fake_hub: FakeHub) -> None:
    tokens.save_token(ALICE, "alice-laptop", activate=False)
    tokens.save_token(ALICE2, "alice-ci", activate=False)
    tokens.save_token(BOB, "bob-work")
    write_map([state.token_key(ALICE), "alice"], ["short", "alice", "9.000", "write"],
              [state.token_key(ALICE2), "alice", "1.000", "write"])
    assert served("alice") == ("alice", ALICE2)
    assert accounts.known() == {state.token_key(ALICE2): ("alice", "write")}
