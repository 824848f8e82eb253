"""Races: 32 real processes run ``store`` / ``login --token-stdin`` / ``logout`` against one
token cache at once, round after round, while ``get`` processes read it.

After every round: the token file is absent or one whole token that was written, mode 0600;
``stored_tokens`` parses and holds only written tokens, mode 0600; no ``.tmp-*`` file is left;
every process ended cleanly. Rounds without ``logout`` also prove no update is lost: every
token that was confirmed has its named entry.
"""

from __future__ import annotations

import stat
import threading

import pytest

from git_credential_hf.output import mask

pytestmark = pytest.mark.slow  # not run on the extra Pythons of .ci/run (pyproject: markers)

ROUNDS = 5
PROCESSES = 32  # writers per round (store, login, logout); READERS `get` run on top
READERS = 4


def _run_round(sec, fake_hub, rnd: int, with_logout: bool) -> tuple[list, dict[str, str]]:
    """Start every process, then feed them all at once; returns (calls, {token: name})."""
    names: dict[str, str] = {}
    jobs: list[tuple[list[str], bytes]] = []
    job_tokens: list[str | None] = []
    for i in range(PROCESSES):
        kind = ("store", "login", "logout")[i % 3] if with_logout else ("store", "login")[i % 2]
        if kind == "logout":
            jobs.append((["logout"], b""))
            job_tokens.append(None)
            continue
        token = sec.make_token(f"race-{rnd}-{i}")
        job_tokens.append(token)
        names[token] = f"race-{rnd}-{i}"
        fake_hub.add_token(token, display_name=names[token])
        if kind == "store":
            jobs.append((["store"], fake_hub.request(username="alice", password=token)))
        else:
            jobs.append((["login", "--token-stdin"], token.encode() + b"\n"))
    jobs += [(["get"], fake_hub.request())] * READERS
    job_tokens += [None] * READERS
    procs = [sec.start_cli(args, fake_hub.env()) for args, _ in jobs]
    calls: list = [None] * len(jobs)

    def finish(k: int) -> None:
        calls[k] = sec.finish(procs[k], jobs[k][0], jobs[k][1], timeout=60)
        calls[k].token = job_tokens[k]

    threads = [threading.Thread(target=finish, args=(k,)) for k in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return calls, names


def test_concurrent_store_login_logout_keep_the_cache_whole(sec, fake_hub) -> None:
    home = sec.hf_home()
    written: dict[str, str] = {}  # every token any round wrote: token -> its name
    for rnd in range(ROUNDS):
        with_logout = rnd % 2 == 1
        calls, names = _run_round(sec, fake_hub, rnd, with_logout)
        written.update(names)

        for call in calls:
            assert not call.timed_out and b"Traceback" not in call.stderr, call
            if call.args[0] == "get":
                assert call.returncode == 0 and call.stderr == b""
                answer = call.out.split("password=")[-1].strip() if call.stdout else None
                assert answer is None or answer in written, "a reader saw a partial token"
            elif call.args[0] == "store" and call.returncode == 1:
                # a racing login saved a working token first: store keeps it (issue 9)
                assert "kept the active token" in call.err, call
                names.pop(call.token, None)
            else:
                assert call.returncode == 0, call

        token_file = home / "token"
        if token_file.exists():
            assert token_file.read_text() in written, "token file is not one whole token"
            assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        stored = home / "stored_tokens"
        entries = sec.parse_stored(stored)  # raises if it does not parse
        assert stat.S_IMODE(stored.stat().st_mode) == 0o600
        assert set(entries.values()) <= set(written), "stored_tokens holds a token nobody wrote"
        assert all(written[t] == n for n, t in entries.items())
        assert sec.temp_files(home) == [], "temporary files left behind"
        if not with_logout:  # no update lost: every confirmed token has its entry
            assert {t for t in names} <= set(entries.values())
        else:
            _check_logouts(sec, fake_hub, calls, written)


def _check_logouts(sec, fake_hub, calls: list, written: dict[str, str]) -> None:
    """Each racing logout said what it did, about a token that was written; then one more
    logout, alone, leaves no token: not in the file, not named, not answered by `get`."""
    tails = {mask(t) for t in written}
    for call in calls:
        if call.args == ["logout"]:
            said = call.out.split("Removed the token ", 1)
            assert len(said) == 2 or "No token saved" in call.out, call
            if len(said) == 2:
                assert said[1].split(" ", 1)[0] in tails, call
    home = sec.hf_home()
    before = (home / "token").read_text() if (home / "token").exists() else None
    last = sec.run_cli(["logout"], env=fake_hub.env())
    assert last.returncode == 0, last
    assert not (home / "token").exists()
    assert before is None or before not in sec.parse_stored(home / "stored_tokens").values()
    answer = sec.run_helper("get", fake_hub.request(), env=fake_hub.env())
    assert answer.returncode == 0 and answer.stdout == b"", answer

