"""The retry guard: a token the Hub keeps refusing is answered with quit=1, once, and only it."""

from __future__ import annotations

import os

import pytest
from test_helper import HUB, NEW, READ, TOKEN, FakeHub, run

from git_credential_hf import guard, hub, state, tokens

OTHER_HUB_PATH = "path=alice/other.git/info/lfs/objects/batch\n"


@pytest.fixture
def fake_hub(monkeypatch: pytest.MonkeyPatch) -> FakeHub:
    fake = FakeHub()
    monkeypatch.setattr(hub, "whoami", fake.whoami)
    return fake


def served(out: bytes) -> str | None:
    for line in out.decode().splitlines():
        if line.startswith("password="):
            return line[len("password="):]
    return None


def test_no_refusal_costs_one_stat(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_stat, real_open = os.stat, os.open
    monkeypatch.setattr(os, "stat", lambda p, *a, **k: calls.append(("stat", str(p))) or real_stat(p, *a, **k))
    monkeypatch.setattr(os, "open", lambda p, *a, **k: calls.append(("open", str(p))) or real_open(p, *a, **k))
    assert guard.check(TOKEN) is None
    assert calls == [("stat", state.path(guard.FILE))]


def test_env_token_loop_stops_on_second_refusal(monkeypatch: pytest.MonkeyPatch, fake_hub: FakeHub) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    assert served(run("get", HUB)[1]) == TOKEN
    assert run("erase", HUB + f"password={TOKEN}\n") == (0, b"", "")  # silent, no network
    assert served(run("get", HUB)[1]) == TOKEN  # refused once: still served
    run("erase", HUB + f"password={TOKEN}\n")
    code, out, err = run("get", HUB)
    assert (code, out) == (0, b"quit=1\n")
    assert err.count("\n") == 1 and "HF_TOKEN" in err and tokens.mask(TOKEN) in err
    assert TOKEN not in err and "2 times" in err
    assert fake_hub.calls == []
    # the quit is handed out once: the next command (maybe another repository) gets the token
    assert served(run("get", HUB)[1]) == TOKEN
    # and nothing on disk holds the token
    for name in os.listdir(state.state_dir()):
        with open(state.path(name), "rb") as f:
            assert TOKEN.encode() not in f.read()


def test_new_token_is_served_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    for _ in range(3):
        run("erase", HUB + f"password={TOKEN}\n")
    monkeypatch.setenv("HF_TOKEN", NEW)
    assert served(run("get", HUB)[1]) == NEW


def test_valid_file_token_refused_twice_stops_with_reason(fake_hub: FakeHub) -> None:
    fake_hub.add(READ, role="read")
    tokens.save_token(READ, "laptop")
    code, _, err = run("erase", HUB + OTHER_HUB_PATH + f"password={READ}\n")
    assert code == 1 and "'read' token" in err
    assert served(run("get", HUB)[1]) == READ
    run("erase", HUB + f"password={READ}\n")
    code, out, err = run("get", HUB)
    assert out == b"quit=1\n" and "the token file" in err and "read token" in err
    assert tokens.read_token_file() == READ  # never removed: the Hub said it is valid
    assert len(fake_hub.calls) == 2


def test_unreachable_hub_counts_too(fake_hub: FakeHub) -> None:
    fake_hub.error = hub.HubUnavailableError("cannot reach x")
    tokens.save_token(TOKEN)
    run("erase", HUB + f"password={TOKEN}\n")
    run("erase", HUB + f"password={TOKEN}\n")
    assert run("get", HUB)[1] == b"quit=1\n"


def test_store_clears_the_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    run("erase", HUB + f"password={TOKEN}\n")
    run("store", HUB + f"password={TOKEN}\n")  # it worked somewhere after all
    run("erase", HUB + f"password={TOKEN}\n")
    assert served(run("get", HUB)[1]) == TOKEN


def test_refusals_expire_after_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    run("erase", HUB + f"password={TOKEN}\n")
    run("erase", HUB + f"password={TOKEN}\n")
    later = guard._now() + guard.WINDOW_S + 1
    monkeypatch.setattr(guard, "_now", lambda: later)
    assert served(run("get", HUB)[1]) == TOKEN
    run("erase", HUB + f"password={TOKEN}\n")  # a first refusal again, not a third
    assert served(run("get", HUB)[1]) == TOKEN


def test_other_hosts_and_other_passwords_are_not_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    for _ in range(3):
        run("erase", f"protocol=https\nhost=github.com\npassword={TOKEN}\n")
        run("erase", HUB + f"password={NEW}\n")
    assert state.mtime(guard.FILE) is None


def test_unwritable_state_never_breaks_erase_or_get(monkeypatch: pytest.MonkeyPatch, isolated_env) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    blocker = isolated_env / ".local" / "state"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("not a folder")
    assert run("erase", HUB + f"password={TOKEN}\n") == (0, b"", "")
    assert served(run("get", HUB)[1]) == TOKEN


# --- the guard's own contract: its file, its clock, its races, its line -----------------------

A = "hf_" + "a" * 30 + "GRDA"
B = "hf_" + "b" * 30 + "GRDB"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """guard's clock, set by the test: a whole second (the file keeps milliseconds exactly), and
    the refusals file's mtime pinned to it so the one-stat shortcut sees it as recent."""
    now = [float(int(guard._now()))]
    monkeypatch.setattr(guard, "_now", lambda: now[0])
    return now


def pin_mtime(at: float) -> None:
    os.utime(state.path(guard.FILE), (at, at))


def rows() -> dict[str, list[str]]:
    return {row[0]: row[1:] for row in state.lines(guard.FILE)}


def test_file_holds_hashes_counts_times_reasons_mode_0600(clock: list[float]) -> None:
    assert guard.record(A, "valid,\tread\ntoken") == 1
    clock[0] += 0.25
    assert guard.record(A, "valid, read token") == 2
    assert guard.record(B) == 1
    assert rows() == {state.token_key(A): ["2", f"{clock[0]:.3f}", "valid, read token"],
                      state.token_key(B): ["1", f"{clock[0]:.3f}", ""]}
    assert os.stat(state.path(guard.FILE)).st_mode & 0o777 == 0o600
    with open(state.path(guard.FILE), "rb") as f:
        raw = f.read()
    assert A.encode() not in raw and B.encode() not in raw


def test_refusals_at_the_same_instant_and_at_exactly_the_window_still_count(clock: list[float]) -> None:
    t0 = clock[0]
    assert guard.record(A, "why") == 1
    assert guard.record(A, "why") == 2  # same clock reading: 0 s apart is inside the window
    clock[0] = t0 + guard.WINDOW_S  # exactly WINDOW_S later: still inside
    pin_mtime(t0)
    assert guard.check(A) == (2, "why")


def test_check_just_after_the_window_serves(clock: list[float]) -> None:
    t0 = clock[0]
    guard.record(A)
    guard.record(A)
    clock[0] = t0 + guard.WINDOW_S + 0.001
    pin_mtime(t0 + 1)
    assert guard.check(A) is None


@pytest.mark.parametrize(("lines", "expected"), [
    pytest.param("{a}\t2\t{t}\n", (2, ""), id="row without a reason column"),
    pytest.param("junk\n{a}\t2\t{t}\tr\n", (2, "r"), id="short row before"),
    pytest.param("{b}\tx\t{t}\tr\n{a}\t3\t{t}\tr\n", (3, "r"), id="bad count before"),
    pytest.param("{b}\t2\tnan-ish\tr\n{a}\t2\t{t}\twhy\n", (2, "why"), id="bad time before"),
    pytest.param("{a}\t2\n", None, id="row without a time"),
])
def test_check_reads_rows_leniently(lines: str, expected, clock: list[float]) -> None:
    os.makedirs(state.state_dir(), exist_ok=True)
    text = lines.format(a=state.token_key(A), b=state.token_key(B), t=f"{clock[0]:.3f}")
    with open(state.path(guard.FILE), "w") as f:
        f.write(text)
    pin_mtime(clock[0])
    assert guard.check(A) == expected


def test_handing_out_a_quit_keeps_the_other_tokens_refusals(clock: list[float]) -> None:
    for token in (A, B, A, B):
        guard.record(token, "r")
    assert guard.check(A) == (2, "r")
    assert guard.check(A) is None  # handed out once
    assert list(rows()) == [state.token_key(B)]
    assert guard.check(B) == (2, "r")
    assert state.mtime(guard.FILE) is None  # nothing left: the file goes


def test_store_clears_only_that_token(clock: list[float]) -> None:
    for token in (A, B, A, B):
        guard.record(token, "r")
    guard.clear(NEW)  # never refused: nothing changes, nothing raised
    assert set(rows()) == {state.token_key(A), state.token_key(B)}
    guard.clear(A)
    assert list(rows()) == [state.token_key(B)]
    assert guard.check(A) is None
    assert guard.check(B) == (2, "r")


def test_the_file_keeps_the_64_most_recent_refusals(clock: list[float]) -> None:
    many = [f"hf_{i:03d}" + "m" * 33 for i in range(guard._MAX_ENTRIES)]
    for token in many:
        clock[0] += 0.01
        guard.record(token, f"r{len(many) - many.index(token):03d}")  # reasons sort backwards
    clock[0] += 0.01
    guard.record(many[0], "r999")  # the oldest is refused again: now the newest
    clock[0] += 0.01
    guard.record(A, "r000")  # one more than the file keeps: the least recent one goes
    kept = rows()
    assert len(kept) == guard._MAX_ENTRIES
    assert state.token_key(many[1]) not in kept
    assert kept[state.token_key(many[0])][0] == "2" and state.token_key(A) in kept


def test_a_quit_another_get_just_handed_out_is_not_handed_out_again(
        clock: list[float], monkeypatch: pytest.MonkeyPatch) -> None:
    for token in (A, B, A, B):
        guard.record(token, "r")
    real_lock = state.lock

    def peer_hands_out_a() -> None:
        with real_lock():
            state.write_lines(guard.FILE, [r for r in state.lines(guard.FILE) if r[0] != state.token_key(A)])
        pin_mtime(clock[0])

    monkeypatch.setattr(state, "lock", lambda: (peer_hands_out_a(), real_lock())[1])
    assert guard.check(A) is None
    assert list(rows()) == [state.token_key(B)]  # B's refusals untouched


def test_a_fresh_first_refusal_after_a_handed_out_quit_is_served_and_kept(
        clock: list[float], monkeypatch: pytest.MonkeyPatch) -> None:
    guard.record(A, "r")
    guard.record(A, "r")
    real_lock = state.lock
    key = state.token_key(A)

    def peer_quits_then_erase_refuses_again() -> None:
        with real_lock():
            state.write_lines(guard.FILE, [[key, "1", f"{clock[0]:.3f}", "again"]])
        pin_mtime(clock[0])

    monkeypatch.setattr(state, "lock", lambda: (peer_quits_then_erase_refuses_again(), real_lock())[1])
    assert guard.check(A) is None
    assert rows() == {key: ["1", f"{clock[0]:.3f}", "again"]}  # the next refusal makes it 2


class _Busy:
    def __enter__(self):
        raise state.StateError("locked by another process")

    def __exit__(self, *exc: object) -> None:
        pass


def test_a_busy_lock_never_turns_one_refusal_into_a_quit(clock: list[float],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    guard.record(A, "r")
    guard.record(B, "r")
    guard.record(B, "r")
    monkeypatch.setattr(state, "lock", _Busy)
    assert guard.check(A) is None
    assert guard.check(B) == (2, "r")  # cannot reset: still stops this loop


def test_record_reports_zero_when_the_state_cannot_be_written(isolated_env) -> None:
    blocker = isolated_env / ".local" / "state"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("not a folder")
    assert guard.record(A, "r") == 0


MASK = tokens.mask(TOKEN)
TAIL = "(check: git-credential-hf status --repo NS/NAME)"
LOG_IN = "fix its access on the Hub, or log in with a token that can do this"

MESSAGE_CASES = [
    # source, count, reason, expected line (without the token file's path placeholder filled)
    pytest.param("HF_TOKEN", 2, "", f"stopping git: the Hub refused HF_TOKEN {MASK} 2 times in a row; "
                 f"fix its access on the Hub, or set HF_TOKEN to a token that can do this {TAIL}",
                 id="HF_TOKEN, no reason"),
    pytest.param("HUGGING_FACE_HUB_TOKEN", 3, "could not verify it",
                 f"stopping git: the Hub refused HUGGING_FACE_HUB_TOKEN {MASK} 3 times in a row "
                 f"(could not verify it); fix its access on the Hub, or set HUGGING_FACE_HUB_TOKEN "
                 f"to a token that can do this {TAIL}", id="legacy variable"),
    pytest.param("file", 2, "valid, read token", f"stopping git: the Hub refused the token file "
                 f"({{path}}) {MASK} 2 times in a row (valid, read token); {LOG_IN} {TAIL}",
                 id="token file"),
    pytest.param("stored:work", 2, "", f"stopping git: the Hub refused the stored token 'work' "
                 f"{MASK} 2 times in a row; {LOG_IN} {TAIL}", id="stored token"),
    pytest.param("HF_OIDC_RESOURCE", 2, "valid, read token", f"stopping git: the Hub refused the "
                 f"OIDC-exchanged token {MASK} 2 times in a row (valid, read token); {LOG_IN} {TAIL}",
                 id="OIDC"),
]


@pytest.mark.parametrize(("source", "count", "reason", "expected"), MESSAGE_CASES)
def test_message_is_one_exact_line(source: str, count: int, reason: str, expected: str) -> None:
    from git_credential_hf import settings

    line = guard.message(MASK, source, count, reason)
    assert line == expected.format(path=settings.token_path())
    assert TOKEN not in line and "\n" not in line


def test_env_token_stop_line_is_exact(monkeypatch: pytest.MonkeyPatch, fake_hub: FakeHub) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    run("erase", HUB + f"password={TOKEN}\n")
    run("erase", HUB + f"password={TOKEN}\n")
    assert run("get", HUB) == (0, b"quit=1\n", (
        f"git-credential-hf: stopping git: the Hub refused HF_TOKEN {MASK} 2 times in a row; fix its "
        f"access on the Hub, or set HF_TOKEN to a token that can do this {TAIL}\n"))
