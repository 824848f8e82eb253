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
